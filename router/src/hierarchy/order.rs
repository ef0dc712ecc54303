//! A nested-dissection node order, found with inertial flow.
//!
//! A customizable contraction hierarchy is only as good as its order: the search space of a query is
//! the node's ancestors in the elimination tree, so the order must cut the graph with small, balanced
//! separators, rank each separator above both halves, and recurse. Inertial flow (Schild and Sommer,
//! 2015) finds such cuts on road networks cheaply: project the nodes onto a line, take the first and
//! last quarter as source and sink, and a minimum cut between them is a small separator, because roads
//! are nearly planar and sparse. Four line directions are tried and the smallest cut wins.

use crate::geo::EARTH_RADIUS_M;
use crate::graph::RoadGraph;

/// Parts this small are ordered directly, lowest degree first: cutting them further gains nothing
/// measurable and costs a flow computation each.
const LEAF: usize = 8;

/// Share of a part's nodes (by projection) that form the source side, and again the sink side.
const TERMINAL_SHARE: f64 = 0.25;

/// The directions in which nodes are projected: east, north and the two diagonals.
const DIRECTIONS: [(f64, f64); 4] = [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, -1.0)];

/// Returns the nodes in contraction order: `order[rank]` is the node with that rank, separators last.
pub(crate) fn nested_dissection(graph: &RoadGraph) -> Vec<u32> {
    let adjacency = Undirected::of(graph);
    let points = planar_points(graph);
    let n = graph.node_count();
    let mut order = vec![u32::MAX; n];
    let mut scratch = Scratch::new(n);
    // Each task is a set of nodes and the first rank of the range it fills; ranges never overlap.
    let mut tasks: Vec<(Vec<u32>, usize)> = Vec::new();
    let all: Vec<u32> = (0..n as u32).collect();
    let mut next = 0;
    for component in scratch.components(&adjacency, &all) {
        let len = component.len();
        tasks.push((component, next));
        next += len;
    }
    while let Some((nodes, first)) = tasks.pop() {
        if nodes.len() <= LEAF {
            let mut leaf: Vec<(usize, u32)> = nodes
                .iter()
                .map(|&v| (scratch.inner_degree(&adjacency, v, &nodes), v))
                .collect();
            leaf.sort_unstable();
            for (i, (_, v)) in leaf.into_iter().enumerate() {
                order[first + i] = v;
            }
            continue;
        }
        let separator = scratch.separator(&adjacency, &points, &nodes);
        let top = first + nodes.len() - separator.len();
        for (i, &v) in separator.iter().enumerate() {
            order[top + i] = v;
        }
        scratch.mark(&separator, true);
        let rest: Vec<u32> = nodes
            .into_iter()
            .filter(|&v| !scratch.marked[v as usize])
            .collect();
        scratch.mark(&separator, false);
        let mut start = first;
        for component in scratch.components(&adjacency, &rest) {
            let len = component.len();
            tasks.push((component, start));
            start += len;
        }
    }
    debug_assert!(order.iter().all(|&v| v != u32::MAX));
    order
}

/// The graph's undirected simple skeleton: one neighbour entry per adjacent pair, no loops.
pub(crate) struct Undirected {
    first: Vec<u32>,
    neighbours: Vec<u32>,
}

impl Undirected {
    pub(crate) fn of(graph: &RoadGraph) -> Self {
        let n = graph.node_count();
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(graph.arc_count() * 2);
        for (tail, a) in graph.arcs() {
            let head = graph.head(a);
            pairs.push((tail, head));
            pairs.push((head, tail));
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut first = vec![0u32; n + 1];
        for &(u, _) in &pairs {
            first[u as usize + 1] += 1;
        }
        for v in 0..n {
            first[v + 1] += first[v];
        }
        Self {
            first,
            neighbours: pairs.into_iter().map(|(_, v)| v).collect(),
        }
    }

    pub(crate) fn of_node(&self, v: u32) -> &[u32] {
        &self.neighbours[self.first[v as usize] as usize..self.first[v as usize + 1] as usize]
    }
}

/// Node positions in metres on a local equirectangular plane: only directions matter for the
/// projection, so the distortion far from the reference latitude is harmless.
fn planar_points(graph: &RoadGraph) -> Vec<(f64, f64)> {
    let n = graph.node_count();
    let mean_lat = (0..n as u32).map(|v| graph.coord(v).lat()).sum::<f64>() / n.max(1) as f64;
    let k = mean_lat.to_radians().cos();
    (0..n as u32)
        .map(|v| {
            let c = graph.coord(v);
            (
                EARTH_RADIUS_M * c.lng().to_radians() * k,
                EARTH_RADIUS_M * c.lat().to_radians(),
            )
        })
        .collect()
}

/// Per-node working arrays, allocated once for the whole graph and reset after each use.
struct Scratch {
    /// Index of a global node inside the current part, or `u32::MAX` when outside it.
    local: Vec<u32>,
    marked: Vec<bool>,
}

impl Scratch {
    fn new(n: usize) -> Self {
        Self {
            local: vec![u32::MAX; n],
            marked: vec![false; n],
        }
    }

    fn mark(&mut self, nodes: &[u32], value: bool) {
        for &v in nodes {
            self.marked[v as usize] = value;
        }
    }

    fn inner_degree(&self, adjacency: &Undirected, v: u32, part: &[u32]) -> usize {
        adjacency
            .of_node(v)
            .iter()
            .filter(|u| part.contains(u))
            .count()
    }

    /// Splits `nodes` into the connected components of the subgraph they induce.
    fn components(&mut self, adjacency: &Undirected, nodes: &[u32]) -> Vec<Vec<u32>> {
        for (i, &v) in nodes.iter().enumerate() {
            self.local[v as usize] = i as u32;
        }
        let mut seen = vec![false; nodes.len()];
        let mut components = Vec::new();
        let mut stack = Vec::new();
        for start in 0..nodes.len() {
            if seen[start] {
                continue;
            }
            seen[start] = true;
            stack.push(nodes[start]);
            let mut component = Vec::new();
            while let Some(v) = stack.pop() {
                component.push(v);
                for &u in adjacency.of_node(v) {
                    let l = self.local[u as usize];
                    if l != u32::MAX && !seen[l as usize] {
                        seen[l as usize] = true;
                        stack.push(u);
                    }
                }
            }
            components.push(component);
        }
        for &v in nodes {
            self.local[v as usize] = u32::MAX;
        }
        components
    }

    /// A small vertex separator of the connected part `nodes`: the best inertial-flow cut over the
    /// four directions, turned into vertices by taking the smaller side's endpoints of the cut edges.
    fn separator(
        &mut self,
        adjacency: &Undirected,
        points: &[(f64, f64)],
        nodes: &[u32],
    ) -> Vec<u32> {
        for (i, &v) in nodes.iter().enumerate() {
            self.local[v as usize] = i as u32;
        }
        let part = Part::induce(adjacency, nodes, &self.local);
        for &v in nodes {
            self.local[v as usize] = u32::MAX;
        }
        let mut best: Option<Vec<u32>> = None;
        for direction in DIRECTIONS {
            let key: Vec<f64> = nodes
                .iter()
                .map(|&v| {
                    let (x, y) = points[v as usize];
                    x * direction.0 + y * direction.1
                })
                .collect();
            let mut by_key: Vec<u32> = (0..nodes.len() as u32).collect();
            by_key.sort_by(|&a, &b| key[a as usize].total_cmp(&key[b as usize]).then(a.cmp(&b)));
            let terminals = ((nodes.len() as f64 * TERMINAL_SHARE) as usize).max(1);
            let sources = &by_key[..terminals];
            let sinks = &by_key[nodes.len() - terminals..];
            let cut = part.min_cut_separator(sources, sinks);
            if best.as_ref().is_none_or(|b| cut.len() < b.len()) {
                best = Some(cut);
            }
        }
        best.unwrap_or_default()
            .into_iter()
            .map(|l| nodes[l as usize])
            .collect()
    }
}

/// The subgraph induced by one part, with local node ids and a twin index per directed edge.
struct Part {
    first: Vec<u32>,
    head: Vec<u32>,
    twin: Vec<u32>,
}

impl Part {
    fn induce(adjacency: &Undirected, nodes: &[u32], local: &[u32]) -> Self {
        let mut first = Vec::with_capacity(nodes.len() + 1);
        let mut head = Vec::new();
        first.push(0);
        for &v in nodes {
            // Neighbour lists are sorted by global id; local ids follow `nodes`, so sort again.
            let start = head.len();
            head.extend(
                adjacency
                    .of_node(v)
                    .iter()
                    .map(|&u| local[u as usize])
                    .filter(|&l| l != u32::MAX),
            );
            head[start..].sort_unstable();
            first.push(head.len() as u32);
        }
        let mut twin = vec![0u32; head.len()];
        for u in 0..nodes.len() {
            for e in first[u] as usize..first[u + 1] as usize {
                let v = head[e] as usize;
                let range = first[v] as usize..first[v + 1] as usize;
                let offset = head[range.clone()]
                    .binary_search(&(u as u32))
                    .expect("the induced adjacency is symmetric");
                twin[e] = (range.start + offset) as u32;
            }
        }
        Self { first, head, twin }
    }

    fn len(&self) -> usize {
        self.first.len() - 1
    }

    fn edges(&self, u: usize) -> std::ops::Range<usize> {
        self.first[u] as usize..self.first[u + 1] as usize
    }

    /// Maximum flow with unit edge capacities from `sources` to `sinks` (Dinic), then the vertex
    /// separator read off the minimum cut.
    fn min_cut_separator(&self, sources: &[u32], sinks: &[u32]) -> Vec<u32> {
        const SOURCE: u8 = 1;
        const SINK: u8 = 2;
        let n = self.len();
        let mut role = vec![0u8; n];
        for &s in sources {
            role[s as usize] = SOURCE;
        }
        for &t in sinks {
            role[t as usize] = SINK;
        }
        // flow[e] is +1 when a unit crosses e forwards, -1 when it crosses its twin.
        let mut flow = vec![0i8; self.head.len()];
        let mut level = vec![u32::MAX; n];
        let mut cursor = vec![0u32; n];
        let mut queue = Vec::with_capacity(n);
        loop {
            // Levels from the sources over edges with spare capacity.
            level.fill(u32::MAX);
            queue.clear();
            for &s in sources {
                level[s as usize] = 0;
                queue.push(s);
            }
            let mut head_of_queue = 0;
            let mut sink_reached = false;
            while head_of_queue < queue.len() {
                let u = queue[head_of_queue] as usize;
                head_of_queue += 1;
                if role[u] == SINK {
                    sink_reached = true;
                    continue;
                }
                for e in self.edges(u) {
                    let v = self.head[e] as usize;
                    if flow[e] < 1 && level[v] == u32::MAX {
                        level[v] = level[u] + 1;
                        queue.push(v as u32);
                    }
                }
            }
            if !sink_reached {
                break;
            }
            // Blocking flow along the level graph, by iterative depth-first search.
            cursor.copy_from_slice(&self.first[..n]);
            let mut path: Vec<u32> = Vec::new();
            for &s in sources {
                let mut u = s as usize;
                loop {
                    if role[u] == SINK {
                        for &e in &path {
                            flow[e as usize] += 1;
                            flow[self.twin[e as usize] as usize] -= 1;
                        }
                        path.clear();
                        u = s as usize;
                        continue;
                    }
                    let end = self.first[u + 1];
                    let mut advanced = false;
                    while cursor[u] < end {
                        let e = cursor[u] as usize;
                        let v = self.head[e] as usize;
                        if flow[e] < 1 && level[v] == level[u] + 1 && role[v] != SOURCE {
                            path.push(e as u32);
                            u = v;
                            advanced = true;
                            break;
                        }
                        cursor[u] += 1;
                    }
                    if advanced {
                        continue;
                    }
                    // Dead end: retire the node and step back.
                    level[u] = u32::MAX;
                    match path.pop() {
                        Some(e) => {
                            u = self.head[self.twin[e as usize] as usize] as usize;
                            cursor[u] += 1;
                        }
                        None => break,
                    }
                }
            }
        }
        // The source side of the minimum cut is what the sources still reach.
        let mut reached = vec![false; n];
        queue.clear();
        for &s in sources {
            reached[s as usize] = true;
            queue.push(s);
        }
        while let Some(u) = queue.pop() {
            for e in self.edges(u as usize) {
                let v = self.head[e] as usize;
                if flow[e] < 1 && !reached[v] {
                    reached[v] = true;
                    queue.push(v as u32);
                }
            }
        }
        let (mut near, mut far) = (Vec::new(), Vec::new());
        for u in 0..n {
            if !reached[u] {
                continue;
            }
            for e in self.edges(u) {
                let v = self.head[e];
                if !reached[v as usize] {
                    near.push(u as u32);
                    far.push(v);
                }
            }
        }
        for side in [&mut near, &mut far] {
            side.sort_unstable();
            side.dedup();
        }
        if near.len() <= far.len() { near } else { far }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(w: u32, h: u32) -> RoadGraph {
        crate::synthetic::grid(w, h, 0.0, 7)
    }

    #[test]
    fn order_is_a_permutation() {
        let g = grid(23, 17);
        let mut order = nested_dissection(&g);
        order.sort_unstable();
        assert_eq!(order, (0..g.node_count() as u32).collect::<Vec<_>>());
    }

    #[test]
    fn top_separator_of_a_grid_is_one_line_across_it() {
        let g = grid(40, 40);
        let order = nested_dissection(&g);
        // The last-ranked nodes are the first separator: a straight cut through a 40×40 grid has 40
        // nodes, and inertial flow must find one about that small.
        let adjacency = Undirected::of(&g);
        let mut scratch = Scratch::new(g.node_count());
        let points = planar_points(&g);
        let all: Vec<u32> = (0..g.node_count() as u32).collect();
        let separator = scratch.separator(&adjacency, &points, &all);
        assert!(
            separator.len() <= 41,
            "separator of {} nodes",
            separator.len()
        );
        let top: std::collections::HashSet<u32> = order[order.len() - separator.len()..]
            .iter()
            .copied()
            .collect();
        assert!(separator.iter().all(|v| top.contains(v)));
        scratch.mark(&separator, true);
        let rest: Vec<u32> = all
            .into_iter()
            .filter(|&v| !scratch.marked[v as usize])
            .collect();
        scratch.mark(&separator, false);
        let parts = scratch.components(&adjacency, &rest);
        assert!(parts.len() >= 2, "the separator must disconnect the grid");
        assert!(
            parts.iter().all(|p| p.len() >= 1600 / 5),
            "unbalanced: {:?}",
            parts.iter().map(Vec::len).collect::<Vec<_>>()
        );
    }
}
