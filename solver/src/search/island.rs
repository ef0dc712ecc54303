//! One search thread: SISR ruin-and-recreate under simulated annealing, preceded (for the benchmark
//! objective) by SISR's fleet minimisation, which deletes a route and repairs the solution while
//! favouring the jobs that have been left out most often (absence counts).

use super::{
    prepared::Prepared,
    recreate::recreate,
    ruin::{RuinParams, ruin},
    solution::Solution,
};

/// Annealing temperatures relative to the initial cost per job.
const START_TEMPERATURE: f64 = 1.0;
const END_TEMPERATURE: f64 = 0.01;

pub(crate) struct Island {
    pub(crate) rng: fastrand::Rng,
    pub(crate) current: Solution,
    pub(crate) current_cost: f64,
    pub(crate) best: Solution,
    pub(crate) best_cost: f64,
    /// Steps taken.
    pub(crate) iterations: u64,
    /// A solution with one route fewer than `best`, being repaired (fleet minimisation).
    repair: Option<Solution>,
    absences: Vec<u64>,
    /// Cost scale for the temperatures.
    scale: f64,
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
            current_cost: cost,
            best_cost: cost,
            iterations: 0,
            best: start.clone(),
            current: start,
            repair: None,
            absences: vec![0; p.jobs()],
            scale: (routes_cost / served).max(1e-9),
            ruin: RuinParams::default(),
        }
    }

    /// Replaces this island's solutions with a better one found elsewhere.
    pub(crate) fn adopt(&mut self, solution: &Solution, cost: f64) {
        self.best = solution.clone();
        self.best_cost = cost;
        self.current = solution.clone();
        self.current_cost = cost;
        self.repair = None;
    }

    pub(crate) fn step(&mut self, p: &Prepared<'_>, phase: Phase) {
        self.iterations += 1;
        match phase {
            Phase::Fleet => self.fleet_step(p),
            Phase::Improve { progress } => self.improve_step(p, progress),
        }
    }

    fn improve_step(&mut self, p: &Prepared<'_>, progress: f64) {
        let mut candidate = self.current.clone();
        let mut jobs = ruin(p, &mut candidate, &self.ruin, &mut self.rng);
        jobs.append(&mut candidate.unassigned);
        recreate(p, &mut candidate, jobs, true, &mut self.rng);
        let cost = candidate.cost(p);
        let temperature = self.scale
            * START_TEMPERATURE
            * (END_TEMPERATURE / START_TEMPERATURE).powf(progress.clamp(0.0, 1.0));
        // Accept if better than the current cost plus a random tolerance (annealing).
        let threshold =
            self.current_cost - temperature * self.rng.f64().max(f64::MIN_POSITIVE).ln();
        if cost < threshold {
            if cost < self.best_cost {
                self.best = candidate.clone();
                self.best_cost = cost;
            }
            self.current = candidate;
            self.current_cost = cost;
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
