//! How things look: the lateness and vehicle categories, their colours, and the stylesheet.
//!
//! Colours live in CSS classes rather than on each element, so the page stays small and the
//! legends, the map and the charts cannot disagree.

use std::fmt::{self, Write};

/// How late a delivery was against the end of its promised window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lateness {
    /// At or before the promised end.
    OnTime,
    /// Late by at most [`Lateness::SLIGHT_MAX_MIN`].
    Slight,
    /// Later than that.
    Late,
}

impl Lateness {
    /// The most lateness, in minutes, that still counts as slight.
    pub(super) const SLIGHT_MAX_MIN: f64 = 5.0;

    /// Every category, in legend order.
    pub(super) const ALL: [Lateness; 3] = [Lateness::OnTime, Lateness::Slight, Lateness::Late];

    /// The category of `late_min` minutes of lateness; a NaN counts as late, so bad data shows up.
    pub(super) fn of(late_min: f64) -> Self {
        if late_min <= 0.0 {
            Lateness::OnTime
        } else if late_min <= Self::SLIGHT_MAX_MIN {
            Lateness::Slight
        } else {
            Lateness::Late
        }
    }

    /// The CSS class.
    pub(super) fn class(self) -> &'static str {
        match self {
            Lateness::OnTime => "on-time",
            Lateness::Slight => "slight",
            Lateness::Late => "late",
        }
    }

    /// The fill colour.
    pub(super) fn colour(self) -> &'static str {
        match self {
            Lateness::OnTime => "#2e9e44",
            Lateness::Slight => "#f0a202",
            Lateness::Late => "#d7263d",
        }
    }

    /// The legend text.
    pub(super) fn label(self) -> &'static str {
        match self {
            Lateness::OnTime => "on time",
            Lateness::Slight => "up to 5 min late",
            Lateness::Late => "more than 5 min late",
        }
    }
}

/// The kind of vehicle a track is coloured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VehicleKind {
    /// Car.
    Car,
    /// Bicycle, e-bike.
    Bicycle,
    /// Scooter, moped, motorbike.
    Scooter,
    /// On foot.
    Walk,
    /// A name not recognised.
    Other,
}

impl VehicleKind {
    /// Every kind, in legend order.
    pub(super) const ALL: [VehicleKind; 5] = [
        VehicleKind::Car,
        VehicleKind::Bicycle,
        VehicleKind::Scooter,
        VehicleKind::Walk,
        VehicleKind::Other,
    ];

    /// The kind named by `vehicle`, in any case: the router's profile names (`car`, `bicycle`,
    /// `scooter`, `foot`) and a few common others.
    pub(super) fn of(vehicle: &str) -> Self {
        match vehicle.trim().to_ascii_lowercase().as_str() {
            "car" | "auto" | "van" => VehicleKind::Car,
            "bicycle" | "bike" | "cycle" | "e-bike" | "ebike" | "cargo_bike" => {
                VehicleKind::Bicycle
            }
            "scooter" | "moped" | "motorbike" | "motorcycle" => VehicleKind::Scooter,
            "walk" | "walking" | "foot" | "pedestrian" => VehicleKind::Walk,
            _ => VehicleKind::Other,
        }
    }

    /// The CSS class.
    pub(super) fn class(self) -> &'static str {
        match self {
            VehicleKind::Car => "veh-car",
            VehicleKind::Bicycle => "veh-bicycle",
            VehicleKind::Scooter => "veh-scooter",
            VehicleKind::Walk => "veh-walk",
            VehicleKind::Other => "veh-other",
        }
    }

    /// The stroke colour: none of them near the lateness colours.
    pub(super) fn colour(self) -> &'static str {
        match self {
            VehicleKind::Car => "#1f5fbf",
            VehicleKind::Bicycle => "#8e44ad",
            VehicleKind::Scooter => "#0fa3b1",
            VehicleKind::Walk => "#8c564b",
            VehicleKind::Other => "#555555",
        }
    }

    /// The legend text.
    pub(super) fn label(self) -> &'static str {
        match self {
            VehicleKind::Car => "car",
            VehicleKind::Bicycle => "bicycle",
            VehicleKind::Scooter => "scooter",
            VehicleKind::Walk => "walk",
            VehicleKind::Other => "other",
        }
    }
}

/// Everything that does not depend on a category.
const BASE: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;background:#fff;\
max-width:1040px;margin:1.5em auto;padding:0 1em}
h1{font-size:1.5em;margin:0 0 .6em}
h2{font-size:1.15em;margin:1.6em 0 .5em}
table.kpis{border-collapse:collapse}
.kpis th{text-align:left;font-weight:normal;color:#555;padding:2px 2em 2px 0}
.kpis td{text-align:right;font-variant-numeric:tabular-nums;padding:2px 0}
svg{display:block;width:100%;height:auto}
svg.map{background:#f7f7f4;border:1px solid #ddd}
.streets{fill:none;stroke:#b5b5b5;stroke-width:.7;stroke-linecap:round;stroke-linejoin:round}
.track{fill:none;stroke-width:2;stroke-opacity:.75;stroke-linecap:round;stroke-linejoin:round}
.track:hover{stroke-width:4;stroke-opacity:1}
.kitchen{fill:#222;stroke:#fff;stroke-width:1.5}
.drop{stroke:#fff;stroke-width:1}
.dot{stroke:#fff;stroke-width:.5}
.drop.hl,.dot.hl{stroke:#000;stroke-width:2.5}
.mean{fill:none;stroke:#222;stroke-width:2;stroke-linejoin:round}
.bar{fill:#6b8fb5}
.bar:hover{fill:#3d6a99}
.axis{fill:none;stroke:#444;stroke-width:1}
.grid{fill:none;stroke:#e4e4e4;stroke-width:1}
.chart text{font-size:12px;fill:#333}
.chart text.axis-title{font-size:13px;fill:#111}
.legend{display:flex;flex-wrap:wrap;gap:.3em 1.2em;align-items:center;margin:.4em 0}
.legend-title{color:#555}
.swatch{display:inline-block;width:1.6em;height:.8em;margin-right:.35em;vertical-align:middle;\
border-radius:2px}
.swatch.kitchen-key{width:.8em;background:#222}
.swatch.street-key{height:2px;background:#b5b5b5}
.swatch.mean-key{height:3px;background:#222}
.swatch.bar-key{background:#6b8fb5}
.note{color:#666;font-style:italic}
.empty{padding:.8em 1em;background:#fff6e0;border:1px solid #f0d48a;border-radius:4px}
.attribution{font-size:12px;color:#555;margin:.2em 0}
figure{margin:1em 0}
figcaption{color:#555}
";

/// Writes the stylesheet: the base rules and one rule per category.
pub(super) fn stylesheet(out: &mut String) -> fmt::Result {
    out.push_str(BASE);
    for l in Lateness::ALL {
        let (class, colour) = (l.class(), l.colour());
        writeln!(
            out,
            ".drop.{class},.dot.{class}{{fill:{colour}}}.swatch.{class}{{background:{colour}}}"
        )?;
    }
    for v in VehicleKind::ALL {
        let (class, colour) = (v.class(), v.colour());
        writeln!(
            out,
            ".track.{class}{{stroke:{colour}}}.swatch.{class}{{background:{colour}}}"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_thresholds() {
        let cases = [
            (-3.0, Lateness::OnTime),
            (0.0, Lateness::OnTime),
            (0.01, Lateness::Slight),
            (4.99, Lateness::Slight),
            (5.0, Lateness::Slight),
            (5.01, Lateness::Late),
            (90.0, Lateness::Late),
            (f64::NAN, Lateness::Late),
            (f64::INFINITY, Lateness::Late),
        ];
        for (late, want) in cases {
            assert_eq!(Lateness::of(late), want, "{late}");
        }
        // Green, amber, red, all different and all in the stylesheet.
        let mut css = String::new();
        stylesheet(&mut css).unwrap();
        assert_eq!(Lateness::OnTime.colour(), "#2e9e44");
        assert_eq!(Lateness::Slight.colour(), "#f0a202");
        assert_eq!(Lateness::Late.colour(), "#d7263d");
        for l in Lateness::ALL {
            assert!(css.contains(&format!(".drop.{}", l.class())), "{l:?}");
        }
    }

    #[test]
    fn vehicle_names() {
        assert_eq!(VehicleKind::of("Car"), VehicleKind::Car);
        assert_eq!(VehicleKind::of("bicycle"), VehicleKind::Bicycle);
        assert_eq!(VehicleKind::of(" SCOOTER "), VehicleKind::Scooter);
        assert_eq!(VehicleKind::of("foot"), VehicleKind::Walk);
        assert_eq!(VehicleKind::of("walk"), VehicleKind::Walk);
        assert_eq!(VehicleKind::of("hovercraft"), VehicleKind::Other);
        let colours: std::collections::HashSet<_> = VehicleKind::ALL
            .iter()
            .map(|v| v.colour())
            .chain(Lateness::ALL.iter().map(|l| l.colour()))
            .collect();
        assert_eq!(colours.len(), 8);
    }
}
