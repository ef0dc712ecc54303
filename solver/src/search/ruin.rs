//! SISR's ruin: remove a few strings of consecutive stops from routes near a random seed job, so that
//! the recreate step can rebuild that neighbourhood differently (Christiaens and Vanden Berghe, 2020).
//! Removing a stop removes its whole job, both stops.

use super::{
    prepared::{Prepared, job_of},
    solution::Solution,
};

/// SISR's ruin parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RuinParams {
    /// Average number of jobs removed per ruin (the paper's c-bar).
    pub(crate) average_removed: f64,
    /// Longest string removed from one route (L-max).
    pub(crate) max_string: f64,
    /// Probability of the split-string variant, which keeps a run inside the removed string.
    pub(crate) split_rate: f64,
    /// Chance per step to stop growing the kept run of a split string (beta).
    pub(crate) split_depth: f64,
}

impl Default for RuinParams {
    fn default() -> Self {
        Self {
            average_removed: 10.0,
            max_string: 10.0,
            split_rate: 0.5,
            split_depth: 0.01,
        }
    }
}

/// Removes strings of jobs from `solution` and returns the removed jobs.
pub(crate) fn ruin(
    p: &Prepared<'_>,
    solution: &mut Solution,
    params: &RuinParams,
    rng: &mut fastrand::Rng,
) -> Vec<usize> {
    let route_of = solution.route_of_jobs(p.jobs());
    let movable = |job: usize| route_of[job].is_some() && !p.problem.jobs[job].on_board;
    let routed: Vec<usize> = (0..p.jobs()).filter(|&j| movable(j)).collect();
    if routed.is_empty() {
        return Vec::new();
    }
    let used = solution.vehicles().max(1) as f64;
    let average_len = solution.routes.iter().map(|r| r.nodes.len()).sum::<usize>() as f64 / used;
    let max_len = params.max_string.min(average_len).max(1.0);
    let max_strings = (4.0 * params.average_removed / (1.0 + max_len) - 1.0).max(1.0);
    let strings = (1.0 + rng.f64() * max_strings).floor() as usize;

    let seed = routed[rng.usize(..routed.len())];
    let mut ruined = vec![false; solution.routes.len()];
    let mut removed = vec![false; p.jobs()];
    let mut removed_list = Vec::new();
    let mut touched = 0;
    for job in std::iter::once(seed).chain(p.neighbours[seed].iter().map(|&j| j as usize)) {
        if touched >= strings {
            break;
        }
        let Some(r) = route_of[job] else { continue };
        if ruined[r] || removed[job] || !movable(job) {
            continue;
        }
        ruined[r] = true;
        touched += 1;
        let nodes = &solution.routes[r].nodes;
        let len = nodes.len();
        let cap = max_len.min(len as f64);
        let string = ((1.0 + rng.f64() * cap).floor() as usize).clamp(1, len);
        let Some(at) = nodes.iter().position(|&n| job_of(n) == job) else {
            continue;
        };
        let (from, to, keep) = if string < len && rng.f64() < params.split_rate {
            // Split string: remove `string` stops around a kept run of `kept` consecutive stops.
            let mut kept = 1;
            while string + kept < len && rng.f64() > params.split_depth {
                kept += 1;
            }
            let total = string + kept;
            let from = window_start(at, total, len, rng);
            let keep_from = from + rng.usize(..=string);
            (from, from + total, Some((keep_from, keep_from + kept)))
        } else {
            let from = window_start(at, string, len, rng);
            (from, from + string, None)
        };
        for (k, &n) in nodes.iter().enumerate().take(to).skip(from) {
            if keep.is_some_and(|(a, b)| (a..b).contains(&k)) {
                continue;
            }
            let j = job_of(n);
            if !removed[j] && !p.problem.jobs[j].on_board {
                removed[j] = true;
                removed_list.push(j);
            }
        }
    }
    solution.remove(p, &removed_list);
    // `remove` added them to the unassigned list; the caller reinserts them from `removed_list`.
    let n = solution.unassigned.len() - removed_list.len();
    solution.unassigned.truncate(n);
    removed_list
}

/// A random start for a window of `width` positions inside `0..len` that covers position `at`.
fn window_start(at: usize, width: usize, len: usize, rng: &mut fastrand::Rng) -> usize {
    let lowest = (at + 1).saturating_sub(width);
    let highest = at.min(len - width);
    if lowest >= highest {
        highest
    } else {
        rng.usize(lowest..=highest)
    }
}
