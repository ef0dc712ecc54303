//! The search: SISR ruin-and-recreate (Christiaens and Vanden Berghe, 2020) with simulated annealing,
//! SISR's fleet minimisation for the benchmark objective, and one island per thread on the solver's
//! own rayon pool.
//!
//! Islands run epochs of a fixed number of iterations and meet between epochs, where every island
//! that is behind adopts the best solution. With an iteration budget the result is therefore fully
//! determined by the seed, the thread count and the budget; with a time budget the search stops at
//! the deadline and the result depends on how far it got.

mod insertion;
mod island;
mod prepared;
#[cfg(feature = "bench")]
#[doc(hidden)]
pub mod probe;
mod recreate;
mod route;
mod ruin;
mod solution;

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use rayon::prelude::*;

use self::{
    island::{Island, Phase},
    prepared::Prepared,
    recreate::insert_in_order,
    solution::Solution,
};
use crate::{SolverError, objective::Objective, plan::Plan, problem::Problem};

/// Iterations each island runs between meetings.
const EPOCH: u64 = 200;

/// Share of the budget spent on removing vehicles under the benchmark objective.
const FLEET_SHARE: f64 = 0.5;

/// How long to search, and from which seed.
#[derive(Debug, Clone)]
pub struct SolveConfig {
    /// Stop after this long (checked between iterations).
    pub time_limit: Duration,
    /// Stop after this many iterations per island, if set; makes the run reproducible.
    pub max_iterations: Option<u64>,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for SolveConfig {
    fn default() -> Self {
        Self {
            time_limit: Duration::from_secs(1),
            max_iterations: None,
            seed: 1,
        }
    }
}

/// The outcome of a solve.
#[derive(Debug, Clone)]
pub struct Solved {
    /// The best plan found.
    pub plan: Plan,
    /// Ruin-and-recreate iterations run, over all islands.
    pub iterations: u64,
    /// Wall time spent.
    pub elapsed: Duration,
    /// Wall time until the first complete plan (the construction) was ready.
    pub first_plan: Duration,
}

/// A solver with its own threads, one search island per thread. Build it once and reuse it: the
/// dispatcher re-plans every few seconds and should not start threads each time.
#[derive(Debug)]
pub struct Solver {
    pool: rayon::ThreadPool,
}

impl Solver {
    /// Starts `threads` search threads (at least one).
    pub fn new(threads: usize) -> Result<Self, SolverError> {
        let threads = threads.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("solver-{i}"))
            .build()
            .map_err(|e| SolverError::Threads(e.to_string()))?;
        Ok(Self { pool })
    }

    /// Search threads (and islands).
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Solves `problem` within `config`'s budget, or until `cancel` turns true.
    pub fn solve(
        &self,
        problem: &Problem,
        config: &SolveConfig,
        cancel: Option<&AtomicBool>,
    ) -> Result<Solved, SolverError> {
        problem.validate()?;
        Ok(self.search(problem, config, cancel))
    }

    fn search(
        &self,
        problem: &Problem,
        config: &SolveConfig,
        cancel: Option<&AtomicBool>,
    ) -> Solved {
        let started = Instant::now();
        let threads = self.threads();
        let pool = &self.pool;
        let p = Prepared::new(problem);
        // Each island starts from its own construction (they differ in the blinks): where the
        // routes are nearly full, the structure a construction picks can be one that no later ruin
        // undoes, and two different starts halve the odds of that.
        let mut islands: Vec<Island> = pool.install(|| {
            (0..threads)
                .into_par_iter()
                .map(|i| {
                    let seed = config
                        .seed
                        .wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64));
                    let mut rng = fastrand::Rng::with_seed(seed);
                    let start = construct(&p, &mut rng);
                    Island::new(&p, start, rng.u64(..))
                })
                .collect()
        });
        let first_plan = started.elapsed();
        let fleet_objective = matches!(problem.objective, Objective::FleetThenDistance);
        // A time limit too far away to represent means none.
        let deadline = started.checked_add(config.time_limit);
        let past_deadline = || deadline.is_some_and(|d| Instant::now() >= d);
        let stopped = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
        let mut done: u64 = 0; // iterations per island so far
        loop {
            let out_of_budget = config.max_iterations.is_some_and(|max| done >= max)
                || (config.max_iterations.is_none() && past_deadline());
            if out_of_budget || stopped() {
                break;
            }
            let epoch = config
                .max_iterations
                .map_or(EPOCH, |max| EPOCH.min(max - done));
            let progress_at = |i: u64| match config.max_iterations {
                Some(max) => (done + i) as f64 / max as f64,
                None => started.elapsed().as_secs_f64() / config.time_limit.as_secs_f64().max(1e-9),
            };
            let timed = config.max_iterations.is_none();
            pool.install(|| {
                islands.par_iter_mut().for_each(|island| {
                    for i in 0..epoch {
                        if timed && (past_deadline() || stopped()) {
                            return;
                        }
                        let progress = progress_at(i);
                        let phase = if fleet_objective && progress < FLEET_SHARE {
                            Phase::Fleet
                        } else {
                            let improve = if fleet_objective {
                                (progress - FLEET_SHARE) / (1.0 - FLEET_SHARE)
                            } else {
                                progress
                            };
                            Phase::Improve { progress: improve }
                        };
                        island.step(&p, phase);
                    }
                })
            });
            done += epoch;
            // Meet: everyone behind takes the best.
            let leader = leader(&islands);
            let (best, best_cost) = (islands[leader].best.clone(), islands[leader].best_cost);
            for island in islands.iter_mut() {
                if best_cost < island.best_cost {
                    island.adopt(&best, best_cost);
                }
            }
        }
        Solved {
            plan: islands[leader(&islands)].best.to_plan(&p),
            iterations: islands.iter().map(|i| i.iterations).sum(),
            elapsed: started.elapsed(),
            first_plan,
        }
    }
}

/// The island with the best solution (lowest cost, then lowest index); `islands` is never empty.
fn leader(islands: &[Island]) -> usize {
    (0..islands.len())
        .min_by(|&a, &b| {
            islands[a]
                .best_cost
                .total_cmp(&islands[b].best_cost)
                .then(a.cmp(&b))
        })
        .unwrap_or(0)
}

/// A first solution: the previous plan's routes where they still hold (without the jobs their
/// vehicle may no longer serve, e.g. one its courier declined), then every other job at its cheapest
/// place.
fn construct(p: &Prepared<'_>, rng: &mut fastrand::Rng) -> Solution {
    let mut solution = Solution::empty(p);
    if let Some(previous) = &p.problem.previous {
        for (vehicle, stops) in previous.routes.iter().enumerate().take(p.fleet.len()) {
            let nodes: Vec<usize> = stops
                .iter()
                .filter(|s| {
                    s.job < p.jobs()
                        && (s.kind == crate::StopKind::Delivery || p.has_pickup(s.job))
                        && p.allowed[vehicle][s.job]
                })
                .map(|s| match s.kind {
                    crate::StopKind::Pickup => prepared::pickup_node(s.job),
                    crate::StopKind::Delivery => prepared::delivery_node(s.job),
                })
                .collect();
            let whole_jobs = nodes.iter().all(|&n| {
                let job = prepared::job_of(n);
                !p.has_pickup(job)
                    || (nodes.contains(&prepared::pickup_node(job))
                        && nodes.contains(&prepared::delivery_node(job)))
            });
            let trips_kept = !p.trips || route::trips_hold(p, &nodes);
            if whole_jobs && trips_kept && route::evaluate(p, vehicle, &nodes).is_some() {
                solution.routes[vehicle].nodes = nodes;
                solution.routes[vehicle].refresh(p);
            }
        }
        let served: Vec<bool> = {
            let of = solution.route_of_jobs(p.jobs());
            of.iter().map(Option::is_some).collect()
        };
        solution.unassigned.retain(|&j| !served[j]);
    }
    seat_on_board(p, &mut solution, rng);
    // Earliest deadline first: tight jobs placed late find every route already committed.
    let mut jobs = std::mem::take(&mut solution.unassigned);
    jobs.sort_by(|&a, &b| {
        let end = |j: usize| p.problem.jobs[j].delivery.window.end;
        let on_board = |j: usize| !p.problem.jobs[j].on_board;
        on_board(a)
            .cmp(&on_board(b))
            .then(end(a).total_cmp(&end(b)))
            .then(a.cmp(&b))
    });
    insert_in_order(p, &mut solution, jobs, true, rng);
    solution
}

/// Places every job whose load is on board before any other. Where the kept previous route of its
/// vehicle leaves it no room (the food was collected after that plan was made), the route's other
/// jobs give way and go back to the pool.
fn seat_on_board(p: &Prepared<'_>, solution: &mut Solution, rng: &mut fastrand::Rng) {
    let on_board = |job: usize| p.problem.jobs[job].on_board;
    let seated: Vec<usize> = solution
        .unassigned
        .iter()
        .copied()
        .filter(|&j| on_board(j))
        .collect();
    solution.unassigned.retain(|&j| !on_board(j));
    for job in seated {
        insert_in_order(p, solution, vec![job], true, rng);
        let (true, Some(vehicle)) = (
            solution.unassigned.last() == Some(&job),
            p.problem.jobs[job].fixed_vehicle,
        ) else {
            continue;
        };
        solution.unassigned.pop();
        let route = &mut solution.routes[vehicle];
        let mut others: Vec<usize> = route
            .nodes
            .iter()
            .map(|&n| prepared::job_of(n))
            .filter(|&j| !on_board(j))
            .collect();
        others.sort_unstable();
        others.dedup();
        route.nodes.retain(|&n| on_board(prepared::job_of(n)));
        route.refresh(p);
        solution.unassigned.extend(others);
        insert_in_order(p, solution, vec![job], true, rng);
    }
}
