//! The street layer: tens of thousands of segments as a few `<path>` elements.
//!
//! Road graphs list each two-way street twice and a street of many nodes as many segments. After
//! rounding to tenths of a unit, duplicates (in either direction) and segments too short to see are
//! dropped, and the rest are joined end to end into trails, so a street costs one move and a short
//! relative line per segment. The result is deterministic: it follows the input order.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::svg::{PathData, Tenths};

/// Segments per `<path>`: a handful of elements for a city, none with an unwieldy attribute.
const SEGMENTS_PER_PATH: usize = 5_000;

/// Joins `segments` (in tenths) into the `d` attributes of as few paths as the chunk size allows.
pub(super) fn merge(
    segments: impl IntoIterator<Item = (Tenths, Tenths)>,
) -> Result<Vec<String>, fmt::Error> {
    let mut seen = HashSet::new();
    let mut edges: Vec<(Tenths, Tenths)> = Vec::new();
    for (a, b) in segments {
        if a != b && seen.insert(if a < b { (a, b) } else { (b, a) }) {
            edges.push((a, b));
        }
    }
    let mut at: HashMap<Tenths, Vec<usize>> = HashMap::with_capacity(edges.len());
    for (i, &(a, b)) in edges.iter().enumerate() {
        at.entry(a).or_default().push(i);
        at.entry(b).or_default().push(i);
    }

    let mut used = vec![false; edges.len()];
    // The next unused edge at `v`, marked used, and its other end.
    let mut next = |v: Tenths, used: &mut Vec<bool>| -> Option<Tenths> {
        let list = at.get_mut(&v)?;
        while let Some(e) = list.pop() {
            if !used[e] {
                used[e] = true;
                let (a, b) = edges[e];
                return Some(if a == v { b } else { a });
            }
        }
        None
    };

    let mut paths = Vec::new();
    let mut d = PathData::new();
    let mut in_path = 0;
    for start in 0..edges.len() {
        if used[start] {
            continue;
        }
        used[start] = true;
        let (a, b) = edges[start];
        // Walk forwards from b, then backwards from a; draw the backward part reversed first.
        let mut forward = vec![a, b];
        while let Some(p) = next(*forward.last().unwrap_or(&b), &mut used) {
            forward.push(p);
        }
        let mut backward = Vec::new();
        let mut end = a;
        while let Some(p) = next(end, &mut used) {
            backward.push(p);
            end = p;
        }
        let mut trail = backward.into_iter().rev().chain(forward);
        let Some(first) = trail.next() else { continue };
        d.move_to(first)?;
        let mut pen = first;
        for p in trail {
            if in_path == SEGMENTS_PER_PATH {
                paths.push(d.as_str().to_owned());
                d = PathData::new();
                d.move_to(pen)?;
                in_path = 0;
            }
            d.line_to(p)?;
            pen = p;
            in_path += 1;
        }
    }
    if !d.is_empty() {
        paths.push(d.as_str().to_owned());
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_duplicates_and_chains() {
        // A two-way street of three segments, listed both ways and out of order, plus a zero-length
        // segment and a separate one.
        let segs = [
            ((10, 0), (20, 0)),
            ((20, 0), (10, 0)),
            ((0, 0), (10, 0)),
            ((30, 0), (20, 0)),
            ((5, 5), (5, 5)),
            ((0, 50), (0, 60)),
            ((10, 0), (0, 0)),
        ];
        let paths = merge(segs).unwrap();
        assert_eq!(paths.len(), 1);
        assert_eq!(paths[0].matches('M').count(), 2, "{}", paths[0]);
        // Four distinct segments drawn, each once.
        let d = &paths[0];
        assert_eq!(d, "M0 0l1 0 1 0 1 0M0 5l0 1");
    }

    #[test]
    fn splits_into_chunks() {
        let segs = (0..12_000).map(|i| ((i * 10, 0), (i * 10 + 10, 0)));
        let paths = merge(segs).unwrap();
        assert_eq!(paths.len(), 3);
        // Each later chunk picks up where the one before stopped.
        assert!(paths[1].starts_with("M5000 0l"), "{}", &paths[1][..20]);
    }

    #[test]
    fn nothing_in_nothing_out() {
        assert!(merge([]).unwrap().is_empty());
    }
}
