//! Travel time and distance between places, for one vehicle profile.

use crate::SolverError;

/// Square matrices of travel durations and distances between place indices, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct TravelMatrix {
    size: usize,
    durations: Vec<f64>,
    distances: Vec<f64>,
}

impl TravelMatrix {
    /// Builds from row-major `size x size` durations and distances.
    pub fn new(size: usize, durations: Vec<f64>, distances: Vec<f64>) -> Result<Self, SolverError> {
        if durations.len() != size * size || distances.len() != size * size {
            return Err(SolverError::InvalidProblem(format!(
                "matrix of {size} places needs {} entries, got {} durations and {} distances",
                size * size,
                durations.len(),
                distances.len()
            )));
        }
        if durations
            .iter()
            .chain(&distances)
            .any(|v| v.is_nan() || *v < 0.0)
        {
            return Err(SolverError::InvalidProblem(
                "matrix entries must be non-negative numbers (infinity marks unreachable)".into(),
            ));
        }
        Ok(Self {
            size,
            durations,
            distances,
        })
    }

    /// Straight-line distances between points in the plane, travelled at `speed` distance units per
    /// time unit. Double precision, no rounding: the convention of the Solomon and Li & Lim benchmarks
    /// (with speed 1).
    pub fn euclidean(points: &[(f64, f64)], speed: f64) -> Result<Self, SolverError> {
        Self::from_metric(points, speed, |a, b| (a.0 - b.0).hypot(a.1 - b.1))
    }

    /// Great-circle distances in metres between `(lat, lng)` points in degrees, travelled at `speed`
    /// metres per second: the stand-in for a road network when no map is loaded.
    pub fn haversine(points: &[(f64, f64)], speed: f64) -> Result<Self, SolverError> {
        const EARTH_RADIUS_M: f64 = 6_371_008.8;
        Self::from_metric(points, speed, |a, b| {
            let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
            let h = ((p2 - p1) / 2.0).sin().powi(2)
                + p1.cos() * p2.cos() * ((b.1 - a.1).to_radians() / 2.0).sin().powi(2);
            2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
        })
    }

    fn from_metric(
        points: &[(f64, f64)],
        speed: f64,
        metric: impl Fn((f64, f64), (f64, f64)) -> f64,
    ) -> Result<Self, SolverError> {
        if !(speed.is_finite() && speed > 0.0) {
            return Err(SolverError::InvalidProblem(format!("speed {speed}")));
        }
        let size = points.len();
        let mut distances = Vec::with_capacity(size * size);
        for &a in points {
            for &b in points {
                distances.push(metric(a, b));
            }
        }
        let durations = distances.iter().map(|d| d / speed).collect();
        Self::new(size, durations, distances)
    }

    /// Number of places.
    pub fn len(&self) -> usize {
        self.size
    }

    /// True if there are no places.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Travel time from `from` to `to`.
    #[inline]
    pub fn duration(&self, from: usize, to: usize) -> f64 {
        self.durations[from * self.size + to]
    }

    /// Travel distance from `from` to `to`.
    #[inline]
    pub fn distance(&self, from: usize, to: usize) -> f64 {
        self.distances[from * self.size + to]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euclidean_keeps_full_precision() {
        let m = TravelMatrix::euclidean(&[(0.0, 0.0), (1.0, 1.0)], 1.0).expect("valid");
        assert_eq!(m.distance(0, 1), std::f64::consts::SQRT_2);
        assert_eq!(m.duration(1, 0), std::f64::consts::SQRT_2);
        assert_eq!(m.distance(1, 1), 0.0);
    }

    #[test]
    fn haversine_time_is_distance_over_speed() {
        let m = TravelMatrix::haversine(&[(52.5, 13.4), (52.5, 13.5)], 5.0).expect("valid");
        assert!(
            (m.distance(0, 1) - 6_774.0).abs() < 10.0,
            "{}",
            m.distance(0, 1)
        );
        assert_eq!(m.duration(0, 1), m.distance(0, 1) / 5.0);
    }

    #[test]
    fn refuses_bad_shapes_and_values() {
        assert!(TravelMatrix::new(2, vec![0.0; 3], vec![0.0; 4]).is_err());
        assert!(TravelMatrix::new(1, vec![f64::NAN], vec![0.0]).is_err());
        assert!(TravelMatrix::euclidean(&[(0.0, 0.0)], 0.0).is_err());
    }
}
