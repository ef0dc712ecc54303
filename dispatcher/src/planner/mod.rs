//! The planner loop: every tick, or sooner when something urgent happens, take a snapshot of each
//! region, solve it off the async runtime within a time budget (warm-started from the last plan),
//! and tell couriers and kitchens only what changed.

mod apply;
mod snapshot;
pub mod travel;

use std::{sync::Arc, time::Duration};

use solver::{
    Weights,
    search::{SolveConfig, Solver},
};

pub use snapshot::{Rules, Snapshot};
pub use travel::{Planar, TravelModel};

use crate::{
    core::{Core, CoreError, Txn},
    domain::RegionKey,
};

/// How the planner plans.
#[derive(Debug, Clone)]
pub struct PlannerSettings {
    /// Time between rounds when nothing urgent happens.
    pub tick: Duration,
    /// Least time between two rounds, however urgent.
    pub min_gap: Duration,
    /// Search time per region and round.
    pub budget: Duration,
    /// If set, each round searches exactly this many iterations per thread instead of for `budget`,
    /// so a replay on a simulated clock gives the same plans on every machine.
    pub iterations: Option<u64>,
    /// Objective weights.
    pub weights: Weights,
    /// Search seed.
    pub seed: u64,
    /// Search threads.
    pub threads: usize,
    /// Benchmark rules narrower than the product's (defaults for live service).
    pub rules: Rules,
}

impl Default for PlannerSettings {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(2),
            min_gap: Duration::from_millis(200),
            budget: Duration::from_millis(500),
            iterations: None,
            weights: Weights::default(),
            seed: 1,
            threads: 2,
            rules: Rules::default(),
        }
    }
}

/// One region's round, for logs, metrics and tests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoundReport {
    /// The round's number in its region.
    pub plan_version: u64,
    /// Couriers and orders in the problem.
    pub couriers: usize,
    /// Orders in the problem.
    pub orders: usize,
    /// Offers sent.
    pub offers: usize,
    /// Accepted orders moved to another courier.
    pub moved: usize,
    /// Orders left unassigned.
    pub unassigned: usize,
    /// Objective of the plan.
    pub objective: f64,
    /// Search iterations.
    pub iterations: u64,
    /// Wall time of the whole round.
    pub seconds: f64,
}

/// The planner: a solver with its own threads, and the travel model.
#[derive(Debug)]
pub struct Planner {
    solver: Solver,
    travel: TravelModel,
    settings: PlannerSettings,
}

impl Planner {
    /// A planner with `settings.threads` search threads.
    pub fn new(
        settings: PlannerSettings,
        travel: TravelModel,
    ) -> Result<Self, solver::SolverError> {
        Ok(Self {
            solver: Solver::new(settings.threads)?,
            travel,
            settings,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &PlannerSettings {
        &self.settings
    }

    /// Plans every region once.
    pub async fn round(self: &Arc<Self>, core: &Arc<Core>) -> Result<Vec<RoundReport>, CoreError> {
        let mut reports = Vec::new();
        for region in core.settings().regions.clone() {
            if let Some(report) = self.plan_region(core, &region).await? {
                reports.push(report);
            }
        }
        core.refresh_gauges().await;
        Ok(reports)
    }

    async fn plan_region(
        self: &Arc<Self>,
        core: &Arc<Core>,
        key: &RegionKey,
    ) -> Result<Option<RoundReport>, CoreError> {
        let started = std::time::Instant::now();
        let snapshot = {
            let mut world = core.world().await;
            core.fold_fixes(&mut world);
            let now = core.now();
            let Some(region) = world.region(key) else {
                return Ok(None);
            };
            let weights = self.settings.weights;
            snapshot::build(region, now, weights, self.settings.rules)
        };
        let Some(mut snap) = snapshot else {
            return Ok(None);
        };
        let planner = self.clone();
        let solved = tokio::task::spawn_blocking(move || {
            if snap.problem.vehicles.is_empty() {
                // Nobody to plan with: every order waits, and says why.
                let plan = solver::Plan {
                    routes: Vec::new(),
                    unassigned: (0..snap.problem.jobs.len())
                        .map(|job| solver::Unassigned {
                            job,
                            reason: solver::UnassignedReason::NoVehicle,
                        })
                        .collect(),
                };
                return Ok((snap, plan, 0, 0.0, f64::NAN));
            }
            snap.problem.matrices = planner
                .travel
                .matrices(&snap.matrix_profiles, &snap.points)
                .map_err(|e| e.to_string())?;
            let config = SolveConfig {
                time_limit: planner.settings.budget,
                max_iterations: planner.settings.iterations,
                seed: planner.settings.seed,
            };
            let solved = planner
                .solver
                .solve(&snap.problem, &config, None)
                .map_err(|e| e.to_string())?;
            // The independent checker prices the plan; a plan it refuses is never sent to anyone.
            let objective = match solver::checker::check(&snap.problem, &solved.plan) {
                Ok(cost) => match snap.problem.objective {
                    solver::Objective::Weighted(w) => cost.weighted(&w),
                    solver::Objective::FleetThenDistance => cost.distance,
                },
                Err(violations) => {
                    return Err(format!(
                        "the checker refused the plan: {} violation(s), first: {}",
                        violations.len(),
                        violations
                            .first()
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    ));
                }
            };
            Ok::<_, String>((
                snap,
                solved.plan,
                solved.iterations,
                solved.elapsed.as_secs_f64(),
                objective,
            ))
        })
        .await
        .map_err(|e| CoreError::Unavailable(format!("planner task: {e}")))?;
        let (snap, plan, iterations, solve_seconds, objective) =
            solved.map_err(|e| CoreError::Unavailable(format!("planning failed: {e}")))?;

        let mut world = core.world().await;
        let now = core.now();
        let Some(region) = world.region_mut(key) else {
            return Ok(None);
        };
        let mut txn = Txn::new(key, now);
        let expiry = core.settings().offer_expiry;
        let outcome = apply::apply(region, &snap, &plan, &self.travel, expiry, &mut txn);
        let has_changes = !txn.change.is_empty();
        core.commit(txn).await?;
        region.plan_version += u64::from(has_changes);
        for order in outcome.orders {
            region.put_order(order, now);
        }
        for offer in &outcome.offers {
            if let Some(c) = region.couriers.get_mut(&offer.courier_id) {
                c.open_offer = Some(offer.offer_id.clone());
            }
            region.offers.insert(offer.offer_id.clone(), offer.clone());
        }
        for (courier_id, route) in outcome.routes {
            if let Some(c) = region.couriers.get_mut(&courier_id) {
                c.route = route;
            }
        }
        for (order_id, pickup, dropoff) in outcome.etas {
            if let Some(entry) = region.orders.get_mut(&order_id) {
                entry.order.pickup_eta = pickup;
                entry.order.dropoff_eta = dropoff;
            }
        }
        region.planned = outcome.planned;
        let plan_version = region.plan_version;
        drop(world);
        core.publish_etas(outcome.kitchen_etas);

        let metrics = core.metrics();
        let seconds = started.elapsed().as_secs_f64();
        metrics.planner_rounds.inc();
        metrics.planner_seconds.observe(seconds);
        metrics.planner_last_seconds.set(seconds);
        metrics.planner_solve_seconds.observe(solve_seconds);
        metrics.planner_objective.set(objective);
        metrics.planner_iterations.inc_by(iterations);
        metrics.offers_sent.inc_by(outcome.offers_made as u64);
        for delay in &outcome.offer_delays {
            metrics.order_to_offer_seconds.observe(*delay);
        }
        let report = RoundReport {
            plan_version,
            couriers: snap.couriers.len(),
            orders: snap.orders.len(),
            offers: outcome.offers_made,
            moved: outcome.moved,
            unassigned: plan.unassigned.len(),
            objective,
            iterations,
            seconds,
        };
        tracing::info!(
            region = %key,
            plan_version,
            couriers = report.couriers,
            orders = report.orders,
            offers = report.offers,
            moved = report.moved,
            unassigned = report.unassigned,
            objective = format_args!("{objective:.0}"),
            iterations = report.iterations,
            seconds = format_args!("{seconds:.3}"),
            "planning round"
        );
        Ok(Some(report))
    }

    /// Runs rounds until `shutdown` resolves: every tick, or after `min_gap` when woken.
    pub async fn run(
        self: Arc<Self>,
        core: Arc<Core>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut last = tokio::time::Instant::now();
        loop {
            let tick = tokio::time::sleep_until(last + self.settings.tick);
            tokio::select! {
                () = &mut shutdown => return,
                () = tick => {}
                () = core.planner_wake().notified() => {
                    let earliest = last + self.settings.min_gap;
                    tokio::select! {
                        () = &mut shutdown => return,
                        () = tokio::time::sleep_until(earliest) => {}
                    }
                }
            }
            last = tokio::time::Instant::now();
            if let Err(error) = self.round(&core).await {
                tracing::warn!(%error, "planning round failed; the next one retries");
            }
        }
    }
}
