//! The click-to-door charts: each delivery over the day with a rolling mean, and a histogram.

use std::fmt::{self, Write};

use chrono::TimeDelta;

use super::ReportDelivery;
use super::axis::{Frame, Scale, nice_ticks, time_ticks, x_axis, y_axis};
use super::html::{Esc, legend};
use super::style::Lateness;
use super::svg::Num;

/// Both charts share a size.
const FRAME: Frame = Frame {
    width: 1000.0,
    height: 340.0,
    left: 64.0,
    right: 18.0,
    top: 14.0,
    bottom: 54.0,
};
/// The rolling mean is over this many deliveries, in delivery order.
const MEAN_WINDOW: usize = 10;
/// Histogram bin width, in minutes, unless that would make more than [`MAX_BINS`] bins.
const BIN_MIN: f64 = 2.0;
const MAX_BINS: f64 = 60.0;

/// Writes the charts section: a summary line, the timeline and the histogram, or a note when no
/// delivery has a usable click-to-door.
pub(super) fn section(out: &mut String, deliveries: &[ReportDelivery]) -> fmt::Result {
    out.push_str("<section id=\"charts\">\n<h2>Click-to-door</h2>\n");
    let mut ds: Vec<&ReportDelivery> = deliveries
        .iter()
        .filter(|d| d.click_to_door_min().is_finite())
        .collect();
    if ds.is_empty() {
        out.push_str("<p class=\"note\">No deliveries to chart.</p>\n</section>\n");
        return Ok(());
    }
    ds.sort_by_key(|d| d.delivered_at);
    summary(out, &ds)?;
    timeline(out, &ds)?;
    histogram(out, &ds)?;
    out.push_str("</section>\n");
    Ok(())
}

/// The nearest-rank `p` quantile of sorted values.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(out: &mut String, ds: &[&ReportDelivery]) -> fmt::Result {
    let mut minutes: Vec<f64> = ds.iter().map(|d| d.click_to_door_min()).collect();
    minutes.sort_by(f64::total_cmp);
    let mean = minutes.iter().sum::<f64>() / minutes.len() as f64;
    let count = |l: Lateness| {
        ds.iter()
            .filter(|d| Lateness::of(d.late_min()) == l)
            .count()
    };
    writeln!(
        out,
        "<p class=\"summary\">{} deliveries: click-to-door median {:.1} min, 90th percentile {:.1} min, \
         mean {:.1} min; {} on time, {} up to 5 min late, {} more than 5 min late.</p>",
        ds.len(),
        quantile(&minutes, 0.5),
        quantile(&minutes, 0.9),
        mean,
        count(Lateness::OnTime),
        count(Lateness::Slight),
        count(Lateness::Late)
    )
}

/// Click-to-door against delivery time, one dot per delivery, and the rolling mean.
fn timeline(out: &mut String, ds: &[&ReportDelivery]) -> fmt::Result {
    let (mut t0, mut t1) = (ds[0].delivered_at, ds[ds.len() - 1].delivered_at);
    if t1 - t0 < TimeDelta::minutes(30) {
        let middle = t0 + (t1 - t0) / 2;
        (t0, t1) = (
            middle - TimeDelta::minutes(15),
            middle + TimeDelta::minutes(15),
        );
    }
    let secs = |t: chrono::DateTime<chrono::Utc>| t.timestamp_millis() as f64 / 1000.0;
    let x = Scale::new((secs(t0), secs(t1)), FRAME.x_range());
    let minutes: Vec<f64> = ds.iter().map(|d| d.click_to_door_min()).collect();
    let lo = minutes.iter().copied().fold(0.0, f64::min);
    let hi = minutes.iter().copied().fold(0.0, f64::max);
    let y_ticks = nice_ticks(lo, hi, 6, 0.0);
    let y = Scale::new(
        (y_ticks[0].0, y_ticks[y_ticks.len() - 1].0),
        FRAME.y_range(),
    );

    out.push_str("<figure>\n");
    FRAME.open(
        out,
        "timeline",
        "Click-to-door of each delivery by delivery time",
    )?;
    let y_ticks: Vec<_> = y_ticks.into_iter().map(|(v, l)| (y.at(v), l)).collect();
    y_axis(out, &FRAME, &y_ticks, "click-to-door (min)")?;
    let x_ticks: Vec<_> = time_ticks(t0, t1, 8)
        .into_iter()
        .map(|(t, l)| (x.at(secs(t)), l))
        .collect();
    x_axis(out, &FRAME, &x_ticks, "delivered at (UTC)")?;

    out.push_str("<g class=\"dots\">\n");
    for (d, m) in ds.iter().zip(&minutes) {
        writeln!(
            out,
            "<circle class=\"dot {}\" data-order=\"{}\" cx=\"{}\" cy=\"{}\" r=\"4\"><title>{}</title></circle>",
            Lateness::of(d.late_min()).class(),
            Esc(&d.order_id),
            Num(x.at(secs(d.delivered_at))),
            Num(y.at(*m)),
            Esc(&d.tooltip())
        )?;
    }
    out.push_str("</g>\n");
    if ds.len() >= 2 {
        out.push_str("<polyline class=\"mean\" points=\"");
        let mut sum = 0.0;
        for (i, (d, m)) in ds.iter().zip(&minutes).enumerate() {
            sum += m;
            if i >= MEAN_WINDOW {
                sum -= minutes[i - MEAN_WINDOW];
            }
            let n = (i + 1).min(MEAN_WINDOW) as f64;
            if i > 0 {
                out.push(' ');
            }
            write!(
                out,
                "{},{}",
                Num(x.at(secs(d.delivered_at))),
                Num(y.at(sum / n))
            )?;
        }
        writeln!(
            out,
            "\"><title>Mean click-to-door of the last {MEAN_WINDOW} deliveries</title></polyline>"
        )?;
    }
    out.push_str("</svg>\n");
    let mut keys: Vec<_> = Lateness::ALL
        .iter()
        .map(|l| (l.class(), l.label()))
        .collect();
    let mean_label = format!("mean of the last {MEAN_WINDOW} deliveries");
    keys.push(("mean-key", &mean_label));
    legend(out, "Deliveries:", &keys)?;
    out.push_str("</figure>\n");
    Ok(())
}

/// The bin width: [`BIN_MIN`] minutes, or wider so that `lo..=hi` needs at most [`MAX_BINS`].
fn bin_width(lo: f64, hi: f64) -> f64 {
    let count = |w: f64| ((hi - (lo / w).floor() * w) / w).floor() + 1.0;
    [
        BIN_MIN, 4.0, 10.0, 20.0, 30.0, 60.0, 120.0, 240.0, 480.0, 1440.0,
    ]
    .into_iter()
    .find(|&w| count(w) <= MAX_BINS)
    .unwrap_or_else(|| ((hi - lo) / (MAX_BINS - 1.0)).ceil().max(BIN_MIN))
}

/// How many deliveries fall in each bin of click-to-door: `(first bin's start, width, counts)`.
fn bins(minutes: &[f64]) -> (f64, f64, Vec<usize>) {
    let lo_v = minutes.iter().copied().fold(f64::INFINITY, f64::min);
    let hi_v = minutes.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let width = bin_width(lo_v, hi_v);
    let lo = (lo_v / width).floor() * width;
    let n = ((hi_v - lo) / width).floor() as usize + 1;
    let mut counts = vec![0; n];
    for m in minutes {
        let i = ((m - lo) / width).floor() as usize;
        counts[i.min(n - 1)] += 1;
    }
    (lo, width, counts)
}

/// The histogram of click-to-door.
fn histogram(out: &mut String, ds: &[&ReportDelivery]) -> fmt::Result {
    let minutes: Vec<f64> = ds.iter().map(|d| d.click_to_door_min()).collect();
    let (lo, width, counts) = bins(&minutes);
    let hi = lo + counts.len() as f64 * width;
    let x = Scale::new((lo, hi), FRAME.x_range());
    let most = counts.iter().copied().max().unwrap_or(0) as f64;
    let y_ticks = nice_ticks(0.0, most, 5, 1.0);
    let y = Scale::new((0.0, y_ticks[y_ticks.len() - 1].0), FRAME.y_range());

    out.push_str("<figure>\n");
    FRAME.open(out, "histogram", "Histogram of click-to-door")?;
    let y_ticks: Vec<_> = y_ticks.into_iter().map(|(v, l)| (y.at(v), l)).collect();
    y_axis(out, &FRAME, &y_ticks, "deliveries")?;
    // A label every k bins, k = 1, 2, 5, 10, …, for at most 12 labels.
    let k = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0]
        .into_iter()
        .find(|k| counts.len() as f64 / k <= 12.0)
        .unwrap_or(100.0);
    let step = width * k;
    let x_ticks: Vec<_> = (0..)
        .map(|i| ((lo / step).ceil() + f64::from(i)) * step)
        .take_while(|v| *v <= hi + 1e-9)
        .map(|v| (x.at(v), format!("{v:.0}")))
        .collect();
    let title = format!("click-to-door (min), {width:.0}-minute bins");
    x_axis(out, &FRAME, &x_ticks, &title)?;

    out.push_str("<g class=\"bars\">\n");
    let (base, _) = FRAME.y_range();
    for (i, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let start = lo + i as f64 * width;
        let (left, right) = (x.at(start), x.at(start + width));
        let top = y.at(count as f64);
        writeln!(
            out,
            "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{:.0}–{:.0} min: {} deliver{}</title></rect>",
            Num(left + 1.0),
            Num(top),
            Num((right - left - 2.0).max(1.0)),
            Num(base - top),
            start,
            start + width,
            count,
            if count == 1 { "y" } else { "ies" }
        )?;
    }
    out.push_str("</g>\n</svg>\n");
    legend(out, "Bars:", &[("bar-key", "deliveries per bin")])?;
    out.push_str("</figure>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_minute_bins() {
        let (lo, width, counts) = bins(&[11.0, 12.0, 13.9, 14.0, 20.0]);
        assert_eq!((lo, width), (10.0, 2.0));
        assert_eq!(counts, [1, 2, 1, 0, 0, 1]);
    }

    #[test]
    fn outliers_widen_the_bins() {
        let (lo, width, counts) = bins(&[5.0, 600.0]);
        assert_eq!((lo, width), (0.0, 20.0));
        assert_eq!(counts.len(), 31);
        assert_eq!(counts.iter().sum::<usize>(), 2);
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(quantile(&v, 0.5), 5.0);
        assert_eq!(quantile(&v, 0.9), 9.0);
        assert_eq!(quantile(&[7.0], 0.9), 7.0);
    }
}
