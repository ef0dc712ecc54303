//! Li & Lim PDPTW instances: identical vehicles at a depot, and requests each made of a pickup and a
//! delivery with their own hard windows and service times, served by one vehicle, pickup first.
//!
//! Format: a first line `vehicles capacity speed`, then one line per place:
//! `id x y demand ready due service pickup_id delivery_id`. A pickup has a positive demand and names
//! its delivery; a delivery has the negative demand and names its pickup; the depot is line 0.
//! Travel time equals Euclidean distance (the speed field is 1 in every published instance).

use super::{Instance, depot_problem, numbered_lines, numbers, parse_error, whole};
use crate::{
    SolverError,
    problem::{Job, Stop, TimeWindow},
};

/// Parses the text of a Li & Lim file; `name` is the instance name (the file stem).
pub fn parse(text: &str, name: &str, file: &str) -> Result<Instance, SolverError> {
    let mut lines = numbered_lines(text).filter(|(_, l)| !l.is_empty());
    let (first, header) = lines
        .next()
        .ok_or_else(|| parse_error(file, 1, "empty file"))?;
    let header = numbers(header, first, file)?;
    let [count, capacity, _speed] = header[..] else {
        return Err(parse_error(
            file,
            first,
            "expected `vehicles capacity speed`",
        ));
    };
    let count = whole(count, "vehicle count", first, file)?;
    let capacity = whole(capacity, "capacity", first, file)?;

    let mut rows = Vec::new();
    for (lineno, line) in lines {
        let values = numbers(line, lineno, file)?;
        if values.len() != 9 {
            return Err(parse_error(
                file,
                lineno,
                format!("expected 9 fields per place, got {}", values.len()),
            ));
        }
        if whole(values[0], "place id", lineno, file)? != rows.len() as i32 {
            return Err(parse_error(
                file,
                lineno,
                format!("place ids must run 0, 1, 2, ...; expected {}", rows.len()),
            ));
        }
        rows.push((lineno, values));
    }
    if rows.len() < 3 {
        return Err(parse_error(file, first, "no requests"));
    }
    let stop = |v: &[f64], index: usize| Stop {
        location: index,
        window: TimeWindow {
            start: v[4],
            end: v[5],
            hard: true,
        },
        setup: 0.0,
        service: v[6],
    };

    let mut jobs = Vec::new();
    for (index, (lineno, v)) in rows.iter().enumerate().skip(1) {
        let demand = whole(v[3], "demand", *lineno, file)?;
        let partner = whole(v[8], "delivery id", *lineno, file)? as usize;
        if demand < 0 || partner == 0 {
            continue; // a delivery (or an empty place): read with its pickup
        }
        let (partner_line, d) = rows.get(partner).ok_or_else(|| {
            parse_error(file, *lineno, format!("delivery {partner} does not exist"))
        })?;
        if whole(d[7], "pickup id", *partner_line, file)? as usize != index
            || whole(d[3], "demand", *partner_line, file)? != -demand
        {
            return Err(parse_error(
                file,
                *partner_line,
                format!("delivery {partner} does not match pickup {index}"),
            ));
        }
        jobs.push(Job {
            id: format!("{index}-{partner}"),
            pickup: Some(stop(v, index)),
            delivery: stop(d, partner),
            size: [demand, 0],
            required_skills: 0,
            placed_at: None,
            fixed_vehicle: None,
            on_board: false,
            excluded_vehicles: Vec::new(),
        });
    }
    let deliveries = rows.iter().skip(1).filter(|(_, v)| v[3] < 0.0).count();
    if deliveries != jobs.len() {
        return Err(parse_error(
            file,
            first,
            format!("{} pickups but {deliveries} deliveries", jobs.len()),
        ));
    }

    let points: Vec<(f64, f64)> = rows.iter().map(|(_, v)| (v[1], v[2])).collect();
    let depot = &rows[0].1;
    let problem = depot_problem(&points, depot[4], depot[5], count, capacity, jobs)?;
    Ok(Instance {
        name: name.to_owned(),
        problem,
    })
}
