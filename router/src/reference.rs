//! Plain Dijkstra on petgraph: the slow, obviously-correct answer the hierarchy is checked against,
//! and `route --algo dijkstra`.

use petgraph::algo::{astar, dijkstra};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::graph::{Centimetres, INFINITY, Millis, RoadGraph};
use crate::hierarchy::Anchor;

/// A path found by the reference search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferencePath {
    /// Travel time, anchors' offsets included.
    pub millis: Millis,
    /// Length, anchors' offsets included.
    pub centimetres: Centimetres,
    /// Graph nodes from the node left to the node arrived at.
    pub nodes: Vec<u32>,
}

/// The road graph as a petgraph `DiGraph` with (time, length) weights.
#[derive(Debug, Clone)]
pub struct Reference {
    graph: DiGraph<(), (Millis, Centimetres)>,
}

impl Reference {
    /// Builds the reference graph with the given arc times (free flow: the graph's own).
    pub fn new(graph: &RoadGraph, arc_millis: &[Millis]) -> Self {
        let mut g = DiGraph::with_capacity(graph.node_count(), graph.arc_count());
        for _ in 0..graph.node_count() {
            g.add_node(());
        }
        for (tail, a) in graph.arcs() {
            g.add_edge(
                NodeIndex::new(tail as usize),
                NodeIndex::new(graph.head(a) as usize),
                (arc_millis[a], graph.centimetres(a)),
            );
        }
        Self { graph: g }
    }

    /// Shortest times from `source` to every node, [`INFINITY`] where unreachable.
    pub fn all_from(&self, source: u32) -> Vec<Millis> {
        let found = dijkstra(&self.graph, NodeIndex::new(source as usize), None, |e| {
            u64::from(e.weight().0)
        });
        let mut out = vec![INFINITY; self.graph.node_count()];
        for (v, d) in found {
            out[v.index()] = u32::try_from(d).unwrap_or(INFINITY);
        }
        out
    }

    /// Dijkstra (A* with a zero heuristic) between two nodes.
    pub fn node_to_node(&self, source: u32, target: u32) -> Option<ReferencePath> {
        let goal = NodeIndex::new(target as usize);
        let (millis, path) = astar(
            &self.graph,
            NodeIndex::new(source as usize),
            |v| v == goal,
            |e| u64::from(e.weight().0),
            |_| 0,
        )?;
        let centimetres = path
            .windows(2)
            .map(|w| {
                let e = self
                    .graph
                    .find_edge(w[0], w[1])
                    .expect("consecutive path nodes share an arc");
                u64::from(self.graph[e].1)
            })
            .sum::<u64>();
        Some(ReferencePath {
            millis: u32::try_from(millis).unwrap_or(u32::MAX),
            centimetres: u32::try_from(centimetres).unwrap_or(u32::MAX),
            nodes: path.into_iter().map(|v| v.index() as u32).collect(),
        })
    }

    /// The best of the node-to-node paths between the anchors' entries, offsets added.
    pub fn between(&self, from: &Anchor, to: &Anchor) -> Option<ReferencePath> {
        let mut best: Option<ReferencePath> = None;
        for &(s, s_ms, s_cm) in from.entries() {
            for &(t, t_ms, t_cm) in to.entries() {
                let Some(mut p) = self.node_to_node(s, t) else {
                    continue;
                };
                p.millis = p.millis.saturating_add(s_ms).saturating_add(t_ms);
                p.centimetres = p.centimetres.saturating_add(s_cm).saturating_add(t_cm);
                if best.as_ref().is_none_or(|b| p.millis < b.millis) {
                    best = Some(p);
                }
            }
        }
        best
    }
}
