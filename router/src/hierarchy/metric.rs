//! Customization: travel times on the hierarchy's arcs for one set of graph arc times.
//!
//! Each upward arc `lo–hi` carries a time per direction. They start as the graph's own arc times (or
//! infinity for pure shortcuts) and are then lowered through every lower triangle `lo–v–hi` with
//! `v < lo`, in increasing `v`, so that when `v` is processed its own arcs are already final. After that
//! every arc holds the shortest time between its ends over paths through lower-ranked nodes, which is
//! exactly what the upward searches need.

use crate::graph::{Centimetres, INFINITY, Millis, RoadGraph};

use super::topology::{Hierarchy, NONE};

/// The weights of a [`Hierarchy`] for one traffic state. Cheap to build again when traffic changes.
#[derive(Debug, Clone)]
pub struct Metric {
    /// Time of each upward arc, index `2·arc` upward and `2·arc + 1` downward.
    pub(crate) millis: Vec<Millis>,
    /// Length of the fastest path each weight stands for, same indexing.
    pub(crate) centimetres: Vec<Centimetres>,
    /// Middle node (rank) of the shortcut each weight came from, `NONE` for a graph arc.
    pub(crate) middle: Vec<u32>,
}

impl Metric {
    /// Customizes the hierarchy for the graph's free-flow times.
    pub fn free_flow(hierarchy: &Hierarchy, graph: &RoadGraph) -> Self {
        let millis: Vec<Millis> = graph.arcs().map(|(_, a)| graph.millis(a)).collect();
        Self::customize(hierarchy, graph, &millis)
    }

    /// Customizes the hierarchy for the given time of every graph arc (in graph arc order); lengths are
    /// the graph's own.
    pub fn customize(hierarchy: &Hierarchy, graph: &RoadGraph, arc_millis: &[Millis]) -> Self {
        assert_eq!(arc_millis.len(), graph.arc_count(), "one time per graph arc");
        let slots = hierarchy.arc_count() * 2;
        let mut millis = vec![INFINITY; slots];
        let mut centimetres = vec![0; slots];
        let middle = vec![NONE; slots];
        for (a, &slot) in hierarchy.arc_slot.iter().enumerate() {
            let s = slot as usize;
            if arc_millis[a] < millis[s] {
                millis[s] = arc_millis[a];
                centimetres[s] = graph.centimetres(a);
            }
        }
        let mut metric = Self { millis, centimetres, middle };
        metric.lower_triangles(hierarchy);
        metric
    }

    fn lower_triangles(&mut self, h: &Hierarchy) {
        for v in 0..h.node_count() as u32 {
            let arcs = h.up(v);
            for i in arcs.clone() {
                let x = h.up_head[i];
                // Time v→x is the upward weight of arc i, x→v its downward weight.
                let (v_to_x, x_to_v) = (self.millis[2 * i], self.millis[2 * i + 1]);
                if v_to_x == INFINITY && x_to_v == INFINITY {
                    continue;
                }
                // Both lists are sorted and, the upper neighbourhood being a clique, every later head
                // of v is an upper neighbour of x: one merge finds all the arcs x–y.
                let mut k = h.up(x).start;
                for j in i + 1..arcs.end {
                    let y = h.up_head[j];
                    while h.up_head[k] != y {
                        k += 1;
                    }
                    let (v_to_y, y_to_v) = (self.millis[2 * j], self.millis[2 * j + 1]);
                    let x_to_y = x_to_v.saturating_add(v_to_y);
                    if x_to_y < self.millis[2 * k] {
                        self.millis[2 * k] = x_to_y;
                        self.centimetres[2 * k] =
                            self.centimetres[2 * i + 1].saturating_add(self.centimetres[2 * j]);
                        self.middle[2 * k] = v;
                    }
                    let y_to_x = y_to_v.saturating_add(v_to_x);
                    if y_to_x < self.millis[2 * k + 1] {
                        self.millis[2 * k + 1] = y_to_x;
                        self.centimetres[2 * k + 1] =
                            self.centimetres[2 * j + 1].saturating_add(self.centimetres[2 * i]);
                        self.middle[2 * k + 1] = v;
                    }
                }
            }
        }
    }
}
