//! SISR's recreate: put removed jobs back one by one, each at its cheapest place over all routes,
//! skipping candidate places at a small "blink" rate so that repeated recreates differ.

use super::{
    insertion::{Placement, apply, best_placement},
    prepared::Prepared,
    solution::Solution,
};

/// Chance to skip a candidate place (the paper's blink rate).
pub(crate) const BLINK: f64 = 0.01;

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
pub(crate) fn insert_in_order(
    p: &Prepared<'_>,
    solution: &mut Solution,
    jobs: Vec<usize>,
    open_routes: bool,
    rng: &mut fastrand::Rng,
) {
    for job in jobs {
        let mut best: Option<(usize, Placement)> = None;
        let mut tried_idle = Vec::new();
        for (r, route) in solution.routes.iter().enumerate() {
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
        match best {
            Some((r, place)) => apply(p, &mut solution.routes[r], job, place),
            None => solution.unassigned.push(job),
        }
    }
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
}
