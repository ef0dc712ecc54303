//! One-to-one queries: two upward searches along elimination-tree ancestors, no priority queue.
//!
//! In a customized hierarchy a shortest path climbs from the source to a top node and descends to the
//! target. Every node the climb can reach is an ancestor of the source in the elimination tree, so the
//! search simply walks those ancestors in increasing rank and relaxes their upward arcs: the walk
//! visits each node after all its possible predecessors, which is what a priority queue would ensure.

use crate::graph::{Centimetres, INFINITY, Millis};

use super::metric::Metric;
use super::topology::{Hierarchy, NONE};

/// Where a search starts or ends: up to two graph nodes, each with the time and length between it and
/// the place itself (a point part-way along a road reaches both ends of its segment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    nodes: [(u32, Millis, Centimetres); 2],
    len: u8,
}

impl Anchor {
    /// A graph node itself.
    pub fn node(v: u32) -> Self {
        Self {
            nodes: [(v, 0, 0), (NONE, INFINITY, 0)],
            len: 1,
        }
    }

    /// A place joined to one or two graph nodes with the given offsets. Entries beyond two are
    /// ignored: a point on a segment touches at most its two ends.
    pub fn nodes(entries: &[(u32, Millis, Centimetres)]) -> Self {
        let mut anchor = Self {
            nodes: [(NONE, INFINITY, 0); 2],
            len: 0,
        };
        for &e in entries.iter().take(2) {
            anchor.nodes[anchor.len as usize] = e;
            anchor.len += 1;
        }
        anchor
    }

    /// The graph nodes and their offsets.
    pub fn entries(&self) -> &[(u32, Millis, Centimetres)] {
        &self.nodes[..self.len as usize]
    }

    /// The anchor's nodes as ranks, for the ancestor walk (`NONE` fills a missing second entry).
    pub(crate) fn ranks(&self, h: &Hierarchy) -> (u32, u32) {
        let rank = |i: usize| {
            if i < self.len as usize {
                h.rank[self.nodes[i].0 as usize]
            } else {
                NONE
            }
        };
        (rank(0), rank(1))
    }
}

/// Tentative times, lengths and predecessors of one search direction, sized to the graph and reset
/// along the walked chain after each query, so a query costs its search space, not the graph.
#[derive(Debug, Clone)]
pub(crate) struct Search {
    pub(crate) millis: Vec<Millis>,
    pub(crate) centimetres: Vec<Centimetres>,
    pub(crate) pred: Vec<u32>,
}

impl Search {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            millis: vec![INFINITY; n],
            centimetres: vec![0; n],
            pred: vec![NONE; n],
        }
    }

    /// Seeds the search at an anchor's nodes.
    pub(crate) fn seed(&mut self, h: &Hierarchy, anchor: &Anchor) {
        for &(v, ms, cm) in anchor.entries() {
            let x = h.rank[v as usize] as usize;
            if ms < self.millis[x] {
                self.millis[x] = ms;
                self.centimetres[x] = cm;
                self.pred[x] = NONE;
            }
        }
    }

    /// Relaxes the upward arcs of `x` with the weights of one direction (`down` = 0 upward, 1 for
    /// the backward search, which climbs against the travel direction).
    #[inline]
    pub(crate) fn relax(&mut self, m: &Metric, x: u32, down: usize) {
        let here = self.millis[x as usize];
        if here == INFINITY {
            return;
        }
        let length = self.centimetres[x as usize];
        let arcs = if down == 0 { &m.forward } else { &m.backward };
        for arc in arcs.of(x) {
            let y = arc.head as usize;
            let t = here.saturating_add(arc.millis);
            if t < self.millis[y] {
                self.millis[y] = t;
                self.centimetres[y] = length.saturating_add(arc.centimetres);
                self.pred[y] = arc.arc;
            }
        }
    }

    pub(crate) fn reset(&mut self, h: &Hierarchy, (a, b): (u32, u32)) {
        for x in h.ancestors(a, b) {
            self.millis[x as usize] = INFINITY;
        }
    }
}

/// Per-thread working memory for one-to-one queries: arrays the size of the graph, allocated once
/// and reset after each query along the part it touched, so a query costs its search space only.
#[derive(Debug, Clone)]
pub struct Scratch {
    forward: Search,
    backward: Search,
}

impl Scratch {
    /// Working memory for a hierarchy of `nodes` nodes.
    pub fn new(nodes: usize) -> Self {
        Self {
            forward: Search::new(nodes),
            backward: Search::new(nodes),
        }
    }

    /// Number of nodes this scratch space serves.
    pub fn nodes(&self) -> usize {
        self.forward.millis.len()
    }
}

/// One-to-one queries on a customized hierarchy, using borrowed [`Scratch`] memory.
#[derive(Debug)]
pub struct Query<'a> {
    hierarchy: &'a Hierarchy,
    metric: &'a Metric,
    forward: &'a mut Search,
    backward: &'a mut Search,
}

/// The answer to a one-to-one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Travel time.
    pub millis: Millis,
    /// Length of that fastest path.
    pub centimetres: Centimetres,
    /// Rank where the two searches met, for path unpacking.
    meeting: u32,
}

impl<'a> Query<'a> {
    /// Queries on `hierarchy` customized with `metric`. Panics if `scratch` was made for a graph of
    /// another size, which is a programming error.
    pub fn new(hierarchy: &'a Hierarchy, metric: &'a Metric, scratch: &'a mut Scratch) -> Self {
        assert_eq!(
            scratch.nodes(),
            hierarchy.node_count(),
            "scratch space sized for another graph"
        );
        Self {
            hierarchy,
            metric,
            forward: &mut scratch.forward,
            backward: &mut scratch.backward,
        }
    }

    /// Fastest travel between two graph nodes, or `None` when the target cannot be reached.
    pub fn node_to_node(&mut self, source: u32, target: u32) -> Option<Found> {
        self.run(&Anchor::node(source), &Anchor::node(target), false)
            .0
    }

    /// Fastest travel between two anchors, or `None` when no path joins them.
    pub fn between(&mut self, from: &Anchor, to: &Anchor) -> Option<Found> {
        self.run(from, to, false).0
    }

    /// Fastest travel between two anchors with the graph nodes it passes, in order, from the source
    /// anchor's node it leaves to the target anchor's node it arrives at.
    pub fn path(&mut self, from: &Anchor, to: &Anchor) -> Option<(Found, Vec<u32>)> {
        let (found, nodes) = self.run(from, to, true);
        found.map(|f| (f, nodes))
    }

    fn run(&mut self, from: &Anchor, to: &Anchor, unpack: bool) -> (Option<Found>, Vec<u32>) {
        let (h, m) = (self.hierarchy, self.metric);
        let (sources, targets) = (from.ranks(h), to.ranks(h));
        self.forward.seed(h, from);
        for x in h.ancestors(sources.0, sources.1) {
            self.forward.relax(m, x, 0);
        }
        self.backward.seed(h, to);
        let mut best = INFINITY;
        let mut meeting = NONE;
        for y in h.ancestors(targets.0, targets.1) {
            let (f, b) = (
                self.forward.millis[y as usize],
                self.backward.millis[y as usize],
            );
            let through = f.saturating_add(b);
            if through < best {
                best = through;
                meeting = y;
            }
            // Anything reached from y costs at least b, so nothing better can come of it.
            if b < best {
                self.backward.relax(m, y, 1);
            }
        }
        let found = (meeting != NONE).then(|| Found {
            millis: best,
            centimetres: self.forward.centimetres[meeting as usize]
                .saturating_add(self.backward.centimetres[meeting as usize]),
            meeting,
        });
        let nodes = match (&found, unpack) {
            (Some(f), true) => self.unpack(f.meeting),
            _ => Vec::new(),
        };
        self.forward.reset(h, sources);
        self.backward.reset(h, targets);
        (found, nodes)
    }

    /// Graph nodes of the path through `meeting`, read off the predecessor arcs before the reset.
    fn unpack(&self, meeting: u32) -> Vec<u32> {
        let h = self.hierarchy;
        // Climb: arcs from the source up to the meeting node, collected top-down then reversed.
        let mut climb = Vec::new();
        let mut x = meeting;
        while self.forward.pred[x as usize] != NONE && self.forward.millis[x as usize] != INFINITY {
            let i = self.forward.pred[x as usize];
            climb.push((i as usize, 0));
            x = h.up_tail[i as usize];
        }
        climb.reverse();
        let mut ranks = vec![x];
        for (i, down) in climb {
            expand(h, self.metric, i, down, &mut ranks);
        }
        // Descent: from the meeting node down to the target along the backward search's arcs.
        let mut y = meeting;
        while self.backward.pred[y as usize] != NONE && self.backward.millis[y as usize] != INFINITY
        {
            let i = self.backward.pred[y as usize];
            expand(h, self.metric, i as usize, 1, &mut ranks);
            y = h.up_tail[i as usize];
        }
        ranks.into_iter().map(|r| h.order[r as usize]).collect()
    }
}

/// Appends the graph nodes (as ranks) that arc `i` in direction `down` stands for, without its first
/// node, which the caller has already pushed. Shortcuts are opened with an explicit stack.
pub(crate) fn expand(h: &Hierarchy, m: &Metric, i: usize, down: usize, out: &mut Vec<u32>) {
    let mut stack = vec![(i, down)];
    while let Some((i, down)) = stack.pop() {
        let (lo, hi) = (h.up_tail[i], h.up_head[i]);
        let middle = m.middle[2 * i + down];
        if middle == NONE {
            out.push(if down == 0 { hi } else { lo });
            continue;
        }
        let to_lo = h.find(middle, lo).expect("shortcut halves exist");
        let to_hi = h.find(middle, hi).expect("shortcut halves exist");
        // Upward lo→hi is lo→middle (downward on arc middle–lo) then middle→hi (upward).
        // Downward hi→lo is hi→middle (downward on middle–hi) then middle→lo (upward).
        // Pushed in reverse, so the first half comes out first.
        if down == 0 {
            stack.push((to_hi, 0));
            stack.push((to_lo, 1));
        } else {
            stack.push((to_lo, 0));
            stack.push((to_hi, 1));
        }
    }
}
