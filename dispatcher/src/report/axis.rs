//! Chart frames: linear scales, round tick values, clock-time ticks, and the axes drawn from them.

use std::fmt::{self, Write};

use chrono::{DateTime, Utc};

use super::html::Esc;
use super::svg::Num;

/// A chart's size and the room left around its plotting area for labels, in viewBox units.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    /// Whole width.
    pub(super) width: f64,
    /// Whole height.
    pub(super) height: f64,
    /// Room on the left, for the y tick labels and title.
    pub(super) left: f64,
    /// Room on the right.
    pub(super) right: f64,
    /// Room on top.
    pub(super) top: f64,
    /// Room at the bottom, for the x tick labels and title.
    pub(super) bottom: f64,
}

impl Frame {
    /// The plotting area's left and right edges.
    pub(super) fn x_range(&self) -> (f64, f64) {
        (self.left, self.width - self.right)
    }

    /// The plotting area's bottom and top edges (y grows downwards).
    pub(super) fn y_range(&self) -> (f64, f64) {
        (self.height - self.bottom, self.top)
    }

    /// Opens the `<svg>` of a chart.
    pub(super) fn open(&self, out: &mut String, class: &str, label: &str) -> fmt::Result {
        writeln!(
            out,
            "<svg class=\"chart {}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">",
            Esc(class),
            Num(self.width),
            Num(self.height),
            Esc(label)
        )
    }
}

/// A linear map from data values to viewBox units.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    /// Maps `domain` onto `range`; an empty or non-finite domain maps everything to the range's
    /// middle rather than to NaN.
    pub(super) fn new(domain: (f64, f64), range: (f64, f64)) -> Self {
        Self {
            d0: domain.0,
            d1: domain.1,
            r0: range.0,
            r1: range.1,
        }
    }

    /// Where `v` goes.
    pub(super) fn at(&self, v: f64) -> f64 {
        let span = self.d1 - self.d0;
        if span.is_finite() && span != 0.0 {
            self.r0 + (v - self.d0) / span * (self.r1 - self.r0)
        } else {
            (self.r0 + self.r1) / 2.0
        }
    }
}

/// Round ticks covering `lo..=hi`: about `target` of them, a step of 1, 2 or 5 times a power of
/// ten and at least `min_step`. The first tick is at or below `lo`, the last at or above `hi`.
pub(super) fn nice_ticks(lo: f64, hi: f64, target: usize, min_step: f64) -> Vec<(f64, String)> {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo.min(hi), lo.max(hi))
    } else {
        (0.0, 1.0)
    };
    let hi = if hi - lo < 1e-9 {
        lo + min_step.max(1e-9)
    } else {
        hi
    };
    let raw = (hi - lo) / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = match raw / magnitude {
        n if n <= 1.0 => magnitude,
        n if n <= 2.0 => 2.0 * magnitude,
        n if n <= 5.0 => 5.0 * magnitude,
        _ => 10.0 * magnitude,
    }
    .max(min_step);
    let first = (lo / step).floor();
    let count = ((hi / step).ceil() - first).clamp(1.0, 200.0) as usize;
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()).clamp(0.0, 6.0) as usize
    };
    (0..=count)
        .map(|i| {
            let v = (first + i as f64) * step;
            // No "-0" label.
            let shown = if v.abs() < step / 2.0 { 0.0 } else { v };
            (v, format!("{shown:.decimals$}"))
        })
        .collect()
}

/// Clock-time ticks on round minutes (UTC) between `t0` and `t1`, at most `max_ticks` of them;
/// labels `HH:MM`, with the date when the span crosses midnight.
pub(super) fn time_ticks(
    t0: DateTime<Utc>,
    t1: DateTime<Utc>,
    max_ticks: usize,
) -> Vec<(DateTime<Utc>, String)> {
    const STEPS_MIN: [i64; 14] = [1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 360, 720, 1440, 10080];
    let (s0, s1) = (t0.timestamp(), t1.timestamp());
    let span_min = (s1 - s0).max(0) / 60;
    let step_min = STEPS_MIN
        .into_iter()
        .find(|s| span_min / s < max_ticks.max(1) as i64)
        .unwrap_or_else(|| span_min / max_ticks.max(1) as i64 + 1);
    let step = step_min * 60;
    let format = if step_min >= 1440 {
        "%Y-%m-%d"
    } else if t0.date_naive() != t1.date_naive() {
        "%m-%d %H:%M"
    } else {
        "%H:%M"
    };
    let first = s0.div_euclid(step) * step + if s0.rem_euclid(step) == 0 { 0 } else { step };
    (0..)
        .map(|i| first + i * step)
        .take_while(|&s| s <= s1)
        .take(max_ticks.max(1) + 1)
        .filter_map(|s| DateTime::from_timestamp(s, 0))
        .map(|t| (t, t.format(format).to_string()))
        .collect()
}

/// Draws the x axis along the bottom of the plotting area: the line, tick marks, labels and title.
pub(super) fn x_axis(
    out: &mut String,
    frame: &Frame,
    ticks: &[(f64, String)],
    title: &str,
) -> fmt::Result {
    let (x0, x1) = frame.x_range();
    let (y, _) = frame.y_range();
    writeln!(
        out,
        "<path class=\"axis\" d=\"M{} {}H{}\"/>",
        Num(x0),
        Num(y),
        Num(x1)
    )?;
    for (x, label) in ticks {
        writeln!(
            out,
            "<path class=\"axis\" d=\"M{} {}v5\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            Num(*x),
            Num(y),
            Num(*x),
            Num(y + 19.0),
            Esc(label)
        )?;
    }
    writeln!(
        out,
        "<text class=\"axis-title\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        Num((x0 + x1) / 2.0),
        Num(frame.height - 8.0),
        Esc(title)
    )
}

/// Draws the y axis along the left of the plotting area, with a grid line at each tick.
pub(super) fn y_axis(
    out: &mut String,
    frame: &Frame,
    ticks: &[(f64, String)],
    title: &str,
) -> fmt::Result {
    let (x0, x1) = frame.x_range();
    let (y0, y1) = frame.y_range();
    for (y, label) in ticks {
        writeln!(
            out,
            "<path class=\"grid\" d=\"M{} {}H{}\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            Num(x0),
            Num(*y),
            Num(x1),
            Num(x0 - 8.0),
            Num(*y + 4.0),
            Esc(label)
        )?;
    }
    writeln!(
        out,
        "<path class=\"axis\" d=\"M{} {}V{}\"/>",
        Num(x0),
        Num(y0),
        Num(y1)
    )?;
    writeln!(
        out,
        "<text class=\"axis-title\" transform=\"rotate(-90)\" x=\"{}\" y=\"16\" text-anchor=\"middle\">{}</text>",
        Num(-(y0 + y1) / 2.0),
        Esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(ticks: &[(f64, String)]) -> Vec<&str> {
        ticks.iter().map(|(_, l)| l.as_str()).collect()
    }

    #[test]
    fn nice_ticks_cover_the_range() {
        assert_eq!(
            values(&nice_ticks(0.0, 47.0, 6, 0.0)),
            ["0", "10", "20", "30", "40", "50"]
        );
        assert_eq!(
            values(&nice_ticks(0.2, 0.9, 4, 0.0)),
            ["0.2", "0.4", "0.6", "0.8", "1.0"]
        );
        assert_eq!(values(&nice_ticks(0.0, 3.0, 6, 1.0)), ["0", "1", "2", "3"]);
        // Degenerate and bad input still give a finite axis.
        assert_eq!(values(&nice_ticks(5.0, 5.0, 5, 1.0)), ["5", "6"]);
        assert!(
            nice_ticks(f64::NAN, f64::INFINITY, 5, 0.0)
                .iter()
                .all(|(v, _)| v.is_finite())
        );
        assert_eq!(
            values(&nice_ticks(-4.0, 4.0, 4, 0.0)),
            ["-4", "-2", "0", "2", "4"]
        );
    }

    #[test]
    fn time_ticks_fall_on_round_minutes() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let ticks = time_ticks(t("2024-05-01T11:07:00Z"), t("2024-05-01T14:50:00Z"), 8);
        assert_eq!(
            values(
                &ticks
                    .iter()
                    .map(|(_, l)| (0.0, l.clone()))
                    .collect::<Vec<_>>()
            ),
            [
                "11:30", "12:00", "12:30", "13:00", "13:30", "14:00", "14:30"
            ]
        );
        let night = time_ticks(t("2024-05-01T23:10:00Z"), t("2024-05-02T00:50:00Z"), 8);
        assert_eq!(night[0].1, "05-01 23:15");
        assert!(time_ticks(t("2024-05-01T12:00:30Z"), t("2024-05-01T12:00:40Z"), 8).is_empty());
    }

    #[test]
    fn scale_never_returns_nan() {
        assert_eq!(Scale::new((0.0, 10.0), (100.0, 200.0)).at(5.0), 150.0);
        assert_eq!(Scale::new((3.0, 3.0), (100.0, 200.0)).at(3.0), 150.0);
    }
}
