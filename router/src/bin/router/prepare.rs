//! `router prepare` and `router grid`: build a network and save it.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use router::{Profile, RoadGraph, file, network::RoadNetwork, osm, synthetic};
use serde_json::json;

use crate::Out;

pub(crate) fn from_pbf(
    out: &mut Out<'_>,
    pbf: &Path,
    profile: Profile,
    file: &Path,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let import = osm::import(pbf, profile)?;
    let import_s = started.elapsed().as_secs_f64();
    save(
        out,
        profile,
        import.graph,
        file,
        started,
        json!({ "import_s": import_s, "ways": import.stats.ways_used }),
    )
}

pub(crate) fn grid(out: &mut Out<'_>, side: u32, seed: u64, file: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let graph = synthetic::grid(side, side, 0.0, seed);
    save(
        out,
        Profile::Car,
        graph,
        file,
        started,
        json!({ "side": side }),
    )
}

fn save(
    out: &mut Out<'_>,
    profile: Profile,
    graph: RoadGraph,
    file: &Path,
    started: Instant,
    extra: serde_json::Value,
) -> anyhow::Result<()> {
    let ordering = Instant::now();
    let network = RoadNetwork::prepare(profile, graph);
    let hierarchy_s = ordering.elapsed().as_secs_f64();
    file::save(&network, file)?;
    let mut report = json!({
        "profile": profile.name(),
        "nodes": network.graph().node_count(),
        "arcs": network.graph().arc_count(),
        "hierarchy_arcs": network.hierarchy().arc_count(),
        "elimination_tree_depth": network.hierarchy().depth(),
        "hierarchy_s": hierarchy_s,
        "prepare_s": started.elapsed().as_secs_f64(),
        "file_bytes": std::fs::metadata(file)?.len(),
    });
    if let (Some(r), Some(e)) = (report.as_object_mut(), extra.as_object()) {
        r.extend(e.clone());
    }
    writeln!(out, "{report}")?;
    Ok(())
}
