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
#[derive(Clone)]
pub struct Metric {
    /// Time of each upward arc, index `2·arc` upward and `2·arc + 1` downward.
    pub(crate) millis: Vec<Millis>,
    /// Length of the fastest path each weight stands for, same indexing.
    pub(crate) centimetres: Vec<Centimetres>,
    /// Middle node (rank) of the shortcut each weight came from, `NONE` for a graph arc.
    pub(crate) middle: Vec<u32>,
    /// The upward arcs a forward search needs, after perfect customization.
    pub(crate) forward: Pruned,
    /// The upward arcs a backward search needs (weights of the downward direction).
    pub(crate) backward: Pruned,
}

/// One search direction's arcs in compressed rows, keeping only the arcs that lie on some shortest
/// path: after perfect customization an arc whose time is matched by a detour through a higher
/// triangle corner is never needed, and dropping it shrinks every search.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pruned {
    pub(crate) first: Vec<u32>,
    /// One record per arc, so a relaxation reads one cache line rather than four arrays.
    pub(crate) arcs: Vec<PrunedArc>,
}

/// An arc of a search direction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PrunedArc {
    pub(crate) head: u32,
    pub(crate) millis: Millis,
    pub(crate) centimetres: Centimetres,
    /// The hierarchy arc it came from, for path unpacking.
    pub(crate) arc: u32,
}

impl Pruned {
    /// Arcs of rank `x`.
    #[inline]
    pub(crate) fn of(&self, x: u32) -> &[PrunedArc] {
        &self.arcs[self.first[x as usize] as usize..self.first[x as usize + 1] as usize]
    }
}

/// A summary: the arrays run to millions of entries, which no log line wants.
impl std::fmt::Debug for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metric")
            .field("forward_arcs", &self.forward.arcs.len())
            .field("backward_arcs", &self.backward.arcs.len())
            .finish_non_exhaustive()
    }
}

impl Metric {
    /// Customizes the hierarchy for the graph's free-flow times.
    pub fn free_flow(hierarchy: &Hierarchy, graph: &RoadGraph) -> Self {
        let millis: Vec<Millis> = graph.arcs().map(|(_, a)| graph.millis(a)).collect();
        Self::customize(hierarchy, graph, &millis)
    }

    /// Customizes the hierarchy for the given time of every graph arc (in graph arc order); lengths are
    /// the graph's own. A time of 0 counts as 1 ms: pruning relies on every arc taking time, and a
    /// millisecond is below anything a road segment can be measured to.
    pub fn customize(hierarchy: &Hierarchy, graph: &RoadGraph, arc_millis: &[Millis]) -> Self {
        assert_eq!(
            arc_millis.len(),
            graph.arc_count(),
            "one time per graph arc"
        );
        let slots = hierarchy.arc_count() * 2;
        let mut millis = vec![INFINITY; slots];
        let mut centimetres = vec![0; slots];
        let middle = vec![NONE; slots];
        for (a, &slot) in hierarchy.arc_slot.iter().enumerate() {
            let s = slot as usize;
            let time = arc_millis[a].max(1);
            if time < millis[s] {
                millis[s] = time;
                centimetres[s] = graph.centimetres(a);
            }
        }
        let mut metric = Self {
            millis,
            centimetres,
            middle,
            forward: Pruned::default(),
            backward: Pruned::default(),
        };
        metric.lower_triangles(hierarchy);
        let needed = metric.needed_arcs(hierarchy);
        metric.forward = metric.pruned(hierarchy, &needed, 0);
        metric.backward = metric.pruned(hierarchy, &needed, 1);
        metric
    }

    /// Perfect customization (top-down over upper and intermediate triangles) on a copy of the times,
    /// then the arcs still needed: an arc goes when a detour through a higher corner matches it.
    /// Times are at least 1 ms, so a detour's two arcs are strictly shorter than the arc they replace
    /// and removals cannot justify each other in a circle.
    fn needed_arcs(&self, h: &Hierarchy) -> Vec<bool> {
        let mut exact = self.millis.clone();
        for x in (0..h.node_count() as u32).rev() {
            upper_pairs(h, x, |i, j, k| {
                // i: x–y, j: x–z, k: y–z with x < y < z. Even slots run up, odd ones down.
                exact[2 * i] = exact[2 * i].min(exact[2 * j].saturating_add(exact[2 * k + 1]));
                exact[2 * i + 1] =
                    exact[2 * i + 1].min(exact[2 * k].saturating_add(exact[2 * j + 1]));
                exact[2 * j] = exact[2 * j].min(exact[2 * i].saturating_add(exact[2 * k]));
                exact[2 * j + 1] =
                    exact[2 * j + 1].min(exact[2 * k + 1].saturating_add(exact[2 * i + 1]));
            });
        }
        let mut needed: Vec<bool> = exact.iter().map(|&w| w != INFINITY).collect();
        for x in 0..h.node_count() as u32 {
            upper_pairs(h, x, |i, j, k| {
                let detours = [
                    (2 * i, exact[2 * j].saturating_add(exact[2 * k + 1])),
                    (2 * i + 1, exact[2 * k].saturating_add(exact[2 * j + 1])),
                    (2 * j, exact[2 * i].saturating_add(exact[2 * k])),
                    (2 * j + 1, exact[2 * k + 1].saturating_add(exact[2 * i + 1])),
                ];
                for (slot, detour) in detours {
                    if detour <= exact[slot] {
                        needed[slot] = false;
                    }
                }
            });
        }
        // A kept arc must carry its exact time: it does, because an improvement above is itself a
        // matching detour, which removes the arc.
        debug_assert!((0..exact.len()).all(|s| !needed[s] || exact[s] == self.millis[s]));
        needed
    }

    fn pruned(&self, h: &Hierarchy, needed: &[bool], down: usize) -> Pruned {
        let mut p = Pruned {
            first: Vec::with_capacity(h.node_count() + 1),
            ..Pruned::default()
        };
        p.first.push(0);
        for x in 0..h.node_count() as u32 {
            for i in h.up(x) {
                if needed[2 * i + down] {
                    p.arcs.push(PrunedArc {
                        head: h.up_head[i],
                        millis: self.millis[2 * i + down],
                        centimetres: self.centimetres[2 * i + down],
                        arc: i as u32,
                    });
                }
            }
            p.first.push(p.arcs.len() as u32);
        }
        p
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

/// Calls `f(i, j, k)` for every pair of upper neighbours `y < z` of `x`: `i` is arc x–y, `j` arc x–z
/// and `k` arc y–z, which exists because upper neighbourhoods are cliques. One merge over y's arcs
/// finds every k for a given i.
fn upper_pairs(h: &Hierarchy, x: u32, mut f: impl FnMut(usize, usize, usize)) {
    let arcs = h.up(x);
    for i in arcs.clone() {
        let y = h.up_head[i];
        let mut k = h.up(y).start;
        for j in i + 1..arcs.end {
            let z = h.up_head[j];
            while h.up_head[k] != z {
                k += 1;
            }
            f(i, j, k);
        }
    }
}
