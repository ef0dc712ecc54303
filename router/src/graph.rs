//! The road graph: nodes with coordinates and directed arcs with travel time and length, in compressed
//! sparse row form.
//!
//! Every OSM node on a usable way is a node here, so an arc is one straight segment and a path's
//! geometry is the coordinates of its nodes. Times are whole milliseconds and lengths whole centimetres:
//! integers make the hierarchy's answers comparable bit for bit with Dijkstra's.

use petgraph::graph::{DiGraph, NodeIndex};
use serde::{Deserialize, Serialize};

use crate::geo::LatLng;

/// A travel time in milliseconds. `INFINITY` means unreachable.
pub type Millis = u32;

/// A length in centimetres.
pub type Centimetres = u32;

/// The travel time that stands for "no path".
pub const INFINITY: Millis = u32::MAX;

/// One directed arc as given to [`RoadGraph::from_arcs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arc {
    /// Node the arc leaves.
    pub tail: u32,
    /// Node the arc enters.
    pub head: u32,
    /// Free-flow travel time.
    pub millis: Millis,
    /// Length.
    pub centimetres: Centimetres,
}

/// A directed road graph. Arcs out of node `v` are `first_out[v]..first_out[v + 1]`, sorted by head.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoadGraph {
    lat: Vec<f64>,
    lng: Vec<f64>,
    first_out: Vec<u32>,
    head: Vec<u32>,
    millis: Vec<Millis>,
    centimetres: Vec<Centimetres>,
}

impl RoadGraph {
    /// Builds a graph from node coordinates and arcs in any order.
    ///
    /// Of parallel arcs (same tail and head) only the fastest is kept, and loops are dropped: neither
    /// can be on a shortest path. Panics if an arc names a node past `coords`, which is a bug in the
    /// caller, not bad input.
    pub fn from_arcs(coords: Vec<LatLng>, mut arcs: Vec<Arc>) -> Self {
        let n = coords.len();
        arcs.retain(|a| a.tail != a.head);
        arcs.sort_unstable_by_key(|a| (a.tail, a.head, a.millis, a.centimetres));
        arcs.dedup_by_key(|a| (a.tail, a.head));
        let mut first_out = vec![0u32; n + 1];
        for a in &arcs {
            assert!(
                (a.head as usize) < n && (a.tail as usize) < n,
                "arc past the node list"
            );
            first_out[a.tail as usize + 1] += 1;
        }
        for v in 0..n {
            first_out[v + 1] += first_out[v];
        }
        Self {
            lat: coords.iter().map(|c| c.lat()).collect(),
            lng: coords.iter().map(|c| c.lng()).collect(),
            first_out,
            head: arcs.iter().map(|a| a.head).collect(),
            millis: arcs.iter().map(|a| a.millis).collect(),
            centimetres: arcs.iter().map(|a| a.centimetres).collect(),
        }
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.lat.len()
    }

    /// Number of directed arcs.
    pub fn arc_count(&self) -> usize {
        self.head.len()
    }

    /// Where node `v` lies.
    pub fn coord(&self, v: u32) -> LatLng {
        LatLng::new(self.lat[v as usize], self.lng[v as usize])
            .expect("coordinates were valid LatLng when the graph was built")
    }

    /// Indices of the arcs leaving `v`, usable with [`head`](Self::head) and friends.
    pub fn out_arcs(&self, v: u32) -> std::ops::Range<usize> {
        self.first_out[v as usize] as usize..self.first_out[v as usize + 1] as usize
    }

    /// The node arc `a` enters.
    pub fn head(&self, a: usize) -> u32 {
        self.head[a]
    }

    /// Free-flow travel time of arc `a`.
    pub fn millis(&self, a: usize) -> Millis {
        self.millis[a]
    }

    /// Length of arc `a`.
    pub fn centimetres(&self, a: usize) -> Centimetres {
        self.centimetres[a]
    }

    /// The arc from `tail` to `head`, if there is one.
    pub fn find_arc(&self, tail: u32, head: u32) -> Option<usize> {
        let range = self.out_arcs(tail);
        let start = range.start;
        self.head[range]
            .binary_search(&head)
            .ok()
            .map(|i| start + i)
    }

    /// Every arc as `(tail, arc index)`, in index order.
    pub fn arcs(&self) -> impl Iterator<Item = (u32, usize)> + '_ {
        (0..self.node_count() as u32).flat_map(move |v| self.out_arcs(v).map(move |a| (v, a)))
    }

    /// Checks that the arrays fit together, for graphs read from files: every index in range, arc
    /// lists sorted, coordinates valid. Queries index without checks, so this is what keeps a bad file
    /// from becoming a panic.
    pub fn validate(&self) -> Result<(), String> {
        let (n, m) = (self.lat.len(), self.head.len());
        if self.lng.len() != n || self.first_out.len() != n + 1 {
            return Err("node arrays differ in length".into());
        }
        if self.millis.len() != m || self.centimetres.len() != m {
            return Err("arc arrays differ in length".into());
        }
        if self.first_out[0] != 0 || self.first_out[n] as usize != m {
            return Err("arc offsets do not span the arcs".into());
        }
        for v in 0..n {
            if self.first_out[v] > self.first_out[v + 1] {
                return Err(format!("arc offsets decrease at node {v}"));
            }
            let heads = &self.head[self.out_arcs(v as u32)];
            if heads.iter().any(|&h| h as usize >= n) || heads.windows(2).any(|w| w[0] >= w[1]) {
                return Err(format!("arcs of node {v} out of range or unsorted"));
            }
            if LatLng::new(self.lat[v], self.lng[v]).is_err() {
                return Err(format!("node {v} has an invalid coordinate"));
            }
        }
        Ok(())
    }

    /// The same graph as a petgraph `DiGraph` weighted by milliseconds, node `i` as `NodeIndex(i)`:
    /// the reference the hierarchy is checked against.
    pub fn to_petgraph(&self) -> DiGraph<(), Millis> {
        let mut g = DiGraph::with_capacity(self.node_count(), self.arc_count());
        for _ in 0..self.node_count() {
            g.add_node(());
        }
        for (tail, a) in self.arcs() {
            g.add_edge(
                NodeIndex::new(tail as usize),
                NodeIndex::new(self.head[a] as usize),
                self.millis[a],
            );
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lat: f64, lng: f64) -> LatLng {
        LatLng::new(lat, lng).unwrap()
    }

    #[test]
    fn keeps_the_fastest_parallel_arc_and_drops_loops() {
        let coords = vec![p(0.0, 0.0), p(0.0, 0.001), p(0.001, 0.0)];
        let arc = |tail, head, millis| Arc {
            tail,
            head,
            millis,
            centimetres: 100,
        };
        let g = RoadGraph::from_arcs(
            coords,
            vec![
                arc(0, 1, 50),
                arc(0, 1, 40),
                arc(1, 1, 5),
                arc(2, 0, 7),
                arc(0, 2, 9),
            ],
        );
        assert_eq!(g.arc_count(), 3);
        let a = g.find_arc(0, 1).unwrap();
        assert_eq!(g.millis(a), 40);
        assert!(g.find_arc(1, 1).is_none());
        assert_eq!(
            g.out_arcs(0).map(|a| g.head(a)).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(g.to_petgraph().edge_count(), 3);
    }
}
