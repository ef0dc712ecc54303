//! The metric-independent part of the hierarchy: ranks, the chordal supergraph's upward arcs and the
//! elimination tree.
//!
//! Contracting the nodes in order while adding every shortcut (no witness search) yields a graph in
//! which every node's upper neighbours form a clique. That makes the structure independent of travel
//! times: traffic changes only the weights ([`super::Metric`]), never the shape, so an update costs a
//! customization of milliseconds rather than a new contraction.

use crate::graph::RoadGraph;

use super::order::nested_dissection;

/// Marks "no node" in parent and predecessor arrays.
pub(crate) const NONE: u32 = u32::MAX;

/// The shape of a customizable contraction hierarchy. Everything inside is in rank space: node `x`
/// here is the graph node `order[x]`.
#[derive(Clone)]
pub struct Hierarchy {
    /// Graph node of each rank.
    pub(crate) order: Vec<u32>,
    /// Rank of each graph node.
    pub(crate) rank: Vec<u32>,
    /// Upward arcs of rank `x` are `first_up[x]..first_up[x + 1]`, sorted by head.
    pub(crate) first_up: Vec<u32>,
    /// Higher-ranked end of each upward arc.
    pub(crate) up_head: Vec<u32>,
    /// Lower-ranked end of each upward arc.
    pub(crate) up_tail: Vec<u32>,
    /// Elimination-tree parent: the lowest upper neighbour, or `NONE` for a root.
    pub(crate) parent: Vec<u32>,
    /// For each graph arc, twice the upward arc it lies on, plus one when it runs downward.
    pub(crate) arc_slot: Vec<u32>,
}

/// A summary: the arrays run to millions of entries, which no log line wants.
impl std::fmt::Debug for Hierarchy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hierarchy")
            .field("nodes", &self.node_count())
            .field("arcs", &self.arc_count())
            .finish_non_exhaustive()
    }
}

impl Hierarchy {
    /// Orders the graph by nested dissection and builds the hierarchy's shape.
    pub fn build(graph: &RoadGraph) -> Self {
        Self::with_order(graph, nested_dissection(graph))
    }

    /// Builds the shape for a given contraction order (`order[rank]` = node), which must be a
    /// permutation of the graph's nodes.
    pub fn with_order(graph: &RoadGraph, order: Vec<u32>) -> Self {
        let n = graph.node_count();
        assert_eq!(order.len(), n, "the order must rank every node");
        let mut rank = vec![NONE; n];
        for (r, &v) in order.iter().enumerate() {
            rank[v as usize] = r as u32;
        }
        // Upper neighbours per rank, filled with the graph's edges and then with fill-in.
        let mut upper: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (tail, a) in graph.arcs() {
            let (x, y) = (rank[tail as usize], rank[graph.head(a) as usize]);
            let (lo, hi) = if x < y { (x, y) } else { (y, x) };
            upper[lo as usize].push(hi);
        }
        let mut parent = vec![NONE; n];
        for x in 0..n {
            let mut up = std::mem::take(&mut upper[x]);
            up.sort_unstable();
            up.dedup();
            // Eliminating x joins its upper neighbours into a clique. The lowest of them inherits the
            // rest, and by induction every pair gets its arc.
            if let Some((&p, rest)) = up.split_first() {
                parent[x] = p;
                upper[p as usize].extend_from_slice(rest);
            }
            upper[x] = up;
        }
        let mut first_up = Vec::with_capacity(n + 1);
        first_up.push(0u32);
        let mut up_head = Vec::new();
        let mut up_tail = Vec::new();
        for (x, up) in upper.iter().enumerate() {
            up_head.extend_from_slice(up);
            up_tail.extend(std::iter::repeat_n(x as u32, up.len()));
            first_up.push(up_head.len() as u32);
        }
        let mut hierarchy = Self {
            order,
            rank,
            first_up,
            up_head,
            up_tail,
            parent,
            arc_slot: Vec::new(),
        };
        hierarchy.arc_slot = graph
            .arcs()
            .map(|(tail, a)| {
                let (x, y) = (
                    hierarchy.rank[tail as usize],
                    hierarchy.rank[graph.head(a) as usize],
                );
                let (lo, hi, down) = if x < y { (x, y, 0) } else { (y, x, 1) };
                let slot = hierarchy
                    .find(lo, hi)
                    .expect("every graph edge is an upward arc");
                (slot as u32) * 2 + down
            })
            .collect();
        hierarchy
    }

    /// The contraction order: graph node of each rank.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.order.len()
    }

    /// Number of upward arcs (graph edges plus shortcuts), each carrying one weight per direction.
    pub fn arc_count(&self) -> usize {
        self.up_head.len()
    }

    /// The graph node ranked `x`.
    pub fn node(&self, x: u32) -> u32 {
        self.order[x as usize]
    }

    /// The rank of graph node `v`.
    pub fn rank_of(&self, v: u32) -> u32 {
        self.rank[v as usize]
    }

    /// Depth of the elimination tree: the longest chain of ancestors, which bounds a query's search.
    pub fn depth(&self) -> usize {
        let mut depth = vec![0u32; self.node_count()];
        let mut deepest = 0;
        for x in (0..self.node_count()).rev() {
            let p = self.parent[x];
            depth[x] = if p == NONE { 1 } else { depth[p as usize] + 1 };
            deepest = deepest.max(depth[x]);
        }
        deepest as usize
    }

    /// Upward arcs leaving rank `x`.
    pub(crate) fn up(&self, x: u32) -> std::ops::Range<usize> {
        self.first_up[x as usize] as usize..self.first_up[x as usize + 1] as usize
    }

    /// The upward arc from `lo` to `hi` (`lo < hi`), if they are adjacent.
    pub(crate) fn find(&self, lo: u32, hi: u32) -> Option<usize> {
        let range = self.up(lo);
        let start = range.start;
        self.up_head[range]
            .binary_search(&hi)
            .ok()
            .map(|i| start + i)
    }

    /// Ancestors of up to two ranks in the elimination tree, each once, lowest first.
    pub(crate) fn ancestors(&self, a: u32, b: u32) -> Ancestors<'_> {
        Ancestors {
            parent: &self.parent,
            a,
            b,
        }
    }
}

/// Walks the union of two ancestor chains in increasing rank. The chains merge where they meet, so
/// stepping whichever is lower visits each node once.
pub(crate) struct Ancestors<'a> {
    parent: &'a [u32],
    a: u32,
    b: u32,
}

impl Iterator for Ancestors<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let x = self.a.min(self.b);
        if x == NONE {
            return None;
        }
        if self.a == x {
            self.a = self.parent[x as usize];
        }
        if self.b == x {
            self.b = self.parent[x as usize];
        }
        Some(x)
    }
}
