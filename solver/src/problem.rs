//! What the solver is asked: jobs to serve, vehicles to serve them with, travel between places, and
//! what counts as a good plan.
//!
//! One model serves the live dispatch case and the static benchmarks. A job is either a
//! pickup-and-delivery pair (a meal order; a Li & Lim request) or a delivery alone whose load is on
//! the vehicle from the start of its route (a Solomon customer; an order already on board).
//!
//! Times are seconds (or the instance's own time unit for benchmarks) on one axis shared by every job
//! and vehicle; the dispatcher uses seconds since its snapshot's epoch.

use crate::{SolverError, matrix::TravelMatrix, objective::Objective};

/// Number of capacity dimensions (weight and volume for dispatch; benchmarks use the first only).
pub const LOAD_DIMS: usize = 2;

/// An amount in every capacity dimension.
pub type Load = [i32; LOAD_DIMS];

/// Required or offered equipment and vehicle types, one bit each; a vehicle can serve a job only if it
/// has every bit the job requires. The caller assigns the bits.
pub type Skills = u64;

/// When a stop may be served.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeWindow {
    /// Service may not start earlier; a vehicle arriving before waits.
    pub start: f64,
    /// Service should start no later than this.
    pub end: f64,
    /// If true, starting after `end` is infeasible; if false, it is allowed and costs lateness.
    pub hard: bool,
}

impl TimeWindow {
    /// A window that never binds.
    pub const ANY: TimeWindow = TimeWindow {
        start: f64::NEG_INFINITY,
        end: f64::INFINITY,
        hard: true,
    };
}

/// A place a vehicle visits for a job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stop {
    /// Index of the place in the travel matrices.
    pub location: usize,
    /// When service may start.
    pub window: TimeWindow,
    /// Time spent on arriving before service can start (parking, walking in), paid once per visit
    /// to the place: a stop right after another stop at the same location skips it. The route's
    /// first stop always pays it (the vehicle's start is not a visit). Waiting for the window runs
    /// alongside it: service starts at the later of arrival plus setup and the window's start.
    pub setup: f64,
    /// How long service takes, for every stop.
    pub service: f64,
}

/// Something to carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The caller's id, for reports.
    pub id: String,
    /// Where the load is collected; `None` if it is on the vehicle from the route's start.
    pub pickup: Option<Stop>,
    /// Where the load is handed over.
    pub delivery: Stop,
    /// How much room the load takes from pickup (or route start) to delivery.
    pub size: Load,
    /// Skills a vehicle must have to carry it.
    pub required_skills: Skills,
    /// When the customer ordered, for the click-to-door cost; `None` if it does not apply.
    pub placed_at: Option<f64>,
    /// If set, only this vehicle may serve the job (support pinned it, or it is already on board).
    pub fixed_vehicle: Option<usize>,
    /// True if the load is already on `fixed_vehicle`: the job must be served, by that vehicle.
    pub on_board: bool,
    /// Vehicles that may not serve this job (for example couriers who declined it), as indices into
    /// Problem::vehicles.
    pub excluded_vehicles: Vec<usize>,
}

/// Something that carries jobs: a courier, or a benchmark vehicle.
#[derive(Debug, Clone, PartialEq)]
pub struct Vehicle {
    /// The caller's id, for reports.
    pub id: String,
    /// Which travel matrix applies (car, bicycle, ...).
    pub profile: usize,
    /// Where the route starts.
    pub start: usize,
    /// When the vehicle can leave `start`.
    pub start_time: f64,
    /// Where the route must end, or `None` for an open route that ends at its last stop.
    pub end: Option<usize>,
    /// The route must be over by then: arrival at `end`, or the end of the last service.
    pub shift_end: f64,
    /// The latest time a pickup's service may start on this vehicle; deliveries may still start
    /// later (up to `shift_end`). `f64::INFINITY` for no limit. The meal delivery benchmark's rule
    /// that a courier may not pick up after its off time, but may deliver after it.
    pub latest_pickup: f64,
    /// How much it can carry at once.
    pub capacity: Load,
    /// Skills it has.
    pub skills: Skills,
}

/// A previous plan, for warm starts and the cost of changing assignments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreviousAssignment {
    /// For each job index, the vehicle that had it in the previous plan, if any.
    pub vehicle_of_job: Vec<Option<usize>>,
    /// The previous routes as job-stop sequences per vehicle, for a warm start.
    pub routes: Vec<Vec<crate::plan::StopRef>>,
}

/// How pickups and deliveries may follow each other on a route.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TripRule {
    /// Pickups and deliveries interleave freely (only each job's pickup before its delivery).
    #[default]
    Free,
    /// The meal delivery benchmark's rule: a route is a sequence of trips. A trip picks up at one
    /// place (its pickup stops are consecutive and share one location), then delivers exactly the
    /// jobs it picked up, before the next trip's first pickup. Jobs without a pickup (on board at
    /// the start) are delivered first, before any pickup: they form the start of the first trip.
    OnePickupPlace,
}

/// A whole problem.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Travel times and distances, one matrix per vehicle profile.
    pub matrices: Vec<TravelMatrix>,
    /// The jobs.
    pub jobs: Vec<Job>,
    /// The vehicles.
    pub vehicles: Vec<Vehicle>,
    /// What makes one plan better than another.
    pub objective: Objective,
    /// The plan in force before this call, if any.
    pub previous: Option<PreviousAssignment>,
    /// How pickups and deliveries may follow each other on a route ([`TripRule::Free`] unless a
    /// benchmark says otherwise).
    pub trips: TripRule,
}

impl Problem {
    /// Checks that every index, number and window makes sense, so the search can trust them.
    pub fn validate(&self) -> Result<(), SolverError> {
        let invalid = |what: String| Err(SolverError::InvalidProblem(what));
        let locations = match self.matrices.first() {
            Some(m) => m.len(),
            None => return invalid("no travel matrix".into()),
        };
        if self.matrices.iter().any(|m| m.len() != locations) {
            return invalid("travel matrices differ in size".into());
        }
        for (v, vehicle) in self.vehicles.iter().enumerate() {
            if vehicle.profile >= self.matrices.len() {
                return invalid(format!(
                    "vehicle {v}: profile {} has no matrix",
                    vehicle.profile
                ));
            }
            if vehicle.start >= locations || vehicle.end.is_some_and(|e| e >= locations) {
                return invalid(format!("vehicle {v}: location out of range"));
            }
            if !vehicle.start_time.is_finite() || vehicle.shift_end.is_nan() {
                return invalid(format!("vehicle {v}: start time or shift end not a number"));
            }
            if vehicle.latest_pickup.is_nan() {
                return invalid(format!("vehicle {v}: latest pickup not a number"));
            }
            if vehicle.capacity.iter().any(|&c| c < 0) {
                return invalid(format!("vehicle {v}: negative capacity"));
            }
        }
        for (j, job) in self.jobs.iter().enumerate() {
            for stop in job.pickup.iter().chain(std::iter::once(&job.delivery)) {
                if stop.location >= locations {
                    return invalid(format!("job {j}: location out of range"));
                }
                let w = stop.window;
                if w.start.is_nan() || w.end.is_nan() || w.start > w.end {
                    return invalid(format!("job {j}: time window [{}, {}]", w.start, w.end));
                }
                if !stop.service.is_finite() || stop.service < 0.0 {
                    return invalid(format!("job {j}: service time {}", stop.service));
                }
                if !stop.setup.is_finite() || stop.setup < 0.0 {
                    return invalid(format!("job {j}: setup time {}", stop.setup));
                }
            }
            if job.size.iter().any(|&s| s < 0) {
                return invalid(format!("job {j}: negative size"));
            }
            if job.fixed_vehicle.is_some_and(|v| v >= self.vehicles.len()) {
                return invalid(format!("job {j}: fixed to an unknown vehicle"));
            }
            if let Some(&v) = job
                .excluded_vehicles
                .iter()
                .find(|&&v| v >= self.vehicles.len())
            {
                return invalid(format!(
                    "job {j}: excluded vehicle {v} does not exist ({} vehicles)",
                    self.vehicles.len()
                ));
            }
            if let Some(v) = job.fixed_vehicle
                && job.excluded_vehicles.contains(&v)
            {
                return invalid(format!(
                    "job {j}: fixed to vehicle {v}, which it also excludes"
                ));
            }
            if job.on_board && (job.fixed_vehicle.is_none() || job.pickup.is_some()) {
                return invalid(format!(
                    "job {j}: on board needs a fixed vehicle and no pickup"
                ));
            }
        }
        Ok(())
    }

    /// The travel matrix a vehicle uses.
    pub fn matrix_of(&self, vehicle: usize) -> &TravelMatrix {
        &self.matrices[self.vehicles[vehicle].profile]
    }
}

impl Problem {
    /// The stop a reference points at.
    ///
    /// # Panics
    /// If the job index is out of range, or the job has no pickup and a pickup is asked for.
    pub fn stop(&self, stop: crate::plan::StopRef) -> &Stop {
        let job = &self.jobs[stop.job];
        match stop.kind {
            crate::plan::StopKind::Pickup => {
                job.pickup.as_ref().expect("pickup of a delivery-only job")
            }
            crate::plan::StopKind::Delivery => &job.delivery,
        }
    }
}
