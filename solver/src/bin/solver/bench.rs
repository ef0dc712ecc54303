//! `solver bench`: the public benchmark instances, with the gap to the best-known solutions.

use std::{
    collections::HashMap,
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context as _;
use solver::{
    checker,
    instances::{self, routes},
    search::{SolveConfig, Solver},
};

use crate::Out;

/// One instance's outcome.
struct Outcome {
    instance: String,
    vehicles: usize,
    distance: f64,
    feasible: bool,
    bks: Option<(usize, f64)>,
}

/// Solves every file in turn and prints a JSON line for each, then the table.
pub(crate) fn run(
    out: &mut Out<'_>,
    seconds: f64,
    threads: usize,
    dir: &Path,
    seed: u64,
    files: &[PathBuf],
) -> anyhow::Result<()> {
    anyhow::ensure!(
        seconds.is_finite() && seconds > 0.0,
        "--seconds must be positive"
    );
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let config = SolveConfig {
        time_limit: Duration::from_secs_f64(seconds),
        max_iterations: None,
        seed,
    };
    let solver = Solver::new(threads)?;
    let mut bks_cache: HashMap<PathBuf, HashMap<String, (usize, f64)>> = HashMap::new();
    let mut outcomes = Vec::new();
    for file in files {
        let instance = instances::read(file)?;
        let solved = solver.solve(&instance.problem, &config, None)?;
        let (feasible, vehicles, distance) = match checker::check(&instance.problem, &solved.plan) {
            Ok(cost) => (cost.unassigned == 0, cost.vehicles, cost.distance),
            Err(violations) => {
                for v in &violations {
                    eprintln!("{}: {v}", instance.name);
                }
                (false, solved.plan.routes.len(), f64::NAN)
            }
        };
        let sol = dir.join(format!("{}.sol", instance.name));
        std::fs::write(&sol, routes::write(&instance.problem, &solved.plan))
            .with_context(|| format!("writing {}", sol.display()))?;
        writeln!(
            out,
            "{}",
            serde_json::json!({
                "instance": instance.name,
                "vehicles": vehicles,
                "distance": (distance * 1e4).round() / 1e4,
                "seconds": (solved.elapsed.as_secs_f64() * 1e3).round() / 1e3,
                "feasible": feasible,
                "iterations": solved.iterations,
            })
        )?;
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
    print_table(out, &outcomes)
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

fn print_table(out: &mut Out<'_>, outcomes: &[Outcome]) -> anyhow::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "| instance | vehicles | bks vehicles | distance | bks distance | gap % | feasible |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---|")?;
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
        writeln!(
            out,
            "| {} | {} | {bv} | {:.2} | {bd} | {gap} | {} |",
            o.instance, o.vehicles, o.distance, o.feasible
        )?;
    }
    let mean_gap = if gaps.is_empty() {
        f64::NAN
    } else {
        gaps.iter().sum::<f64>() / gaps.len() as f64
    };
    writeln!(out)?;
    writeln!(
        out,
        "feasible {}/{}; best-known vehicle count on {matched}/{with_bks}; mean distance gap on those {mean_gap:+.2} %",
        outcomes.iter().filter(|o| o.feasible).count(),
        outcomes.len(),
    )?;
    Ok(())
}
