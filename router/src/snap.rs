//! Snapping coordinates to the nearest usable road segment.
//!
//! A coordinate is projected onto the closest point of the closest segment, not moved to the closest
//! node: on a long straight road the closest node can be hundreds of metres away while the road
//! itself passes a few metres from the point.
//!
//! # Projection and its error
//!
//! Segments are indexed in an equirectangular plane in metres around the middle of the graph's
//! bounding box: `x = R·Δλ·cos φ0`, `y = R·Δφ`. A query rescales `x` by `cos φq / cos φ0`, which makes
//! the metric the equirectangular one at the query's own latitude. The remaining error comes from the
//! latitude varying between the query and a candidate segment: over a distance `d` the east-west
//! scale is off by about `tan φ · d / R`, i.e. 3·10⁻⁵ relative at 200 m and 45° N, so two segments
//! are ranked in the wrong order only when their distances differ by millimetres. Without the
//! per-query rescaling, the error at the edge of an extract spanning `Δφ` would be `tan φ0 · Δφ / 2`:
//! 0.4 % for Andorra (0.5° at 42.5° N), enough to mis-rank segments 100.0 m and 100.3 m away.
//!
//! The plane does not wrap: an extract straddling the antimeridian would be torn apart. No city does.
//! [`Snap::distance_m`] is measured by haversine, so it does not depend on the plane.

use crate::error::{Result, RouterError};
use crate::geo::{EARTH_RADIUS_M, LatLng, haversine_m};
use crate::graph::RoadGraph;

mod tree;

use tree::{Nearest, Segment, Tree};

/// Default snapping radius in metres.
///
/// Phone GPS in street canyons is off by 10–50 m, and geocoders put an address at a building or
/// parcel centroid, which for a mall, hospital or campus can be 100–150 m from the street it is
/// reached by. 200 m covers both, while a point in the sea, in a forest or across a valley is
/// refused rather than routed from a road that cannot be reached from it. The distance snapped over
/// is reported, so callers can add a walking leg or choose a wider radius.
pub const DEFAULT_MAX_SNAP_M: f64 = 200.0;

/// Where a coordinate lands on the road network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    /// Segment end with the smaller node id.
    pub from: u32,
    /// The other end.
    pub to: u32,
    /// Position of the projection along the segment: 0.0 at `from`, 1.0 at `to`.
    pub fraction: f64,
    /// The projected point on the segment.
    pub point: LatLng,
    /// Metres from the query coordinate to `point` (haversine).
    pub distance_m: f64,
}

/// The equirectangular plane the segments live in.
#[derive(Debug, Clone, Copy)]
struct Plane {
    lat0: f64,
    lng0: f64,
    /// Metres per degree of longitude at `lat0`.
    x_per_deg: f64,
}

/// Metres per degree along a meridian.
const Y_PER_DEG: f64 = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;

/// Floor for cosines of latitude, so a graph or query at a pole yields huge but finite scales.
const MIN_COS: f64 = 1e-9;

impl Plane {
    /// Centred on the middle of the bounding box rather than the mean, which halves the worst-case
    /// scale error for extracts whose nodes cluster on one side.
    fn around(graph: &RoadGraph) -> Self {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for v in 0..graph.node_count() as u32 {
            let c = graph.coord(v);
            lo = [lo[0].min(c.lat()), lo[1].min(c.lng())];
            hi = [hi[0].max(c.lat()), hi[1].max(c.lng())];
        }
        let (lat0, lng0) = if graph.node_count() == 0 {
            (0.0, 0.0)
        } else {
            ((lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0)
        };
        Self {
            lat0,
            lng0,
            x_per_deg: Y_PER_DEG * lat0.to_radians().cos().max(MIN_COS),
        }
    }

    fn project(&self, p: LatLng) -> [f64; 2] {
        [
            (p.lng() - self.lng0) * self.x_per_deg,
            (p.lat() - self.lat0) * Y_PER_DEG,
        ]
    }
}

/// Spatial index of the graph's undirected segments, for [`snap`](Self::snap).
pub struct SnapIndex {
    tree: Tree,
    plane: Plane,
}

impl std::fmt::Debug for SnapIndex {
    // The derived form would print every segment.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapIndex")
            .field("segments", &self.len())
            .field("lat0", &self.plane.lat0)
            .field("lng0", &self.plane.lng0)
            .finish()
    }
}

impl SnapIndex {
    /// Indexes one segment per unordered node pair joined by at least one arc, so a oneway road is
    /// snappable and a two-way road is not found twice.
    pub fn new(graph: &RoadGraph) -> Self {
        let plane = Plane::around(graph);
        let xy: Vec<[f64; 2]> = (0..graph.node_count() as u32)
            .map(|v| plane.project(graph.coord(v)))
            .collect();
        let segments = graph
            .arcs()
            .filter_map(|(tail, arc)| {
                let head = graph.head(arc);
                // The pair is taken from the arc leaving its smaller end, or from the only arc.
                let keep = tail < head || graph.find_arc(head, tail).is_none();
                let (from, to) = (tail.min(head), tail.max(head));
                keep.then(|| Segment::new(xy[from as usize], xy[to as usize], from, to))
            })
            .collect();
        Self {
            tree: Tree::bulk_load(segments),
            plane,
        }
    }

    /// The closest point of the closest segment to `point`, refused when more than `max_m` metres away.
    ///
    /// `graph` must be the graph the index was built from. Errors: [`RouterError::TooFarFromRoad`]
    /// with the distance to the nearest segment (infinity for a graph without segments), and
    /// [`RouterError::NodeOutOfRange`] when `graph` is smaller than the one indexed.
    pub fn snap(&self, graph: &RoadGraph, point: LatLng, max_m: f64) -> Result<Snap> {
        let q = self.plane.project(point);
        let kx = point.lat().to_radians().cos().max(MIN_COS) * Y_PER_DEG / self.plane.x_per_deg;
        let Some(Nearest { from, to, fraction }) = self.tree.nearest(q, kx) else {
            return Err(RouterError::TooFarFromRoad {
                point,
                nearest_m: f64::INFINITY,
                max_m,
            });
        };
        let nodes = graph.node_count();
        if to as usize >= nodes {
            return Err(RouterError::NodeOutOfRange { node: to, nodes });
        }
        let projected = interpolate(graph.coord(from), graph.coord(to), fraction);
        let distance_m = haversine_m(point, projected);
        // A NaN radius refuses everything rather than accepting everything.
        if distance_m > max_m || max_m.is_nan() {
            return Err(RouterError::TooFarFromRoad {
                point,
                nearest_m: distance_m,
                max_m,
            });
        }
        Ok(Snap {
            from,
            to,
            fraction,
            point: projected,
            distance_m,
        })
    }

    /// Number of segments indexed.
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// Whether the graph had no segment at all, in which case every snap fails.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The point at `t` along `a → b`. The plane is linear in degrees, so this is the plane's projection.
fn interpolate(a: LatLng, b: LatLng, t: f64) -> LatLng {
    // The ends exactly, not one rounding away, so a snap to a node lands on the node.
    if t <= 0.0 {
        return a;
    }
    if t >= 1.0 {
        return b;
    }
    // Clamped because `a + t·(b − a)` can round one ulp past `b`, which could step outside ±90°.
    let along = |x: f64, y: f64| (x + t * (y - x)).clamp(x.min(y), x.max(y));
    LatLng::new(along(a.lat(), b.lat()), along(a.lng(), b.lng())).unwrap_or(a)
}

#[cfg(test)]
mod tests;
