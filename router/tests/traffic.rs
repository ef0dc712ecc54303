//! Traffic factors: exactly the arcs in the slowed cells at the given hour change, and the hierarchy
//! answers with the new times.

mod common;

use router::Profile;
use router::graph::INFINITY;
use router::reference::Reference;
use router::traffic::{HourOfWeek, Traffic, cell_of, midpoint_cell};

use common::{EXTRACTS, network};

#[test]
fn factors_change_exactly_the_arcs_in_their_cells_and_hour() {
    let net = network(EXTRACTS[0], Profile::Car);
    let g = net.graph();
    let free = net.arc_millis();
    let resolution = h3o::Resolution::Nine;
    // Slow down the cell around the graph's middle node, twice over.
    let centre = cell_of(g.coord(g.node_count() as u32 / 2), resolution);
    let rush = HourOfWeek::new(4 * 24 + 18).unwrap();
    let mut traffic = Traffic::new(resolution).unwrap();
    traffic.set(centre, rush, 2.0).unwrap();
    net.set_traffic(traffic, rush);

    let slowed = net.arc_millis();
    let mut changed = 0;
    for (tail, a) in g.arcs() {
        let inside =
            midpoint_cell(g.coord(tail), g.coord(g.head(a))).parent(resolution) == Some(centre);
        let expected = if inside {
            (free[a] * 2).max(1)
        } else {
            free[a]
        };
        assert_eq!(slowed[a], expected, "arc {a} (inside the cell: {inside})");
        changed += usize::from(inside);
    }
    assert!(
        changed > 10,
        "the cell must hold some roads, it holds {changed} arcs"
    );

    // The hierarchy, re-customized, agrees with Dijkstra on the slowed times.
    let reference = Reference::new(g, &slowed);
    let mut rng = fastrand::Rng::with_seed(5);
    let n = g.node_count() as u32;
    for _ in 0..10 {
        let s = rng.u32(0..n);
        let expected = reference.all_from(s);
        net.with_query(|q| {
            for t in (0..n).step_by(97) {
                assert_eq!(
                    q.node_to_node(s, t).map_or(INFINITY, |f| f.millis),
                    expected[t as usize]
                );
            }
        });
    }

    // Another hour has no entries: free flow again. Back at rush hour, slowed again.
    net.set_hour(HourOfWeek::new(3).unwrap());
    assert_eq!(net.arc_millis(), free);
    net.set_hour(rush);
    assert_eq!(net.arc_millis(), slowed);
    net.clear_traffic();
    assert_eq!(net.arc_millis(), free);
}

#[test]
fn bad_entries_are_refused_with_a_reason() {
    let mut traffic = Traffic::new(h3o::Resolution::Eight).unwrap();
    let point = router::geo::LatLng::new(43.73, 7.42).unwrap();
    let cell = cell_of(point, h3o::Resolution::Eight);
    let hour = HourOfWeek::new(0).unwrap();
    for factor in [f64::NAN, f64::INFINITY, -1.0, 0.0, 0.1, 25.0] {
        let err = traffic.set(cell, hour, factor).unwrap_err().to_string();
        assert!(err.contains("factor"), "{factor}: {err}");
    }
    let fine = cell_of(point, h3o::Resolution::Ten);
    assert!(
        traffic
            .set(fine, hour, 1.5)
            .unwrap_err()
            .to_string()
            .contains("resolution")
    );
    assert!(HourOfWeek::new(168).is_err());
    assert!(Traffic::new(h3o::Resolution::Fifteen).is_err());
    assert!(traffic.is_empty());
}
