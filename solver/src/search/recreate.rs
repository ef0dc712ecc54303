//! SISR's recreate: put removed jobs back one by one, each at its cheapest place over the routes
//! worth trying, skipping candidate places at a small "blink" rate so that repeated recreates differ.

use super::{
    insertion::{Placement, apply, best_placement},
    prepared::{NEAR_VEHICLES, Prepared},
    solution::Solution,
};

/// Chance to skip a candidate place (the paper's blink rate).
pub(crate) const BLINK: f64 = 0.01;

/// Routes of this many of a job's nearest neighbours are tried, besides the nearest vehicles.
const NEIGHBOUR_ROUTES: usize = 32;

/// Reinserts `jobs` (in a randomly chosen SISR order); jobs that fit nowhere join `unassigned`.
/// With `open_routes` false, idle vehicles stay idle (fleet minimisation).
pub(crate) fn recreate(
    p: &Prepared<'_>,
    solution: &mut Solution,
    mut jobs: Vec<usize>,
    open_routes: bool,
    rng: &mut fastrand::Rng,
) {
    order(p, &mut jobs, rng);
    insert_in_order(p, solution, jobs, open_routes, rng);
}

/// Reinserts `jobs` in the order given, each at its cheapest place.
///
/// In a large fleet (dispatch: hundreds of couriers) a job is first offered only to the vehicles
/// starting nearest to it and to the routes already serving its nearest neighbours; every route is
/// tried only if none of those can take it. A courier across town almost never gives the best
/// insertion, and trying every one made each recreate, and the first plan, many times slower.
pub(crate) fn insert_in_order(
    p: &Prepared<'_>,
    solution: &mut Solution,
    jobs: Vec<usize>,
    open_routes: bool,
    rng: &mut fastrand::Rng,
) {
    let pruned = !p.near_vehicles.is_empty();
    let mut route_of = if pruned {
        solution.route_of_jobs(p.jobs())
    } else {
        Vec::new()
    };
    let mut nearby: Vec<usize> = Vec::with_capacity(NEAR_VEHICLES + NEIGHBOUR_ROUTES);
    let mut listed = vec![false; solution.routes.len()];
    for job in jobs {
        let mut best = None;
        if pruned {
            nearby.clear();
            let neighbour_routes = p.neighbours[job]
                .iter()
                .take(NEIGHBOUR_ROUTES)
                .filter_map(|&n| route_of[n as usize]);
            // Route r belongs to vehicle r (see `Solution::empty`).
            for r in p.near_vehicles[job]
                .iter()
                .map(|&v| v as usize)
                .chain(neighbour_routes)
            {
                if !listed[r] {
                    listed[r] = true;
                    nearby.push(r);
                }
            }
            nearby.sort_unstable();
            best = cheapest(p, solution, nearby.iter().copied(), job, open_routes, rng);
            for &r in &nearby {
                listed[r] = false;
            }
        }
        if best.is_none() {
            best = cheapest(p, solution, 0..solution.routes.len(), job, open_routes, rng);
        }
        match best {
            Some((r, place)) => {
                apply(p, &mut solution.routes[r], job, place);
                if pruned {
                    route_of[job] = Some(r);
                }
            }
            None => solution.unassigned.push(job),
        }
    }
}

/// The cheapest place for `job` over `routes` (in increasing index order, so ties go to the lowest).
fn cheapest(
    p: &Prepared<'_>,
    solution: &Solution,
    routes: impl Iterator<Item = usize>,
    job: usize,
    open_routes: bool,
    rng: &mut fastrand::Rng,
) -> Option<(usize, Placement)> {
    let mut best: Option<(usize, Placement)> = None;
    let mut tried_idle = Vec::new();
    for r in routes {
        let route = &solution.routes[r];
        if route.is_empty() {
            // Idle vehicles that look alike give the same answer: try one of each kind.
            let f = p.fleet[route.vehicle];
            let kind = (
                f.profile,
                f.start,
                f.end,
                f.capacity,
                f.skills,
                f.start_time.to_bits(),
                f.shift_end.to_bits(),
                f.latest_pickup.to_bits(),
            );
            if !open_routes || tried_idle.contains(&kind) {
                continue;
            }
            if p.allowed[route.vehicle][job] {
                tried_idle.push(kind);
            }
        }
        if let Some(place) = best_placement(p, route, job, BLINK, rng)
            && best.is_none_or(|(_, b)| place.delta < b.delta)
        {
            best = Some((r, place));
        }
    }
    best
}

/// One of SISR's insertion orders, chosen with weights 4 / 4 / 2 / 1: random, largest first, farthest
/// from the depot first, closest first.
fn order(p: &Prepared<'_>, jobs: &mut [usize], rng: &mut fastrand::Rng) {
    rng.shuffle(jobs);
    let depot = p.fleet.first().map_or(0, |f| f.start);
    let m = &p.problem.matrices[0];
    let far = |j: usize| m.distance(depot, p.problem.jobs[j].delivery.location);
    match rng.usize(..11) {
        0..4 => {}
        4..8 => {
            jobs.sort_by_key(|&j| std::cmp::Reverse(p.problem.jobs[j].size.iter().sum::<i32>()))
        }
        8..10 => jobs.sort_by(|&a, &b| far(b).total_cmp(&far(a))),
        _ => jobs.sort_by(|&a, &b| far(a).total_cmp(&far(b))),
    }
    // Food on board first, whatever the order: it must be delivered, so it takes its place before
    // optional jobs fill the room it needs.
    jobs.sort_by_key(|&j| !p.problem.jobs[j].on_board);
}
