//! The first pass: the ways a profile may use, with their node ids and speeds.

use std::path::Path;

use osmpbf::PrimitiveBlock;

use super::pbf;
use crate::error::Result;
use crate::profile::{Profile, WayRule};

/// The usable ways of an extract, flattened: way `w` has nodes `refs[starts[w]..starts[w + 1]]`.
#[derive(Debug, Default)]
pub(super) struct Ways {
    refs: Vec<i64>,
    starts: Vec<usize>,
    rules: Vec<WayRule>,
}

impl Ways {
    /// Reads the ways of the file at `path` that `profile` may use.
    pub(super) fn read(path: &Path, profile: Profile) -> Result<Self> {
        let blocks = pbf::map_blocks(path, |block| Self::of_block(block, profile))?;
        let mut ways = Ways {
            refs: Vec::with_capacity(blocks.iter().map(|b| b.refs.len()).sum()),
            starts: vec![0],
            rules: Vec::new(),
        };
        for block in blocks {
            let offset = ways.refs.len();
            ways.refs.extend_from_slice(&block.refs);
            ways.starts
                .extend(block.starts.iter().skip(1).map(|s| s + offset));
            ways.rules.extend_from_slice(&block.rules);
        }
        Ok(ways)
    }

    fn of_block(block: &PrimitiveBlock, profile: Profile) -> Self {
        let mut ways = Ways {
            starts: vec![0],
            ..Self::default()
        };
        // One tag buffer for the block: ways have a handful of tags each and there are many ways.
        let mut tags = Vec::new();
        for group in block.groups() {
            for way in group.ways() {
                tags.clear();
                tags.extend(way.tags());
                if !tags.iter().any(|&(k, _)| k == "highway") {
                    continue;
                }
                let Some(rule) = profile.way_rule_for_tags(&tags) else {
                    continue;
                };
                let start = ways.refs.len();
                ways.refs.extend(way.refs());
                if ways.refs.len() - start < 2 {
                    ways.refs.truncate(start);
                    continue;
                }
                ways.starts.push(ways.refs.len());
                ways.rules.push(rule);
            }
        }
        ways
    }

    /// How many ways there are.
    pub(super) fn len(&self) -> usize {
        self.rules.len()
    }

    /// Every node id some way uses, sorted, each once.
    pub(super) fn node_ids(&self) -> Vec<i64> {
        let mut ids = self.refs.clone();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The ways as (node ids, rule).
    pub(super) fn iter(&self) -> impl Iterator<Item = (&[i64], WayRule)> + '_ {
        self.starts
            .windows(2)
            .zip(&self.rules)
            .map(|(w, &rule)| (&self.refs[w[0]..w[1]], rule))
    }
}
