//! The running service: every part started in order, and stopped in the reverse order on shutdown
//! (stop taking input, finish what is in flight, flush position batches, publish the outbox).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{sync::watch, task::JoinSet};

use crate::{
    auth::Verifier,
    bus::{self, LocalBus, Publish},
    clock::Clock,
    config::Config,
    core::{Core, CoreError, Settings},
    metrics::{self, Metrics},
    planner::{Planner, PlannerSettings, TravelModel},
    positions::{BatchConfig, PositionSink},
    store::{MemoryStore, PgStore, Store, StoreError},
};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be reached or migrated.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The world state could not be rebuilt.
    #[error("world state: {0}")]
    Core(#[from] CoreError),
    /// A map file could not be loaded.
    #[error("map {path}: {source}")]
    Map {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: router::RouterError,
    },
    /// The planner's threads could not start.
    #[error("planner: {0}")]
    Planner(#[from] solver::SolverError),
    /// A port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The broker could not be reached.
    #[error("broker: {0}")]
    Bus(#[from] bus::BusError),
    /// No key to verify tokens with: the service never runs open.
    #[error(
        "no token key: set AUTH_JWT_SECRET (HMAC), AUTH_JWT_PUBLIC_KEY_FILE (the issuer's \
         public key) or AUTH_JWT_JWKS_FILE (its key set); every gRPC call must carry a bearer \
         token"
    )]
    NoTokenKey,
    /// The token key does not suit the algorithm.
    #[error("token key: {0}")]
    Auth(#[from] crate::auth::AuthError),
    /// A TLS file could not be read.
    #[error("tls file {path}: {source}")]
    Tls {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A shutdown signal every task can wait on.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Resolves once shutdown has begun.
    pub async fn wait(mut self) {
        // An error means the sender is gone, which is a shutdown too.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// The service, started.
#[derive(Debug)]
pub struct Running {
    /// The core, for in-process callers (the simulator, tests).
    pub core: Arc<Core>,
    /// Where gRPC listens.
    pub grpc_addr: SocketAddr,
    /// Where metrics are served.
    pub metrics_addr: SocketAddr,
    /// The in-process bus, when no broker is configured.
    pub local_bus: Option<Arc<LocalBus>>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    /// Stopped only after every task that writes to the outbox has ended, so its last drain
    /// sees everything they committed.
    relay_stop: watch::Sender<bool>,
    relay: JoinSet<()>,
    writers: JoinSet<()>,
    grace: Duration,
}

/// Loads a road network per configured profile.
pub fn load_maps(config: &Config) -> Result<TravelModel, StartError> {
    let mut networks = Vec::new();
    for (profile, path) in &config.map_files {
        let started = std::time::Instant::now();
        let network = router::file::load(path).map_err(|source| StartError::Map {
            path: path.display().to_string(),
            source,
        })?;
        tracing::info!(profile = %profile, path = %path.display(), seconds = started.elapsed().as_secs_f64(), "road map loaded");
        networks.push((*profile, Arc::new(network)));
    }
    Ok(TravelModel::with_networks(networks))
}

impl Running {
    /// Starts everything `config` describes, on `clock`.
    pub async fn start(
        config: &Config,
        clock: Arc<dyn Clock>,
        travel: TravelModel,
    ) -> Result<Self, StartError> {
        // Checked first: a service that would answer anyone must not start at all.
        let security = grpc_security(config)?;
        let (stop, stop_rx) = watch::channel(false);
        let shutdown = Shutdown(stop_rx);
        let mut tasks = JoinSet::new();
        let (relay_stop, relay_stop_rx) = watch::channel(false);
        let relay_shutdown = Shutdown(relay_stop_rx);
        let mut relay = JoinSet::new();

        let (metrics, registry) = Metrics::new();
        let (metrics_addr, metrics_task) = metrics::serve(
            config.metrics_addr,
            Arc::new(registry),
            shutdown.clone().wait(),
        )
        .await
        .map_err(|source| StartError::Listen {
            addr: config.metrics_addr,
            source,
        })?;
        tasks.spawn(async move {
            let _ = metrics_task.await;
        });

        let store: Arc<dyn Store> = match &config.database_url {
            Some(url) => {
                let store = PgStore::connect(url, config.database_pool_size).await?;
                store.migrate().await?;
                tracing::info!(pool = config.database_pool_size, "using timescaledb");
                Arc::new(store)
            }
            None => {
                tracing::info!("no DATABASE_URL: keeping state in memory (lost on exit)");
                Arc::new(MemoryStore::new())
            }
        };
        let (positions, writers) = PositionSink::start(
            store.clone(),
            BatchConfig {
                max_rows: config.position_batch_rows,
                linger: config.position_linger,
                writers: 2,
            },
            metrics.clone(),
        );
        let settings = Settings {
            regions: config.dispatch_regions.clone(),
            offer_expiry: chrono::TimeDelta::from_std(config.offer_expiry)
                .unwrap_or(chrono::TimeDelta::seconds(60)),
            ..Settings::default()
        };
        let core = Core::start(settings, clock, store.clone(), metrics, positions).await?;

        let planner = Arc::new(Planner::new(
            PlannerSettings {
                tick: config.planner_tick,
                min_gap: config.planner_urgent_gap,
                budget: config.planner_budget,
                iterations: None,
                weights: config.weights,
                seed: config.planner_seed,
                threads: config.planner_threads,
                rules: Default::default(),
            },
            travel,
        )?);
        tasks.spawn(planner.run(core.clone(), shutdown.clone().wait()));
        tasks.spawn(run_timers(core.clone(), shutdown.clone()));
        if security.verifier.reloads() {
            tasks.spawn(refresh_token_keys(
                security.verifier.clone(),
                config.auth_keys_refresh,
                shutdown.clone(),
            ));
        }
        tasks.spawn(run_retention(
            core.clone(),
            chrono::TimeDelta::days(i64::from(config.retention_days)),
            config.retention_interval,
            shutdown.clone(),
        ));

        // The outbox drains within the one grace period the whole shutdown has.
        let relay_options = bus::relay::RelayOptions {
            drain_grace: config.shutdown_grace,
            ..Default::default()
        };
        let local_bus = match &config.amqp_url {
            Some(url) => {
                let publisher: Arc<dyn Publish> = Arc::new(bus::AmqpPublisher::connect(url).await?);
                relay.spawn(bus::relay::run_with(
                    publisher,
                    core.clone(),
                    relay_shutdown.wait(),
                    relay_options,
                ));
                tasks.spawn(bus::consumer::run(
                    url.clone(),
                    core.clone(),
                    config.dispatch_regions.clone(),
                    config.amqp_prefetch,
                    config.bus_tenant_source,
                    shutdown.clone().wait(),
                ));
                None
            }
            None => {
                tracing::info!("no AMQP_URL: events stay on the in-process bus");
                let local = Arc::new(LocalBus::default());
                let publisher: Arc<dyn Publish> = local.clone();
                relay.spawn(bus::relay::run_with(
                    publisher,
                    core.clone(),
                    relay_shutdown.wait(),
                    relay_options,
                ));
                Some(local)
            }
        };

        let listener = tokio::net::TcpListener::bind(config.grpc_addr)
            .await
            .map_err(|source| StartError::Listen {
                addr: config.grpc_addr,
                source,
            })?;
        let grpc_addr = listener.local_addr().map_err(|source| StartError::Listen {
            addr: config.grpc_addr,
            source,
        })?;
        let grpc_core = core.clone();
        let grpc_shutdown = shutdown.clone();
        let limits = config.grpc_limits;
        tasks.spawn(async move {
            if let Err(error) =
                crate::grpc::serve(grpc_core, listener, security, limits, grpc_shutdown.wait())
                    .await
            {
                tracing::error!(%error, "grpc server stopped with an error");
            }
        });
        tracing::info!(%grpc_addr, %metrics_addr, regions = ?config.dispatch_regions.iter().map(ToString::to_string).collect::<Vec<_>>(), "dispatcher serving");
        Ok(Self {
            core,
            grpc_addr,
            metrics_addr,
            local_bus,
            stop,
            tasks,
            relay_stop,
            relay,
            writers,
            grace: config.shutdown_grace,
        })
    }

    /// Stops taking input, ends courier streams so the gRPC server can drain, lets in-flight work
    /// finish, publishes the outbox and flushes position batches, all within one grace period
    /// (`SHUTDOWN_GRACE_S`), and returns. Whatever is cut off at the end was not acknowledged, so
    /// its sender sends it again after the restart.
    pub async fn shutdown(self) {
        let Self {
            core,
            stop,
            mut tasks,
            relay_stop,
            mut relay,
            mut writers,
            grace,
            ..
        } = self;
        tracing::info!("shutting down");
        // One grace period for everything: a stop signal's sender (systemd, Kubernetes) kills
        // after its own timeout, which SHUTDOWN_GRACE_S is set to fit.
        let deadline = tokio::time::Instant::now() + grace;
        let _ = stop.send(true);
        // Courier streams never end by themselves; end them so the gRPC server can drain.
        core.hub().close_all();
        let drained = tokio::time::timeout_at(deadline, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                grace_s = grace.as_secs(),
                "tasks still running after the grace period; stopping them"
            );
            tasks.abort_all();
        }
        // Only now can nothing add to the outbox: a call or planning round still running when the
        // relay last found it empty would otherwise leave its events there until the restart.
        let _ = relay_stop.send(true);
        let published = tokio::time::timeout_at(deadline, async {
            while relay.join_next().await.is_some() {}
        })
        .await;
        if published.is_err() {
            tracing::warn!("outbox relay still publishing after the grace period; stopping it");
            relay.abort_all();
        }
        // The writers stop once every position sink is gone and their queue is empty.
        drop(core);
        let flushed = tokio::time::timeout_at(deadline, async {
            while writers.join_next().await.is_some() {}
        })
        .await;
        if flushed.is_err() {
            tracing::warn!("position writers still busy after the grace period");
        }
        tracing::info!("stopped");
    }
}

/// The token verifier and TLS identity of the gRPC port.
fn grpc_security(config: &Config) -> Result<crate::grpc::Security, StartError> {
    let settings = config.auth.as_ref().ok_or(StartError::NoTokenKey)?;
    let verifier = Arc::new(Verifier::new(settings)?);
    let tls = match &config.grpc_tls {
        Some(files) => {
            let read = |path: &std::path::Path| {
                std::fs::read(path).map_err(|source| StartError::Tls {
                    path: path.display().to_string(),
                    source,
                })
            };
            let identity =
                tonic::transport::Identity::from_pem(read(&files.cert)?, read(&files.key)?);
            Some(tonic::transport::ServerTlsConfig::new().identity(identity))
        }
        None => None,
    };
    Ok(crate::grpc::Security { verifier, tls })
}

async fn run_timers(core: Arc<Core>, shutdown: Shutdown) {
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        // Wake at the next deadline, and at least every second so new deadlines are seen.
        let now = core.now();
        let wait = core
            .next_deadline()
            .await
            .and_then(|at| (at - now).to_std().ok())
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1));
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(wait) => {}
        }
        if let Err(error) = core.run_timers().await {
            tracing::warn!(%error, "timers failed; retrying");
        }
    }
}

/// Reads the issuer's key set again every `every`, so keys it publishes or withdraws apply
/// without a restart; a set that does not load leaves the keys in use.
async fn refresh_token_keys(verifier: Arc<Verifier>, every: Duration, shutdown: Shutdown) {
    let stop = shutdown.wait();
    tokio::pin!(stop);
    let mut in_use: Option<Vec<String>> = None;
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(every) => {}
        }
        let reading = verifier.clone();
        match tokio::task::spawn_blocking(move || reading.reload()).await {
            Ok(Ok(kids)) => {
                if in_use.as_ref() != Some(&kids) {
                    tracing::info!(kids = ?kids, "token key set read");
                    in_use = Some(kids);
                }
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "token key set not read again; the keys in use stay");
            }
            Err(error) => tracing::warn!(%error, "token key set reload failed"),
        }
    }
}

async fn run_retention(
    core: Arc<Core>,
    keep: chrono::TimeDelta,
    every: Duration,
    shutdown: Shutdown,
) {
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        let before = core.now() - keep;
        match core.store().retain(before).await {
            Ok(r) => {
                tracing::info!(before = %before, dropped_chunks = r.dropped, deleted_rows = r.deleted, "retention applied")
            }
            Err(error) => tracing::warn!(%error, "retention failed; retrying next interval"),
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}
