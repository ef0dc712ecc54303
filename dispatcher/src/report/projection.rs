//! From latitude and longitude to map units: an equirectangular projection fitted to a box.
//!
//! Longitudes are scaled by the cosine of the box's middle latitude, so a city-sized map keeps its
//! shape; at that size the error against a conformal projection is far below a street's width.

/// The smallest box side drawn, in degrees of latitude (about 110 m): a single point or a straight
/// north–south or east–west line still gets a map around it.
const MIN_SPAN_DEG: f64 = 0.001;

/// The latitude and longitude range of everything drawn. Non-finite points are left out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Bounds {
    min_lat: f64,
    max_lat: f64,
    min_lng: f64,
    max_lng: f64,
}

impl Bounds {
    /// A box holding nothing yet.
    pub(super) fn empty() -> Self {
        Self {
            min_lat: f64::INFINITY,
            max_lat: f64::NEG_INFINITY,
            min_lng: f64::INFINITY,
            max_lng: f64::NEG_INFINITY,
        }
    }

    /// Grows the box to hold `(lat, lng)`; a NaN or infinite coordinate is ignored.
    pub(super) fn include(&mut self, lat: f64, lng: f64) {
        if lat.is_finite() && lng.is_finite() {
            self.min_lat = self.min_lat.min(lat);
            self.max_lat = self.max_lat.max(lat);
            self.min_lng = self.min_lng.min(lng);
            self.max_lng = self.max_lng.max(lng);
        }
    }

    /// Whether no point was included.
    pub(super) fn is_empty(&self) -> bool {
        self.min_lat > self.max_lat
    }
}

/// A fitted projection: `project` maps the box's south-west corner to `(x0, height - y0)` and its
/// north-east corner to `(width - x0, y0)`, where the offsets `x0`, `y0` centre a box whose shape
/// does not fill the area (both 0 in the usual case).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Projection {
    west: f64,
    north: f64,
    /// Cosine of the middle latitude: map units per degree of longitude, per degree of latitude.
    kx: f64,
    /// Map units per degree of latitude.
    scale: f64,
    x0: f64,
    y0: f64,
    width: f64,
    height: f64,
}

impl Projection {
    /// Fits `bounds` into an area `width` units wide, as tall as the box's shape asks but at most
    /// `max_height` (a tall box is then narrower and centred) and at least `min_height` (a wide,
    /// flat box is centred vertically). `None` for an empty box.
    pub(super) fn fit(
        bounds: &Bounds,
        width: f64,
        min_height: f64,
        max_height: f64,
    ) -> Option<Self> {
        if bounds.is_empty() {
            return None;
        }
        let mid_lat = (bounds.min_lat + bounds.max_lat) / 2.0;
        // Near the poles the cosine goes to 0; such maps are not this report's business, but
        // they must not divide by zero.
        let kx = mid_lat.to_radians().cos().max(0.01);
        let mut b = *bounds;
        if b.max_lat - b.min_lat < MIN_SPAN_DEG && (b.max_lng - b.min_lng) * kx < MIN_SPAN_DEG {
            b.min_lat = mid_lat - MIN_SPAN_DEG / 2.0;
            b.max_lat = mid_lat + MIN_SPAN_DEG / 2.0;
            let mid_lng = (b.min_lng + b.max_lng) / 2.0;
            b.min_lng = mid_lng - MIN_SPAN_DEG / 2.0 / kx;
            b.max_lng = mid_lng + MIN_SPAN_DEG / 2.0 / kx;
        }
        let box_w = (b.max_lng - b.min_lng) * kx;
        let box_h = b.max_lat - b.min_lat;
        let scale = if box_w > 0.0 {
            width / box_w
        } else {
            f64::INFINITY
        }
        .min(if box_h > 0.0 {
            max_height / box_h
        } else {
            f64::INFINITY
        });
        let height = (box_h * scale).clamp(min_height, max_height);
        let projection = Self {
            west: b.min_lng,
            north: b.max_lat,
            kx,
            scale,
            x0: (width - box_w * scale) / 2.0,
            y0: (height - box_h * scale) / 2.0,
            width,
            height,
        };
        [scale, projection.x0, projection.y0, height]
            .iter()
            .all(|v| v.is_finite())
            .then_some(projection)
    }

    /// Map coordinates of `(lat, lng)`, x to the east and y to the south; `None` if either is
    /// NaN or infinite.
    pub(super) fn project(&self, lat: f64, lng: f64) -> Option<(f64, f64)> {
        let x = self.x0 + (lng - self.west) * self.kx * self.scale;
        let y = self.y0 + (self.north - lat) * self.scale;
        (x.is_finite() && y.is_finite()).then_some((x, y))
    }

    /// Width of the area, in map units.
    pub(super) fn width(&self) -> f64 {
        self.width
    }

    /// Height of the area, in map units.
    pub(super) fn height(&self) -> f64 {
        self.height
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6
    }

    fn monaco() -> Bounds {
        let mut b = Bounds::empty();
        b.include(43.725, 7.409);
        b.include(43.752, 7.439);
        b.include(43.74, 7.42);
        b
    }

    #[test]
    fn box_corners_go_to_the_area_corners() {
        let p = Projection::fit(&monaco(), 1000.0, 100.0, 5000.0).unwrap();
        let kx = 43.7385_f64.to_radians().cos();
        let expected_h = 1000.0 * (43.752 - 43.725) / ((7.439 - 7.409) * kx);
        assert!((p.height() - expected_h).abs() < 1e-6, "{}", p.height());
        assert_eq!(p.width(), 1000.0);
        let sw = p.project(43.725, 7.409).unwrap();
        let ne = p.project(43.752, 7.439).unwrap();
        let nw = p.project(43.752, 7.409).unwrap();
        let se = p.project(43.725, 7.439).unwrap();
        assert!(close(sw, (0.0, p.height())), "{sw:?}");
        assert!(close(ne, (1000.0, 0.0)), "{ne:?}");
        assert!(close(nw, (0.0, 0.0)), "{nw:?}");
        assert!(close(se, (1000.0, p.height())), "{se:?}");
    }

    #[test]
    fn distances_keep_their_shape() {
        // 0.001° of latitude and 0.001°/cos(lat) of longitude are the same ground distance.
        let p = Projection::fit(&monaco(), 1000.0, 100.0, 5000.0).unwrap();
        let kx = 43.7385_f64.to_radians().cos();
        let a = p.project(43.74, 7.42).unwrap();
        let north = p.project(43.741, 7.42).unwrap();
        let east = p.project(43.74, 7.42 + 0.001 / kx).unwrap();
        assert!(((a.1 - north.1) - (east.0 - a.0)).abs() < 1e-9);
    }

    #[test]
    fn a_tall_box_is_capped_and_centred() {
        let mut b = Bounds::empty();
        b.include(40.0, 7.0);
        b.include(41.0, 7.001);
        let p = Projection::fit(&b, 1000.0, 100.0, 800.0).unwrap();
        assert_eq!(p.height(), 800.0);
        let (x_w, y_n) = p.project(41.0, 7.0).unwrap();
        let (x_e, y_s) = p.project(40.0, 7.001).unwrap();
        assert!(close((y_n, y_s), (0.0, 800.0)));
        assert!(((x_w + x_e) / 2.0 - 500.0).abs() < 1e-6 && x_w > 0.0);
    }

    #[test]
    fn one_point_gets_a_map_around_it() {
        let mut b = Bounds::empty();
        b.include(43.74, 7.42);
        let p = Projection::fit(&b, 1000.0, 100.0, 5000.0).unwrap();
        let (x, y) = p.project(43.74, 7.42).unwrap();
        assert!(close((x, y), (500.0, p.height() / 2.0)), "{x},{y}");
    }

    #[test]
    fn nan_is_skipped() {
        let mut b = monaco();
        b.include(f64::NAN, 200.0);
        b.include(50.0, f64::INFINITY);
        assert_eq!(b, monaco());
        assert!(Bounds::empty().is_empty());
        assert_eq!(
            Projection::fit(&Bounds::empty(), 1000.0, 100.0, 800.0),
            None
        );
        let p = Projection::fit(&b, 1000.0, 100.0, 5000.0).unwrap();
        assert_eq!(p.project(f64::NAN, 7.42), None);
        assert_eq!(p.project(43.74, f64::INFINITY), None);
    }
}
