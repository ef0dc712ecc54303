//! The `solver` command: solve benchmark instances and compare with the best-known solutions.
//!
//! `solver bench --seconds S --threads T --out DIR FILE...` prints one JSON line per instance and
//! writes `DIR/<instance>.sol`, then a table with the gap to `bks.csv` (looked up beside each file).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use solver::{
    checker,
    instances::{self, routes},
    search::{SolveConfig, solve},
};

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
}

/// One instance's outcome.
struct Outcome {
    instance: String,
    vehicles: usize,
    distance: f64,
    feasible: bool,
    bks: Option<(usize, f64)>,
}

fn main() -> anyhow::Result<()> {
    let Command::Bench {
        seconds,
        threads,
        out,
        seed,
        files,
    } = Cli::parse().command;
    anyhow::ensure!(
        seconds.is_finite() && seconds > 0.0,
        "--seconds must be positive"
    );
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let config = SolveConfig {
        time_limit: Duration::from_secs_f64(seconds),
        max_iterations: None,
        threads,
        seed,
    };
    let mut bks_cache: HashMap<PathBuf, HashMap<String, (usize, f64)>> = HashMap::new();
    let mut outcomes = Vec::new();
    for file in &files {
        let instance = instances::read(file)?;
        let solved = solve(&instance.problem, &config, None)?;
        let (feasible, vehicles, distance) = match checker::check(&instance.problem, &solved.plan) {
            Ok(cost) => (cost.unassigned == 0, cost.vehicles, cost.distance),
            Err(violations) => {
                for v in &violations {
                    eprintln!("{}: {v}", instance.name);
                }
                (false, solved.plan.routes.len(), f64::NAN)
            }
        };
        let sol = out.join(format!("{}.sol", instance.name));
        std::fs::write(&sol, routes::write(&instance.problem, &solved.plan))
            .with_context(|| format!("writing {}", sol.display()))?;
        println!(
            "{}",
            serde_json::json!({
                "instance": instance.name,
                "vehicles": vehicles,
                "distance": (distance * 1e4).round() / 1e4,
                "seconds": (solved.elapsed.as_secs_f64() * 1e3).round() / 1e3,
                "feasible": feasible,
                "iterations": solved.iterations,
            })
        );
        let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let table = bks_cache
            .entry(dir.clone())
            .or_insert_with(|| read_bks(&dir.join("bks.csv")));
        outcomes.push(Outcome {
            bks: table.get(&instance.name.to_lowercase()).copied(),
            instance: instance.name,
            vehicles,
            distance,
            feasible,
        });
    }
    print_table(&outcomes);
    Ok(())
}

/// `instance,vehicles,distance,...` rows, keyed by lower-case instance name; empty if absent.
fn read_bks(path: &Path) -> HashMap<String, (usize, f64)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split(',');
            let name = fields.next()?.trim().to_lowercase();
            let vehicles = fields.next()?.trim().parse().ok()?;
            let distance = fields.next()?.trim().parse().ok()?;
            Some((name, (vehicles, distance)))
        })
        .collect()
}

fn print_table(outcomes: &[Outcome]) {
    println!();
    println!("| instance | vehicles | bks vehicles | distance | bks distance | gap % | feasible |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    let (mut matched, mut with_bks, mut gaps) = (0, 0, Vec::new());
    for o in outcomes {
        let (bv, bd, gap) = match o.bks {
            Some((bv, bd)) => {
                with_bks += 1;
                let gap = 100.0 * (o.distance - bd) / bd;
                if o.feasible && o.vehicles == bv {
                    matched += 1;
                    gaps.push(gap);
                }
                (bv.to_string(), format!("{bd:.2}"), format!("{gap:+.2}"))
            }
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "| {} | {} | {bv} | {:.2} | {bd} | {gap} | {} |",
            o.instance, o.vehicles, o.distance, o.feasible
        );
    }
    let mean_gap = if gaps.is_empty() {
        f64::NAN
    } else {
        gaps.iter().sum::<f64>() / gaps.len() as f64
    };
    println!();
    println!(
        "feasible {}/{}; best-known vehicle count on {matched}/{with_bks}; mean distance gap on those {mean_gap:+.2} %",
        outcomes.iter().filter(|o| o.feasible).count(),
        outcomes.len(),
    );
}
