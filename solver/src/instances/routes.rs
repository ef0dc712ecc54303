//! The `Route k : id id id` solution format (one route per line, node ids of the instance, depot left
//! out), as the SINTEF best-known solutions and the bench CLI use it.

use std::collections::HashMap;

use super::parse_error;
use crate::{
    SolverError,
    plan::{Plan, Route, StopKind, StopRef, Unassigned, UnassignedReason},
    problem::Problem,
};

/// Reads the routes of a solution file as lists of node ids; other lines are ignored.
pub fn parse(text: &str, file: &str) -> Result<Vec<Vec<usize>>, SolverError> {
    let mut routes = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if !line.starts_with("Route") {
            continue;
        }
        let (_, ids) = line
            .split_once(':')
            .ok_or_else(|| parse_error(file, i + 1, "expected `Route k : ids`"))?;
        let ids = ids
            .split_whitespace()
            .map(|id| {
                id.parse::<usize>()
                    .map_err(|_| parse_error(file, i + 1, format!("{id:?} is not a node id")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        routes.push(ids);
    }
    Ok(routes)
}

/// Writes a plan's routes, numbering them from 1 and naming each stop by its place index (which is
/// the node id for the benchmark instances).
pub fn write(problem: &Problem, plan: &Plan) -> String {
    let mut out = String::new();
    for (k, route) in plan.routes.iter().enumerate() {
        out.push_str(&format!("Route {} :", k + 1));
        for visit in &route.visits {
            out.push_str(&format!(" {}", problem.stop(visit.stop).location));
        }
        out.push('\n');
    }
    out
}

/// Turns routes of node ids into a plan for a benchmark instance (one stop per place), giving route
/// `k` to vehicle `k`. Jobs on no route are reported unassigned. Fails on a node that is no stop, or
/// on more routes than vehicles; anything else wrong is left for the checker to find.
pub fn to_plan(problem: &Problem, routes: &[Vec<usize>]) -> Result<Plan, SolverError> {
    let mut stop_at: HashMap<usize, StopRef> = HashMap::new();
    for (job, j) in problem.jobs.iter().enumerate() {
        if let Some(p) = &j.pickup {
            stop_at.insert(
                p.location,
                StopRef {
                    job,
                    kind: StopKind::Pickup,
                },
            );
        }
        stop_at.insert(
            j.delivery.location,
            StopRef {
                job,
                kind: StopKind::Delivery,
            },
        );
    }
    if routes.len() > problem.vehicles.len() {
        return Err(SolverError::InvalidProblem(format!(
            "{} routes for {} vehicles",
            routes.len(),
            problem.vehicles.len()
        )));
    }
    let mut served = vec![false; problem.jobs.len()];
    let mut plan = Plan::default();
    for (vehicle, ids) in routes.iter().enumerate() {
        let stops =
            ids.iter()
                .map(|id| {
                    stop_at.get(id).copied().ok_or_else(|| {
                        SolverError::InvalidProblem(format!("node {id} is not a stop"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
        for s in &stops {
            served[s.job] = true;
        }
        plan.routes.push(Route::schedule(problem, vehicle, &stops));
    }
    plan.unassigned = served
        .iter()
        .enumerate()
        .filter(|(_, s)| !**s)
        .map(|(job, _)| Unassigned {
            job,
            reason: UnassignedReason::NotWorthServing,
        })
        .collect();
    Ok(plan)
}
