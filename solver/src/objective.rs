//! What makes one plan better than another.

/// The goal of a solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// The static benchmark objective: serve every job, with the fewest vehicles, then the least total
    /// distance (Solomon, Li & Lim).
    FleetThenDistance,
    /// The live dispatch objective: a weighted sum of the terms in [`Weights`].
    Weighted(Weights),
}

/// Weights of the dispatch objective; each multiplies one term of [`Cost`]. Zero turns a term off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Per vehicle used.
    pub vehicle: f64,
    /// Per unit of distance travelled.
    pub distance: f64,
    /// Per unit of time spent travelling.
    pub travel_time: f64,
    /// Per unit of time spent waiting for a window to open (food not ready).
    pub waiting: f64,
    /// Per unit of time from a job's `placed_at` to the start of its delivery: click-to-door.
    pub click_to_door: f64,
    /// Per unit of time a service starts after a soft window's end.
    pub lateness: f64,
    /// Per job left unassigned.
    pub unassigned: f64,
    /// Per job given to another vehicle than in the previous plan (stability).
    pub reassignment: f64,
}

impl Default for Weights {
    /// Weights for meal delivery with times in seconds and distances in metres: lateness hurts four
    /// times as much as ordinary delivery time, distance a little, and an unserved order costs as much
    /// as two hours of lateness, so it is left out only when it truly cannot be served in time.
    fn default() -> Self {
        Self {
            vehicle: 0.0,
            distance: 0.001,
            travel_time: 0.0,
            waiting: 0.1,
            click_to_door: 1.0,
            lateness: 4.0,
            unassigned: 4.0 * 7_200.0,
            reassignment: 60.0,
        }
    }
}

/// The terms of a plan's cost, as the checker recomputes them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cost {
    /// Vehicles with at least one stop.
    pub vehicles: usize,
    /// Total distance.
    pub distance: f64,
    /// Total time spent travelling.
    pub travel_time: f64,
    /// Total time spent waiting for windows to open.
    pub waiting: f64,
    /// Sum over delivered jobs with a `placed_at` of (delivery start - placed_at).
    pub click_to_door: f64,
    /// Sum of (service start - window end) over stops that start after a soft window's end.
    pub lateness: f64,
    /// Jobs left unassigned.
    pub unassigned: usize,
    /// Jobs on another vehicle than in the previous plan.
    pub reassigned: usize,
}

impl Cost {
    /// The weighted sum under `weights`.
    pub fn weighted(&self, weights: &Weights) -> f64 {
        weights.vehicle * self.vehicles as f64
            + weights.distance * self.distance
            + weights.travel_time * self.travel_time
            + weights.waiting * self.waiting
            + weights.click_to_door * self.click_to_door
            + weights.lateness * self.lateness
            + weights.unassigned * self.unassigned as f64
            + weights.reassignment * self.reassigned as f64
    }

    /// True if `self` is strictly better than `other` under `objective` (lower is better;
    /// lexicographic for [`Objective::FleetThenDistance`]).
    pub fn better_than(&self, other: &Cost, objective: &Objective) -> bool {
        match objective {
            Objective::FleetThenDistance => {
                (self.unassigned, self.vehicles) < (other.unassigned, other.vehicles)
                    || ((self.unassigned, self.vehicles) == (other.unassigned, other.vehicles)
                        && self.distance < other.distance)
            }
            Objective::Weighted(w) => self.weighted(w) < other.weighted(w),
        }
    }
}
