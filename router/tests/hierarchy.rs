//! The hierarchy against plain Dijkstra (petgraph) on the real Monaco and Andorra extracts, for every
//! profile: one-to-one times, paths, coordinate-to-coordinate routes and matrices.

mod common;

use router::Profile;
use router::graph::INFINITY;
use router::hierarchy::Anchor;
use router::reference::Reference;

use common::{EXTRACTS, network};

/// Random source nodes per graph; each is checked against every one of `TARGETS` random targets, so
/// each profile and extract sees SOURCES × TARGETS pairs.
const SOURCES: usize = 12;
const TARGETS: usize = 200;

#[test]
fn one_to_one_equals_dijkstra_on_every_profile_and_extract() {
    for extract in EXTRACTS {
        for profile in Profile::ALL {
            let net = network(extract, profile);
            let g = net.graph();
            let reference = Reference::new(g, &net.arc_millis());
            let mut rng = fastrand::Rng::with_seed(42);
            let n = g.node_count() as u32;
            let targets: Vec<u32> = (0..TARGETS).map(|_| rng.u32(0..n)).collect();
            let mut checked = 0;
            for _ in 0..SOURCES {
                let s = rng.u32(0..n);
                let expected = reference.all_from(s);
                net.with_query(|q| {
                    for &t in &targets {
                        let got = q.node_to_node(s, t).map_or(INFINITY, |f| f.millis);
                        assert_eq!(got, expected[t as usize], "{extract} {profile}: {s} -> {t}");
                        checked += 1;
                    }
                });
            }
            assert_eq!(checked, SOURCES * TARGETS);
        }
    }
}

#[test]
fn unpacked_paths_are_made_of_graph_arcs_and_add_up() {
    for extract in EXTRACTS {
        let net = network(extract, Profile::Car);
        let g = net.graph();
        let mut rng = fastrand::Rng::with_seed(7);
        let n = g.node_count() as u32;
        for _ in 0..300 {
            let (s, t) = (rng.u32(0..n), rng.u32(0..n));
            let Some((found, nodes)) =
                net.with_query(|q| q.path(&Anchor::node(s), &Anchor::node(t)))
            else {
                panic!("{extract}: the graph is strongly connected, yet no path {s} -> {t}");
            };
            let (mut ms, mut cm) = (0u32, 0u32);
            for w in nodes.windows(2) {
                let a = g
                    .find_arc(w[0], w[1])
                    .expect("consecutive path nodes share an arc");
                ms += g.millis(a);
                cm += g.centimetres(a);
            }
            assert_eq!((nodes[0], *nodes.last().unwrap()), (s, t));
            assert_eq!(
                (ms, cm),
                (found.millis, found.centimetres),
                "{extract}: {s} -> {t}"
            );
        }
    }
}

#[test]
fn coordinate_routes_equal_dijkstra_routes() {
    for extract in EXTRACTS {
        let net = network(extract, Profile::Bicycle);
        let mut rng = fastrand::Rng::with_seed(3);
        // Each Dijkstra route builds its petgraph graph afresh: a few dozen are enough here, the
        // node-to-node test above covers thousands of pairs.
        for _ in 0..30 {
            let (a, b) = (
                common::near_road(&net, &mut rng),
                common::near_road(&net, &mut rng),
            );
            let fast = net.route(a, b).expect("near a road, connected graph");
            let slow = net.route_by_dijkstra(a, b).expect("the same");
            assert_eq!(fast.millis, slow.millis, "{extract}: {a} -> {b}");
            assert_eq!(net.travel(a, b).unwrap().0, fast.millis);
            assert_eq!(
                fast.geometry.first().copied(),
                Some(net.snap(a).unwrap().point)
            );
            assert_eq!(
                fast.geometry.last().copied(),
                Some(net.snap(b).unwrap().point)
            );
        }
    }
}

#[test]
fn matrix_equals_one_to_one_travel() {
    let net = network(EXTRACTS[0], Profile::Scooter);
    let mut rng = fastrand::Rng::with_seed(11);
    let places: Vec<_> = (0..60).map(|_| common::near_road(&net, &mut rng)).collect();
    // Two places on one segment exercise the along-the-segment shortcut.
    let mut places = places;
    places.push(places[0]);
    let table = net.table(&places, &places).unwrap();
    for (i, &a) in places.iter().enumerate() {
        for (j, &b) in places.iter().enumerate() {
            assert_eq!(table.get(i, j).0, net.travel(a, b).unwrap().0, "{i} -> {j}");
        }
    }
    assert_eq!(table.get(0, places.len() - 1).0, 0, "same place, zero time");
}
