//! `router bench`: load time, one-to-one medians, an M×M matrix, a traffic update and a check
//! against plain Dijkstra, as one JSON object.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use router::file;
use router::geo::LatLng;
use router::network::RoadNetwork;
use router::reference::Reference;
use router::traffic::{HourOfWeek, Traffic, cell_of};
use serde_json::json;

use crate::Out;

/// What to measure.
pub(crate) struct Settings {
    pub(crate) pairs: usize,
    pub(crate) matrix: usize,
    pub(crate) seed: u64,
    pub(crate) threads: usize,
    pub(crate) check: usize,
}

/// Matrix runs; the median is reported, so one slow run (a page fault storm, another process) does
/// not decide the figure.
const MATRIX_RUNS: usize = 5;

pub(crate) fn run(out: &mut Out<'_>, graph: &Path, s: &Settings) -> anyhow::Result<()> {
    let started = Instant::now();
    let network = file::load(graph)?;
    let load_s = started.elapsed().as_secs_f64();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(s.threads)
        .build()?;
    let mut rng = fastrand::Rng::with_seed(s.seed);
    let n = network.graph().node_count() as u32;

    let pairs: Vec<(u32, u32)> = (0..s.pairs)
        .map(|_| (rng.u32(0..n), rng.u32(0..n)))
        .collect();
    let mut node_us = network.with_query(|q| {
        pairs
            .iter()
            .map(|&(a, b)| {
                let t = Instant::now();
                std::hint::black_box(q.node_to_node(a, b));
                t.elapsed().as_secs_f64() * 1e6
            })
            .collect::<Vec<f64>>()
    });

    let points: Vec<(LatLng, LatLng)> = (0..s.pairs)
        .map(|_| (near_road(&network, &mut rng), near_road(&network, &mut rng)))
        .collect();
    let mut snapped_us: Vec<f64> = points
        .iter()
        .map(|&(a, b)| {
            let t = Instant::now();
            let _ = std::hint::black_box(network.travel(a, b));
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();

    let places: Vec<LatLng> = (0..s.matrix)
        .map(|_| near_road(&network, &mut rng))
        .collect();
    let mut matrix_s = Vec::with_capacity(MATRIX_RUNS);
    let mut unreachable = 0;
    for _ in 0..MATRIX_RUNS {
        let t = Instant::now();
        let table = pool.install(|| network.table(&places, &places))?;
        matrix_s.push(t.elapsed().as_secs_f64());
        unreachable = table
            .millis
            .iter()
            .filter(|&&ms| ms == router::graph::INFINITY)
            .count();
    }

    let traffic_update_s = traffic_update(&network, &mut rng)?;

    let reference = Reference::new(network.graph(), &network.arc_millis());
    let checked = &pairs[..s.check.min(pairs.len())];
    let mismatches = network.with_query(|q| {
        checked
            .iter()
            .filter(|&&(a, b)| {
                q.node_to_node(a, b).map(|f| f.millis)
                    != reference.node_to_node(a, b).map(|p| p.millis)
            })
            .count()
    });

    let report = json!({
        "graph": graph.display().to_string(),
        "nodes": n,
        "arcs": network.graph().arc_count(),
        "hierarchy_arcs": network.hierarchy().arc_count(),
        "elimination_tree_depth": network.hierarchy().depth(),
        "threads": s.threads,
        "load_s": load_s,
        "pairs": s.pairs,
        "one_to_one_median_us": median(&mut node_us),
        "one_to_one_p99_us": percentile(&mut node_us, 0.99),
        "snapped_median_us": median(&mut snapped_us),
        "snapped_p99_us": percentile(&mut snapped_us, 0.99),
        "matrix_size": s.matrix,
        "matrix_s": median(&mut matrix_s),
        "matrix_unreachable_cells": unreachable,
        "traffic_update_s": traffic_update_s,
        "mismatch_sample": checked.len(),
        "mismatches": mismatches,
    });
    writeln!(out, "{report}")?;
    Ok(())
}

/// A point within about 20 m of a random road segment.
fn near_road(network: &RoadNetwork, rng: &mut fastrand::Rng) -> LatLng {
    router::synthetic::point_near_road(network.graph(), rng, 20.0)
        .expect("a prepared graph has arcs")
}

/// Time to install a traffic table slowing a third of the resolution-8 cells the roads cross, at one
/// hour, and re-customize; free flow is restored afterwards.
fn traffic_update(network: &RoadNetwork, rng: &mut fastrand::Rng) -> anyhow::Result<f64> {
    let resolution = h3o::Resolution::Eight;
    let g = network.graph();
    let mut cells: Vec<h3o::CellIndex> = (0..g.node_count() as u32)
        .map(|v| cell_of(g.coord(v), resolution))
        .collect();
    cells.sort_unstable();
    cells.dedup();
    let hour = HourOfWeek::new(17)?;
    let mut traffic = Traffic::new(resolution)?;
    for cell in cells {
        if rng.u32(0..3) == 0 {
            traffic.set(cell, hour, 1.2 + rng.f64())?;
        }
    }
    let t = Instant::now();
    network.set_traffic(traffic, hour);
    let seconds = t.elapsed().as_secs_f64();
    network.clear_traffic();
    Ok(seconds)
}

fn median(v: &mut [f64]) -> f64 {
    percentile(v, 0.5)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}
