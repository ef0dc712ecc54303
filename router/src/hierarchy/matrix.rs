//! Many-to-many tables by buckets (Knopp et al., 2007) on the customized hierarchy.
//!
//! Each target's backward search leaves an entry `(target, time, length)` in a bucket at every node
//! it reaches. Each source's forward search then scans the buckets of the nodes it reaches: the best
//! `forward + entry` over its search space is the shortest time to each target. Targets are searched
//! once, not once per source, and rows are independent, so they run in parallel.

use rayon::prelude::*;

use crate::graph::{Centimetres, INFINITY, Millis};

use super::metric::Metric;
use super::query::{Anchor, Search};
use super::topology::Hierarchy;

/// A dense table of travel times and lengths, row-major: row = source, column = target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Number of sources (rows).
    pub rows: usize,
    /// Number of targets (columns).
    pub columns: usize,
    /// Travel times; `INFINITY` where no path exists.
    pub millis: Vec<Millis>,
    /// Lengths of those fastest paths.
    pub centimetres: Vec<Centimetres>,
}

impl Table {
    /// Time and length from source `row` to target `column`.
    pub fn get(&self, row: usize, column: usize) -> (Millis, Centimetres) {
        let i = row * self.columns + column;
        (self.millis[i], self.centimetres[i])
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    target: u32,
    millis: Millis,
    centimetres: Centimetres,
}

/// Buckets in compressed form: the entries of rank `x` are `entries[first[x]..first[x + 1]]`.
struct Buckets {
    first: Vec<u32>,
    entries: Vec<Entry>,
}

impl Buckets {
    fn fill(h: &Hierarchy, m: &Metric, targets: &[Anchor]) -> Self {
        let n = h.node_count();
        let mut search = Search::new(n);
        let mut raw: Vec<(u32, Entry)> = Vec::new();
        for (j, anchor) in targets.iter().enumerate() {
            search.seed(h, anchor);
            let ranks = anchor.ranks(h);
            for x in h.ancestors(ranks.0, ranks.1) {
                let millis = search.millis[x as usize];
                if millis == INFINITY {
                    continue;
                }
                raw.push((
                    x,
                    Entry {
                        target: j as u32,
                        millis,
                        centimetres: search.centimetres[x as usize],
                    },
                ));
                search.relax(m, x, 1);
            }
            search.reset(h, ranks);
        }
        // Counting sort by node keeps each bucket contiguous for the scans.
        let mut first = vec![0u32; n + 1];
        for &(x, _) in &raw {
            first[x as usize + 1] += 1;
        }
        for x in 0..n {
            first[x + 1] += first[x];
        }
        let mut cursor = first.clone();
        let mut entries = vec![
            Entry {
                target: 0,
                millis: 0,
                centimetres: 0
            };
            raw.len()
        ];
        for (x, e) in raw {
            entries[cursor[x as usize] as usize] = e;
            cursor[x as usize] += 1;
        }
        Self { first, entries }
    }

    fn at(&self, x: u32) -> &[Entry] {
        &self.entries[self.first[x as usize] as usize..self.first[x as usize + 1] as usize]
    }
}

/// Shortest times and lengths from every source to every target, rows computed in parallel on the
/// current rayon pool.
pub fn table(h: &Hierarchy, m: &Metric, sources: &[Anchor], targets: &[Anchor]) -> Table {
    let columns = targets.len();
    let buckets = Buckets::fill(h, m, targets);
    let mut millis = vec![INFINITY; sources.len() * columns];
    let mut centimetres = vec![0; sources.len() * columns];
    if columns > 0 {
        millis
            .par_chunks_mut(columns)
            .zip(centimetres.par_chunks_mut(columns))
            .zip(sources.par_iter())
            .for_each_init(
                || Search::new(h.node_count()),
                |search, ((row_ms, row_cm), anchor)| {
                    search.seed(h, anchor);
                    let ranks = anchor.ranks(h);
                    for x in h.ancestors(ranks.0, ranks.1) {
                        let here = search.millis[x as usize];
                        if here == INFINITY {
                            continue;
                        }
                        let length = search.centimetres[x as usize];
                        for e in buckets.at(x) {
                            let t = here.saturating_add(e.millis);
                            let j = e.target as usize;
                            if t < row_ms[j] {
                                row_ms[j] = t;
                                row_cm[j] = length.saturating_add(e.centimetres);
                            }
                        }
                        search.relax(m, x, 0);
                    }
                    search.reset(h, ranks);
                },
            );
    }
    Table {
        rows: sources.len(),
        columns,
        millis,
        centimetres,
    }
}
