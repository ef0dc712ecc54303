//! A route between two places: time, length and the line to draw.

use geo_types::Coord;

use crate::geo::LatLng;
use crate::graph::{Centimetres, Millis};
use crate::snap::Snap;

/// Decimal places of Google's encoded polyline format as most map libraries expect it.
pub const POLYLINE_PRECISION: u32 = 5;

/// The fastest way between two places.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Travel time.
    pub millis: Millis,
    /// Length.
    pub centimetres: Centimetres,
    /// The path from the start's snapped point to the end's, through every road node on the way.
    pub geometry: Vec<LatLng>,
    /// How far the start coordinate was from the road it was snapped to, in metres.
    pub from_snap_m: f64,
    /// How far the end coordinate was from its road, in metres.
    pub to_snap_m: f64,
}

impl Route {
    pub(crate) fn snapped(
        millis: Millis,
        centimetres: Centimetres,
        geometry: Vec<LatLng>,
        from: &Snap,
        to: &Snap,
    ) -> Self {
        Self {
            millis,
            centimetres,
            geometry,
            from_snap_m: from.distance_m,
            to_snap_m: to.distance_m,
        }
    }

    /// Travel time in seconds.
    pub fn seconds(&self) -> f64 {
        f64::from(self.millis) / 1000.0
    }

    /// Length in metres.
    pub fn metres(&self) -> f64 {
        f64::from(self.centimetres) / 100.0
    }

    /// The geometry as an encoded polyline (precision 5, latitude first as the format specifies).
    pub fn polyline(&self) -> String {
        let coords = self.geometry.iter().map(|p| Coord {
            x: p.lng(),
            y: p.lat(),
        });
        // Encoding fails only for coordinates out of range, which LatLng rules out.
        polyline::encode_coordinates(coords, POLYLINE_PRECISION).unwrap_or_default()
    }
}
