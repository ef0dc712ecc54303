//! OpenStreetMap import: an `.osm.pbf` extract to a directed road graph for one vehicle profile.
//!
//! Two parallel passes over the file: the first keeps the ways the profile may use (see
//! [`Profile::way_rule`]) with their node ids, the second the coordinates of just those nodes.
//! Every node of a usable way becomes a graph node (no compression of degree-2 chains), so each arc
//! is one straight segment and path geometry is the node coordinates. Only the largest strongly
//! connected component is kept, and nodes are numbered along a Hilbert curve of their coordinates.

mod component;
mod hilbert;
pub(crate) mod maxspeed;
mod nodes;
mod pbf;
mod ways;

use std::path::Path;
use std::time::Instant;

use crate::error::{Result, RouterError};
use crate::geo::{LatLng, haversine_m};
use crate::graph::{Arc, RoadGraph};
use crate::profile::{Profile, WayRule};
use ways::Ways;

/// A road graph read from OpenStreetMap.
#[derive(Debug, Clone)]
pub struct Import {
    /// The graph: the largest strongly connected part of the profile's usable ways.
    pub graph: RoadGraph,
    /// The OSM node id of each graph node, to find places and to check against the map.
    pub osm_ids: Vec<i64>,
    /// What the import found and how long it took.
    pub stats: ImportStats,
}

/// Sizes and time of one import.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImportStats {
    /// Ways the profile may use (in at least one direction).
    pub ways_used: usize,
    /// Nodes of those ways that the file has coordinates for.
    pub nodes_before_scc: usize,
    /// Nodes in the graph, after keeping the largest strongly connected component.
    pub nodes: usize,
    /// Arcs in the graph.
    pub arcs: usize,
    /// Wall-clock time of the import, seconds.
    pub seconds: f64,
}

/// Imports the extract at `path` for `profile`.
///
/// Fails with [`RouterError::Io`] when the file cannot be read, [`RouterError::Pbf`] when it is not a
/// valid `.osm.pbf`, and [`RouterError::NoRoads`] when nothing in it connects for the profile.
pub fn import(path: &Path, profile: Profile) -> Result<Import> {
    let start = Instant::now();
    let ways = Ways::read(path, profile)?;
    let ids = ways.node_ids();
    // Graph nodes are u32; an extract this big is far beyond what the router is meant for.
    if u32::try_from(ids.len()).is_err() {
        return Err(RouterError::Pbf {
            path: path.to_owned(),
            reason: format!("{} road nodes, more than a graph can hold", ids.len()),
        });
    }
    let coords = nodes::read_coords(path, &ids)?;
    let arcs = segments(&ways, &ids, &coords);
    let keep = component::largest(ids.len(), &arcs);
    if keep.len() < 2 {
        return Err(RouterError::NoRoads {
            profile: profile.to_string(),
            path: path.to_owned(),
        });
    }
    let (graph, osm_ids) = renumber(&keep, &ids, &coords, arcs);
    let stats = ImportStats {
        ways_used: ways.len(),
        nodes_before_scc: coords.iter().filter(|c| c.is_some()).count(),
        nodes: graph.node_count(),
        arcs: graph.arc_count(),
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok(Import {
        graph,
        osm_ids,
        stats,
    })
}

/// One arc per direction the rule opens, per consecutive pair of way nodes, with nodes numbered by
/// their place in `ids`. Segments touching a node without coordinates are left out.
fn segments(ways: &Ways, ids: &[i64], coords: &[Option<LatLng>]) -> Vec<Arc> {
    let mut arcs = Vec::new();
    let locate = |id| ids.binary_search(&id).ok().map(|i| i as u32);
    for (refs, rule) in ways.iter() {
        for pair in refs.windows(2) {
            let (Some(a), Some(b)) = (locate(pair[0]), locate(pair[1])) else {
                continue;
            };
            let (Some(pa), Some(pb)) = (coords[a as usize], coords[b as usize]) else {
                continue;
            };
            let metres = haversine_m(pa, pb);
            let WayRule {
                forward_kmh,
                backward_kmh,
            } = rule;
            for (tail, head, kmh) in [(a, b, forward_kmh), (b, a, backward_kmh)] {
                if let Some(kmh) = kmh {
                    arcs.push(arc(tail, head, metres, kmh));
                }
            }
        }
    }
    arcs
}

/// An arc of `metres` driven at `kmh`: centimetres rounded, milliseconds rounded but at least one,
/// so that no arc is free and every path has a positive time.
fn arc(tail: u32, head: u32, metres: f64, kmh: f64) -> Arc {
    let millis = (metres / (kmh / 3.6) * 1000.0).round().max(1.0);
    Arc {
        tail,
        head,
        // Float-to-int `as` saturates; no segment comes near 42,000 km or 49 days anyway.
        millis: millis as u32,
        centimetres: (metres * 100.0).round() as u32,
    }
}

/// The graph on the `keep` nodes only, numbered along a Hilbert curve (ties by OSM id), with the
/// OSM id of each new node.
fn renumber(
    keep: &[u32],
    ids: &[i64],
    coords: &[Option<LatLng>],
    arcs: Vec<Arc>,
) -> (RoadGraph, Vec<i64>) {
    // Nodes in the component all have arcs, hence coordinates.
    let mut order: Vec<(u64, i64, u32, LatLng)> = keep
        .iter()
        .filter_map(|&v| {
            let at = coords[v as usize]?;
            Some((hilbert::index(at), ids[v as usize], v, at))
        })
        .collect();
    order.sort_unstable_by_key(|&(h, id, _, _)| (h, id));
    let mut new_index = vec![u32::MAX; ids.len()];
    for (i, &(_, _, v, _)) in order.iter().enumerate() {
        new_index[v as usize] = i as u32;
    }
    let arcs = arcs
        .into_iter()
        .filter_map(|a| {
            let (tail, head) = (new_index[a.tail as usize], new_index[a.head as usize]);
            (tail != u32::MAX && head != u32::MAX).then_some(Arc { tail, head, ..a })
        })
        .collect();
    let graph = RoadGraph::from_arcs(order.iter().map(|o| o.3).collect(), arcs);
    (graph, order.iter().map(|o| o.1).collect())
}
