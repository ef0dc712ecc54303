//! The broker consumer: takes orders and position batches from the region queues and applies them to
//! the core, acknowledging each only once its effect is durable.
//!
//! - Orders (and ready-time revisions and cancellations) are applied in queue order, one at a time.
//! - Position batches are applied concurrently, up to the prefetch, since each waits for its batch of
//!   fixes to be written.
//! - A message that can never be applied is dead-lettered with the reason; one that failed for now
//!   (storage trouble) is retried with backoff and never dropped (applying is idempotent by
//!   `event_id`).
//! - When the connection fails, the consumer reconnects with backoff and declares the topology again;
//!   unacknowledged messages are redelivered by the broker, so nothing is lost.

use std::{future::Future, pin::Pin, sync::Arc, task::Poll, time::Duration};

use futures::future::join_all;
use lapin::Connection;
use proto::dispatch::v1::{Envelope, envelope::Payload};
use tokio::{sync::watch, task::JoinSet};

use super::{
    BusError, DeadLettered, InboundMessage, InboundQueue, Received, RejectReason, TenantSource,
    backoff::Backoff, topology,
};
use crate::{
    core::{Core, CoreError, IngestOutcome},
    domain::RegionKey,
};

/// The connection name shown in the broker's tools.
pub const CONNECTION_NAME: &str = "dispatcher-consumer";
/// The `source` label of this consumer's metrics.
const SOURCE: &str = "amqp";
/// The consumer tag on every queue (each queue has its own channel).
const CONSUMER_TAG: &str = "dispatcher";
/// How long closing the connection may take before it is abandoned.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How each inbound queue is consumed.
#[derive(Debug, Clone, Copy)]
struct QueueOptions {
    /// Unacknowledged messages held at most.
    prefetch: u16,
    /// What vouches for a message's tenant.
    tenant_source: TenantSource,
}

/// Consumes the orders and positions queues of `regions` until `shutdown` completes.
///
/// Connects to `amqp_url`, declares the topology and each region's queues, and consumes each queue
/// with `prefetch` unacknowledged messages at most (at least 1), authenticating each message's
/// tenant as `tenant_source` says (see [`super::tenant`]). Reconnects with capped backoff
/// whenever the connection or a channel fails. On shutdown it stops taking deliveries, finishes and
/// acknowledges the messages in flight, and closes the connection.
pub async fn run(
    amqp_url: String,
    core: Arc<Core>,
    regions: Vec<RegionKey>,
    prefetch: u16,
    tenant_source: TenantSource,
    shutdown: impl Future + Send,
) {
    if regions.is_empty() {
        tracing::warn!("amqp consumer has no regions to consume; idle until shutdown");
        shutdown.await;
        return;
    }
    let (stop, stopped) = watch::channel(false);
    let work = supervise(
        &amqp_url,
        &core,
        &regions,
        QueueOptions {
            prefetch: prefetch.max(1),
            tenant_source,
        },
        stopped,
    );
    let shutdown = async move {
        shutdown.await;
    };
    tokio::pin!(work, shutdown);
    tokio::select! {
        () = &mut work => {}
        () = &mut shutdown => {
            tracing::info!("amqp consumer stopping: finishing messages in flight");
            stop.send_replace(true);
            work.await;
        }
    }
    tracing::info!("amqp consumer stopped");
}

/// Why a connection was given up.
#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("consumer on {queue} ended (channel or connection closed)")]
    Ended { queue: String },
    #[error("applying a message from {queue} panicked: {error}")]
    Panicked { queue: String, error: String },
}

/// Connects, consumes until the connection fails or shutdown, and reconnects with backoff.
async fn supervise(
    url: &str,
    core: &Arc<Core>,
    regions: &[RegionKey],
    queue_options: QueueOptions,
    stopped: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::default();
    let mut stop = Stop::new(stopped.clone(), None);
    loop {
        match session(url, core, regions, queue_options, stopped.clone()).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "amqp consumer lost its connection; reconnecting");
            }
        }
        core.metrics().amqp_reconnects.inc();
        let delay = backoff.next_delay();
        tracing::info!(
            delay_ms = delay.as_millis() as u64,
            "amqp consumer waiting before reconnecting"
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = stop.wait() => return,
        }
    }
}

/// One connection's life: `Ok` once stopped by shutdown, `Err` when it failed.
async fn session(
    url: &str,
    core: &Arc<Core>,
    regions: &[RegionKey],
    QueueOptions {
        prefetch,
        tenant_source,
    }: QueueOptions,
    stopped: watch::Receiver<bool>,
) -> Result<(), SessionError> {
    let mut stop = Stop::new(stopped.clone(), None);
    let connection = tokio::select! {
        connection = super::connect(url, CONNECTION_NAME) => connection?,
        () = stop.wait() => return Ok(()),
    };
    let opened = tokio::select! {
        opened = open_queues(&connection, regions, prefetch, tenant_source) => opened,
        () = stop.wait() => Ok(Vec::new()),
    };
    let result = match opened {
        Ok(queues) if !stop.is_set() => {
            tracing::info!(regions = regions.len(), prefetch, "amqp consumer connected");
            consume(core, queues, prefetch, stopped).await
        }
        Ok(_) => Ok(()),
        Err(error) => Err(error.into()),
    };
    let close = connection.close(200, "dispatcher consumer closing".into());
    match tokio::time::timeout(CLOSE_TIMEOUT, close).await {
        Ok(Ok(())) => {}
        // After a failure the connection is usually gone already.
        Ok(Err(error)) => tracing::debug!(%error, "closing the amqp consumer connection failed"),
        Err(_) => tracing::warn!("closing the amqp consumer connection timed out"),
    }
    result
}

/// What a region queue is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Orders,
    Positions,
}

/// Declares the topology and opens a consumer on each region queue.
async fn open_queues(
    connection: &Connection,
    regions: &[RegionKey],
    prefetch: u16,
    tenant_source: TenantSource,
) -> Result<Vec<(Kind, String, InboundQueue)>, BusError> {
    let channel = connection.create_channel().await?;
    topology::declare(&channel).await?;
    let mut names = Vec::with_capacity(regions.len() * 2);
    for region in regions {
        let queues =
            topology::declare_region(&channel, &region.tenant_id, &region.region_id).await?;
        names.push((Kind::Orders, queues.orders));
        names.push((Kind::Positions, queues.positions));
    }
    // Best effort: the channel was only for declaring.
    let _ = channel.close(200, "declared".into()).await;
    let mut opened = Vec::with_capacity(names.len());
    for (kind, name) in names {
        let queue = InboundQueue::open(connection, &name, CONSUMER_TAG, prefetch)
            .await?
            .with_tenant_source(tenant_source);
        opened.push((kind, name, queue));
    }
    Ok(opened)
}

/// Runs every queue's loop until shutdown or until one fails; a failing loop stops the others, which
/// finish their messages in flight first.
async fn consume(
    core: &Arc<Core>,
    queues: Vec<(Kind, String, InboundQueue)>,
    prefetch: u16,
    stopped: watch::Receiver<bool>,
) -> Result<(), SessionError> {
    let (failed, failed_rx) = watch::channel(false);
    let failed = Arc::new(failed);
    let loops = queues.into_iter().map(|(kind, name, queue)| {
        let stop = Stop::new(stopped.clone(), Some(failed_rx.clone()));
        let failed = failed.clone();
        let core = core.clone();
        let run: Pin<Box<dyn Future<Output = Result<(), SessionError>> + Send>> =
            Box::pin(async move {
                let result = match kind {
                    Kind::Orders => orders_loop(&core, &name, queue, stop).await,
                    Kind::Positions => positions_loop(&core, &name, queue, stop, prefetch).await,
                };
                if let Err(error) = &result {
                    tracing::warn!(queue = %name, %error, "amqp queue consumer failed");
                    failed.send_replace(true);
                }
                result
            });
        run
    });
    join_all(loops)
        .await
        .into_iter()
        .find(Result::is_err)
        .unwrap_or(Ok(()))
}

/// Orders: strictly one at a time, in queue order.
async fn orders_loop(
    core: &Arc<Core>,
    name: &str,
    mut queue: InboundQueue,
    mut stop: Stop,
) -> Result<(), SessionError> {
    loop {
        let received = tokio::select! {
            biased;
            () = stop.wait() => return Ok(()),
            received = queue.next() => received,
        };
        let message = match received {
            None => {
                return Err(SessionError::Ended {
                    queue: name.to_owned(),
                });
            }
            Some(Err(error)) => return Err(error.into()),
            Some(Ok(Received::DeadLettered(dead))) => {
                note_rejected(core, &dead);
                continue;
            }
            Some(Ok(Received::Message(message))) => message,
        };
        note_received(core, &message.envelope);
        match apply(core, &message.envelope, &mut stop).await {
            Applied::Done(outcome) => {
                note_applied(core, &message.envelope, outcome);
                message.ack().await?;
            }
            Applied::Rejected(error) => dead_letter(core, &queue, *message, &error).await?,
            Applied::Abandoned => {
                // Left unacknowledged: the broker redelivers it once the connection closes.
                return Ok(());
            }
        }
    }
}

/// What became of a position batch handled by a task.
enum Finished {
    /// Applied and acknowledged (or the acknowledgement failed).
    Acked(Result<(), BusError>),
    /// It can never be applied: the queue's loop dead-letters it.
    Rejected(Box<InboundMessage>, CoreError),
    /// Shutdown or a failed connection interrupted its retries; left unacknowledged.
    Abandoned,
}

/// Position batches: applied concurrently, up to `prefetch` at a time.
async fn positions_loop(
    core: &Arc<Core>,
    name: &str,
    mut queue: InboundQueue,
    mut stop: Stop,
    prefetch: u16,
) -> Result<(), SessionError> {
    let limit = usize::from(prefetch.max(1));
    let mut tasks = JoinSet::new();
    let result: Result<(), SessionError> = 'take: loop {
        // Settle what has finished; the queue is free to use here (no delivery is being awaited).
        while let Some(joined) = tasks.try_join_next() {
            if let Err(error) = settle(core, name, &queue, joined).await {
                break 'take Err(error);
            }
        }
        // Wait for a free slot.
        while tasks.len() >= limit {
            let joined = tokio::select! {
                biased;
                () = stop.wait() => break 'take Ok(()),
                Some(joined) = tasks.join_next() => joined,
            };
            if let Err(error) = settle(core, name, &queue, joined).await {
                break 'take Err(error);
            }
        }
        // Only shutdown interrupts waiting for a delivery: the wait also dead-letters undecodable
        // messages, which must not be cut short.
        let received = tokio::select! {
            biased;
            () = stop.wait() => break 'take Ok(()),
            received = queue.next() => received,
        };
        let message = match received {
            None => {
                break 'take Err(SessionError::Ended {
                    queue: name.to_owned(),
                });
            }
            Some(Err(error)) => break 'take Err(error.into()),
            Some(Ok(Received::DeadLettered(dead))) => {
                note_rejected(core, &dead);
                continue;
            }
            Some(Ok(Received::Message(message))) => message,
        };
        note_received(core, &message.envelope);
        let mut task = Box::pin(position_task(core.clone(), message, stop.clone()));
        // A batch that can never be applied fails its checks before anything is awaited: settle it
        // now, while the queue is at hand, instead of after the next delivery.
        match futures::poll!(task.as_mut()) {
            Poll::Ready(finished) => {
                if let Err(error) = settle(core, name, &queue, Ok(finished)).await {
                    break 'take Err(error);
                }
            }
            Poll::Pending => {
                tasks.spawn(task);
            }
        }
    };
    // Finish what is in flight: applied batches are acknowledged, retries stop at shutdown.
    let mut result = result;
    while let Some(joined) = tasks.join_next().await {
        if let Err(error) = settle(core, name, &queue, joined).await
            && result.is_ok()
        {
            result = Err(error);
        }
    }
    result
}

/// Applies one position batch and acknowledges it.
async fn position_task(core: Arc<Core>, message: Box<InboundMessage>, mut stop: Stop) -> Finished {
    match apply(&core, &message.envelope, &mut stop).await {
        Applied::Done(outcome) => {
            note_applied(&core, &message.envelope, outcome);
            Finished::Acked(message.ack().await)
        }
        Applied::Rejected(error) => Finished::Rejected(message, error),
        Applied::Abandoned => Finished::Abandoned,
    }
}

/// Handles a finished position task.
async fn settle(
    core: &Core,
    name: &str,
    queue: &InboundQueue,
    joined: Result<Finished, tokio::task::JoinError>,
) -> Result<(), SessionError> {
    match joined {
        Ok(Finished::Acked(result)) => Ok(result?),
        Ok(Finished::Rejected(message, error)) => {
            Ok(dead_letter(core, queue, *message, &error).await?)
        }
        Ok(Finished::Abandoned) => Ok(()),
        Err(error) => {
            // The message went with the task, unacknowledged: only a new channel gets it back.
            tracing::error!(queue = %name, %error, "applying a position batch panicked");
            Err(SessionError::Panicked {
                queue: name.to_owned(),
                error: error.to_string(),
            })
        }
    }
}

/// The result of [`apply`].
enum Applied {
    Done(IngestOutcome),
    Rejected(CoreError),
    Abandoned,
}

/// Applies an envelope, retrying transient failures with backoff until it succeeds, fails for good,
/// or `stop` is set.
async fn apply(core: &Core, envelope: &Envelope, stop: &mut Stop) -> Applied {
    let mut backoff = Backoff::default();
    loop {
        let error = match core.ingest(envelope).await {
            Ok(outcome) => return Applied::Done(outcome),
            Err(error) if !error.is_transient() => return Applied::Rejected(error),
            Err(error) => error,
        };
        let delay = backoff.next_delay();
        tracing::warn!(
            event_id = %envelope.event_id,
            code = error.code(),
            %error,
            delay_ms = delay.as_millis() as u64,
            "applying message failed; retrying"
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = stop.wait() => {
                tracing::info!(event_id = %envelope.event_id, "retry abandoned; the broker redelivers the message");
                return Applied::Abandoned;
            }
        }
    }
}

async fn dead_letter(
    core: &Core,
    queue: &InboundQueue,
    message: InboundMessage,
    error: &CoreError,
) -> Result<(), BusError> {
    queue
        .dead_letter(message, RejectReason::Invalid(error.to_string()))
        .await?;
    core.metrics().message_dead_lettered(error.code());
    Ok(())
}

fn note_received(core: &Core, envelope: &Envelope) {
    let metrics = core.metrics();
    let kind = proto::routing_kind(envelope).unwrap_or("none");
    metrics.message_received(SOURCE, kind);
    if let Some(at) = &envelope.occurred_at {
        let now = core.now();
        let now_s = now.timestamp() as f64 + f64::from(now.timestamp_subsec_nanos()) * 1e-9;
        let at_s = at.seconds as f64 + f64::from(at.nanos) * 1e-9;
        metrics.observe_queue_lag(now_s - at_s);
    }
    if let Some(Payload::PositionBatch(batch)) = &envelope.payload {
        metrics.positions_received_amqp(batch.fixes.len() as u64);
    }
}

fn note_applied(core: &Core, envelope: &Envelope, outcome: IngestOutcome) {
    if outcome == IngestOutcome::Duplicate {
        core.metrics().message_duplicate(SOURCE);
        tracing::debug!(event_id = %envelope.event_id, "duplicate message acknowledged");
    }
}

fn note_rejected(core: &Core, dead: &DeadLettered) {
    let metrics = core.metrics();
    metrics.message_received(SOURCE, "rejected");
    metrics.message_dead_lettered(reject_label(&dead.reason));
}

/// A metrics label for a reason: a fixed word, never the free text.
fn reject_label(reason: &RejectReason) -> &'static str {
    match reason {
        RejectReason::WrongContentType(_) => "content_type",
        RejectReason::TooLarge(_) => "too_large",
        RejectReason::TenantNotAuthenticated(_) => "tenant_source",
        RejectReason::Undecodable(_) => "decode",
        RejectReason::BadEventId(_) => "event_id",
        RejectReason::MissingScope => "scope",
        RejectReason::NoPayload => "payload",
        RejectReason::RoutingKeyTooLong | RejectReason::RoutingKeyMismatch { .. } => "routing_key",
        RejectReason::Invalid(_) => "invalid_argument",
    }
}

/// Shutdown of the whole consumer, or of one connection after one of its queues failed.
#[derive(Debug, Clone)]
struct Stop {
    shutdown: watch::Receiver<bool>,
    failed: Option<watch::Receiver<bool>>,
}

impl Stop {
    fn new(shutdown: watch::Receiver<bool>, failed: Option<watch::Receiver<bool>>) -> Self {
        Self { shutdown, failed }
    }

    fn is_set(&self) -> bool {
        *self.shutdown.borrow() || self.failed.as_ref().is_some_and(|f| *f.borrow())
    }

    /// Resolves once set (or once the sender is gone). Cancel-safe.
    async fn wait(&mut self) {
        let shutdown = self.shutdown.wait_for(|stop| *stop);
        match &mut self.failed {
            Some(failed) => {
                tokio::select! {
                    _ = shutdown => {}
                    _ = failed.wait_for(|failed| *failed) => {}
                }
            }
            None => {
                let _ = shutdown.await;
            }
        }
    }
}
