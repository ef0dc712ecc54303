//! What the solver answers: a route per used vehicle, and the jobs it could not serve with a reason.

/// Which of a job's two stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StopKind {
    /// Collecting the load.
    Pickup,
    /// Handing it over.
    Delivery,
}

/// One stop of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StopRef {
    /// Index into `Problem::jobs`.
    pub job: usize,
    /// Pickup or delivery.
    pub kind: StopKind,
}

/// A stop in a route, with its schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Visit {
    /// Which stop.
    pub stop: StopRef,
    /// When the vehicle arrives.
    pub arrival: f64,
    /// When service starts: the later of arrival plus the stop's setup (unless the previous visit
    /// was at the same place) and the window's start.
    pub service_start: f64,
    /// When the vehicle leaves: service start plus service time.
    pub departure: f64,
}

/// One vehicle's route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Index into `Problem::vehicles`.
    pub vehicle: usize,
    /// Stops in visiting order (start and end places are implied by the vehicle).
    pub visits: Vec<Visit>,
}

/// Why a job could not be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnassignedReason {
    /// No vehicle at all could be considered (none given, or the fixed vehicle is unusable).
    NoVehicle,
    /// Larger than the capacity of every vehicle that could take it.
    Capacity,
    /// No vehicle has the required skills.
    Skills,
    /// Every suitable vehicle's shift ends before the job could be finished.
    ShiftEnd,
    /// No suitable vehicle can meet a hard time window.
    TimeWindow,
    /// A stop cannot be reached from a suitable vehicle's start (infinite travel time).
    Unreachable,
    /// It could be served, but the objective prefers leaving it out (or the search found no room).
    NotWorthServing,
    /// Every vehicle that could serve it is excluded, e.g. every suitable courier declined it.
    Excluded,
}

/// A job left out of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unassigned {
    /// Index into `Problem::jobs`.
    pub job: usize,
    /// Why.
    pub reason: UnassignedReason,
}

/// A complete answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Routes of the vehicles that have work; vehicles without work are left out.
    pub routes: Vec<Route>,
    /// Jobs not served.
    pub unassigned: Vec<Unassigned>,
}

impl Route {
    /// Builds a route for `vehicle` visiting `stops` in order, each service starting as early as its
    /// window and the travel before it allow. Does not judge feasibility: that is the checker's job.
    pub fn schedule(problem: &crate::Problem, vehicle: usize, stops: &[StopRef]) -> Route {
        let v = &problem.vehicles[vehicle];
        let matrix = problem.matrix_of(vehicle);
        let (mut at, mut time) = (v.start, v.start_time);
        let mut previous: Option<usize> = None;
        let visits = stops
            .iter()
            .map(|&stop| {
                let s = problem.stop(stop);
                let arrival = time + matrix.duration(at, s.location);
                let setup = if previous == Some(s.location) {
                    0.0
                } else {
                    s.setup
                };
                let service_start = (arrival + setup).max(s.window.start);
                let departure = service_start + s.service;
                (at, time, previous) = (s.location, departure, Some(s.location));
                Visit {
                    stop,
                    arrival,
                    service_start,
                    departure,
                }
            })
            .collect();
        Route { vehicle, visits }
    }
}
