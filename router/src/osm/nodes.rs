//! The second pass: coordinates of the nodes the usable ways refer to.

use std::path::Path;

use osmpbf::PrimitiveBlock;

use super::pbf;
use crate::error::Result;
use crate::geo::LatLng;

/// Reads where each of `ids` (sorted, distinct) lies; `None` for nodes the file lacks (ways are cut
/// at the edge of an extract, their outer nodes left out) or whose coordinates are out of range.
pub(super) fn read_coords(path: &Path, ids: &[i64]) -> Result<Vec<Option<LatLng>>> {
    let blocks = pbf::map_blocks(path, |block| of_block(block, ids))?;
    let mut coords = vec![None; ids.len()];
    for (index, at) in blocks.into_iter().flatten() {
        coords[index as usize] = Some(at);
    }
    Ok(coords)
}

/// The wanted nodes of one block as (index into `ids`, coordinate).
fn of_block(block: &PrimitiveBlock, ids: &[i64]) -> Vec<(u32, LatLng)> {
    let mut found = Vec::new();
    let mut keep = |id: i64, lat: f64, lng: f64| {
        if let Ok(index) = ids.binary_search(&id)
            && let Ok(at) = LatLng::new(lat, lng)
        {
            // The import refuses extracts with more than u32::MAX road nodes, so the index fits.
            found.push((index as u32, at));
        }
    };
    for group in block.groups() {
        for node in group.dense_nodes() {
            keep(node.id(), node.lat(), node.lon());
        }
        for node in group.nodes() {
            keep(node.id(), node.lat(), node.lon());
        }
    }
    found
}
