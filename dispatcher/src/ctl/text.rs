//! Plain-text building blocks for the support CLI's output: times in the reader's zone with how
//! far away they are, protobuf enum values as words, aligned `key: value` lines and small tables.

use chrono::{DateTime, FixedOffset, Local, Offset as _, TimeZone as _, Utc};
use proto::dispatch::v1 as pb;

use crate::domain::convert::time_from_proto;

/// How times are shown: in the local time zone or in UTC, relative to one "now".
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    now: DateTime<Utc>,
    utc: bool,
}

impl Clock {
    /// Times relative to `now`, shown in UTC if `utc` or if the local time zone is at UTC now
    /// (so they read "... UTC" rather than "... +00:00"), else in the local time zone.
    pub(crate) fn new(now: DateTime<Utc>, utc: bool) -> Self {
        let local_is_utc = Local.offset_from_utc_datetime(&now.naive_utc()).fix() == Utc.fix();
        Self {
            now,
            utc: utc || local_is_utc,
        }
    }

    /// `at` in the display zone.
    fn zoned(&self, at: DateTime<Utc>) -> DateTime<FixedOffset> {
        let offset = if self.utc {
            Utc.fix()
        } else {
            Local.offset_from_utc_datetime(&at.naive_utc()).fix()
        };
        at.with_timezone(&offset)
    }

    /// The display zone's name for a table header: "UTC", or the local offset now, e.g. "+01:00".
    pub(crate) fn zone(&self) -> String {
        if self.utc {
            "UTC".to_owned()
        } else {
            self.zoned(self.now).format("%:z").to_string()
        }
    }

    /// True if times are shown as UTC.
    pub(crate) fn shows_utc(&self) -> bool {
        self.utc
    }

    /// A time with its zone, e.g. "2025-03-01 12:03:15 +01:00" (or "... UTC").
    pub(crate) fn at(&self, at: DateTime<Utc>) -> String {
        if self.utc {
            at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
        } else {
            self.zoned(at).format("%Y-%m-%d %H:%M:%S %:z").to_string()
        }
    }

    /// A time with its zone and its distance from now, e.g. "2025-03-01 12:03:15 UTC (in 4 min)".
    pub(crate) fn at_relative(&self, at: DateTime<Utc>) -> String {
        format!("{} ({})", self.at(at), self.relative(at))
    }

    /// A time for a table column, without the zone (the column header names it).
    pub(crate) fn column(&self, at: DateTime<Utc>) -> String {
        self.zoned(at).format("%Y-%m-%d %H:%M:%S").to_string()
    }

    /// Two times as an interval; the second without its date when both fall on one day.
    pub(crate) fn window(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
        let (s, e) = (self.zoned(start), self.zoned(end));
        if s.date_naive() == e.date_naive() {
            let zone = if self.utc {
                "UTC".to_owned()
            } else {
                e.format("%:z").to_string()
            };
            format!(
                "{} to {} {zone}",
                s.format("%Y-%m-%d %H:%M:%S"),
                e.format("%H:%M:%S")
            )
        } else {
            format!("{} to {}", self.at(start), self.at(end))
        }
    }

    /// How far `at` is from now: "in 4 min", "3 min ago", "now".
    pub(crate) fn relative(&self, at: DateTime<Utc>) -> String {
        let seconds = (at - self.now).num_seconds();
        match seconds {
            0 => "now".to_owned(),
            s if s > 0 => format!("in {}", span(s.unsigned_abs())),
            s => format!("{} ago", span(s.unsigned_abs())),
        }
    }

    /// A protobuf time with its zone and distance from now, or `None` if unset or out of range.
    pub(crate) fn proto_relative(&self, at: Option<&prost_types::Timestamp>) -> Option<String> {
        time(at).map(|at| self.at_relative(at))
    }
}

/// A protobuf time as UTC; `None` if unset or out of range.
pub(crate) fn time(at: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    at.and_then(|at| time_from_proto("", Some(at)).ok())
}

/// A duration in seconds as "45 s", "12 min" or "2 h 5 min".
pub(crate) fn span(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3_600 => format!("{} min", s / 60),
        s if s % 3_600 < 60 => format!("{} h", s / 3_600),
        s => format!("{} h {} min", s / 3_600, s % 3_600 / 60),
    }
}

/// A protobuf enum name as words: its prefix dropped, lower case, spaces for underscores
/// ("ORDER_STATE_PICKED_UP" with prefix "ORDER_STATE_" is "picked up").
fn words(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .to_ascii_lowercase()
        .replace('_', " ")
}

/// Words for an enum value this version knows, or "unknown (N)".
fn enum_words<E: TryFrom<i32>>(
    value: i32,
    name: impl Fn(&E) -> &'static str,
    prefix: &str,
) -> String {
    match E::try_from(value) {
        Ok(known) => words(name(&known), prefix),
        Err(_) => format!("unknown ({value})"),
    }
}

/// An order state as words, e.g. "picked up".
pub(crate) fn order_state(value: i32) -> String {
    enum_words(value, pb::OrderState::as_str_name, "ORDER_STATE_")
}

/// An order event kind as words, e.g. "offer declined".
pub(crate) fn event_kind(value: i32) -> String {
    enum_words(value, pb::OrderEventKind::as_str_name, "ORDER_EVENT_KIND_")
}

/// Why the planner left an order unassigned, as words, e.g. "no courier".
pub(crate) fn unassigned_reason(value: i32) -> String {
    enum_words(
        value,
        pb::UnassignedReason::as_str_name,
        "UNASSIGNED_REASON_",
    )
}

/// A courier status as words, e.g. "on shift".
pub(crate) fn courier_status(value: i32) -> String {
    enum_words(value, pb::CourierStatus::as_str_name, "COURIER_STATUS_")
}

/// A vehicle type as a word, e.g. "bicycle".
pub(crate) fn vehicle(value: i32) -> String {
    enum_words(value, pb::VehicleType::as_str_name, "VEHICLE_TYPE_")
}

/// A stop kind as a word: "pickup" or "dropoff".
pub(crate) fn stop_kind(value: i32) -> String {
    enum_words(value, pb::StopKind::as_str_name, "STOP_KIND_")
}

/// A point as "52.52190, 13.41320"; "-" if unset.
pub(crate) fn point(p: Option<&pb::LatLng>) -> String {
    p.map_or_else(|| "-".to_owned(), |p| format!("{:.5}, {:.5}", p.lat, p.lng))
}

/// A place as "address (52.52190, 13.41320)", or the point alone without an address.
pub(crate) fn place(p: Option<&pb::Place>) -> String {
    match p {
        None => "-".to_owned(),
        Some(p) if p.address.is_empty() => point(p.location.as_ref()),
        Some(p) => format!("{} ({})", p.address, point(p.location.as_ref())),
    }
}

/// A load as "1000 g, 2000 ml"; "-" if unset.
pub(crate) fn load(l: Option<&pb::Load>) -> String {
    l.map_or_else(
        || "-".to_owned(),
        |l| format!("{} g, {} ml", l.weight_grams, l.volume_ml),
    )
}

/// "yes" or "no".
pub(crate) fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// Aligned `key: value` lines, in the order pushed.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    rows: Vec<(String, String)>,
}

impl Fields {
    /// Adds a line.
    pub(crate) fn push(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.rows.push((key.to_owned(), value.into()));
        self
    }

    /// Adds a line if there is a value.
    pub(crate) fn push_some(&mut self, key: &str, value: Option<String>) -> &mut Self {
        if let Some(value) = value {
            self.push(key, value);
        }
        self
    }

    /// The lines, each `indent` spaces in, values starting in one column.
    pub(crate) fn render(&self, indent: usize) -> String {
        let width = self
            .rows
            .iter()
            .map(|(k, _)| k.len() + 1)
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (key, value) in &self.rows {
            let key = format!("{key}:");
            let line = format!("{:indent$}{key:<width$} {value}", "");
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// A small table: a header and rows, columns padded to their widest cell, two spaces apart.
#[derive(Debug)]
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub(crate) fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Self {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra cells are dropped.
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The header and the rows, one line each.
    pub(crate) fn render(&self) -> String {
        let columns = self.header.len();
        let cell = |row: &[String], i: usize| row.get(i).map_or("", String::as_str).to_owned();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, width) in widths.iter_mut().enumerate() {
                *width = (*width).max(cell(row, i).chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, width) in widths.iter().enumerate().take(columns) {
                let text = cell(row, i);
                let pad = width.saturating_sub(text.chars().count());
                line.push_str(&text);
                if i + 1 < columns {
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn clock() -> Clock {
        Clock::new(Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap(), true)
    }

    #[test]
    fn times_say_when_and_how_far() {
        let at = Utc.with_ymd_and_hms(2025, 3, 1, 12, 4, 30).unwrap();
        assert_eq!(clock().at(at), "2025-03-01 12:04:30 UTC");
        assert_eq!(
            clock().at_relative(at),
            "2025-03-01 12:04:30 UTC (in 4 min)"
        );
        let before = Utc.with_ymd_and_hms(2025, 3, 1, 9, 55, 0).unwrap();
        assert_eq!(clock().relative(before), "2 h 5 min ago");
        assert_eq!(clock().relative(clock().now), "now");
        assert_eq!(clock().column(at), "2025-03-01 12:04:30");
        assert_eq!(clock().zone(), "UTC");
        assert_eq!(
            clock().window(before, at),
            "2025-03-01 09:55:00 to 12:04:30 UTC"
        );
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(0), "0 s");
        assert_eq!(span(59), "59 s");
        assert_eq!(span(60), "1 min");
        assert_eq!(span(3_599), "59 min");
        assert_eq!(span(7_200), "2 h");
        assert_eq!(span(7_260), "2 h 1 min");
    }

    #[test]
    fn enum_values_are_words() {
        assert_eq!(order_state(pb::OrderState::PickedUp as i32), "picked up");
        assert_eq!(order_state(99), "unknown (99)");
        assert_eq!(
            event_kind(pb::OrderEventKind::ReadyTimeRevised as i32),
            "ready time revised"
        );
        assert_eq!(
            unassigned_reason(pb::UnassignedReason::NoCourier as i32),
            "no courier"
        );
        assert_eq!(
            courier_status(pb::CourierStatus::OnShift as i32),
            "on shift"
        );
        assert_eq!(vehicle(pb::VehicleType::Bicycle as i32), "bicycle");
        assert_eq!(stop_kind(pb::StopKind::Dropoff as i32), "dropoff");
    }

    #[test]
    fn fields_and_tables_line_up() {
        let mut fields = Fields::default();
        fields
            .push("order", "o-1")
            .push("drop-off eta", "soon")
            .push("x", "");
        assert_eq!(
            fields.render(2),
            "  order:        o-1\n  drop-off eta: soon\n  x:\n"
        );

        let mut table = Table::new(["A", "LONGER", "C"]);
        table.row(vec!["wide cell".into(), "b".into(), "c".into()]);
        table.row(vec!["x".into()]);
        assert_eq!(
            table.render(),
            "A          LONGER  C\nwide cell  b       c\nx\n"
        );
    }
}
