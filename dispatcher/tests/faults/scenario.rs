//! One scenario: a dispatcher of its own (own database, own tenant) under load, one fault injected
//! mid-load, recovery, a drain, a graceful stop, and the counts.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use dispatcher::{bus, domain::RegionKey};
use lapin::{options::QueueDeclareOptions, types::FieldTable};

use crate::{
    client,
    count::{self, Counts},
    ledger::{Book, Ledger},
    load::{Clients, Load},
    process::{self, Dispatcher},
    servers::{Server, Servers},
};

/// The grace period the dispatcher gets for a graceful stop (`SHUTDOWN_GRACE_S`).
const GRACE: Duration = Duration::from_secs(10);
/// How long the database or the broker stays down.
const OUTAGE: Duration = Duration::from_secs(3);
/// How long the load runs before the fault, and at least after it once it moves again.
const HOLD: Duration = Duration::from_secs(5);
/// How long another session holds the tables in the small-pool scenario: longer than the pool's
/// 5 s wait timeout.
const STALL: Duration = Duration::from_secs(8);
/// How long any phase may take to show progress before the scenario fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// The fault a scenario injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// SIGKILL the dispatcher mid-load and start it again.
    KillDispatcher,
    /// Stop RabbitMQ mid-load and start it again.
    RestartBroker,
    /// Stop PostgreSQL mid-load and start it again.
    RestartDatabase,
    /// A connection pool of one for the whole run, and mid-load another session locks the tables
    /// written most for longer than the pool's wait timeout, so the one connection stays busy.
    SmallPool,
    /// SIGTERM the dispatcher mid-load, check what it left, and start it again.
    Terminate,
}

impl Fault {
    fn describe(self) -> &'static str {
        match self {
            Fault::KillDispatcher => "dispatcher SIGKILL, restarted",
            Fault::RestartBroker => "RabbitMQ stopped 3 s, restarted",
            Fault::RestartDatabase => "PostgreSQL stopped 3 s, restarted",
            Fault::SmallPool => "DATABASE_POOL_SIZE=1; orders and couriers locked 8 s",
            Fault::Terminate => "dispatcher SIGTERM, restarted",
        }
    }
}

/// What one scenario measured.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) name: &'static str,
    pub(crate) fault: Fault,
    pub(crate) load: Load,
    /// Time without the faulty part: from the fault to the dispatcher serving or the server up.
    pub(crate) outage: Duration,
    pub(crate) book: Book,
    pub(crate) counts: Counts,
    /// Everything that went wrong; empty if the scenario passed.
    pub(crate) failures: Vec<String>,
    /// Remarks for the notes under the table.
    pub(crate) notes: Vec<String>,
}

impl Outcome {
    /// The scenario's row of the markdown table.
    pub(crate) fn row(&self) -> String {
        let c = &self.counts;
        format!(
            "| {} | {} | {} couriers, {:.0} fixes/s, {:.1} orders/s | {:.1} s | {} / {} | {} / {} | {} / {} + {} moved | {} | {} | {} |",
            self.name,
            self.fault.describe(),
            self.load.couriers,
            self.load.fixes_per_s(),
            self.load.orders_per_s(),
            self.outage.as_secs_f64(),
            c.orders_confirmed,
            c.orders_in_db,
            c.fixes_acked,
            c.fixes_in_db,
            c.accepted,
            c.accepted_kept,
            c.accepted_moved,
            c.lost.len(),
            c.duplicated.len(),
            self.book.errors_line(),
        )
    }
}

/// The header of the table [`Outcome::row`] fills.
pub(crate) const HEADER: &str = "| scenario | fault injected | load held | outage | orders confirmed / in db | fixes acked / in db | offers accepted / kept + moved | lost | duplicated | errors the clients saw |\n\
|---|---|---|---|---|---|---|---|---|---|";

/// Runs one scenario on `servers`, with the dispatcher's log in `logs`.
pub(crate) async fn run(
    servers: &Servers,
    logs: &Path,
    name: &'static str,
    fault: Fault,
    load: Load,
) -> Outcome {
    let db_url = servers.create_database(&format!("faults_{name}")).await;
    let region = RegionKey::new(format!("faults-{name}"), "city");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", process::free_port())
        .parse()
        .expect("an address");
    let pool = if fault == Fault::SmallPool { 1 } else { 4 };
    let env = [
        ("GRPC_ADDR", addr.to_string()),
        ("METRICS_ADDR", "127.0.0.1:0".into()),
        ("DATABASE_URL", db_url.clone()),
        ("DATABASE_POOL_SIZE", pool.to_string()),
        ("AMQP_URL", servers.amqp_url.clone()),
        ("AMQP_PREFETCH", "50".into()),
        ("DISPATCH_REGIONS", region.to_string()),
        ("PLANNER_TICK_MS", "500".into()),
        ("PLANNER_BUDGET_MS", "100".into()),
        ("PLANNER_URGENT_GAP_MS", "100".into()),
        ("PLANNER_THREADS", "1".into()),
        ("OFFER_EXPIRY_S", "30".into()),
        ("POSITION_LINGER_MS", "5".into()),
        ("SHUTDOWN_GRACE_S", GRACE.as_secs().to_string()),
        ("AUTH_JWT_SECRET", client::SECRET.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut dispatcher = Dispatcher::new(env, addr, logs.join(format!("dispatcher-{name}.log")));
    dispatcher.start().await;

    let ledger = Ledger::default();
    let clients = Clients::start(load, &region, addr, &servers.amqp_url, &ledger);
    let mut failures = Vec::new();
    let mut notes = Vec::new();

    // The fault comes once everything is moving: fixes acknowledged, orders in, offers taken.
    let moving = |book: &Book, since: &Book| {
        book.fixes_acked.len() >= since.fixes_acked.len() + 2 * load.couriers
            && book.orders_confirmed.len() >= since.orders_confirmed.len() + 2
            && book.accepted.len() > since.accepted.len()
    };
    let start = Book::default();
    if !progress(async || moving(&ledger.snapshot(), &start)).await {
        failures.push(format!(
            "no load moving within {PATIENCE:?} before the fault"
        ));
    }

    let before = ledger.snapshot();
    let injected = Instant::now();
    match fault {
        Fault::KillDispatcher => {
            dispatcher.kill();
            dispatcher.start().await;
        }
        Fault::RestartBroker | Fault::RestartDatabase => {
            let server = if fault == Fault::RestartBroker {
                Server::RabbitMq
            } else {
                Server::Postgres
            };
            servers.stop(server);
            // The length of the outage is the fault itself, not a wait for anything.
            tokio::time::sleep(OUTAGE).await;
            servers.start(server);
        }
        Fault::SmallPool => {
            let mut db = dispatcher::store::connect(&db_url)
                .await
                .expect("connect to lock");
            let tx = db.transaction().await.expect("begin");
            tx.batch_execute("LOCK TABLE orders, couriers IN EXCLUSIVE MODE")
                .await
                .expect("lock the tables");
            // The stall is the fault itself: writers queue behind the lock for this long.
            tokio::time::sleep(STALL).await;
            tx.rollback().await.expect("release the lock");
        }
        Fault::Terminate => {
            let told = ledger.snapshot();
            stop_gracefully(&mut dispatcher, &mut failures, &mut notes, "mid-load").await;
            // Down now: whatever it acknowledged before stopping must already be stored.
            let flushed = count::count(&db_url, &region.tenant_id, &told).await;
            for lost in &flushed.lost {
                // Orders the broker confirmed may still wait in their queue; that is not a loss.
                let queued = lost
                    .strip_prefix("order ")
                    .is_some_and(|id| told.orders_via_amqp.contains(id));
                if !queued {
                    failures.push(format!("not flushed by the graceful stop: {lost}"));
                }
            }
            check_left_behind(&db_url, servers, &region, &mut failures, "mid-load").await;
            dispatcher.start().await;
        }
    }
    let outage = injected.elapsed();

    // Recovery: the load moves again after the fault.
    let after = ledger.snapshot();
    if !progress(async || moving(&ledger.snapshot(), &after)).await {
        failures.push(format!("no progress within {PATIENCE:?} after the fault"));
    }
    let recovered = injected.elapsed();
    tokio::time::sleep(HOLD).await;
    notes.push(format!(
        "load moving again {:.1} s after the fault; {} more fixes acknowledged and {} more orders confirmed since",
        recovered.as_secs_f64(),
        ledger.snapshot().fixes_acked.len() - before.fixes_acked.len(),
        ledger.snapshot().orders_confirmed.len() - before.orders_confirmed.len()
    ));

    // Drain: nothing new; what clients hold unacknowledged is re-sent until it is acknowledged, and
    // orders the broker confirmed reach the database.
    clients.drain();
    clients.finish(PATIENCE).await;
    let book = ledger.snapshot();
    if !progress(async || count::orders_all_in(&db_url, &region.tenant_id, &book).await).await {
        failures.push("confirmed orders still missing after the drain".into());
    }
    stop_gracefully(&mut dispatcher, &mut failures, &mut notes, "at the end").await;
    check_left_behind(&db_url, servers, &region, &mut failures, "at the end").await;

    let counts = count::count(&db_url, &region.tenant_id, &book).await;
    failures.extend(counts.lost.iter().map(|l| format!("lost: {l}")));
    failures.extend(counts.duplicated.iter().map(|d| format!("duplicated: {d}")));
    if fault == Fault::SmallPool {
        for (kind, (n, message)) in &book.errors {
            if !(kind.ends_with("Unavailable") || kind.ends_with("ResourceExhausted")) {
                failures.push(format!("pool exhaustion gave {kind} ×{n}: {message}"));
            }
        }
    }
    notes.push(format!(
        "slowest courier ack {:.2} s, slowest CreateOrder {:.2} s; rejected {:?}",
        book.slowest_ack.as_secs_f64(),
        book.slowest_call.as_secs_f64(),
        book.rejected
    ));
    for (kind, (n, message)) in &book.errors {
        notes.push(format!("{kind} ×{n}, e.g. \"{message}\""));
    }
    Outcome {
        name,
        fault,
        load,
        outage,
        book,
        counts,
        failures,
        notes,
    }
}

/// Polls `done` every 100 ms, up to [`PATIENCE`].
async fn progress(done: impl AsyncFn() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if done().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// SIGTERM; the dispatcher must exit 0 within its grace period.
async fn stop_gracefully(
    dispatcher: &mut Dispatcher,
    failures: &mut Vec<String>,
    notes: &mut Vec<String>,
    when: &str,
) {
    let (status, took) = dispatcher.terminate(GRACE + Duration::from_secs(5)).await;
    notes.push(format!(
        "SIGTERM {when}: exit {status:?} after {:.2} s",
        took.as_secs_f64()
    ));
    match status {
        Some(status) if status.success() && took <= GRACE => {}
        other => failures.push(format!(
            "SIGTERM {when}: exit {other:?} after {:.2} s, expected success within {GRACE:?}",
            took.as_secs_f64()
        )),
    }
}

/// After a graceful stop: the outbox is published and no message taken from the orders queue is
/// left unacknowledged (it would be back in the queue).
async fn check_left_behind(
    db_url: &str,
    servers: &Servers,
    region: &RegionKey,
    failures: &mut Vec<String>,
    when: &str,
) {
    let outbox = count::outbox(db_url).await;
    if outbox != 0 {
        failures.push(format!(
            "{outbox} events left in the outbox after the graceful stop {when}"
        ));
    }
    let connection = bus::connect(&servers.amqp_url, "faults-check")
        .await
        .expect("connect to the broker to check the queue");
    let channel = connection.create_channel().await.expect("a channel");
    let queues = bus::topology::declare_region(&channel, &region.tenant_id, &region.region_id)
        .await
        .expect("the region's queues");
    let orders = channel
        .queue_declare(
            queues.orders.as_str().into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("the orders queue");
    if orders.message_count() != 0 {
        failures.push(format!(
            "{} messages back in {} after the graceful stop {when} (taken but not acknowledged, or not taken)",
            orders.message_count(),
            queues.orders
        ));
    }
    let _ = connection.close(200, "checked".into()).await;
}
