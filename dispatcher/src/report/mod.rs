//! The demo's report: one self-contained HTML page with the key figures, a map of the streets,
//! courier tracks, kitchens and drop-offs, and charts of click-to-door.
//!
//! The page loads nothing from anywhere: styles, drawings (inline SVG) and a small optional script
//! are all in the file, and the page is fully drawn without the script. Text from the data is
//! escaped; coordinates are rounded to a tenth of a map unit, and a value that is not finite is
//! never written into an attribute.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use dispatcher::report::{ReportData, ReportDelivery, render};
//! use router::geo::LatLng;
//!
//! let t = |m| Utc.with_ymd_and_hms(2024, 5, 1, 12, m, 0).unwrap();
//! let data = ReportData {
//!     title: "Dispatch demo".into(),
//!     deliveries: vec![ReportDelivery {
//!         order_id: "o-1".into(),
//!         at: LatLng::new(43.74, 7.42).unwrap(),
//!         kitchen_id: "k-1".into(),
//!         placed_at: t(0),
//!         delivered_at: t(31),
//!         promised_end: t(30),
//!     }],
//!     ..ReportData::default()
//! };
//! assert_eq!(data.deliveries[0].late_min(), 1.0);
//! let page = render(&data);
//! assert!(page.starts_with("<!DOCTYPE html>") && page.contains("class=\"drop slight\""));
//! ```
//!
//! Inside: `html` (the page shell, escaping, the key-figure table, the script), `map`,
//! `projection` and `streets` (the map, its projection, the merged street layer), `chart` and
//! `axis` (the click-to-door charts), `style` (lateness and vehicle categories, colours, the
//! stylesheet) and `svg` (numbers and path data).

mod axis;
mod chart;
mod html;
mod map;
mod projection;
mod streets;
mod style;
mod svg;

use std::path::Path;

use chrono::{DateTime, Utc};
use router::geo::LatLng;

/// Everything the report shows.
#[derive(Debug, Clone, Default)]
pub struct ReportData {
    /// The page's title, e.g. "Dispatch demo, Monaco, seed 7".
    pub title: String,
    /// Road segments to draw (tens of thousands are fine).
    pub streets: Vec<[LatLng; 2]>,
    /// Kitchens, drawn as squares.
    pub kitchens: Vec<ReportKitchen>,
    /// One per courier.
    pub tracks: Vec<ReportTrack>,
    /// One per delivered order.
    pub deliveries: Vec<ReportDelivery>,
    /// `(label, value)` pairs, shown as a table at the top.
    pub kpis: Vec<(String, String)>,
    /// The map data's attribution, shown under the map, e.g.
    /// "© OpenStreetMap contributors, ODbL 1.0".
    pub attribution: String,
}

/// A kitchen on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportKitchen {
    /// Its id, shown in the tooltip.
    pub id: String,
    /// Where it is.
    pub at: LatLng,
}

/// Where one courier went.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportTrack {
    /// The courier's id, shown in the tooltip.
    pub courier_id: String,
    /// The vehicle, which picks the colour: `car`, `bicycle`, `scooter`, `walk` (or `foot`); any
    /// other name is drawn in grey.
    pub vehicle: String,
    /// GPS fixes; drawn in time order whatever their order here.
    pub fixes: Vec<(DateTime<Utc>, LatLng)>,
}

/// One delivered order.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportDelivery {
    /// The order's id.
    pub order_id: String,
    /// The drop-off.
    pub at: LatLng,
    /// The kitchen it came from.
    pub kitchen_id: String,
    /// When the customer placed it.
    pub placed_at: DateTime<Utc>,
    /// When it was handed over.
    pub delivered_at: DateTime<Utc>,
    /// The end of the promised delivery window.
    pub promised_end: DateTime<Utc>,
}

/// Minutes from `from` to `to`, to the millisecond.
fn minutes_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 60_000.0
}

impl ReportDelivery {
    /// Minutes from placing to delivery.
    pub fn click_to_door_min(&self) -> f64 {
        minutes_between(self.placed_at, self.delivered_at)
    }

    /// Minutes delivered after the promised end; 0 if on time.
    pub fn late_min(&self) -> f64 {
        minutes_between(self.promised_end, self.delivered_at).max(0.0)
    }

    /// The hover text on the map and the chart (not yet escaped).
    fn tooltip(&self) -> String {
        let late = self.late_min();
        let lateness = if late > 0.0 {
            format!("{late:.1} min late")
        } else {
            "on time".to_owned()
        };
        format!(
            "Order {} from kitchen {}\nplaced {}, delivered {} UTC (promised by {})\n\
             click-to-door {:.1} min, {lateness}",
            self.order_id,
            self.kitchen_id,
            self.placed_at.format("%H:%M"),
            self.delivered_at.format("%H:%M"),
            self.promised_end.format("%H:%M"),
            self.click_to_door_min(),
        )
    }
}

/// The whole page: one self-contained HTML file (no external URLs, fonts, scripts or images).
pub fn render(data: &ReportData) -> String {
    let mut out = String::with_capacity(64 * 1024 + data.streets.len() * 16);
    page(&mut out, data).expect("formatting into a String does not fail");
    out
}

fn page(out: &mut String, data: &ReportData) -> std::fmt::Result {
    let title = if data.title.trim().is_empty() {
        "Dispatch report"
    } else {
        &data.title
    };
    html::open(out, title)?;
    if data.deliveries.is_empty() && data.tracks.is_empty() {
        out.push_str(
            "<p class=\"empty\" id=\"nothing\">Nothing to show: no deliveries and no courier \
             tracks.</p>\n",
        );
    }
    html::kpi_table(out, &data.kpis)?;
    map::section(out, data)?;
    chart::section(out, &data.deliveries)?;
    html::close(out)
}

/// Writes [`render`]`(data)` to `path`.
pub fn write(data: &ReportData, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, render(data))
}

#[cfg(test)]
mod tests;
