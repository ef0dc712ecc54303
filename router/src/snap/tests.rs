use super::*;
use crate::graph::Arc;

fn p(lat: f64, lng: f64) -> LatLng {
    LatLng::new(lat, lng).expect("valid test coordinate")
}

fn arc(tail: u32, head: u32) -> Arc {
    Arc {
        tail,
        head,
        millis: 1_000,
        centimetres: 10_000,
    }
}

fn two_way(a: u32, b: u32) -> [Arc; 2] {
    [arc(a, b), arc(b, a)]
}

fn graph(coords: &[(f64, f64)], arcs: &[Arc]) -> RoadGraph {
    let coords = coords.iter().map(|&(lat, lng)| p(lat, lng)).collect();
    RoadGraph::from_arcs(coords, arcs.to_vec())
}

fn snap(g: &RoadGraph, lat: f64, lng: f64) -> Snap {
    SnapIndex::new(g)
        .snap(g, p(lat, lng), f64::INFINITY)
        .expect("an unlimited radius always snaps on a graph with roads")
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

/// A 3.2 km east-west road, and a short north-south spur whose south end is the node nearest to a
/// point 55 m north of the middle of the long road.
fn long_road_and_spur() -> RoadGraph {
    let coords = [
        (43.73, 7.40),
        (43.73, 7.44),
        (43.7320, 7.4205),
        (43.7340, 7.4205),
    ];
    graph(&coords, &[two_way(0, 1), two_way(2, 3)].concat())
}

#[test]
fn beside_the_middle_lands_halfway_at_the_perpendicular_distance() {
    let east_west = graph(&[(43.73, 7.42), (43.73, 7.43)], &two_way(0, 1));
    let s = snap(&east_west, 43.7302, 7.425);
    assert_eq!((s.from, s.to), (0, 1));
    assert!(close(s.fraction, 0.5, 1e-9), "{s:?}");
    assert!(close(s.point.lat(), 43.73, 1e-12) && close(s.point.lng(), 7.425, 1e-9));
    let offset = haversine_m(p(43.7302, 7.425), p(43.73, 7.425));
    assert!(
        close(s.distance_m, offset, 1e-6) && close(offset, 22.24, 0.01),
        "{s:?}"
    );

    let north_south = graph(&[(43.74, 7.42), (43.73, 7.42)], &two_way(0, 1));
    let s = snap(&north_south, 43.735, 7.4203);
    assert_eq!((s.from, s.to), (0, 1));
    assert!(close(s.fraction, 0.5, 1e-9), "{s:?}");
    let offset = haversine_m(p(43.735, 7.4203), p(43.735, 7.42));
    assert!(close(s.distance_m, offset, 1e-6), "{s:?}");
}

#[test]
fn beyond_an_end_clamps_to_that_end() {
    let g = graph(&[(43.73, 7.42), (43.73, 7.43)], &two_way(0, 1));
    let s = snap(&g, 43.7301, 7.41);
    assert_eq!(
        (s.from, s.to, s.fraction, s.point),
        (0, 1, 0.0, p(43.73, 7.42))
    );
    assert!(close(
        s.distance_m,
        haversine_m(p(43.7301, 7.41), p(43.73, 7.42)),
        1e-9
    ));
    let s = snap(&g, 43.7299, 7.44);
    assert_eq!((s.fraction, s.point), (1.0, p(43.73, 7.43)));
}

#[test]
fn projects_onto_the_road_rather_than_going_to_the_nearest_node() {
    let g = long_road_and_spur();
    let s = snap(&g, 43.7305, 7.42);
    assert_eq!(
        (s.from, s.to),
        (0, 1),
        "went to the spur's node instead: {s:?}"
    );
    assert!(close(s.fraction, 0.5, 1e-9));
    assert!(close(s.distance_m, 55.6, 0.1), "{s:?}");
}

#[test]
fn too_far_reports_the_distance_to_the_nearest_road() {
    let g = long_road_and_spur();
    let index = SnapIndex::new(&g);
    let q = p(43.75, 7.42);
    // Due north of the spur's north end, which is the nearest point of any road.
    let expected = haversine_m(q, p(43.734, 7.4205));
    match index.snap(&g, q, DEFAULT_MAX_SNAP_M) {
        Err(RouterError::TooFarFromRoad {
            point,
            nearest_m,
            max_m,
        }) => {
            assert_eq!((point, max_m), (q, DEFAULT_MAX_SNAP_M));
            assert!(
                close(nearest_m, expected, 1e-6),
                "{nearest_m} vs {expected}"
            );
        }
        other => panic!("expected TooFarFromRoad, got {other:?}"),
    }
    let s = index
        .snap(&g, q, expected + 1.0)
        .expect("within the wider radius");
    assert_eq!((s.from, s.to, s.fraction), (2, 3, 1.0));
    assert!(
        index.snap(&g, q, f64::NAN).is_err(),
        "a NaN radius accepts nothing"
    );
}

#[test]
fn a_graph_without_segments_refuses_with_infinity() {
    let empty = RoadGraph::from_arcs(Vec::new(), Vec::new());
    let no_roads = graph(&[(43.73, 7.42), (43.74, 7.43)], &[]);
    for g in [empty, no_roads] {
        let index = SnapIndex::new(&g);
        assert!(index.is_empty());
        assert_eq!(index.len(), 0);
        match index.snap(&g, p(43.73, 7.42), f64::INFINITY) {
            Err(RouterError::TooFarFromRoad { nearest_m, .. }) => {
                assert_eq!(nearest_m, f64::INFINITY);
            }
            other => panic!("expected TooFarFromRoad, got {other:?}"),
        }
    }
}

#[test]
fn oneway_roads_are_snappable_and_two_way_roads_counted_once() {
    // Only 2 → 0 and 1 → 2 exist; the snap still names the smaller id first.
    let g = graph(
        &[(43.73, 7.42), (43.73, 7.43), (43.74, 7.43)],
        &[arc(2, 0), arc(1, 2), arc(0, 1), arc(1, 0)],
    );
    let index = SnapIndex::new(&g);
    assert_eq!(index.len(), 3);
    // On the diagonal oneway, halfway along it.
    let s = snap(&g, 43.735, 7.425);
    assert_eq!((s.from, s.to), (0, 2));
    assert!(close(s.fraction, 0.5, 1e-9) && s.distance_m < 1e-6, "{s:?}");
    let s = snap(&g, 43.735, 7.4301);
    assert_eq!((s.from, s.to), (1, 2));
}

#[test]
fn a_zero_length_segment_snaps_to_its_spot_without_nan() {
    let g = graph(&[(43.73, 7.42), (43.73, 7.42)], &[arc(1, 0)]);
    let s = snap(&g, 43.7301, 7.4201);
    assert_eq!(
        (s.from, s.to, s.fraction, s.point),
        (0, 1, 0.0, p(43.73, 7.42))
    );
    assert!(close(
        s.distance_m,
        haversine_m(p(43.7301, 7.4201), p(43.73, 7.42)),
        1e-9
    ));
}

#[test]
fn ties_go_to_the_smallest_node_pair() {
    // Node 0 sits between 1 and 2; a query on it is 0 m from both segments.
    let g = graph(
        &[(43.73, 7.425), (43.73, 7.42), (43.73, 7.43)],
        &[two_way(2, 0), two_way(1, 0)].concat(),
    );
    let s = snap(&g, 43.73, 7.425);
    assert_eq!((s.from, s.to, s.fraction, s.distance_m), (0, 1, 0.0, 0.0));

    // Node 1 is the far end of (0, 1) and the near end of (1, 2); a point beyond it, off the line,
    // is equally far from both and goes to (0, 1) at fraction 1, wherever it lies around the node.
    let g = graph(
        &[(43.73, 7.42), (43.73, 7.425), (43.735, 7.425)],
        &[two_way(0, 1), two_way(1, 2)].concat(),
    );
    for (lat, lng) in [(43.7299, 7.4251), (43.729, 7.426), (43.72, 7.43)] {
        let s = snap(&g, lat, lng);
        assert_eq!((s.from, s.to, s.fraction), (0, 1, 1.0), "at {lat},{lng}");
        assert_eq!(s.point, p(43.73, 7.425));
    }
}

#[test]
fn far_away_and_polar_points_do_not_panic() {
    let g = long_road_and_spur();
    let index = SnapIndex::new(&g);
    for (lat, lng) in [
        (-90.0, -180.0),
        (90.0, 180.0),
        (-43.73, -172.58),
        (0.0, 0.0),
    ] {
        let s = index
            .snap(&g, p(lat, lng), f64::INFINITY)
            .expect("unlimited radius");
        assert!(s.distance_m.is_finite() && (0.0..=1.0).contains(&s.fraction));
        match index.snap(&g, p(lat, lng), DEFAULT_MAX_SNAP_M) {
            Err(RouterError::TooFarFromRoad { nearest_m, .. }) => assert!(nearest_m > 1e6),
            other => panic!("expected TooFarFromRoad, got {other:?}"),
        }
    }
    let polar = graph(&[(90.0, 0.0), (89.999, 0.0)], &two_way(0, 1));
    let s = snap(&polar, 89.9995, 10.0);
    assert!(s.distance_m.is_finite() && s.fraction.is_finite(), "{s:?}");
}

#[test]
fn a_smaller_graph_than_the_indexed_one_is_an_error_not_a_panic() {
    let g = long_road_and_spur();
    let index = SnapIndex::new(&g);
    let small = graph(&[(43.73, 7.40)], &[]);
    assert!(matches!(
        index.snap(&small, p(43.7305, 7.42), f64::INFINITY),
        Err(RouterError::NodeOutOfRange { node: 1, nodes: 1 })
    ));
}

/// The nearest segment by a linear scan, measured in an equirectangular plane centred on the query
/// (the metric the index promises), and the haversine distance to the projected point.
fn linear_scan(g: &RoadGraph, q: LatLng) -> (u32, u32, f64) {
    let metres = |c: LatLng| {
        let x = (c.lng() - q.lng()).to_radians() * EARTH_RADIUS_M * q.lat().to_radians().cos();
        [x, (c.lat() - q.lat()).to_radians() * EARTH_RADIUS_M]
    };
    let mut best = (f64::INFINITY, u32::MAX, u32::MAX, f64::INFINITY);
    for (tail, a) in g.arcs() {
        let (u, v) = (tail.min(g.head(a)), tail.max(g.head(a)));
        let (cu, cv) = (g.coord(u), g.coord(v));
        let (a, b) = (metres(cu), metres(cv));
        let (ux, uy) = (b[0] - a[0], b[1] - a[1]);
        let len2 = ux * ux + uy * uy;
        let t = if len2 > 0.0 {
            (-(a[0] * ux + a[1] * uy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let d2 = (a[0] + t * ux).powi(2) + (a[1] + t * uy).powi(2);
        if (d2, u, v) < (best.0, best.1, best.2) {
            let point = p(
                cu.lat() + t * (cv.lat() - cu.lat()),
                cu.lng() + t * (cv.lng() - cu.lng()),
            );
            best = (d2, u, v, haversine_m(q, point));
        }
    }
    (best.1, best.2, best.3)
}

/// Random straight roads in a box `span_deg` high around 43.73, 7.42, some two-way, some oneway,
/// a few of zero length.
fn random_graph(rng: &mut fastrand::Rng, span_deg: f64) -> RoadGraph {
    let mut coords: Vec<(f64, f64)> = (0..250)
        .map(|_| {
            let lat = 43.73 + (rng.f64() - 0.5) * span_deg;
            (lat, 7.42 + (rng.f64() - 0.5) * span_deg * 1.4)
        })
        .collect();
    for i in 0..5 {
        coords[i * 2 + 1] = coords[i * 2];
    }
    let mut arcs = Vec::new();
    for _ in 0..300 {
        let (a, b) = (rng.u32(0..250), rng.u32(0..250));
        arcs.push(arc(a, b));
        if rng.bool() {
            arcs.push(arc(b, a));
        }
    }
    arcs.extend((0..5).map(|i| arc(i * 2, i * 2 + 1)));
    graph(&coords, &arcs)
}

#[test]
fn the_index_agrees_with_a_linear_scan_in_a_city_and_across_a_small_country() {
    let mut rng = fastrand::Rng::with_seed(0x5a_a9);
    // 0.02° is a town; 0.5° is the extent of Andorra, where one fixed plane would be 0.4 % off.
    for span_deg in [0.02, 0.5] {
        let g = random_graph(&mut rng, span_deg);
        let index = SnapIndex::new(&g);
        for _ in 0..1_000 {
            let q = p(
                43.73 + (rng.f64() - 0.5) * span_deg * 1.2,
                7.42 + (rng.f64() - 0.5) * span_deg * 1.7,
            );
            let s = index.snap(&g, q, f64::INFINITY).expect("unlimited radius");
            let (from, to, distance_m) = linear_scan(&g, q);
            assert!(
                (s.from, s.to) == (from, to) || close(s.distance_m, distance_m, 1e-6),
                "at {q}: index {s:?}, scan ({from}, {to}) at {distance_m} m"
            );
            assert!(
                close(s.distance_m, distance_m, 1e-6),
                "at {q}: {s:?} vs {distance_m}"
            );
        }
    }
}
