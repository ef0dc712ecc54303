//! One search thread: SISR ruin-and-recreate under simulated annealing, preceded (for the benchmark
//! objective) by SISR's fleet minimisation, which deletes a route and repairs the solution while
//! favouring the jobs that have been left out most often (absence counts).

use super::{
    prepared::Prepared,
    recreate::recreate,
    ruin::{RuinParams, ruin},
    solution::Solution,
};
use crate::objective::Objective;

/// Annealing temperatures relative to the initial cost per job.
const START_TEMPERATURE: f64 = 1.0;
const END_TEMPERATURE: f64 = 0.01;

/// Price of a job left out during annealing under the benchmark objective, relative to the initial
/// cost per job, at the start temperature; it grows as the temperature falls.
const SOFT_UNASSIGNED: f64 = 2.0;
/// At most this many jobs may be left out at the soft price; more cost their full price.
const SOFT_UNASSIGNED_JOBS: usize = 2;
/// Iterations the current solution may stay incomplete before the search returns to the complete
/// solution it left.
const EXCURSION: u64 = 1000;

pub(crate) struct Island {
    pub(crate) rng: fastrand::Rng,
    pub(crate) current: Solution,
    pub(crate) best: Solution,
    pub(crate) best_cost: f64,
    /// Steps taken.
    pub(crate) iterations: u64,
    /// A solution with one route fewer than `best`, being repaired (fleet minimisation).
    repair: Option<Solution>,
    absences: Vec<u64>,
    /// Cost scale for the temperatures.
    scale: f64,
    /// Whether a job left out costs less than its full price while annealing (see `search_cost`).
    soft_unassigned: bool,
    /// When the current solution last left a job out, and the complete solution it left.
    excursion: Option<(u64, Solution)>,
    ruin: RuinParams,
}

/// What a step should do, decided by the caller from the budget used so far.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Phase {
    /// Try to serve every job with one vehicle fewer.
    Fleet,
    /// Lower the cost; `progress` in 0..1 sets the temperature.
    Improve { progress: f64 },
}

impl Island {
    pub(crate) fn new(p: &Prepared<'_>, start: Solution, seed: u64) -> Self {
        let cost = start.cost(p);
        let served = (p.jobs() - start.unassigned.len()).max(1) as f64;
        let routes_cost: f64 = start.routes.iter().map(|r| r.cost).sum::<f64>()
            - p.scalar.vehicle * start.vehicles() as f64;
        Self {
            rng: fastrand::Rng::with_seed(seed),
            best_cost: cost,
            iterations: 0,
            best: start.clone(),
            current: start,
            repair: None,
            absences: vec![0; p.jobs()],
            scale: (routes_cost / served).max(1e-9),
            soft_unassigned: matches!(p.problem.objective, Objective::FleetThenDistance),
            excursion: None,
            ruin: RuinParams::default(),
        }
    }

    /// The cost annealing compares at `temperature`. Under the benchmark objective a job left out
    /// is priced like a few jobs' worth of distance early on instead of a whole vehicle: once the
    /// fleet is minimal and the routes are nearly full, no job can change routes without briefly
    /// leaving one out, and a hard price freezes the search (every candidate equals the current
    /// solution). The price rises as the temperature falls, so that the search ends among complete
    /// plans; the best solution is always judged by the true cost.
    fn search_cost(&self, p: &Prepared<'_>, solution: &Solution, temperature: f64) -> f64 {
        let left_out = solution.unassigned.len();
        if self.soft_unassigned && (1..=SOFT_UNASSIGNED_JOBS).contains(&left_out) {
            let price =
                (SOFT_UNASSIGNED * self.scale * self.scale / temperature).min(p.scalar.unassigned);
            // Routes emptied by leaving their jobs out still count: shedding a vehicle that way
            // must not look like the vehicle saving it is not.
            let emptied = self.best.vehicles().saturating_sub(solution.vehicles());
            solution.routes.iter().map(|r| r.cost).sum::<f64>()
                + p.scalar.vehicle * emptied as f64
                + price * left_out as f64
        } else {
            solution.cost(p)
        }
    }

    /// Replaces this island's solutions with a better one found elsewhere.
    pub(crate) fn adopt(&mut self, solution: &Solution, cost: f64) {
        self.best = solution.clone();
        self.best_cost = cost;
        self.current = solution.clone();
        self.repair = None;
        self.excursion = None;
    }

    pub(crate) fn step(&mut self, p: &Prepared<'_>, phase: Phase) {
        self.iterations += 1;
        match phase {
            Phase::Fleet => self.fleet_step(p),
            Phase::Improve { progress } => self.improve_step(p, progress),
        }
    }

    fn improve_step(&mut self, p: &Prepared<'_>, progress: f64) {
        if let Some((since, _)) = &self.excursion
            && self.iterations - since > EXCURSION
            && let Some((_, left)) = self.excursion.take()
        {
            // Too long without some job: go back to where the excursion left a complete plan.
            self.current = left;
        }
        let mut candidate = self.current.clone();
        let mut jobs = ruin(p, &mut candidate, &self.ruin, &mut self.rng);
        jobs.append(&mut candidate.unassigned);
        // A new route never pays under the benchmark objective, unless the best plan is incomplete.
        let open_routes = !self.soft_unassigned || !self.best.unassigned.is_empty();
        recreate(p, &mut candidate, jobs, open_routes, &mut self.rng);
        let temperature = self.scale
            * START_TEMPERATURE
            * (END_TEMPERATURE / START_TEMPERATURE).powf(progress.clamp(0.0, 1.0));
        let cost = self.search_cost(p, &candidate, temperature);
        let current_cost = self.search_cost(p, &self.current, temperature);
        // Accept if better than the current cost plus a random tolerance (annealing).
        let threshold = current_cost - temperature * self.rng.f64().max(f64::MIN_POSITIVE).ln();
        if cost < threshold {
            let true_cost = candidate.cost(p);
            if true_cost < self.best_cost {
                self.best = candidate.clone();
                self.best_cost = true_cost;
            }
            if candidate.unassigned.is_empty() {
                self.excursion = None;
            } else if self.excursion.is_none() && self.current.unassigned.is_empty() {
                self.excursion = Some((self.iterations, self.current.clone()));
            }
            self.current = candidate;
        }
    }

    fn fleet_step(&mut self, p: &Prepared<'_>) {
        let repair = match self.repair.take() {
            Some(r) => r,
            None => {
                // Only a complete solution is worth shrinking; complete it first.
                if !self.best.unassigned.is_empty() {
                    self.improve_step(p, 0.0);
                    return;
                }
                if self.best.vehicles() <= 1 {
                    return;
                }
                let mut shrunk = self.best.clone();
                let smallest = shrunk
                    .routes
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| !r.is_empty())
                    .min_by_key(|(i, r)| (r.nodes.len(), *i))
                    .map(|(i, _)| i);
                let Some(r) = smallest else { return };
                let jobs: Vec<usize> = shrunk.routes[r].jobs().collect();
                shrunk.remove(p, &jobs);
                shrunk
            }
        };
        let mut candidate = repair.clone();
        let mut jobs = ruin(p, &mut candidate, &self.ruin, &mut self.rng);
        jobs.append(&mut candidate.unassigned);
        recreate(p, &mut candidate, jobs, false, &mut self.rng);
        let absent = |s: &Solution| s.unassigned.iter().map(|&j| self.absences[j]).sum::<u64>();
        let accepted = if candidate.unassigned.len() < repair.unassigned.len()
            || absent(&candidate) < absent(&repair)
        {
            candidate
        } else {
            repair
        };
        for &j in &accepted.unassigned {
            self.absences[j] += 1;
        }
        if accepted.unassigned.is_empty() {
            let cost = accepted.cost(p);
            self.adopt(&accepted, cost);
        } else {
            self.repair = Some(accepted);
        }
    }
}
