//! Synthetic road networks for tests and growth benchmarks, where a real extract of the wanted size is
//! not at hand.

use crate::geo::{LatLng, haversine_m};
use crate::graph::{Arc, RoadGraph};

/// Street spacing of [`grid`], in degrees of latitude (about 100 m).
const SPACING_DEG: f64 = 0.0009;

/// A `width × height` Manhattan grid of two-way streets about 100 m apart, at 46.5° N.
///
/// Speeds are drawn per street between 15 and 50 km/h from `seed`, so shortest paths are unique
/// often enough to test, and the same seed gives the same graph. `oneway_share` of the streets (0.0 to
/// 1.0) are one-way in a random direction, which can leave some nodes unable to reach others.
pub fn grid(width: u32, height: u32, oneway_share: f64, seed: u64) -> RoadGraph {
    let mut rng = fastrand::Rng::with_seed(seed);
    let lat0: f64 = 46.5;
    let lng_step = SPACING_DEG / lat0.to_radians().cos();
    let mut coords = Vec::with_capacity((width * height) as usize);
    for y in 0..height {
        for x in 0..width {
            coords.push(
                LatLng::new(
                    lat0 + f64::from(y) * SPACING_DEG,
                    6.6 + f64::from(x) * lng_step,
                )
                .expect("grid coordinates stay in range"),
            );
        }
    }
    let mut arcs = Vec::with_capacity((width * height * 4) as usize);
    let mut street = |a: u32, b: u32, rng: &mut fastrand::Rng| {
        let metres = haversine_m(coords[a as usize], coords[b as usize]);
        let kmh = 15.0 + 35.0 * rng.f64();
        let millis = (metres / (kmh / 3.6) * 1000.0).round().max(1.0) as u32;
        let centimetres = (metres * 100.0).round() as u32;
        let arc = |tail, head| Arc {
            tail,
            head,
            millis,
            centimetres,
        };
        if rng.f64() < oneway_share {
            arcs.push(if rng.bool() { arc(a, b) } else { arc(b, a) });
        } else {
            arcs.push(arc(a, b));
            arcs.push(arc(b, a));
        }
    };
    for y in 0..height {
        for x in 0..width {
            let v = y * width + x;
            if x + 1 < width {
                street(v, v + 1, &mut rng);
            }
            if y + 1 < height {
                street(v, v + width, &mut rng);
            }
        }
    }
    RoadGraph::from_arcs(coords, arcs)
}

/// A random point within about `jitter_m` metres of a random road segment of `graph`: realistic
/// query coordinates for tests and benchmarks (addresses sit beside roads, not on nodes). Returns
/// `None` for a graph without arcs.
pub fn point_near_road(
    graph: &RoadGraph,
    rng: &mut fastrand::Rng,
    jitter_m: f64,
) -> Option<LatLng> {
    if graph.arc_count() == 0 {
        return None;
    }
    let jitter_deg = jitter_m / 111_000.0;
    loop {
        let v = rng.u32(0..graph.node_count() as u32);
        let arcs = graph.out_arcs(v);
        if arcs.is_empty() {
            continue;
        }
        let a = rng.usize(arcs);
        let (p, q) = (graph.coord(v), graph.coord(graph.head(a)));
        let f = rng.f64();
        let lat = p.lat() + (q.lat() - p.lat()) * f + (rng.f64() - 0.5) * 2.0 * jitter_deg;
        let lng = p.lng() + (q.lng() - p.lng()) * f + (rng.f64() - 0.5) * 2.0 * jitter_deg;
        if let Ok(point) = LatLng::new(lat, lng) {
            return Some(point);
        }
    }
}
