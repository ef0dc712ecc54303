//! Prepared graph files: a road network saved after import and ordering, loaded in milliseconds so a
//! service restart does not import the map again.
//!
//! Layout: an 8-byte magic, a little-endian format version, a CRC-32 of the payload, then the payload
//! in postcard. A file from another format version, a damaged file or one whose arrays do not fit
//! together is refused with [`RouterError::BadGraphFile`] rather than trusted, because a wrong index
//! inside would otherwise surface later as a panic in a query.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, RouterError};
use crate::graph::RoadGraph;
use crate::hierarchy::Hierarchy;
use crate::network::RoadNetwork;
use crate::profile::Profile;
use crate::traffic::ArcCells;

const MAGIC: &[u8; 8] = b"CDROUTER";

/// Bumped whenever the payload's layout changes.
pub const FORMAT_VERSION: u32 = 1;

const HEADER: usize = 8 + 4 + 4;

#[derive(Serialize, Deserialize)]
struct Payload {
    profile: Profile,
    graph: RoadGraph,
    /// The nested-dissection order, the one expensive part of the hierarchy; the rest is rebuilt
    /// from it at load, which is quick and means nothing in the file can contradict it.
    order: Vec<u32>,
    cells: Vec<u64>,
}

/// Writes a prepared network to `path`.
pub fn save(network: &RoadNetwork, path: &Path) -> Result<()> {
    let payload = Payload {
        profile: network.profile(),
        graph: network.graph().clone(),
        order: network.hierarchy().order().to_vec(),
        cells: network.cells().to_raw(),
    };
    let body =
        postcard::to_stdvec(&payload).map_err(|e| bad(path, format!("cannot encode: {e}")))?;
    let mut bytes = Vec::with_capacity(HEADER + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    bytes.extend_from_slice(&body);
    fs::write(path, bytes).map_err(|source| RouterError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Reads a prepared network from `path`, checking it before use.
pub fn load(path: &Path) -> Result<RoadNetwork> {
    let bytes = fs::read(path).map_err(|source| RouterError::Io {
        path: path.to_owned(),
        source,
    })?;
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(bad(path, "not a prepared graph file (wrong magic)".into()));
    }
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let version = word(8);
    if version != FORMAT_VERSION {
        return Err(bad(
            path,
            format!(
                "format version {version}, this build reads {FORMAT_VERSION}; prepare it again"
            ),
        ));
    }
    let body = &bytes[HEADER..];
    if crc32fast::hash(body) != word(12) {
        return Err(bad(path, "checksum mismatch: the file is damaged".into()));
    }
    let payload: Payload =
        postcard::from_bytes(body).map_err(|e| bad(path, format!("cannot decode: {e}")))?;
    payload
        .graph
        .validate()
        .map_err(|reason| bad(path, reason))?;
    if !is_permutation(&payload.order, payload.graph.node_count()) {
        return Err(bad(
            path,
            "the node order is not a permutation of the graph's nodes".into(),
        ));
    }
    let hierarchy = Hierarchy::with_order(&payload.graph, payload.order);
    let cells = ArcCells::from_raw(&payload.cells)
        .filter(|c| c.len() == payload.graph.arc_count())
        .ok_or_else(|| bad(path, "arc cells do not match the graph".into()))?;
    Ok(RoadNetwork::from_parts(
        payload.profile,
        payload.graph,
        hierarchy,
        cells,
    ))
}

fn bad(path: &Path, reason: String) -> RouterError {
    RouterError::BadGraphFile {
        path: path.to_owned(),
        reason,
    }
}

fn is_permutation(order: &[u32], n: usize) -> bool {
    let mut seen = vec![false; n];
    order.len() == n
        && order.iter().all(|&v| {
            let fresh = (v as usize) < n && !seen[v as usize];
            if fresh {
                seen[v as usize] = true;
            }
            fresh
        })
}
