//! Where a job fits best in a route.
//!
//! Positions are indices into the route's current node list: the pickup goes before `nodes[pickup]`
//! and the delivery before `nodes[delivery]` (`delivery >= pickup`; equal means right after the
//! pickup). Feasibility is judged in constant time per candidate from the cached departures, loads and
//! latest starts; under the benchmark objective the distance change is the cost change, under the
//! dispatch objective a feasible candidate is re-evaluated exactly.

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
    (0..LOAD_DIMS).all(|d| load[d] + size[d] <= capacity[d])
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
    let prev_loc = |i: usize| if i == 0 { fleet.start } else { loc(i - 1) };
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
    // Whether leaving `from` at `time` still lets the route go on feasibly from position i.
    let continues = |from: usize, time: f64, i: usize| {
        if i < n {
            let s = &p.nodes[route.nodes[i]];
            (time + m.duration(from, s.location)).max(s.ready) <= route.latest[i] + 1e-9
        } else {
            let finish = fleet.end.map_or(time, |e| time + m.duration(from, e));
            finish <= fleet.shift_end + 1e-9
        }
    };
    // Service at node `node` after leaving `from` at `time`: departure, if its window allows.
    let serve = |from: usize, time: f64, node: usize| {
        let s = &p.nodes[node];
        let start = (time + m.duration(from, s.location)).max(s.ready);
        (start <= s.hard_end + 1e-9).then_some(start + s.service)
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
        for i in 0..=n {
            let before = if i == 0 {
                route.start_load
            } else {
                route.peak[i - 1]
            };
            if !fits(before, size, fleet.capacity) {
                break;
            }
            let from = prev_loc(i);
            let Some(dep) = serve(from, prev_dep(i), d) else {
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
    for i in 0..=n {
        let load_before = if i == 0 {
            route.start_load
        } else {
            route.load[i - 1]
        };
        if !fits(load_before, size, fleet.capacity) {
            continue;
        }
        let from = prev_loc(i);
        let Some(dep_p) = serve(from, prev_dep(i), pk) else {
            continue;
        };
        // Delivery right after the pickup.
        if let Some(dep_d) = serve(p_loc, dep_p, d)
            && continues(d_loc, dep_d, i)
        {
            consider(
                Some(i),
                i,
                m.distance(from, p_loc) + m.distance(p_loc, d_loc) + edge(d_loc, i) - edge(from, i),
            );
        }
        if i == n {
            continue;
        }
        // Delivery after some later node k: walk the shifted schedule forward.
        let pickup_delta = m.distance(from, p_loc) + edge(p_loc, i) - edge(from, i);
        let (mut time, mut at) = (dep_p, p_loc);
        for k in i..n {
            let s = &p.nodes[route.nodes[k]];
            let start = (time + m.duration(at, s.location)).max(s.ready);
            if start > route.latest[k] + 1e-9 || !fits(route.load[k], size, fleet.capacity) {
                break;
            }
            time = start + s.service;
            at = s.location;
            if let Some(dep_d) = serve(at, time, d)
                && continues(d_loc, dep_d, k + 1)
            {
                consider(
                    Some(i),
                    k + 1,
                    pickup_delta + m.distance(at, d_loc) + edge(d_loc, k + 1) - edge(at, k + 1),
                );
            }
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
    use crate::search::{prepared::Prepared, solution::Solution};

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
                if let Some(cost) = evaluate(p, route.vehicle, &nodes) {
                    let delta = cost - route.cost;
                    best = Some(best.map_or(delta, |b: f64| b.min(delta)));
                }
            }
        }
        best
    }

    fn agree_on(set: &str, name: &str) {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/vrp")
            .join(set)
            .join(format!("{name}.txt"));
        let instance = crate::instances::read(&path).expect("instance");
        let p = Prepared::new(&instance.problem);
        let mut rng = fastrand::Rng::with_seed(3);
        let mut solution = Solution::empty(&p);
        let jobs = std::mem::take(&mut solution.unassigned);
        super::super::recreate::insert_in_order(&p, &mut solution, jobs, true, &mut rng);
        // Take a tenth of the jobs out, then ask both judges where each would go.
        let out: Vec<usize> = (0..p.jobs()).step_by(10).collect();
        solution.remove(&p, &out);
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
}
