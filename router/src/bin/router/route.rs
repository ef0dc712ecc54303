//! `router route`: one route as JSON.

use std::io::Write;
use std::path::Path;

use router::file;
use router::geo::LatLng;
use serde_json::json;

use crate::{Algo, Out};

pub(crate) fn run(
    out: &mut Out<'_>,
    graph: &Path,
    from: LatLng,
    to: LatLng,
    algo: Algo,
) -> anyhow::Result<()> {
    let network = file::load(graph)?;
    let route = match algo {
        Algo::Ch => network.route(from, to)?,
        Algo::Dijkstra => network.route_by_dijkstra(from, to)?,
    };
    let report = json!({
        "algo": match algo { Algo::Ch => "ch", Algo::Dijkstra => "dijkstra" },
        "seconds": route.seconds(),
        "metres": route.metres(),
        "from_snap_m": route.from_snap_m,
        "to_snap_m": route.to_snap_m,
        "points": route.geometry.len(),
        "polyline": route.polyline(),
    });
    writeln!(out, "{report}")?;
    Ok(())
}
