//! One embedded service (in-memory store, in-process bus) shared by every property of this binary,
//! on a runtime of its own, so that each case is one call rather than a start-up.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, TimeZone, Utc};
use dispatcher::{
    clock::{Clock, ManualClock, WallClock},
    config::Config,
    domain::RegionKey,
    planner::TravelModel,
    service::Running,
};
use tokio::runtime::Runtime;

use crate::clients::Clients;

/// The shared service and a way to run async checks on it.
pub(crate) struct Fixture {
    /// Runs the service and the checks.
    pub(crate) runtime: Runtime,
    /// The service.
    pub(crate) running: Running,
    /// Its gRPC clients.
    pub(crate) clients: Clients,
    /// The one region it plans.
    pub(crate) region: RegionKey,
}

/// The service on the wall clock, started on first use.
pub(crate) fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| start(Arc::new(WallClock)))
}

/// The time the stored corpus was written for: its times are relative to it, and it is replayed
/// on a service whose clock stands there, so it stays as hostile (and no more) as it was written.
pub(crate) fn corpus_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

/// The service on a clock stopped at [`corpus_now`], started on first use.
pub(crate) fn corpus_fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| start(Arc::new(ManualClock::new(corpus_now()))))
}

fn start(clock: Arc<dyn Clock>) -> Fixture {
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let region = RegionKey::new("fuzz", "city");
        let mut config = Config::defaults();
        config.grpc_addr = "127.0.0.1:0".parse().expect("an address");
        config.metrics_addr = "127.0.0.1:0".parse().expect("an address");
        config.dispatch_regions = vec![region.clone()];
        config.planner_threads = 1;
        config.auth = Some(crate::clients::token_settings());
        let (running, clients) = runtime.block_on(async {
            let running = Running::start(&config, clock, TravelModel::straight())
                .await
                .expect("the embedded service starts");
            let clients = Clients::connect(running.grpc_addr, &region.tenant_id).await;
            (running, clients)
        });
        Fixture {
            runtime,
            running,
            clients,
            region,
        }
    }
}
