//! Numbers and path data for SVG attributes: one decimal at most, never NaN or infinity.
//!
//! Everything drawn is first rounded to tenths of a unit (an `i64`), so the text is short, two
//! points that print alike compare alike, and a non-finite value cannot reach an attribute: it is
//! written as 0 here, and the drawing code skips such points before that.

use std::fmt::{self, Write};

/// A point in tenths of a viewBox unit.
pub(super) type Tenths = (i64, i64);

/// `v` in tenths, rounded; 0 for NaN and infinities, clamped far outside any viewBox.
pub(super) fn tenths(v: f64) -> i64 {
    if v.is_finite() {
        // A cast from f64 saturates; the clamp keeps the digits short for absurd inputs.
        (v * 10.0).round().clamp(-1e9, 1e9) as i64
    } else {
        0
    }
}

/// A point in tenths, or `None` if either coordinate is not finite.
pub(super) fn point(x: f64, y: f64) -> Option<Tenths> {
    (x.is_finite() && y.is_finite()).then(|| (tenths(x), tenths(y)))
}

/// A value as written into an attribute: one decimal, no trailing `.0`, non-finite as 0.
#[derive(Debug, Clone, Copy)]
pub(super) struct Num(pub(super) f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_tenths(f, tenths(self.0))
    }
}

/// Writes a value given in tenths: `-12.5`, `3`, `0.4`.
pub(super) fn write_tenths(out: &mut impl Write, t: i64) -> fmt::Result {
    if t < 0 {
        out.write_char('-')?;
    }
    let a = t.unsigned_abs();
    write!(out, "{}", a / 10)?;
    if !a.is_multiple_of(10) {
        write!(out, ".{}", a % 10)?;
    }
    Ok(())
}

/// Writes `x y` (or `x,y` for polyline points), leaving out a separator that a minus sign already
/// makes when `tight`.
fn write_pair(out: &mut String, (x, y): Tenths, sep: char, tight: bool) -> fmt::Result {
    write_tenths(out, x)?;
    if !(tight && y < 0) {
        out.push(sep);
    }
    write_tenths(out, y)
}

/// The `d` of a `<path>` made of straight lines: an absolute move where the pen jumps, relative
/// lines otherwise, with the `l` command not repeated along a run.
#[derive(Debug, Default)]
pub(super) struct PathData {
    d: String,
    pen: Option<Tenths>,
    in_line_run: bool,
}

impl PathData {
    /// An empty path.
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// Lifts the pen to `p`.
    pub(super) fn move_to(&mut self, p: Tenths) -> fmt::Result {
        self.d.push('M');
        write_pair(&mut self.d, p, ' ', true)?;
        self.pen = Some(p);
        self.in_line_run = false;
        Ok(())
    }

    /// A straight line from the pen to `p` (a move to `p` if the pen is not down yet).
    pub(super) fn line_to(&mut self, p: Tenths) -> fmt::Result {
        let Some(pen) = self.pen else {
            return self.move_to(p);
        };
        let delta = (p.0 - pen.0, p.1 - pen.1);
        if self.in_line_run {
            if delta.0 >= 0 {
                self.d.push(' ');
            }
        } else {
            self.d.push('l');
        }
        write_pair(&mut self.d, delta, ' ', true)?;
        self.pen = Some(p);
        self.in_line_run = true;
        Ok(())
    }

    /// Whether nothing has been drawn.
    pub(super) fn is_empty(&self) -> bool {
        self.d.is_empty()
    }

    /// The path data so far.
    pub(super) fn as_str(&self) -> &str {
        &self.d
    }
}

/// The `points` of a `<polyline>`: `x,y x,y …`, with repeated points left out.
pub(super) fn polyline_points(
    points: impl IntoIterator<Item = Tenths>,
) -> Result<String, fmt::Error> {
    let mut out = String::new();
    let mut last = None;
    for p in points {
        if last == Some(p) {
            continue;
        }
        if last.is_some() {
            out.push(' ');
        }
        write_pair(&mut out, p, ',', false)?;
        last = Some(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_one_decimal_and_no_nan() {
        let shown: Vec<String> = [0.0, -0.04, 1.25, -3.0, 12.34, f64::NAN, f64::INFINITY, -0.5]
            .iter()
            .map(|&v| Num(v).to_string())
            .collect();
        assert_eq!(shown, ["0", "0", "1.3", "-3", "12.3", "0", "0", "-0.5"]);
        assert_eq!(point(f64::NAN, 1.0), None);
        assert_eq!(point(1.0, f64::NEG_INFINITY), None);
        assert_eq!(point(1.04, -2.06), Some((10, -21)));
    }

    #[test]
    fn path_data_moves_then_draws_relative_runs() {
        let mut d = PathData::new();
        d.move_to((100, 200)).unwrap();
        d.line_to((110, 190)).unwrap();
        d.line_to((115, 195)).unwrap();
        d.move_to((0, -5)).unwrap();
        d.line_to((-10, -5)).unwrap();
        assert_eq!(d.as_str(), "M10 20l1-1 0.5 0.5M0-0.5l-1 0");
    }

    #[test]
    fn polyline_points_drop_repeats() {
        let pts = polyline_points([(0, 0), (0, 0), (15, -20), (15, -20), (30, 5)]).unwrap();
        assert_eq!(pts, "0,0 1.5,-2 3,0.5");
    }
}
