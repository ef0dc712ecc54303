//! Solomon VRPTW instances: identical vehicles at a depot, customers each with a demand, a hard time
//! window and a service time. Every customer is a delivery whose load leaves the depot on the vehicle.

use super::{Instance, depot_problem, numbered_lines, numbers, parse_error, whole};
use crate::{
    SolverError,
    problem::{Job, Stop, TimeWindow},
};

/// Parses the text of a Solomon file (`file` names it in errors).
pub fn parse(text: &str, file: &str) -> Result<Instance, SolverError> {
    let mut lines = numbered_lines(text).filter(|(_, l)| !l.is_empty());
    let (_, name) = lines
        .next()
        .ok_or_else(|| parse_error(file, 1, "empty file"))?;
    let name = name.to_owned();

    let mut fleet = None;
    let mut rows: Vec<(usize, Vec<f64>)> = Vec::new();
    let mut section = "";
    for (lineno, line) in lines {
        let starts_with_digit = line.starts_with(|c: char| c.is_ascii_digit());
        if !starts_with_digit {
            section = match line {
                "VEHICLE" => "vehicle",
                "CUSTOMER" => "customer",
                _ => section,
            };
            continue;
        }
        let values = numbers(line, lineno, file)?;
        match section {
            "vehicle" if fleet.is_none() => {
                let [count, capacity] = values[..] else {
                    return Err(parse_error(file, lineno, "expected NUMBER CAPACITY"));
                };
                fleet = Some((
                    whole(count, "vehicle count", lineno, file)?,
                    whole(capacity, "capacity", lineno, file)?,
                ));
            }
            "customer" => {
                if values.len() != 7 {
                    return Err(parse_error(
                        file,
                        lineno,
                        format!("expected 7 fields per customer, got {}", values.len()),
                    ));
                }
                rows.push((lineno, values));
            }
            _ => return Err(parse_error(file, lineno, "numbers outside a section")),
        }
    }
    let (count, capacity) = fleet.ok_or_else(|| parse_error(file, 1, "no VEHICLE section"))?;
    if rows.is_empty() {
        return Err(parse_error(file, 1, "no customers"));
    }
    for (index, (lineno, values)) in rows.iter().enumerate() {
        if whole(values[0], "customer number", *lineno, file)? != index as i32 {
            return Err(parse_error(
                file,
                *lineno,
                format!("customer numbers must run 0, 1, 2, ...; expected {index}"),
            ));
        }
    }

    let points: Vec<(f64, f64)> = rows.iter().map(|(_, v)| (v[1], v[2])).collect();
    let jobs = rows[1..]
        .iter()
        .enumerate()
        .map(|(i, (lineno, v))| {
            Ok(Job {
                id: format!("{}", i + 1),
                pickup: None,
                delivery: Stop {
                    location: i + 1,
                    window: TimeWindow {
                        start: v[4],
                        end: v[5],
                        hard: true,
                    },
                    setup: 0.0,
                    service: v[6],
                },
                size: [whole(v[3], "demand", *lineno, file)?, 0],
                required_skills: 0,
                placed_at: None,
                fixed_vehicle: None,
                on_board: false,
                excluded_vehicles: Vec::new(),
            })
        })
        .collect::<Result<_, SolverError>>()?;
    let depot = &rows[0].1;
    let problem = depot_problem(&points, depot[4], depot[5], count, capacity, jobs)?;
    Ok(Instance { name, problem })
}
