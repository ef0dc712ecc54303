//! The map: streets, courier tracks, kitchens and drop-offs as one inline SVG, with its legends
//! and the data attribution under it.

use std::fmt::{self, Write};

use router::geo::LatLng;

use super::html::{Esc, legend};
use super::projection::{Bounds, Projection};
use super::style::{Lateness, VehicleKind};
use super::svg::{Num, Tenths, point, polyline_points};
use super::{ReportData, streets};

/// Width of the map's drawing area, in viewBox units.
const WIDTH: f64 = 1000.0;
/// The flattest and the tallest the drawing area may be.
const MIN_HEIGHT: f64 = 250.0;
const MAX_HEIGHT: f64 = 1400.0;
/// Room around the drawing area, so symbols on the edge are not cut.
const MARGIN: f64 = 12.0;
/// Side of a kitchen's square and radius of a drop-off's circle.
const KITCHEN_SIDE: f64 = 12.0;
const DROP_RADIUS: f64 = 5.0;

/// The box around everything the map draws.
fn bounds(data: &ReportData) -> Bounds {
    let mut b = Bounds::empty();
    let mut add = |p: &LatLng| b.include(p.lat(), p.lng());
    data.streets.iter().flatten().for_each(&mut add);
    data.kitchens.iter().for_each(|k| add(&k.at));
    data.tracks
        .iter()
        .flat_map(|t| &t.fixes)
        .for_each(|(_, p)| add(p));
    data.deliveries.iter().for_each(|d| add(&d.at));
    b
}

/// `p` in map tenths, or `None` if it does not project to finite numbers.
fn at(proj: &Projection, p: LatLng) -> Option<Tenths> {
    proj.project(p.lat(), p.lng())
        .and_then(|(x, y)| point(x, y))
}

/// Writes the map section.
pub(super) fn section(out: &mut String, data: &ReportData) -> fmt::Result {
    out.push_str("<section id=\"map\">\n<h2>Map</h2>\n");
    match Projection::fit(&bounds(data), WIDTH, MIN_HEIGHT, MAX_HEIGHT) {
        Some(proj) => {
            svg(out, data, &proj)?;
            legends(out, data)?;
        }
        None => out.push_str("<p class=\"note\">Nothing to draw on the map.</p>\n"),
    }
    if !data.attribution.is_empty() {
        writeln!(
            out,
            "<p class=\"attribution\">{}</p>",
            Esc(&data.attribution)
        )?;
    }
    out.push_str("</section>\n");
    Ok(())
}

fn svg(out: &mut String, data: &ReportData, proj: &Projection) -> fmt::Result {
    writeln!(
        out,
        "<svg class=\"map\" viewBox=\"{} {} {} {}\" role=\"img\" \
         aria-label=\"Map of streets, courier tracks, kitchens and drop-offs\">",
        Num(-MARGIN),
        Num(-MARGIN),
        Num(proj.width() + 2.0 * MARGIN),
        Num(proj.height() + 2.0 * MARGIN)
    )?;

    let segments = data
        .streets
        .iter()
        .filter_map(|[a, b]| Some((at(proj, *a)?, at(proj, *b)?)));
    out.push_str("<g class=\"street-layer\">\n");
    for d in streets::merge(segments)? {
        writeln!(out, "<path class=\"streets\" d=\"{d}\"/>")?;
    }
    out.push_str("</g>\n<g class=\"track-layer\">\n");

    for track in &data.tracks {
        let mut fixes: Vec<_> = track.fixes.iter().collect();
        fixes.sort_by_key(|(t, _)| *t);
        let points = polyline_points(fixes.iter().filter_map(|(_, p)| at(proj, *p)))?;
        if points.is_empty() {
            continue;
        }
        let kind = VehicleKind::of(&track.vehicle);
        write!(
            out,
            "<polyline class=\"track {}\" data-courier=\"{}\" points=\"{points}\"><title>Courier {} ({}): {} fixes",
            kind.class(),
            Esc(&track.courier_id),
            Esc(&track.courier_id),
            Esc(&track.vehicle),
            fixes.len()
        )?;
        if let (Some(first), Some(last)) = (fixes.first(), fixes.last()) {
            write!(
                out,
                ", {}–{} UTC",
                first.0.format("%H:%M"),
                last.0.format("%H:%M")
            )?;
        }
        out.push_str("</title></polyline>\n");
    }
    out.push_str("</g>\n<g class=\"kitchen-layer\">\n");

    for kitchen in &data.kitchens {
        let Some((x, y)) = proj.project(kitchen.at.lat(), kitchen.at.lng()) else {
            continue;
        };
        writeln!(
            out,
            "<rect class=\"kitchen\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>Kitchen {}</title></rect>",
            Num(x - KITCHEN_SIDE / 2.0),
            Num(y - KITCHEN_SIDE / 2.0),
            Num(KITCHEN_SIDE),
            Num(KITCHEN_SIDE),
            Esc(&kitchen.id)
        )?;
    }
    out.push_str("</g>\n<g class=\"drop-layer\">\n");

    for d in &data.deliveries {
        let Some((x, y)) = proj.project(d.at.lat(), d.at.lng()) else {
            continue;
        };
        writeln!(
            out,
            "<circle class=\"drop {}\" data-order=\"{}\" cx=\"{}\" cy=\"{}\" r=\"{}\"><title>{}</title></circle>",
            Lateness::of(d.late_min()).class(),
            Esc(&d.order_id),
            Num(x),
            Num(y),
            Num(DROP_RADIUS),
            Esc(&d.tooltip())
        )?;
    }
    out.push_str("</g>\n</svg>\n");
    Ok(())
}

fn legends(out: &mut String, data: &ReportData) -> fmt::Result {
    let mut symbols = vec![("street-key", "streets")];
    if !data.kitchens.is_empty() {
        symbols.push(("kitchen-key", "kitchen"));
    }
    legend(out, "Map:", &symbols)?;
    if !data.tracks.is_empty() {
        let kinds: Vec<_> = VehicleKind::ALL
            .into_iter()
            .filter(|k| {
                data.tracks
                    .iter()
                    .any(|t| VehicleKind::of(&t.vehicle) == *k)
            })
            .map(|k| (k.class(), k.label()))
            .collect();
        legend(out, "Courier tracks:", &kinds)?;
    }
    if !data.deliveries.is_empty() {
        let lateness: Vec<_> = Lateness::ALL
            .iter()
            .map(|l| (l.class(), l.label()))
            .collect();
        legend(out, "Drop-offs:", &lateness)?;
    }
    Ok(())
}
