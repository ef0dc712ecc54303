//! Handles on the search's hot paths for the criterion benches (`--features bench`). Not part of the
//! solver's API: the names and shapes here follow the internals and change with them.

use super::{
    construct,
    insertion::best_placement,
    island::{Island, Phase},
    prepared::Prepared,
    solution::Solution,
};
use crate::{SolverError, problem::Problem};

/// A problem prepared for the search, with a constructed solution to probe.
pub struct Probe<'a> {
    p: Prepared<'a>,
    solution: Solution,
    removed: Vec<usize>,
    island: Island,
    rng: fastrand::Rng,
}

impl<'a> Probe<'a> {
    /// Builds the search's construction for `problem`, then takes every `every`-th routed job back
    /// out, so there are jobs to place.
    pub fn new(problem: &'a Problem, every: usize, seed: u64) -> Result<Self, SolverError> {
        problem.validate()?;
        let p = Prepared::new(problem);
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut solution = construct(&p, &mut rng);
        let routed = solution.route_of_jobs(p.jobs());
        let removed: Vec<usize> = (0..p.jobs())
            .filter(|&j| routed[j].is_some() && !problem.jobs[j].on_board)
            .step_by(every.max(1))
            .collect();
        let island = Island::new(&p, solution.clone(), seed);
        solution.remove(&p, &removed);
        Ok(Self {
            p,
            solution,
            removed,
            island,
            rng,
        })
    }

    /// The jobs taken out.
    pub fn removed(&self) -> &[usize] {
        &self.removed
    }

    /// The cost change of putting `job` at its cheapest feasible place over every route in use,
    /// without doing it: the inner loop of the recreate step.
    pub fn cheapest_insertion(&mut self, job: usize) -> Option<f64> {
        self.solution
            .routes
            .iter()
            .filter(|r| !r.is_empty())
            .filter_map(|r| best_placement(&self.p, r, job, 0.0, &mut self.rng))
            .map(|place| place.delta)
            .min_by(f64::total_cmp)
    }

    /// One ruin-and-recreate iteration with annealing halfway cooled.
    pub fn step(&mut self) {
        self.island.step(&self.p, Phase::Improve { progress: 0.5 });
    }
}
