//! The gRPC server: the courier, kitchen and support services of `dispatch.v1`, the standard health
//! service and server reflection, on one listener.
//!
//! Every handler checks its request, calls the [`Core`] and maps a [`CoreError`] to a status with
//! its `From` impl. Handlers that change state run the change on a task of its own, so a caller
//! that hangs up mid-request cannot cut a change off between its commit and its effect in memory.
//! Long-lived streams (courier sessions, pickup-ETA watches) end when shutdown begins, so a graceful
//! shutdown does not wait for clients that would never hang up by themselves; the server then
//! waits for the tasks they left running.

mod courier;
mod kitchen;
mod limits;
mod refusals;
mod scope;
mod support;

pub use limits::Limits;

use std::{sync::Arc, time::Duration};

use proto::dispatch::v1::{
    courier_service_server::CourierServiceServer, kitchen_service_server::KitchenServiceServer,
    support_service_server::SupportServiceServer,
};
use tokio::sync::watch;
use tokio_stream::{StreamExt, wrappers::TcpListenerStream};
use tokio_util::task::TaskTracker;
use tonic::{
    Status,
    server::NamedService,
    service::interceptor::InterceptedService,
    transport::{Server, ServerTlsConfig},
};
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    auth::{Authenticate, Verifier},
    core::{Core, CoreError},
};

use courier::CourierApi;
use kitchen::KitchenApi;
use support::SupportApi;

/// The largest request message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// How often an idle HTTP/2 connection is pinged to find dead peers.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// How long a keepalive ping may go unanswered before the connection is dropped.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Who may connect and how: every dispatch call needs a token `verifier` accepts; `tls`, if set,
/// is served on the port instead of plaintext.
#[derive(Debug, Clone)]
pub struct Security {
    /// Checks the bearer token of every call to the courier, kitchen and support services.
    pub verifier: Arc<Verifier>,
    /// The server's certificate and key.
    pub tls: Option<ServerTlsConfig>,
}

/// Serves the courier, kitchen and support services, health and reflection on `listener` until
/// `shutdown` resolves.
///
/// The dispatch services refuse a call without a valid bearer token (`UNAUTHENTICATED`); health
/// and reflection answer anyone, so load balancers and tooling need no credentials.
///
/// Health reports every service `SERVING` from the start and `NOT_SERVING` as soon as shutdown
/// begins. Shutdown then ends open courier sessions and ETA watches with `UNAVAILABLE` (apps
/// reconnect, to this instance after a restart or to another one), stops accepting connections and
/// returns once in-flight requests and the tasks they started have finished.
pub async fn serve(
    core: Arc<Core>,
    listener: tokio::net::TcpListener,
    security: Security,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopping = Stopping(stop_rx);
    let slots = limits::StreamSlots::new(limits.max_streams, core.metrics().clone());
    let in_flight = InFlight::default();
    let refusals = refusals::RefusalsLayer::new(core.metrics().clone());

    let authenticate = Authenticate::new(security.verifier);
    let courier = InterceptedService::new(
        CourierServiceServer::new(CourierApi::new(
            core.clone(),
            stopping.clone(),
            in_flight.clone(),
            slots.clone(),
            limits.courier_messages_per_s,
        ))
        .max_decoding_message_size(MAX_MESSAGE_BYTES),
        authenticate.clone(),
    );
    let kitchen = InterceptedService::new(
        KitchenServiceServer::new(KitchenApi::new(
            core.clone(),
            stopping.clone(),
            in_flight.clone(),
            slots,
        ))
        .max_decoding_message_size(MAX_MESSAGE_BYTES),
        authenticate.clone(),
    );
    let support = InterceptedService::new(
        SupportServiceServer::new(SupportApi::new(core, in_flight.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
        authenticate,
    );

    let (health, health_service) = tonic_health::server::health_reporter();
    set_health(&health, ServingStatus::Serving).await;

    let reflection = match tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
    {
        Ok(service) => Some(service),
        Err(error) => {
            tracing::error!(%error, "grpc reflection unavailable: the descriptor set does not load");
            None
        }
    };

    let signal = async move {
        shutdown.await;
        tracing::info!("grpc server stopping: health set to not serving, streams closing");
        set_health(&health, ServingStatus::NotServing).await;
        // Receivers also treat a dropped sender as "stop", so this cannot be missed.
        let _ = stop_tx.send(true);
    };

    // `serve_with_incoming_shutdown` ignores the builder's TCP options, so set them per connection.
    let incoming = TcpListenerStream::new(listener).map(|accepted| {
        if let Ok(stream) = &accepted
            && let Err(error) = stream.set_nodelay(true)
        {
            tracing::debug!(%error, "could not set tcp_nodelay on a grpc connection");
        }
        accepted
    });

    let mut builder = Server::builder();
    if let Some(tls) = security.tls {
        builder = builder.tls_config(tls)?;
    }
    let served = builder
        // Outside the deadline, so that calls it cuts off are counted too.
        .layer(refusals)
        .layer(limits::DeadlineLayer::new(limits.request_timeout))
        .tcp_nodelay(true)
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
        .add_service(health_service)
        .add_optional_service(reflection)
        .add_service(courier)
        .add_service(kitchen)
        .add_service(support)
        .serve_with_incoming_shutdown(incoming, signal)
        .await;
    // Connections are closed, but a session may still be closing in the core, or a change whose
    // caller hung up may still be committing: its events must be in the outbox before the relay's
    // last drain.
    in_flight.finish().await;
    served
}

/// The names health reports on: the server as a whole ("") and each dispatch service.
fn health_names() -> [&'static str; 4] {
    [
        "",
        <CourierServiceServer<CourierApi> as NamedService>::NAME,
        <KitchenServiceServer<KitchenApi> as NamedService>::NAME,
        <SupportServiceServer<SupportApi> as NamedService>::NAME,
    ]
}

async fn set_health(health: &HealthReporter, status: ServingStatus) {
    for name in health_names() {
        health.set_service_status(name, status).await;
    }
}

/// The future of a tower service the gRPC server's layers wrap.
type BoxFuture<T> = std::pin::Pin<Box<dyn Future<Output = T> + Send>>;

/// Resolves once the server begins to stop; one clone per long-lived stream.
#[derive(Debug, Clone)]
pub(crate) struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// Waits until shutdown has begun (at once if it already has).
    pub(crate) async fn wait(&mut self) {
        // An error means the server is gone, which is a stop too.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// The tasks requests leave running on their own: courier sessions, ETA watches and changes whose
/// caller may hang up. [`serve`] returns only once they have all ended, so the service's shutdown
/// knows that nothing started by a request still writes to the store or the outbox.
#[derive(Debug, Clone, Default)]
pub(crate) struct InFlight(TaskTracker);

impl InFlight {
    /// Runs `task` on a task of its own that the server waits for before it returns.
    pub(crate) fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.0.spawn(task);
    }

    /// Runs a change on a task of its own and waits for it.
    ///
    /// A handler future is dropped when its caller hangs up; a change dropped between its commit
    /// and its effect in memory would leave the two apart. On its own task the change always
    /// completes.
    pub(crate) async fn run_to_completion<T, F>(&self, change: F) -> Result<T, Status>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, CoreError>> + Send + 'static,
    {
        match self.0.spawn(change).await {
            Ok(result) => result.map_err(status_of),
            Err(error) => {
                tracing::error!(%error, "grpc request task failed");
                Err(Status::internal("the request failed inside the service"))
            }
        }
    }

    /// Waits until every task has ended; none may start after this is called.
    async fn finish(&self) {
        self.0.close();
        if !self.0.is_empty() {
            tracing::info!(
                tasks = self.0.len(),
                "grpc server waiting for request tasks to end"
            );
        }
        self.0.wait().await;
    }
}

/// The status for a core error, logging the ones that point at trouble in the service.
pub(crate) fn status_of(error: CoreError) -> Status {
    if error.is_transient() {
        tracing::warn!(code = error.code(), %error, "grpc request failed");
    }
    error.into()
}
