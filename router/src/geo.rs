//! Points on the earth and great-circle distance between them.

use std::fmt;

/// Mean earth radius in metres (IUGG), the usual choice for haversine distances.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A validated WGS84 coordinate in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLng {
    lat: f64,
    lng: f64,
}

/// A latitude or longitude that is not finite or out of range.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error(
    "invalid coordinate: lat {lat}, lng {lng} (need finite lat in [-90, 90], lng in [-180, 180])"
)]
pub struct InvalidCoordinate {
    /// The latitude given.
    pub lat: f64,
    /// The longitude given.
    pub lng: f64,
}

impl LatLng {
    /// Builds a coordinate, refusing NaN, infinities and values out of range.
    pub fn new(lat: f64, lng: f64) -> Result<Self, InvalidCoordinate> {
        let valid = lat.is_finite()
            && lng.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lng);
        if valid {
            Ok(Self { lat, lng })
        } else {
            Err(InvalidCoordinate { lat, lng })
        }
    }

    /// Latitude in degrees.
    pub fn lat(self) -> f64 {
        self.lat
    }

    /// Longitude in degrees.
    pub fn lng(self) -> f64 {
        self.lng
    }
}

impl fmt::Display for LatLng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6},{:.6}", self.lat, self.lng)
    }
}

/// Great-circle distance in metres between two points, by the haversine formula on a sphere.
///
/// Good to about 0.5 % against the ellipsoid, which is far below the error of a straight line
/// against a road, the only use it has here.
pub fn haversine_m(a: LatLng, b: LatLng) -> f64 {
    let (phi1, phi2) = (a.lat.to_radians(), b.lat.to_radians());
    let dphi = phi2 - phi1;
    let dlambda = (b.lng - a.lng).to_radians();
    let h = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
    // min() guards asin against rounding just above 1 for antipodal points.
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lat: f64, lng: f64) -> LatLng {
        LatLng::new(lat, lng).expect("valid test coordinate")
    }

    #[test]
    fn refuses_out_of_range_and_non_finite() {
        for (lat, lng) in [
            (90.1, 0.0),
            (-90.1, 0.0),
            (0.0, 180.5),
            (f64::NAN, 0.0),
            (0.0, f64::INFINITY),
        ] {
            assert!(LatLng::new(lat, lng).is_err(), "{lat},{lng} accepted");
        }
        assert!(LatLng::new(-90.0, 180.0).is_ok());
    }

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let d = haversine_m(p(0.0, 0.0), p(1.0, 0.0));
        assert!((d - 111_195.0).abs() < 5.0, "got {d}");
    }

    #[test]
    fn distance_is_symmetric_and_zero_on_the_diagonal() {
        let (a, b) = (p(43.7384, 7.4246), p(42.5063, 1.5218));
        assert_eq!(haversine_m(a, b), haversine_m(b, a));
        assert_eq!(haversine_m(a, a), 0.0);
    }

    #[test]
    fn antipodes_are_half_the_circumference() {
        let d = haversine_m(p(0.0, 0.0), p(0.0, 180.0));
        assert!((d - std::f64::consts::PI * EARTH_RADIUS_M).abs() < 1e-6);
    }
}
