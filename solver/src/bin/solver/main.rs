//! The `solver` command: benchmark the solver on the public instances and on synthetic dispatch
//! snapshots.
//!
//! - `solver bench --seconds S --threads T --out DIR FILE...` prints one JSON line per instance and
//!   writes `DIR/<instance>.sol`, then a table with the gap to `bks.csv` (looked up beside each file).
//! - `solver snapshot --couriers C --orders O --seconds 1,5 --threads T` solves a synthetic city
//!   snapshot under the dispatch objective and prints how the plan improves with the budget.

mod bench;
mod snapshot;

use std::{io::Write, path::PathBuf};

use clap::{Parser, Subcommand};

/// Pickup-and-delivery solver with time windows.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Solves Solomon / Li & Lim instances and reports vehicles, distance and the gap to the best known.
    Bench {
        /// Time budget per instance, in seconds.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Search threads.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Folder for the `<instance>.sol` files.
        #[arg(long)]
        out: PathBuf,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Instance files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Solves a synthetic city snapshot (dispatch objective) at several budgets.
    Snapshot {
        /// Couriers on shift.
        #[arg(long, default_value_t = 300)]
        couriers: usize,
        /// Open orders.
        #[arg(long, default_value_t = 1000)]
        orders: usize,
        /// Budgets to solve with, in seconds, comma-separated; each is a separate solve.
        #[arg(long, value_delimiter = ',', default_value = "1,5")]
        seconds: Vec<f64>,
        /// Search threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Seed of the snapshot and of the search.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let result = match Cli::parse().command {
        Command::Bench {
            seconds,
            threads,
            out: dir,
            seed,
            files,
        } => bench::run(&mut out, seconds, threads, &dir, seed, &files),
        Command::Snapshot {
            couriers,
            orders,
            seconds,
            threads,
            seed,
        } => snapshot::run(&mut out, couriers, orders, &seconds, threads, seed),
    };
    match result.and_then(|()| Ok(out.flush()?)) {
        // A reader that went away (`solver bench ... | head`) is not an error worth a message.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Output written line by line as results come in.
type Out<'a> = std::io::StdoutLock<'a>;
