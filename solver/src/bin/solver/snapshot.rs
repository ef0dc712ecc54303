//! `solver snapshot`: a synthetic city at dispatch scale, solved once per budget, to show how fast
//! a first plan comes and how the plan improves with time.

use std::{io::Write, time::Duration, time::Instant};

use anyhow::Context as _;
use solver::{
    Objective, checker,
    instances::city::{self, CityShape},
    search::{SolveConfig, Solver},
};

use crate::Out;

/// Solves the snapshot once by construction alone, then once per budget, and prints a table.
pub(crate) fn run(
    out: &mut Out<'_>,
    couriers: usize,
    orders: usize,
    budgets: &[f64],
    threads: usize,
    seed: u64,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        budgets.iter().all(|s| s.is_finite() && *s > 0.0),
        "--seconds must be positive"
    );
    let built = Instant::now();
    let problem = city::snapshot(&CityShape {
        couriers,
        orders,
        seed,
        ..CityShape::default()
    })?;
    let Objective::Weighted(weights) = problem.objective else {
        anyhow::bail!("a city snapshot is solved under the dispatch objective");
    };
    writeln!(
        out,
        "snapshot: {couriers} couriers, {orders} open orders, {} places; matrix built in {} ms",
        problem.matrices[0].len(),
        built.elapsed().as_millis()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| budget | first plan ms | iterations | objective | unassigned | mean click-to-door min | lateness min | distance km |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
    let solver = Solver::new(threads)?;
    let construction_only = SolveConfig {
        time_limit: Duration::MAX,
        max_iterations: Some(0),
        seed,
    };
    let runs = std::iter::once(("construction".to_string(), construction_only)).chain(
        budgets.iter().map(|&s| {
            let config = SolveConfig {
                time_limit: Duration::from_secs_f64(s),
                max_iterations: None,
                seed,
            };
            (format!("{s} s"), config)
        }),
    );
    for (label, config) in runs {
        let solved = solver.solve(&problem, &config, None)?;
        let cost = checker::check(&problem, &solved.plan)
            .map_err(|violations| anyhow::anyhow!("checker rejects the plan: {violations:?}"))
            .with_context(|| format!("budget {label}"))?;
        let served = (problem.jobs.len() - cost.unassigned).max(1) as f64;
        writeln!(
            out,
            "| {label} | {:.1} | {} | {:.0} | {} | {:.1} | {:.0} | {:.1} |",
            solved.first_plan.as_secs_f64() * 1e3,
            solved.iterations,
            cost.weighted(&weights),
            cost.unassigned,
            cost.click_to_door / served / 60.0,
            cost.lateness / 60.0,
            cost.distance / 1e3,
        )?;
    }
    Ok(())
}
