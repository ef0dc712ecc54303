//! One route on its own: its schedule recomputed from the problem, windows, latest pickups,
//! reachability, shift end, load and trips. Which jobs are on which routes is judged in the parent
//! module.

use super::{TimeField, TripBreak, Violation, exceeds, matches, stop_of};
use crate::{
    matrix::TravelMatrix,
    plan::{Route, StopKind, Visit},
    problem::{LOAD_DIMS, Problem, TripRule, Vehicle},
};

/// What one route contributes to the cost, and when each of its services starts.
#[derive(Debug, Default)]
pub(super) struct Totals {
    pub(super) distance: f64,
    pub(super) travel_time: f64,
    pub(super) waiting: f64,
    pub(super) lateness: f64,
    /// Recomputed service start of each visit, `None` where the timeline could not be followed.
    pub(super) service_starts: Vec<Option<f64>>,
}

/// Checks route `r`, pushing what is wrong onto `out`. `None` if its vehicle does not exist (the
/// parent module reports that).
pub(super) fn check(
    problem: &Problem,
    r: usize,
    route: &Route,
    out: &mut Vec<Violation>,
) -> Option<Totals> {
    let vehicle = problem.vehicles.get(route.vehicle)?;
    check_load(problem, r, route, vehicle, out);
    if problem.trips == TripRule::OnePickupPlace {
        check_trips(problem, r, route, out);
    }
    let mut totals = Totals {
        service_starts: vec![None; route.visits.len()],
        ..Totals::default()
    };
    if route.visits.is_empty() {
        return Some(totals); // an empty route goes nowhere and is always fine
    }
    let Some(matrix) = problem.matrices.get(vehicle.profile) else {
        out.push(Violation::UnknownProfile {
            route: r,
            vehicle: route.vehicle,
            profile: vehicle.profile,
        });
        return Some(totals);
    };
    let legs = Legs {
        matrix,
        route: r,
        vehicle: route.vehicle,
    };

    let (mut at, mut time) = (vehicle.start, vehicle.start_time);
    let mut previous: Option<usize> = None;
    for (i, visit) in route.visits.iter().enumerate() {
        // A visit whose stop is unknown (reported by the parent module) has no place or service:
        // nothing after it on this route can be timed, so stop following the timeline.
        let Some(stop) = stop_of(problem, visit.stop) else {
            return Some(totals);
        };
        let Some((duration, distance)) = legs.travel(at, stop.location, Some(i), out) else {
            return Some(totals);
        };
        let arrival = time + duration;
        // Setup is paid unless the previous visit was at this very place.
        let ready_to_serve = arrival
            + if previous == Some(stop.location) {
                0.0
            } else {
                stop.setup
            };
        let service_start = ready_to_serve.max(stop.window.start);
        let departure = service_start + stop.service;
        compare_times(
            r,
            route.vehicle,
            i,
            visit,
            [arrival, service_start, departure],
            out,
        );

        let window = stop.window;
        if service_start > window.end {
            if window.hard {
                if exceeds(service_start, window.end) {
                    out.push(Violation::HardWindowMissed {
                        route: r,
                        vehicle: route.vehicle,
                        stop: i,
                        job: visit.stop.job,
                        kind: visit.stop.kind,
                        service_start,
                        window_end: window.end,
                    });
                }
            } else {
                totals.lateness += service_start - window.end;
            }
        }
        if visit.stop.kind == StopKind::Pickup && exceeds(service_start, vehicle.latest_pickup) {
            out.push(Violation::PickupAfterLatest {
                route: r,
                vehicle: route.vehicle,
                job: visit.stop.job,
                start: service_start,
                latest: vehicle.latest_pickup,
            });
        }
        totals.distance += distance;
        totals.travel_time += duration;
        totals.waiting += service_start - ready_to_serve;
        totals.service_starts[i] = Some(service_start);
        (at, time, previous) = (stop.location, departure, Some(stop.location));
    }

    let finish = match vehicle.end {
        Some(end) => {
            let Some((duration, distance)) = legs.travel(at, end, None, out) else {
                return Some(totals);
            };
            totals.distance += distance;
            totals.travel_time += duration;
            time + duration
        }
        None => time,
    };
    if exceeds(finish, vehicle.shift_end) {
        out.push(Violation::ShiftEndExceeded {
            route: r,
            vehicle: route.vehicle,
            end: vehicle.end,
            finish,
            shift_end: vehicle.shift_end,
        });
    }
    Some(totals)
}

/// Travel on one vehicle's matrix, reporting places outside it and unreachable legs.
struct Legs<'a> {
    matrix: &'a TravelMatrix,
    route: usize,
    vehicle: usize,
}

impl Legs<'_> {
    /// `(duration, distance)` from `from` to `to`; `None` (after reporting why) if a place is out of
    /// range or the duration is infinite. `stop` is the position of the visit the leg goes to.
    fn travel(
        &self,
        from: usize,
        to: usize,
        stop: Option<usize>,
        out: &mut Vec<Violation>,
    ) -> Option<(f64, f64)> {
        let size = self.matrix.len();
        if let Some(&place) = [from, to].iter().find(|&&p| p >= size) {
            out.push(Violation::UnknownPlace {
                route: self.route,
                vehicle: self.vehicle,
                place,
            });
            return None;
        }
        let duration = self.matrix.duration(from, to);
        if duration.is_infinite() {
            out.push(Violation::Unreachable {
                route: self.route,
                vehicle: self.vehicle,
                from,
                to,
                stop,
            });
            return None;
        }
        Some((duration, self.matrix.distance(from, to)))
    }
}

fn compare_times(
    route: usize,
    vehicle: usize,
    stop: usize,
    visit: &Visit,
    expected: [f64; 3],
    out: &mut Vec<Violation>,
) {
    let fields = [
        (TimeField::Arrival, visit.arrival),
        (TimeField::ServiceStart, visit.service_start),
        (TimeField::Departure, visit.departure),
    ];
    for ((field, reported), expected) in fields.into_iter().zip(expected) {
        if !matches(reported, expected) {
            out.push(Violation::WrongTime {
                route,
                vehicle,
                stop,
                job: visit.stop.job,
                kind: visit.stop.kind,
                field,
                reported,
                expected,
            });
        }
    }
}

/// The load leaving the start is the size of every delivery-only job delivered on the route; a
/// pickup adds its job's size and a delivery takes it off. Reported where the load goes over the
/// capacity: leaving the start, or after a stop that raised it (a stop that lowers the load cannot
/// be the first to exceed).
fn check_load(
    problem: &Problem,
    r: usize,
    route: &Route,
    vehicle: &Vehicle,
    out: &mut Vec<Violation>,
) {
    let mut load = [0i64; LOAD_DIMS];
    for visit in &route.visits {
        if visit.stop.kind == StopKind::Delivery
            && let Some(job) = problem.jobs.get(visit.stop.job)
            && job.pickup.is_none()
        {
            add(&mut load, &job.size, 1);
        }
    }
    let mut report = |load: &[i64; LOAD_DIMS], before: &[i64; LOAD_DIMS], after| {
        for d in 0..LOAD_DIMS {
            if load[d] > i64::from(vehicle.capacity[d]) && load[d] > before[d] {
                out.push(Violation::CapacityExceeded {
                    route: r,
                    vehicle: route.vehicle,
                    after,
                    dimension: d,
                    load: load[d],
                    capacity: vehicle.capacity[d],
                });
            }
        }
    };
    report(&load, &[i64::MIN; LOAD_DIMS], None);
    for (i, visit) in route.visits.iter().enumerate() {
        let Some(job) = problem.jobs.get(visit.stop.job) else {
            continue;
        };
        let before = load;
        match visit.stop.kind {
            StopKind::Pickup if job.pickup.is_some() => add(&mut load, &job.size, 1),
            StopKind::Pickup => continue, // no such stop: reported by the parent module
            StopKind::Delivery => add(&mut load, &job.size, -1),
        }
        report(&load, &before, Some((i, visit.stop)));
    }
}

/// [`TripRule::OnePickupPlace`]: loads carried from the start are delivered before the first
/// pickup; a trip's pickups are consecutive and at one place; a new trip starts only once every job
/// of the previous one is delivered. A visit that breaks it is reported, and the scan goes on as if
/// it were allowed (a pickup joins the current trip). Deliveries of jobs the current trip did not
/// pick up (unknown, repeated, split or before their pickup) are left to the job checks.
fn check_trips(problem: &Problem, r: usize, route: &Route, out: &mut Vec<Violation>) {
    let mut picked_any = false;
    // The current trip: where it picks up, the jobs it still carries, whether it began delivering.
    let mut trip_place = None;
    let mut on_board: Vec<usize> = Vec::new();
    let mut delivering = false;
    for (i, visit) in route.visits.iter().enumerate() {
        let Some(job) = problem.jobs.get(visit.stop.job) else {
            continue; // reported by the parent module
        };
        let mut broken = |why| {
            out.push(Violation::TripBroken {
                route: r,
                vehicle: route.vehicle,
                position: i,
                why,
            })
        };
        match (visit.stop.kind, &job.pickup) {
            (StopKind::Pickup, None) => {} // no such stop: reported by the parent module
            (StopKind::Pickup, Some(pickup)) => {
                picked_any = true;
                if on_board.is_empty() {
                    // A new trip.
                    trip_place = Some(pickup.location);
                    delivering = false;
                } else if delivering {
                    broken(TripBreak::PickupBeforeTripDelivered {
                        undelivered: on_board.len(),
                    });
                } else if let Some(place) = trip_place
                    && place != pickup.location
                {
                    broken(TripBreak::PickupElsewhere {
                        place: pickup.location,
                        trip_place: place,
                    });
                }
                on_board.push(visit.stop.job);
            }
            (StopKind::Delivery, None) => {
                if picked_any {
                    broken(TripBreak::StartLoadAfterPickup);
                }
            }
            (StopKind::Delivery, Some(_)) => {
                if let Some(k) = on_board.iter().position(|&j| j == visit.stop.job) {
                    on_board.swap_remove(k);
                    delivering = true;
                }
            }
        }
    }
}

fn add(load: &mut [i64; LOAD_DIMS], size: &[i32; LOAD_DIMS], sign: i64) {
    for (l, &s) in load.iter_mut().zip(size) {
        *l = l.saturating_add(sign * i64::from(s));
    }
}
