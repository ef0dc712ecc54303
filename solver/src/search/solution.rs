//! A whole solution during the search: one route per vehicle (most may be empty) and the jobs left
//! out.

use super::{
    prepared::{Prepared, delivery_node, job_of, pickup_node},
    route::{RouteState, evaluate},
};
use crate::plan::{Plan, Route, Unassigned, UnassignedReason};

#[derive(Debug, Clone)]
pub(crate) struct Solution {
    pub(crate) routes: Vec<RouteState>,
    pub(crate) unassigned: Vec<usize>,
}

impl Solution {
    /// Every vehicle idle, every job unassigned.
    pub(crate) fn empty(p: &Prepared<'_>) -> Self {
        Self {
            routes: (0..p.fleet.len()).map(RouteState::empty).collect(),
            unassigned: (0..p.jobs()).collect(),
        }
    }

    pub(crate) fn cost(&self, p: &Prepared<'_>) -> f64 {
        self.routes.iter().map(|r| r.cost).sum::<f64>()
            + self
                .unassigned
                .iter()
                .map(|&j| p.unassigned_price(j))
                .sum::<f64>()
    }

    pub(crate) fn vehicles(&self) -> usize {
        self.routes.iter().filter(|r| !r.is_empty()).count()
    }

    /// The route index serving each job.
    pub(crate) fn route_of_jobs(&self, jobs: usize) -> Vec<Option<usize>> {
        let mut of = vec![None; jobs];
        for (r, route) in self.routes.iter().enumerate() {
            for job in route.jobs() {
                of[job] = Some(r);
            }
        }
        of
    }

    /// Takes `jobs` out of their routes (both stops) and refreshes the routes touched.
    pub(crate) fn remove(&mut self, p: &Prepared<'_>, jobs: &[usize]) {
        let mut gone = vec![false; p.jobs()];
        for &j in jobs {
            gone[j] = true;
        }
        for route in &mut self.routes {
            let before = route.nodes.len();
            route.nodes.retain(|&n| !gone[job_of(n)]);
            if route.nodes.len() != before {
                route.refresh(p);
            }
        }
        self.unassigned.extend_from_slice(jobs);
    }

    /// The answer in the model's terms, with a reason for every job left out.
    pub(crate) fn to_plan(&self, p: &Prepared<'_>) -> Plan {
        let routes = self
            .routes
            .iter()
            .filter(|r| !r.is_empty())
            .map(|r| {
                let stops: Vec<_> = r.nodes.iter().map(|&n| p.stop_ref(n)).collect();
                Route::schedule(p.problem, r.vehicle, &stops)
            })
            .collect();
        let mut unassigned: Vec<Unassigned> = self
            .unassigned
            .iter()
            .map(|&job| Unassigned {
                job,
                reason: diagnose(p, job),
            })
            .collect();
        unassigned.sort_by_key(|u| u.job);
        Plan { routes, unassigned }
    }
}

/// Why a job could not be placed: the first rule that rules out every vehicle on its own, judged on
/// an idle vehicle and regardless of the job's excluded vehicles. If some idle vehicle could take it,
/// either every such vehicle is excluded, or the plan simply had no room worth using.
pub(crate) fn diagnose(p: &Prepared<'_>, job: usize) -> UnassignedReason {
    let spec = &p.problem.jobs[job];
    let candidates: Vec<usize> = (0..p.fleet.len())
        .filter(|&v| spec.fixed_vehicle.is_none_or(|f| f == v))
        .collect();
    if candidates.is_empty() {
        return UnassignedReason::NoVehicle;
    }
    let skilled: Vec<usize> = candidates
        .into_iter()
        .filter(|&v| spec.required_skills & !p.fleet[v].skills == 0)
        .collect();
    if skilled.is_empty() {
        return UnassignedReason::Skills;
    }
    let roomy: Vec<usize> = skilled
        .into_iter()
        .filter(|&v| (0..spec.size.len()).all(|d| spec.size[d] <= p.fleet[v].capacity[d]))
        .collect();
    if roomy.is_empty() {
        return UnassignedReason::Capacity;
    }
    let reachable = |v: usize| {
        let m = p.matrix(v);
        let f = p.fleet[v];
        let stops: Vec<usize> = spec
            .pickup
            .iter()
            .map(|s| s.location)
            .chain([spec.delivery.location])
            .collect();
        let mut at = f.start;
        stops.iter().all(|&s| {
            let ok = m.duration(at, s).is_finite();
            at = s;
            ok
        }) && f.end.is_none_or(|e| m.duration(at, e).is_finite())
    };
    let reachable: Vec<usize> = roomy.into_iter().filter(|&v| reachable(v)).collect();
    if reachable.is_empty() {
        return UnassignedReason::Unreachable;
    }
    // The job alone on an idle vehicle: pickup (if any), then delivery. `evaluate` ignores
    // `allowed`, so this also judges the vehicles the job excludes.
    let alone: Vec<usize> = if p.has_pickup(job) {
        vec![pickup_node(job), delivery_node(job)]
    } else {
        vec![delivery_node(job)]
    };
    let able: Vec<usize> = reachable
        .iter()
        .copied()
        .filter(|&v| evaluate(p, v, &alone).is_some())
        .collect();
    // Past the fixed-vehicle and skills rules, `allowed` is false only for an excluded vehicle.
    if able.iter().any(|&v| p.allowed[v][job]) {
        return UnassignedReason::NotWorthServing;
    }
    if !able.is_empty() {
        return UnassignedReason::Excluded;
    }
    // On an idle vehicle only the windows and the shift (its end, or the latest pickup) can be in
    // the way: see which one binds.
    let meets_windows = reachable.iter().any(|&v| {
        let f = p.fleet[v];
        let m = p.matrix(v);
        let mut time = f.start_time;
        let mut at = f.start;
        let mut previous = None;
        spec.pickup.iter().chain([&spec.delivery]).all(|s| {
            let setup = if previous == Some(s.location) {
                0.0
            } else {
                s.setup
            };
            let start = (time + m.duration(at, s.location) + setup).max(s.window.start);
            time = start + s.service;
            at = s.location;
            previous = Some(at);
            !s.window.hard || start <= s.window.end + 1e-9
        })
    });
    if meets_windows {
        UnassignedReason::ShiftEnd
    } else {
        UnassignedReason::TimeWindow
    }
}
