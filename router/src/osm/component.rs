//! The largest strongly connected component: the part of the network where every node can reach
//! every other. Outside it lie islands (a car park whose exit is outside the extract, a oneway
//! street mapped the wrong way round) where a route could start but never arrive, or the reverse.

use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::graph::Arc;

/// The nodes of the largest strongly connected component of the graph with `node_count` nodes and
/// `arcs`, in increasing order. Of several equally large ones, the one holding the lowest node.
///
/// Kosaraju rather than Tarjan because petgraph's Tarjan recurses once per node on a path, which
/// overflows the stack on the long chains of an undivided road graph.
pub(super) fn largest(node_count: usize, arcs: &[Arc]) -> Vec<u32> {
    let mut g = DiGraph::<(), ()>::with_capacity(node_count, arcs.len());
    for _ in 0..node_count {
        g.add_node(());
    }
    for a in arcs {
        g.add_edge(
            NodeIndex::new(a.tail as usize),
            NodeIndex::new(a.head as usize),
            (),
        );
    }
    let mut best: Vec<u32> = Vec::new();
    for component in kosaraju_scc(&g) {
        let mut nodes: Vec<u32> = component.iter().map(|v| v.index() as u32).collect();
        nodes.sort_unstable();
        if nodes.len() > best.len() || (nodes.len() == best.len() && nodes.first() < best.first()) {
            best = nodes;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arc(tail: u32, head: u32) -> Arc {
        Arc {
            tail,
            head,
            millis: 1,
            centimetres: 1,
        }
    }

    #[test]
    fn keeps_the_cycle_and_drops_the_dead_end() {
        // 0 -> 1 -> 2 -> 0 is a cycle; 3 is reached from it but cannot get back; 4 is isolated.
        let arcs = [arc(0, 1), arc(1, 2), arc(2, 0), arc(2, 3)];
        assert_eq!(largest(5, &arcs), vec![0, 1, 2]);
    }

    #[test]
    fn ties_go_to_the_component_with_the_lowest_node() {
        let arcs = [arc(2, 3), arc(3, 2), arc(0, 1), arc(1, 0)];
        assert_eq!(largest(4, &arcs), vec![0, 1]);
    }
}
