//! The problem flattened for the search: every job's stops as numbered nodes with their window,
//! service and load change, so the hot loops index plain arrays instead of walking the model.

use crate::{
    matrix::TravelMatrix,
    objective::Objective,
    plan::{StopKind, StopRef},
    problem::{LOAD_DIMS, Load, Problem, TripRule},
};

/// Node `2 * job` is the job's pickup (unused for delivery-only jobs), `2 * job + 1` its delivery.
pub(crate) type NodeId = usize;

pub(crate) fn pickup_node(job: usize) -> NodeId {
    2 * job
}

pub(crate) fn delivery_node(job: usize) -> NodeId {
    2 * job + 1
}

pub(crate) fn job_of(node: NodeId) -> usize {
    node / 2
}

pub(crate) fn is_pickup(node: NodeId) -> bool {
    node.is_multiple_of(2)
}

/// Neighbours kept per job.
pub(crate) const NEIGHBOURS: usize = 128;

/// Above this many vehicles, a job is offered only to the routes near it (see `recreate`).
pub(crate) const NEAR_VEHICLES: usize = 32;

/// One stop, as the search sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub(crate) location: usize,
    pub(crate) ready: f64,
    /// Latest service start allowed (infinity when the window is soft).
    pub(crate) hard_end: f64,
    /// Start of lateness cost (infinity when the window is hard or absent).
    pub(crate) soft_end: f64,
    /// Paid on arriving from another place (see `Stop::setup`).
    pub(crate) setup: f64,
    pub(crate) service: f64,
    /// Load change when served: +size at a pickup, -size at a delivery.
    pub(crate) delta: Load,
}

impl Node {
    /// The setup paid when the previous visit was at `previous` (`None`: the route's first stop).
    pub(crate) fn setup_after(&self, previous: Option<usize>) -> f64 {
        if previous == Some(self.location) {
            0.0
        } else {
            self.setup
        }
    }
}

/// A vehicle, as the search sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fleet {
    pub(crate) start: usize,
    pub(crate) end: Option<usize>,
    pub(crate) start_time: f64,
    pub(crate) shift_end: f64,
    /// Latest start of a pickup's service (infinity for no limit).
    pub(crate) latest_pickup: f64,
    pub(crate) capacity: Load,
    pub(crate) profile: usize,
    pub(crate) skills: u64,
}

/// Scalar weights the search minimises; for the benchmark objective a vehicle and an unassigned job
/// cost more than any distance change can win back, so the scalar order is the lexicographic one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scalar {
    pub(crate) vehicle: f64,
    pub(crate) distance: f64,
    pub(crate) travel_time: f64,
    pub(crate) waiting: f64,
    pub(crate) click_to_door: f64,
    pub(crate) lateness: f64,
    pub(crate) unassigned: f64,
    pub(crate) reassignment: f64,
    /// True when only distance and vehicles matter and every window is hard: insertion can then be
    /// judged in constant time from cached schedules.
    pub(crate) distance_only: bool,
}

pub(crate) struct Prepared<'a> {
    pub(crate) problem: &'a Problem,
    pub(crate) nodes: Vec<Node>,
    pub(crate) fleet: Vec<Fleet>,
    pub(crate) scalar: Scalar,
    /// For each job, the nearest other jobs by the distance between their stops (for string
    /// removal, and to find the routes worth trying for a job).
    pub(crate) neighbours: Vec<Vec<u32>>,
    /// For each job, the vehicles starting nearest to it; empty when the fleet is small enough to
    /// try every vehicle for every job.
    pub(crate) near_vehicles: Vec<Vec<u32>>,
    /// Jobs each vehicle may carry (skills, fixed vehicle, excluded vehicles).
    pub(crate) allowed: Vec<Vec<bool>>,
    /// True under [`TripRule::OnePickupPlace`]: routes are sequences of one-place trips.
    pub(crate) trips: bool,
}

/// How many times an ordinary job's price it costs to leave out a job whose load is already on
/// board. Such a job must be served (the checker refuses a plan without it); a finite price, far
/// above anything serving it can cost, lets the search pass through such plans on its way rather
/// than freeze, and makes it trade any number of other jobs for it.
const ON_BOARD_PRICE: f64 = 1_000.0;

impl<'a> Prepared<'a> {
    pub(crate) fn new(problem: &'a Problem) -> Self {
        let mut nodes = Vec::with_capacity(problem.jobs.len() * 2);
        for job in &problem.jobs {
            let node = |stop: &crate::problem::Stop, sign: i32| Node {
                location: stop.location,
                ready: stop.window.start,
                hard_end: if stop.window.hard {
                    stop.window.end
                } else {
                    f64::INFINITY
                },
                soft_end: if stop.window.hard {
                    f64::INFINITY
                } else {
                    stop.window.end
                },
                setup: stop.setup,
                service: stop.service,
                delta: job.size.map(|s| sign * s),
            };
            nodes.push(match &job.pickup {
                Some(p) => node(p, 1),
                None => node(&job.delivery, 0),
            });
            nodes.push(node(&job.delivery, -1));
        }
        let fleet = problem
            .vehicles
            .iter()
            .map(|v| Fleet {
                start: v.start,
                end: v.end,
                start_time: v.start_time,
                shift_end: v.shift_end,
                latest_pickup: v.latest_pickup,
                capacity: v.capacity,
                profile: v.profile,
                skills: v.skills,
            })
            .collect();
        let mut allowed: Vec<Vec<bool>> = problem
            .vehicles
            .iter()
            .enumerate()
            .map(|(v, vehicle)| {
                problem
                    .jobs
                    .iter()
                    .map(|j| {
                        j.required_skills & !vehicle.skills == 0
                            && j.fixed_vehicle.is_none_or(|f| f == v)
                    })
                    .collect()
            })
            .collect();
        // Exclusions last, one entry each: a job may exclude most of a large fleet.
        for (j, job) in problem.jobs.iter().enumerate() {
            for &v in &job.excluded_vehicles {
                allowed[v][j] = false;
            }
        }
        Self {
            problem,
            scalar: scalar_of(problem),
            neighbours: neighbours(problem),
            near_vehicles: near_vehicles(problem, &allowed),
            nodes,
            fleet,
            allowed,
            trips: problem.trips == TripRule::OnePickupPlace,
        }
    }

    pub(crate) fn matrix(&self, vehicle: usize) -> &TravelMatrix {
        &self.problem.matrices[self.fleet[vehicle].profile]
    }

    /// What leaving `job` out costs.
    pub(crate) fn unassigned_price(&self, job: usize) -> f64 {
        if self.problem.jobs[job].on_board {
            ON_BOARD_PRICE * self.scalar.unassigned
        } else {
            self.scalar.unassigned
        }
    }

    pub(crate) fn jobs(&self) -> usize {
        self.problem.jobs.len()
    }

    pub(crate) fn has_pickup(&self, job: usize) -> bool {
        self.problem.jobs[job].pickup.is_some()
    }

    /// The load on a vehicle leaving its start if it serves the delivery-only `job`.
    pub(crate) fn start_load(&self, job: usize) -> Load {
        if self.has_pickup(job) {
            [0; LOAD_DIMS]
        } else {
            self.problem.jobs[job].size
        }
    }

    pub(crate) fn stop_ref(&self, node: NodeId) -> StopRef {
        StopRef {
            job: job_of(node),
            kind: if is_pickup(node) {
                StopKind::Pickup
            } else {
                StopKind::Delivery
            },
        }
    }
}

fn scalar_of(problem: &Problem) -> Scalar {
    match problem.objective {
        Objective::FleetThenDistance => {
            // An upper bound on any sensible plan's distance: every job on a route of its own.
            let m = &problem.matrices[0];
            let depot = problem.vehicles.first().map_or(0, |v| v.start);
            let bound: f64 = problem
                .jobs
                .iter()
                .map(|j| {
                    let first = j.pickup.map_or(j.delivery.location, |p| p.location);
                    m.distance(depot, first)
                        + m.distance(first, j.delivery.location)
                        + m.distance(j.delivery.location, depot)
                })
                .filter(|d| d.is_finite())
                .sum();
            let vehicle = 10.0 * (bound + 1.0);
            let all_hard = problem
                .jobs
                .iter()
                .all(|j| j.delivery.window.hard && j.pickup.is_none_or(|p| p.window.hard));
            Scalar {
                vehicle,
                distance: 1.0,
                travel_time: 0.0,
                waiting: 0.0,
                click_to_door: 0.0,
                lateness: 0.0,
                unassigned: 10.0 * vehicle,
                reassignment: 0.0,
                distance_only: all_hard,
            }
        }
        Objective::Weighted(w) => Scalar {
            vehicle: w.vehicle,
            distance: w.distance,
            travel_time: w.travel_time,
            waiting: w.waiting,
            click_to_door: w.click_to_door,
            lateness: w.lateness,
            unassigned: w.unassigned,
            reassignment: w.reassignment,
            distance_only: false,
        },
    }
}

/// For each job, the nearest [`NEIGHBOURS`] other jobs by the distance between their closest stops,
/// nearest first. Capped because a ruin never reaches further than a few routes' worth of jobs, and
/// a full list is quadratic in memory and time at dispatch scale.
fn neighbours(problem: &Problem) -> Vec<Vec<u32>> {
    let m = &problem.matrices[0];
    let places =
        |j: &crate::problem::Job| [Some(j.delivery.location), j.pickup.map(|s| s.location)];
    let all: Vec<_> = problem.jobs.iter().map(places).collect();
    let mut others: Vec<(f64, u32)> = Vec::with_capacity(problem.jobs.len());
    (0..problem.jobs.len())
        .map(|a| {
            others.clear();
            others.extend((0..problem.jobs.len()).filter(|&b| b != a).map(|b| {
                let d = all[a]
                    .iter()
                    .flatten()
                    .flat_map(|&x| all[b].iter().flatten().map(move |&y| m.distance(x, y)))
                    .fold(f64::INFINITY, f64::min);
                (d, b as u32)
            }));
            let order = |x: &(f64, u32), y: &(f64, u32)| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1));
            if others.len() > NEIGHBOURS {
                others.select_nth_unstable_by(NEIGHBOURS, order);
                others.truncate(NEIGHBOURS);
            }
            others.sort_unstable_by(order);
            others.iter().map(|&(_, b)| b).collect()
        })
        .collect()
}

/// For each job, the [`NEAR_VEHICLES`] vehicles allowed to serve it whose start is closest (in
/// travel time) to its first stop, or nothing if the fleet is that small anyway.
fn near_vehicles(problem: &Problem, allowed: &[Vec<bool>]) -> Vec<Vec<u32>> {
    if problem.vehicles.len() <= NEAR_VEHICLES {
        return Vec::new();
    }
    let mut by_time: Vec<(f64, u32)> = Vec::with_capacity(problem.vehicles.len());
    problem
        .jobs
        .iter()
        .enumerate()
        .map(|(j, job)| {
            let first = job.pickup.map_or(job.delivery.location, |s| s.location);
            by_time.clear();
            by_time.extend(
                problem
                    .vehicles
                    .iter()
                    .enumerate()
                    .filter(|&(v, _)| allowed[v][j])
                    .map(|(v, vehicle)| {
                        let m = &problem.matrices[vehicle.profile];
                        (m.duration(vehicle.start, first), v as u32)
                    }),
            );
            let order = |x: &(f64, u32), y: &(f64, u32)| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1));
            if by_time.len() > NEAR_VEHICLES {
                by_time.select_nth_unstable_by(NEAR_VEHICLES, order);
                by_time.truncate(NEAR_VEHICLES);
            }
            by_time.sort_unstable_by(order);
            by_time.iter().map(|&(_, v)| v).collect()
        })
        .collect()
}
