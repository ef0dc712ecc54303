//! The segment R-tree: bulk-loaded by rstar, searched by our own branch and bound.
//!
//! rstar's `nearest_neighbor` would do, but it cannot rescale `x` per query (see the parent module)
//! nor break ties by node ids, and its best-first heap was no faster here than a depth-first descent
//! that enters the nearer children first.
use rstar::{AABB, ParentNode, RStarInsertionStrategy, RTree, RTreeNode, RTreeObject, RTreeParams};

/// Node fan-out. The tree is never modified after the bulk load, so only query speed matters, and on
/// the bench graph anything from 6 to 25 children gave the same query time within the noise. 16 is a
/// square, so bulk-loaded nodes never exceed it (see [`FANOUT`]), and makes a shallow tree.
struct Params;

impl RTreeParams for Params {
    const MIN_SIZE: usize = 5;
    const MAX_SIZE: usize = 16;
    const REINSERTION_COUNT: usize = 4;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

/// How many children are ordered by distance at a time. rstar's bulk load splits a node into up to
/// `⌈√MAX_SIZE⌉²` children, which equals `MAX_SIZE` only for a square; a node with more is searched
/// in chunks, which is exact but prunes less.
const FANOUT: usize = Params::MAX_SIZE;

/// One undirected segment in plane metres, `from < to`.
///
/// Stored as its box rather than its two ends because rstar's bulk load asks for the envelope of
/// both sides of every comparison: building the box there (`AABB::from_corners` goes through
/// `array::from_fn`, which was not inlined) made the bulk load three times slower.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    envelope: AABB<[f64; 2]>,
    /// Per axis, whether `from`'s end is on the box's upper side.
    flip: [bool; 2],
    from: u32,
    to: u32,
}

impl Segment {
    /// The segment from `a` (node `from`) to `b` (node `to`).
    pub(super) fn new(a: [f64; 2], b: [f64; 2], from: u32, to: u32) -> Self {
        Self {
            envelope: AABB::from_corners(a, b),
            flip: [a[0] > b[0], a[1] > b[1]],
            from,
            to,
        }
    }

    /// The ends at `from` and at `to`. Indexing rather than branching on `flip`, which is as good as
    /// random and cost a mispredicted branch per segment.
    fn ends(&self) -> ([f64; 2], [f64; 2]) {
        let (lo, hi) = (self.envelope.lower(), self.envelope.upper());
        let corners = [[lo[0], hi[0]], [lo[1], hi[1]]];
        let [fx, fy] = self.flip.map(usize::from);
        (
            [corners[0][fx], corners[1][fy]],
            [corners[0][1 - fx], corners[1][1 - fy]],
        )
    }
}

impl RTreeObject for Segment {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// The nearest segment and the fraction along it of the closest point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Nearest {
    pub(super) from: u32,
    pub(super) to: u32,
    pub(super) fraction: f64,
}

/// The bulk-loaded tree of all segments.
pub(super) struct Tree(RTree<Segment, Params>);

impl Tree {
    pub(super) fn bulk_load(segments: Vec<Segment>) -> Self {
        Self(RTree::bulk_load_with_params(segments))
    }

    pub(super) fn len(&self) -> usize {
        self.0.size()
    }

    /// The segment nearest to `q` when plane `x` is scaled by `kx`; ties to the smallest (from, to).
    pub(super) fn nearest(&self, q: [f64; 2], kx: f64) -> Option<Nearest> {
        let mut search = Search {
            q,
            kx,
            d2: f64::INFINITY,
            best: None,
        };
        search.visit(self.0.root());
        search.best
    }
}

/// A search in progress: the query in the plane and the best segment so far.
struct Search {
    q: [f64; 2],
    /// Factor taking plane `x` to metres at the query's latitude.
    kx: f64,
    d2: f64,
    best: Option<Nearest>,
}

impl Search {
    /// Squared distance from the query to a box, the lower bound that prunes a subtree.
    fn box_d2(&self, envelope: &AABB<[f64; 2]>) -> f64 {
        let (lo, hi) = (envelope.lower(), envelope.upper());
        let dx = (lo[0] - self.q[0]).max(self.q[0] - hi[0]).max(0.0) * self.kx;
        let dy = (lo[1] - self.q[1]).max(self.q[1] - hi[1]).max(0.0);
        dx * dx + dy * dy
    }

    fn consider(&mut self, s: &Segment) {
        let (a, b) = s.ends();
        let (ux, uy) = ((b[0] - a[0]) * self.kx, b[1] - a[1]);
        let (wx, wy) = ((self.q[0] - a[0]) * self.kx, self.q[1] - a[1]);
        let len2 = ux * ux + uy * uy;
        // The guard keeps a zero-length segment (two nodes at one spot) from dividing 0 by 0.
        let t = if len2 > 0.0 {
            ((wx * ux + wy * uy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Measured from the nearer end, so every segment meeting at a node measures the same bits to
        // it and a tie there is a true tie (from `a`, a clamp to `b` would be one rounding off).
        // `t - 1` is exact for t in [0.5, 1].
        let (end, along) = if t > 0.5 { (b, t - 1.0) } else { (a, t) };
        let dx = (self.q[0] - end[0]) * self.kx - along * ux;
        let dy = (self.q[1] - end[1]) - along * uy;
        let d2 = dx * dx + dy * dy;
        // Ties go to the smallest (from, to), so the answer does not depend on the tree's shape.
        let wins = match self.best {
            None => true,
            Some(b) => d2 < self.d2 || (d2 == self.d2 && (s.from, s.to) < (b.from, b.to)),
        };
        if wins {
            self.d2 = d2;
            self.best = Some(Nearest {
                from: s.from,
                to: s.to,
                fraction: t,
            });
        }
    }

    /// Depth-first branch and bound, nearer children first. Subtrees are pruned only when strictly
    /// farther than the best, so every exact tie is seen and the tie-break is honoured.
    fn visit(&mut self, node: &ParentNode<Segment>) {
        for children in node.children().chunks(FANOUT) {
            let mut order = [(0.0, 0usize); FANOUT];
            let mut n = 0;
            for (i, child) in children.iter().enumerate() {
                match child {
                    // The box test is a third of the projection's cost and rejects most leaves.
                    RTreeNode::Leaf(segment) => {
                        if self.box_d2(&segment.envelope) <= self.d2 {
                            self.consider(segment);
                        }
                    }
                    RTreeNode::Parent(parent) => {
                        order[n] = (self.box_d2(&parent.envelope()), i);
                        n += 1;
                    }
                }
            }
            // Nearest first, picked lazily: usually only one or two children are worth entering.
            while n > 0 {
                let mut min = 0;
                for j in 1..n {
                    if order[j].0 < order[min].0 {
                        min = j;
                    }
                }
                let (bound, i) = order[min];
                if bound > self.d2 {
                    break;
                }
                n -= 1;
                order.swap(min, n);
                if let RTreeNode::Parent(parent) = &children[i] {
                    self.visit(parent);
                }
            }
        }
    }
}
