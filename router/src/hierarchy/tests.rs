//! The hierarchy against plain Dijkstra (petgraph) on synthetic graphs; the real extracts are in
//! `tests/hierarchy.rs`.

use petgraph::algo::dijkstra;
use petgraph::graph::NodeIndex;

use super::*;
use crate::graph::{INFINITY, RoadGraph};
use crate::synthetic::grid;

/// Shortest times from `s` to every node, `INFINITY` where unreachable.
fn reference(graph: &RoadGraph, s: u32) -> Vec<u32> {
    let pg = graph.to_petgraph();
    let found = dijkstra(&pg, NodeIndex::new(s as usize), None, |e| {
        u64::from(*e.weight())
    });
    let mut out = vec![INFINITY; graph.node_count()];
    for (v, d) in found {
        out[v.index()] = d as u32;
    }
    out
}

/// Sum of arc times and lengths along a node path, failing if a step is not an arc.
fn walk(graph: &RoadGraph, nodes: &[u32]) -> (u32, u32) {
    nodes.windows(2).fold((0, 0), |(ms, cm), w| {
        let a = graph
            .find_arc(w[0], w[1])
            .unwrap_or_else(|| panic!("no arc {} -> {}", w[0], w[1]));
        (ms + graph.millis(a), cm + graph.centimetres(a))
    })
}

fn check_all_pairs_from(graph: &RoadGraph, sources: impl Iterator<Item = u32>) {
    let hierarchy = Hierarchy::build(graph);
    let metric = Metric::free_flow(&hierarchy, graph);
    let mut scratch = Scratch::new(graph.node_count());
    let mut query = Query::new(&hierarchy, &metric, &mut scratch);
    for s in sources {
        let expected = reference(graph, s);
        for t in 0..graph.node_count() as u32 {
            let got = query.node_to_node(s, t).map_or(INFINITY, |f| f.millis);
            assert_eq!(got, expected[t as usize], "{s} -> {t}");
            if got == INFINITY {
                continue;
            }
            let (found, nodes) = query
                .path(&Anchor::node(s), &Anchor::node(t))
                .expect("reachable");
            assert_eq!(nodes.first(), Some(&s));
            assert_eq!(nodes.last(), Some(&t));
            assert_eq!(
                walk(graph, &nodes),
                (found.millis, found.centimetres),
                "path {s} -> {t}"
            );
        }
    }
}

#[test]
fn equals_dijkstra_on_a_two_way_grid() {
    let g = grid(30, 20, 0.0, 1);
    check_all_pairs_from(&g, (0..g.node_count() as u32).step_by(7));
}

#[test]
fn equals_dijkstra_with_one_way_streets_and_unreachable_pairs() {
    for seed in 0..4 {
        let g = grid(17, 13, 0.35, seed);
        check_all_pairs_from(&g, 0..g.node_count() as u32);
    }
}

#[test]
fn table_equals_one_to_one_queries() {
    let g = grid(25, 25, 0.2, 3);
    let hierarchy = Hierarchy::build(&g);
    let metric = Metric::free_flow(&hierarchy, &g);
    let mut rng = fastrand::Rng::with_seed(9);
    let sources: Vec<u32> = (0..40).map(|_| rng.u32(0..g.node_count() as u32)).collect();
    let targets: Vec<u32> = (0..55).map(|_| rng.u32(0..g.node_count() as u32)).collect();
    let anchors = |v: &[u32]| v.iter().map(|&v| Anchor::node(v)).collect::<Vec<_>>();
    let table = table(&hierarchy, &metric, &anchors(&sources), &anchors(&targets));
    let mut scratch = Scratch::new(g.node_count());
    let mut query = Query::new(&hierarchy, &metric, &mut scratch);
    for (i, &s) in sources.iter().enumerate() {
        for (j, &t) in targets.iter().enumerate() {
            let one = query
                .node_to_node(s, t)
                .map_or((INFINITY, 0), |f| (f.millis, f.centimetres));
            assert_eq!(table.get(i, j).0, one.0, "{s} -> {t}");
            if one.0 != INFINITY {
                assert_eq!(table.get(i, j).1, one.1, "length {s} -> {t}");
            }
        }
    }
}

#[test]
fn anchors_with_offsets_equal_dijkstra_from_a_virtual_node() {
    // A place between nodes a and b departs through a with offset oa or through b with offset ob;
    // the answer must be min(oa + d(a, t), ob + d(b, t)) + the target side's offset likewise.
    let g = grid(15, 15, 0.3, 5);
    let hierarchy = Hierarchy::build(&g);
    let metric = Metric::free_flow(&hierarchy, &g);
    let mut scratch = Scratch::new(g.node_count());
    let mut query = Query::new(&hierarchy, &metric, &mut scratch);
    let mut rng = fastrand::Rng::with_seed(2);
    for _ in 0..300 {
        let n = g.node_count() as u32;
        let (a, b, c, d) = (rng.u32(0..n), rng.u32(0..n), rng.u32(0..n), rng.u32(0..n));
        let (oa, ob, oc, od) = (
            rng.u32(0..5000),
            rng.u32(0..5000),
            rng.u32(0..5000),
            rng.u32(0..5000),
        );
        let (from_a, from_b) = (reference(&g, a), reference(&g, b));
        let best = [
            (from_a[c as usize], oa, oc),
            (from_a[d as usize], oa, od),
            (from_b[c as usize], ob, oc),
            (from_b[d as usize], ob, od),
        ]
        .into_iter()
        .filter(|&(dist, _, _)| dist != INFINITY)
        .map(|(dist, o1, o2)| dist + o1 + o2)
        .min()
        .unwrap_or(INFINITY);
        let from = Anchor::nodes(&[(a, oa, 0), (b, ob, 0)]);
        let to = Anchor::nodes(&[(c, oc, 0), (d, od, 0)]);
        assert_eq!(
            query.between(&from, &to).map_or(INFINITY, |f| f.millis),
            best
        );
        if best != INFINITY {
            let (found, nodes) = query.path(&from, &to).unwrap();
            let offsets = |v: u32, anchor: &Anchor| {
                anchor
                    .entries()
                    .iter()
                    .filter(|e| e.0 == v)
                    .map(|e| e.1)
                    .min()
                    .unwrap()
            };
            let inner = walk(&g, &nodes).0;
            assert_eq!(
                offsets(nodes[0], &from) + inner + offsets(*nodes.last().unwrap(), &to),
                found.millis
            );
        }
    }
}

#[test]
fn customizing_again_with_new_times_changes_exactly_those_answers() {
    let g = grid(12, 12, 0.0, 4);
    let hierarchy = Hierarchy::build(&g);
    // Make every arc out of node 0 ten times slower.
    let millis: Vec<u32> = g
        .arcs()
        .map(|(tail, a)| {
            if tail == 0 {
                g.millis(a) * 10
            } else {
                g.millis(a)
            }
        })
        .collect();
    let slow = Metric::customize(&hierarchy, &g, &millis);
    let mut reweighted = RoadGraph::clone(&g);
    reweighted = rebuild_with(&reweighted, &millis);
    let mut scratch = Scratch::new(g.node_count());
    let mut query = Query::new(&hierarchy, &slow, &mut scratch);
    for s in [0u32, 1, 13, 77] {
        let expected = reference(&reweighted, s);
        for t in 0..g.node_count() as u32 {
            assert_eq!(
                query.node_to_node(s, t).map_or(INFINITY, |f| f.millis),
                expected[t as usize]
            );
        }
    }
}

fn rebuild_with(g: &RoadGraph, millis: &[u32]) -> RoadGraph {
    let coords = (0..g.node_count() as u32).map(|v| g.coord(v)).collect();
    let arcs = g
        .arcs()
        .map(|(tail, a)| crate::graph::Arc {
            tail,
            head: g.head(a),
            millis: millis[a],
            centimetres: g.centimetres(a),
        })
        .collect();
    RoadGraph::from_arcs(coords, arcs)
}

#[test]
fn zero_time_arcs_count_as_one_millisecond_and_pruning_stays_correct() {
    // A triangle of free arcs: without the floor, each arc would be "matched" by a detour over the
    // other two and pruning could drop all three.
    let coords = [(43.70, 7.40), (43.70, 7.41), (43.71, 7.40)]
        .map(|(lat, lng)| crate::geo::LatLng::new(lat, lng).unwrap())
        .to_vec();
    let arc = |tail, head| crate::graph::Arc {
        tail,
        head,
        millis: 0,
        centimetres: 100,
    };
    let g = RoadGraph::from_arcs(
        coords,
        vec![
            arc(0, 1),
            arc(1, 0),
            arc(1, 2),
            arc(2, 1),
            arc(0, 2),
            arc(2, 0),
        ],
    );
    let hierarchy = Hierarchy::build(&g);
    let metric = Metric::free_flow(&hierarchy, &g);
    let mut scratch = Scratch::new(g.node_count());
    let mut query = Query::new(&hierarchy, &metric, &mut scratch);
    for s in 0..3 {
        for t in 0..3 {
            let expected = if s == t { 0 } else { 1 };
            assert_eq!(
                query.node_to_node(s, t).map(|f| f.millis),
                Some(expected),
                "{s} -> {t}"
            );
        }
    }
}
