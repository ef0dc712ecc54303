//! The interface the dispatcher plans with, and the straight-line metric behind it when no map is
//! configured (tests, benchmarks defined on straight lines, a first run without a map).

use crate::error::Result;
use crate::geo::{LatLng, haversine_m};
use crate::graph::{Centimetres, Millis};
use crate::hierarchy::Table;
use crate::network::RoadNetwork;
use crate::profile::Profile;
use crate::route::Route;

/// Travel times, lengths and paths between coordinates.
pub trait Travel: Send + Sync {
    /// Time and length from every source to every target.
    fn table(&self, sources: &[LatLng], targets: &[LatLng]) -> Result<Table>;

    /// The fastest route between two points, with geometry to draw.
    fn route(&self, from: LatLng, to: LatLng) -> Result<Route>;
}

impl Travel for RoadNetwork {
    fn table(&self, sources: &[LatLng], targets: &[LatLng]) -> Result<Table> {
        RoadNetwork::table(self, sources, targets)
    }

    fn route(&self, from: LatLng, to: LatLng) -> Result<Route> {
        RoadNetwork::route(self, from, to)
    }
}

/// Great-circle distance stretched by a detour factor, at a constant speed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StraightLine {
    metres_per_second: f64,
    detour: f64,
}

impl StraightLine {
    /// Road distance in cities runs about 1.3 times the straight line; a common planning figure.
    pub const CITY_DETOUR: f64 = 1.3;

    /// A metric at `kmh` over the ground with the given detour factor (1.0 for exact crow-flies, as
    /// benchmark instances define travel). Speeds and factors that are not positive and finite are
    /// replaced by 1, so the metric is always usable.
    pub fn new(kmh: f64, detour: f64) -> Self {
        let sane = |x: f64| if x.is_finite() && x > 0.0 { x } else { 1.0 };
        Self {
            metres_per_second: sane(kmh) / 3.6,
            detour: sane(detour),
        }
    }

    /// The profile's typical city speed with [`Self::CITY_DETOUR`].
    pub fn for_profile(profile: Profile) -> Self {
        Self::new(
            profile.fallback_speed_kmh() * Self::CITY_DETOUR,
            Self::CITY_DETOUR,
        )
    }

    fn leg(&self, from: LatLng, to: LatLng) -> (Millis, Centimetres) {
        let metres = haversine_m(from, to) * self.detour;
        let millis = (metres / self.metres_per_second * 1000.0).round();
        (
            millis.min(f64::from(u32::MAX - 1)) as Millis,
            (metres * 100.0).round().min(f64::from(u32::MAX)) as Centimetres,
        )
    }
}

impl Travel for StraightLine {
    fn table(&self, sources: &[LatLng], targets: &[LatLng]) -> Result<Table> {
        let mut millis = Vec::with_capacity(sources.len() * targets.len());
        let mut centimetres = Vec::with_capacity(sources.len() * targets.len());
        for &s in sources {
            for &t in targets {
                let (ms, cm) = self.leg(s, t);
                millis.push(ms);
                centimetres.push(cm);
            }
        }
        Ok(Table {
            rows: sources.len(),
            columns: targets.len(),
            millis,
            centimetres,
        })
    }

    fn route(&self, from: LatLng, to: LatLng) -> Result<Route> {
        let (millis, centimetres) = self.leg(from, to);
        Ok(Route {
            millis,
            centimetres,
            geometry: vec![from, to],
            from_snap_m: 0.0,
            to_snap_m: 0.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lat: f64, lng: f64) -> LatLng {
        LatLng::new(lat, lng).unwrap()
    }

    #[test]
    fn straight_line_time_is_distance_over_speed() {
        // 1 km north at 36 km/h (10 m/s), no detour: 100 s and 1 km.
        let metric = StraightLine::new(36.0, 1.0);
        let (a, b) = (p(43.0, 7.0), p(43.0 + 1000.0 / 111_195.0, 7.0));
        let route = metric.route(a, b).unwrap();
        assert!(
            (route.seconds() - 100.0).abs() < 0.05,
            "{}",
            route.seconds()
        );
        assert!((route.metres() - 1000.0).abs() < 0.5, "{}", route.metres());
        assert_eq!(route.geometry, vec![a, b]);
    }

    #[test]
    fn table_matches_routes_and_profiles_differ_in_speed() {
        let places = [p(43.73, 7.42), p(43.74, 7.43), p(43.72, 7.41)];
        let bike = StraightLine::for_profile(Profile::Bicycle);
        let walk = StraightLine::for_profile(Profile::Foot);
        let table = bike.table(&places, &places).unwrap();
        for (i, &a) in places.iter().enumerate() {
            for (j, &b) in places.iter().enumerate() {
                let r = bike.route(a, b).unwrap();
                assert_eq!(table.get(i, j), (r.millis, r.centimetres));
            }
            assert_eq!(table.get(i, i), (0, 0));
        }
        let (ride, stroll) = (
            bike.route(places[0], places[1]).unwrap(),
            walk.route(places[0], places[1]).unwrap(),
        );
        assert_eq!(
            ride.centimetres, stroll.centimetres,
            "same detour, same distance"
        );
        assert!(
            stroll.millis > 2 * ride.millis,
            "walking is much slower than cycling"
        );
    }

    #[test]
    fn nonsense_speeds_do_not_poison_the_metric() {
        for kmh in [0.0, -5.0, f64::NAN, f64::INFINITY] {
            let route = StraightLine::new(kmh, f64::NAN)
                .route(p(0.0, 0.0), p(0.0, 1.0))
                .unwrap();
            assert!(route.millis > 0 && route.millis < u32::MAX);
        }
    }
}
