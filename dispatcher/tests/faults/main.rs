//! Faults survived: the dispatcher as a child process under load from couriers (gRPC session
//! streams) and kitchens (gRPC and RabbitMQ), against a PostgreSQL and a RabbitMQ of this test's own,
//! through a SIGKILL of the dispatcher, a broker restart, a database restart, a connection pool far
//! too small, and a SIGTERM. Afterwards the database is counted against what the clients were told:
//! every confirmed order and every acknowledged fix is stored exactly once, every accepted offer
//! still stands (or was moved by a recorded re-planning), and each graceful stop left nothing behind.
//!
//! Prints the table of docs/RELIABILITY.md:
//!
//! ```sh
//! cargo test -p dispatcher --test faults -- --nocapture
//! FAULTS_SCENARIOS=kill,broker cargo test -p dispatcher --test faults -- --nocapture  # some only
//! ```
//!
//! Needs root (scripts/services.sh installs and runs the servers) and the ports of
//! `FAULTS_PG_PORT` (default 55500) and `FAULTS_RMQ_PORT` (default 55700).

mod client;
mod count;
mod courier;
mod kitchen;
mod ledger;
mod load;
mod process;
mod scenario;
mod servers;

use std::time::Duration;

use load::Load;
use scenario::Fault;

/// The load of every scenario but the small pool's.
const STEADY: Load = Load {
    couriers: 6,
    fix_every: Duration::from_millis(250),
    kitchens: 1,
    order_every: Duration::from_secs(1),
};

/// More load than one connection serves at ease.
const HEAVY: Load = Load {
    couriers: 12,
    fix_every: Duration::from_millis(100),
    kitchens: 2,
    order_every: Duration::from_millis(500),
};

const SCENARIOS: [(&str, Fault, Load); 5] = [
    ("kill", Fault::KillDispatcher, STEADY),
    ("broker", Fault::RestartBroker, STEADY),
    ("database", Fault::RestartDatabase, STEADY),
    ("pool", Fault::SmallPool, HEAVY),
    ("sigterm", Fault::Terminate, STEADY),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_survived() {
    let only = std::env::var("FAULTS_SCENARIOS").ok();
    let chosen: Vec<_> = SCENARIOS
        .into_iter()
        .filter(|(name, ..)| {
            only.as_deref()
                .is_none_or(|o| o.split(',').any(|n| n.trim() == *name))
        })
        .collect();
    assert!(
        !chosen.is_empty(),
        "FAULTS_SCENARIOS={only:?} names no scenario"
    );

    let servers = servers::Servers::up();
    let logs = std::env::temp_dir().join(format!("dispatcher-faults-logs-{}", std::process::id()));
    std::fs::create_dir_all(&logs).expect("create the log folder");

    // Serially: the scenarios share the servers, and the faults must not overlap.
    let mut outcomes = Vec::new();
    for (name, fault, load) in chosen {
        let outcome = scenario::run(&servers, &logs, name, fault, load).await;
        eprintln!("faults: {name} done: {}", outcome.row());
        outcomes.push(outcome);
    }

    println!("\n{}", scenario::HEADER);
    for outcome in &outcomes {
        println!("{}", outcome.row());
    }
    println!();
    for outcome in &outcomes {
        for note in &outcome.notes {
            println!("- {}: {note}", outcome.name);
        }
    }
    let failures: Vec<String> = outcomes
        .iter()
        .flat_map(|o| o.failures.iter().map(move |f| format!("{}: {f}", o.name)))
        .collect();
    assert!(
        failures.is_empty(),
        "faults not survived (dispatcher logs in {}):\n{}",
        logs.display(),
        failures.join("\n")
    );
    let _ = std::fs::remove_dir_all(&logs);
}
