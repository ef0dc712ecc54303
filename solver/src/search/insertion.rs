//! Where a job fits best in a route.
//!
//! Positions are indices into the route's current node list: the pickup goes before `nodes[pickup]`
//! and the delivery before `nodes[delivery]` (`delivery >= pickup`; equal means right after the
//! pickup). Feasibility is judged in constant time per candidate from the cached departures, loads and
//! latest starts; under the benchmark objective the distance change is the cost change, under the
//! dispatch objective a feasible candidate is re-evaluated exactly.
//!
//! Under the one-pickup-place trip rule only the positions that keep the rule are tried: a delivery
//! carried from the start among the route's first deliveries; a job with a pickup either as a trip
//! of its own between two trips, or into a trip picking up at the same place (its pickup among the
//! trip's pickups, its delivery among the trip's deliveries).

use super::{
    prepared::{Prepared, delivery_node, pickup_node},
    route::{RouteState, evaluate},
};
use crate::problem::{LOAD_DIMS, Load};

/// A place for a job in a route, and what it costs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Placement {
    pub(crate) pickup: Option<usize>,
    pub(crate) delivery: usize,
    pub(crate) delta: f64,
}

fn fits(load: Load, size: Load, capacity: Load) -> bool {
    // Widened: a courier without a stated capacity has `i32::MAX`, and its load plus one more
    // order must not overflow into a negative that "fits".
    (0..LOAD_DIMS).all(|d| i64::from(load[d]) + i64::from(size[d]) <= i64::from(capacity[d]))
}

/// The cheapest feasible placement of `job` in `route`, skipping each candidate with probability
/// `blink` (SISR's blinks), or `None`.
pub(crate) fn best_placement(
    p: &Prepared<'_>,
    route: &RouteState,
    job: usize,
    blink: f64,
    rng: &mut fastrand::Rng,
) -> Option<Placement> {
    if !p.allowed[route.vehicle][job] {
        return None;
    }
    let fleet = p.fleet[route.vehicle];
    let m = p.matrix(route.vehicle);
    let n = route.nodes.len();
    let size = p.problem.jobs[job].size;
    let loc = |k: usize| p.nodes[route.nodes[k]].location;
    // The visit before position i, if any (the vehicle's start is not a visit: no setup saved).
    let prev_visit = |i: usize| (i > 0).then(|| loc(i - 1));
    let prev_loc = |i: usize| prev_visit(i).unwrap_or(fleet.start);
    let prev_dep = |i: usize| {
        if i == 0 {
            fleet.start_time
        } else {
            route.departure[i - 1]
        }
    };
    // Distance from `from` to whatever follows position i (a node, the end place, or nothing).
    let edge = |from: usize, i: usize| {
        if i < n {
            m.distance(from, loc(i))
        } else {
            fleet.end.map_or(0.0, |e| m.distance(from, e))
        }
    };
    // Whether leaving a visit at `from` at `time` still lets the route go on feasibly from
    // position i.
    let continues = |from: usize, time: f64, i: usize| {
        if i < n {
            let s = &p.nodes[route.nodes[i]];
            (time + m.duration(from, s.location) + s.setup_after(Some(from))).max(s.ready)
                <= route.latest[i] + 1e-9
        } else {
            let finish = fleet.end.map_or(time, |e| time + m.duration(from, e));
            finish <= fleet.shift_end + 1e-9
        }
    };
    // Service at node `node` after leaving the visit at `from` (`None`: the vehicle's start) at
    // `time`, starting by `end`: departure.
    let serve_by = |from: Option<usize>, time: f64, node: usize, end: f64| {
        let s = &p.nodes[node];
        let origin = from.unwrap_or(fleet.start);
        let start = (time + m.duration(origin, s.location) + s.setup_after(from)).max(s.ready);
        (start <= end + 1e-9).then_some(start + s.service)
    };
    // The same, if the node's window allows.
    let serve = |from: Option<usize>, time: f64, node: usize| {
        serve_by(from, time, node, p.nodes[node].hard_end)
    };
    let opening = if n == 0 { p.scalar.vehicle } else { 0.0 };

    let mut best: Option<Placement> = None;
    // The route with the job in it, rebuilt per candidate under the dispatch objective.
    let mut nodes = Vec::new();
    let mut consider = |pickup: Option<usize>, delivery: usize, distance_delta: f64| {
        if blink > 0.0 && rng.f64() < blink {
            return;
        }
        let delta = if p.scalar.distance_only {
            opening + p.scalar.distance * distance_delta
        } else {
            let old = &route.nodes;
            nodes.clear();
            match pickup {
                Some(i) => {
                    nodes.extend_from_slice(&old[..i]);
                    nodes.push(pickup_node(job));
                    nodes.extend_from_slice(&old[i..delivery]);
                }
                None => nodes.extend_from_slice(&old[..delivery]),
            }
            nodes.push(delivery_node(job));
            nodes.extend_from_slice(&old[delivery..]);
            match evaluate(p, route.vehicle, &nodes) {
                Some(cost) => cost - route.cost,
                None => return,
            }
        };
        if best.is_none_or(|b| delta < b.delta) {
            best = Some(Placement {
                pickup,
                delivery,
                delta,
            });
        }
    };

    let d = delivery_node(job);
    let d_loc = p.nodes[d].location;
    if !p.has_pickup(job) {
        // The load rides from the start to the delivery: every load before it grows by `size`.
        // Under the trip rule it is delivered before the first pickup.
        let last = if p.trips { route.lead } else { n };
        for i in 0..=last {
            let before = if i == 0 {
                route.start_load
            } else {
                route.peak[i - 1]
            };
            if !fits(before, size, fleet.capacity) {
                break;
            }
            let from = prev_loc(i);
            let Some(dep) = serve(prev_visit(i), prev_dep(i), d) else {
                continue;
            };
            if continues(d_loc, dep, i) {
                consider(
                    None,
                    i,
                    m.distance(from, d_loc) + edge(d_loc, i) - edge(from, i),
                );
            }
        }
        return best;
    }

    let pk = pickup_node(job);
    let p_loc = p.nodes[pk].location;
    let p_end = p.nodes[pk].hard_end.min(fleet.latest_pickup);
    // Tries the pickup before nodes[i] and the delivery before nodes[k] for every k in lo..=hi
    // (i <= lo), inside a loop (it `continue`s it). A macro rather than a closure: the hot path
    // needs it inlined, and a closure called from several loops costs 5-10 % in the benches.
    macro_rules! pair {
        ($i:expr, $lo:expr, $hi:expr) => {{
            let (i, lo, hi): (usize, usize, usize) = ($i, $lo, $hi);
            let load_before = if i == 0 {
                route.start_load
            } else {
                route.load[i - 1]
            };
            if !fits(load_before, size, fleet.capacity) {
                continue;
            }
            let from = prev_loc(i);
            let Some(dep_p) = serve_by(prev_visit(i), prev_dep(i), pk, p_end) else {
                continue;
            };
            // Delivery right after the pickup.
            if lo == i
                && let Some(dep_d) = serve(Some(p_loc), dep_p, d)
                && continues(d_loc, dep_d, i)
            {
                consider(
                    Some(i),
                    i,
                    m.distance(from, p_loc) + m.distance(p_loc, d_loc) + edge(d_loc, i)
                        - edge(from, i),
                );
            }
            if hi <= i {
                continue;
            }
            // Delivery after some later node k: walk the shifted schedule forward.
            let pickup_delta = m.distance(from, p_loc) + edge(p_loc, i) - edge(from, i);
            let (mut time, mut at) = (dep_p, p_loc);
            for k in i..hi {
                let s = &p.nodes[route.nodes[k]];
                let start =
                    (time + m.duration(at, s.location) + s.setup_after(Some(at))).max(s.ready);
                if start > route.latest[k] + 1e-9 || !fits(route.load[k], size, fleet.capacity) {
                    break;
                }
                time = start + s.service;
                at = s.location;
                if k + 1 >= lo
                    && let Some(dep_d) = serve(Some(at), time, d)
                    && continues(d_loc, dep_d, k + 1)
                {
                    consider(
                        Some(i),
                        k + 1,
                        pickup_delta + m.distance(at, d_loc) + edge(d_loc, k + 1) - edge(at, k + 1),
                    );
                }
            }
        }};
    }
    if !p.trips {
        for i in 0..=n {
            pair!(i, i, n);
        }
        return best;
    }
    // A trip of its own, after the lead deliveries or after any trip.
    for i in std::iter::once(route.lead).chain(route.trips.iter().map(|t| t.end)) {
        pair!(i, i, i);
    }
    // Into a trip that picks up at the same place: the pickup among its pickups, the delivery
    // among its deliveries.
    for trip in route.trips.iter().filter(|t| t.place == p_loc) {
        for i in trip.pickups..=trip.deliveries {
            pair!(i, trip.deliveries, trip.end);
        }
    }
    best
}

/// Puts `job` into `route` at `placement` and refreshes the route's caches.
pub(crate) fn apply(p: &Prepared<'_>, route: &mut RouteState, job: usize, placement: Placement) {
    route.nodes.insert(placement.delivery, delivery_node(job));
    if let Some(i) = placement.pickup {
        route.nodes.insert(i, pickup_node(job));
    }
    route.refresh(p);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{
        prepared::Prepared,
        route::{Trip, trips_hold},
        solution::Solution,
    };

    #[test]
    fn a_full_unbounded_courier_does_not_overflow_into_room() {
        let unbounded = [i32::MAX, i32::MAX];
        assert!(fits([0, 0], [i32::MAX, 1], unbounded));
        assert!(!fits([i32::MAX, 0], [i32::MAX, 0], unbounded));
        assert!(!fits([1, 0], [i32::MAX, 0], unbounded));
    }

    /// Every placement of `job` in `route`, judged by full re-evaluation: the reference the fast
    /// path must agree with.
    fn brute_force(p: &Prepared<'_>, route: &RouteState, job: usize) -> Option<f64> {
        if !p.allowed[route.vehicle][job] {
            return None;
        }
        let n = route.nodes.len();
        let pickups: Vec<Option<usize>> = if p.has_pickup(job) {
            (0..=n).map(Some).collect()
        } else {
            vec![None]
        };
        let mut best: Option<f64> = None;
        for pickup in pickups {
            for delivery in pickup.unwrap_or(0)..=n {
                let mut nodes = route.nodes.clone();
                nodes.insert(delivery, delivery_node(job));
                if let Some(i) = pickup {
                    nodes.insert(i, pickup_node(job));
                }
                if p.trips && !trips_hold(p, &nodes) {
                    continue;
                }
                if let Some(cost) = evaluate(p, route.vehicle, &nodes) {
                    let delta = cost - route.cost;
                    best = Some(best.map_or(delta, |b: f64| b.min(delta)));
                }
            }
        }
        best
    }

    fn read(set: &str, name: &str) -> crate::Problem {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/vrp")
            .join(set)
            .join(format!("{name}.txt"));
        crate::instances::read(&path).expect("instance").problem
    }

    /// Builds a solution, takes a tenth of the jobs out, then asks both judges where each would go.
    fn agree(problem: &crate::Problem, name: &str) {
        let p = Prepared::new(problem);
        let mut rng = fastrand::Rng::with_seed(3);
        let mut solution = Solution::empty(&p);
        let jobs = std::mem::take(&mut solution.unassigned);
        super::super::recreate::insert_in_order(&p, &mut solution, jobs, true, &mut rng);
        let out: Vec<usize> = (0..p.jobs()).step_by(10).collect();
        solution.remove(&p, &out);
        for route in &solution.routes {
            assert!(route.cost.is_finite(), "{name}: {:?}", route.nodes);
        }
        for &job in &out {
            for route in &solution.routes {
                let fast = best_placement(&p, route, job, 0.0, &mut rng).map(|b| b.delta);
                let slow = brute_force(&p, route, job);
                match (fast, slow) {
                    (Some(f), Some(s)) => assert!(
                        (f - s).abs() < 1e-6 * s.abs().max(1.0),
                        "{name} job {job} vehicle {}: fast {f} brute force {s}",
                        route.vehicle
                    ),
                    (None, None) => {}
                    other => panic!("{name} job {job} vehicle {}: {other:?}", route.vehicle),
                }
            }
        }
    }

    fn agree_on(set: &str, name: &str) {
        agree(&read(set, name), name);
    }

    /// The meal delivery rules on `problem`: one pickup place per trip, and no pickup in the last
    /// `share` of each vehicle's shift.
    fn mdrp_rules(problem: &mut crate::Problem, share: f64) {
        problem.trips = crate::problem::TripRule::OnePickupPlace;
        for v in &mut problem.vehicles {
            let end = if v.shift_end.is_finite() {
                v.shift_end
            } else {
                v.start_time + 7_200.0
            };
            v.latest_pickup = end - share * (end - v.start_time);
        }
    }

    #[test]
    fn constant_time_checks_agree_with_full_evaluation_on_deliveries() {
        for name in ["C201", "R101", "RC208"] {
            agree_on("solomon", name);
        }
    }

    #[test]
    fn constant_time_checks_agree_with_full_evaluation_on_pickup_delivery_pairs() {
        for name in ["lc201", "lr101", "lrc203"] {
            agree_on("lilim100", name);
        }
    }

    #[test]
    fn constant_time_checks_agree_with_full_evaluation_under_the_meal_delivery_rules() {
        // Li & Lim requests picked up at six places only, so that trips share them (distance-only
        // objective: the constant-time checks alone decide feasibility).
        for name in ["lc201", "lr101", "lrc203"] {
            let mut problem = read("lilim100", name);
            gather_pickups(&mut problem, 6);
            mdrp_rules(&mut problem, 0.3);
            agree(&problem, name);
        }
        // A city snapshot (dispatch objective; orders already on board open their routes).
        let mut city = crate::instances::city::snapshot(&crate::instances::city::CityShape {
            couriers: 60,
            orders: 300,
            restaurants: 12,
            ..Default::default()
        })
        .expect("snapshot");
        mdrp_rules(&mut city, 0.5);
        agree(&city, "city");
    }

    /// Moves every pickup to one of the first `count` pickup places, in turn, so that trips and
    /// consecutive visits share places.
    fn gather_pickups(problem: &mut crate::Problem, count: usize) {
        let places: Vec<usize> = problem
            .jobs
            .iter()
            .filter_map(|j| j.pickup.map(|s| s.location))
            .take(count)
            .collect();
        for (j, job) in problem.jobs.iter_mut().enumerate() {
            if let Some(pickup) = job.pickup.as_mut()
                && !places.is_empty()
            {
                pickup.location = places[j % places.len()];
            }
        }
    }

    /// Moves every stop's service into its setup (paid once per visit to the place), and gathers
    /// the pickups at six places so that consecutive visits share places.
    fn setup_per_visit(problem: &mut crate::Problem) {
        gather_pickups(problem, 6);
        for job in &mut problem.jobs {
            for stop in job.pickup.iter_mut().chain([&mut job.delivery]) {
                stop.setup = stop.service;
                stop.service = 0.0;
            }
        }
    }

    #[test]
    fn constant_time_checks_agree_with_full_evaluation_when_setup_is_paid_once_per_visit() {
        for trips in [false, true] {
            for name in ["lc201", "lr101"] {
                let mut problem = read("lilim100", name);
                setup_per_visit(&mut problem);
                if trips {
                    mdrp_rules(&mut problem, 0.3);
                }
                agree(&problem, name);
            }
            let mut city = crate::instances::city::snapshot(&crate::instances::city::CityShape {
                couriers: 40,
                orders: 200,
                restaurants: 8,
                ..Default::default()
            })
            .expect("snapshot");
            setup_per_visit(&mut city);
            if trips {
                mdrp_rules(&mut city, 0.5);
            }
            agree(&city, "city");
        }
    }

    #[test]
    fn trips_are_found_and_checked() {
        let mut problem = read("lilim100", "lc101");
        problem.trips = crate::problem::TripRule::OnePickupPlace;
        let p = Prepared::new(&problem);
        // Two requests picked up at different places: two trips, one after the other.
        let place = |node: usize| p.nodes[node].location;
        let (a, b) = (1, 2);
        assert_ne!(place(pickup_node(a)), place(pickup_node(b)));
        let mut route = RouteState::empty(0);
        route.nodes = vec![
            pickup_node(a),
            delivery_node(a),
            pickup_node(b),
            delivery_node(b),
        ];
        route.refresh(&p);
        assert_eq!(route.lead, 0);
        assert_eq!(
            route.trips,
            [
                Trip {
                    place: place(pickup_node(a)),
                    pickups: 0,
                    deliveries: 1,
                    end: 2
                },
                Trip {
                    place: place(pickup_node(b)),
                    pickups: 2,
                    deliveries: 3,
                    end: 4
                }
            ]
        );
        let interleaved = [
            pickup_node(a),
            pickup_node(b),
            delivery_node(a),
            delivery_node(b),
        ];
        assert!(!trips_hold(&p, &interleaved));
        assert!(trips_hold(&p, &route.nodes));
    }
}
