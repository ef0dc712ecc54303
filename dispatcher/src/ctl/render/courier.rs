//! Couriers as text: the current state with the route's stops, and a track one fix per line.

use chrono::{DateTime, Utc};
use proto::dispatch::v1 as pb;

use crate::ctl::text::{
    Clock, Fields, Table, courier_status, load, place, point, span, stop_kind, time, vehicle,
    yes_no,
};

/// A courier's state, then the stops of the current route, if any.
pub(crate) fn courier(state: &pb::CourierState, clock: &Clock) -> String {
    let mut fields = Fields::default();
    fields.push("courier", state.courier_id.as_str());
    let mut status = courier_status(state.status);
    if let Some(end) = time(state.shift_end.as_ref()) {
        status.push_str(&format!(", shift ends {}", clock.at_relative(end)));
    }
    fields.push("status", status);
    fields.push("vehicle", vehicle(state.vehicle));
    fields.push("capacity", capacity(state.capacity.as_ref()));
    fields.push("connected", yes_no(state.connected));
    fields.push(
        "last fix",
        state
            .last_fix
            .as_ref()
            .map_or_else(|| "none".to_owned(), |fix| fix_text(fix, clock)),
    );
    fields.push(
        "on board",
        if state.on_board.is_empty() {
            "nothing".to_owned()
        } else {
            state.on_board.join(", ")
        },
    );
    let route = state.route.as_ref();
    fields.push(
        "route",
        match route {
            None => "none".to_owned(),
            Some(route) => {
                let planned = time(route.planned_at.as_ref())
                    .map(|t| format!(", planned {}", clock.at_relative(t)))
                    .unwrap_or_default();
                let plural = if route.stops.len() == 1 { "" } else { "s" };
                format!(
                    "version {}{planned}, {} stop{plural}",
                    route.version,
                    route.stops.len()
                )
            }
        },
    );
    if let Some(scope) = &state.scope {
        fields.push("scope", format!("{}/{}", scope.tenant_id, scope.region_id));
    }
    let mut out = fields.render(0);
    if let Some(route) = route.filter(|r| !r.stops.is_empty()) {
        out.push('\n');
        out.push_str(&stops(route, clock));
    }
    out
}

/// Where and when a fix was taken: "52.52190, 13.41320 at ... (5 s ago), within 5 m".
fn fix_text(fix: &pb::PositionFix, clock: &Clock) -> String {
    let mut text = point(fix.location.as_ref());
    if let Some(at) = time(fix.recorded_at.as_ref()) {
        text.push_str(&format!(" at {}", clock.at_relative(at)));
    }
    if fix.accuracy_m > 0.0 {
        text.push_str(&format!(", within {:.0} m", fix.accuracy_m));
    }
    text
}

/// The route's stops as a table, with the leg that leads to each.
fn stops(route: &pb::Route, clock: &Clock) -> String {
    let when = |t: Option<&prost_types::Timestamp>| {
        time(t).map_or_else(|| "-".to_owned(), |t| clock.column(t))
    };
    let mut table = Table::new([
        "#".to_owned(),
        "KIND".to_owned(),
        "ORDERS".to_owned(),
        format!("ETA ({})", clock.zone()),
        "ETD".to_owned(),
        "LEG".to_owned(),
        "PLACE".to_owned(),
    ]);
    for (i, stop) in route.stops.iter().enumerate() {
        let leg = route.legs.get(i).map_or_else(
            || "-".to_owned(),
            |leg| {
                format!(
                    "{}, {}",
                    span(u64::from(leg.duration_s)),
                    distance(leg.distance_m)
                )
            },
        );
        table.row(vec![
            (i + 1).to_string(),
            stop_kind(stop.kind),
            stop.order_ids.join(","),
            when(stop.eta.as_ref()),
            when(stop.etd.as_ref()),
            leg,
            place(stop.place.as_ref()),
        ]);
    }
    table.render()
}

/// Metres as "850 m" or "1.2 km".
fn distance(metres: u32) -> String {
    if metres < 1_000 {
        format!("{metres} m")
    } else {
        format!("{:.1} km", f64::from(metres) / 1_000.0)
    }
}

/// A courier's track between two times, one line per fix.
pub(crate) fn track(
    courier_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    response: &pb::GetCourierTrackResponse,
    clock: &Clock,
) -> String {
    let interval = format!("from {} to {}", clock.at(from), clock.at(to));
    if response.fixes.is_empty() {
        return format!("courier {courier_id}: no fixes {interval}\n");
    }
    let plural = if response.fixes.len() == 1 { "" } else { "es" };
    let thinned = if response.thinned {
        " (thinned: more were recorded)"
    } else {
        ""
    };
    let mut table = Table::new([
        format!("TIME ({})", clock.zone()),
        "LAT".to_owned(),
        "LNG".to_owned(),
        "ACCURACY".to_owned(),
        "SPEED".to_owned(),
        "HEADING".to_owned(),
    ]);
    for fix in &response.fixes {
        let (lat, lng) = fix.location.as_ref().map_or_else(
            || ("-".to_owned(), "-".to_owned()),
            |p| (format!("{:.5}", p.lat), format!("{:.5}", p.lng)),
        );
        table.row(vec![
            time(fix.recorded_at.as_ref()).map_or_else(|| "-".to_owned(), |t| clock.column(t)),
            lat,
            lng,
            unknown_if(fix.accuracy_m <= 0.0, || format!("{:.0} m", fix.accuracy_m)),
            unknown_if(fix.speed_mps < 0.0, || format!("{:.1} m/s", fix.speed_mps)),
            unknown_if(fix.heading_deg < 0.0, || {
                format!("{:.0} deg", fix.heading_deg)
            }),
        ]);
    }
    format!(
        "courier {courier_id}: {} fix{plural} {interval}{thinned}\n{}",
        response.fixes.len(),
        table.render()
    )
}

/// "-" when the value is unknown, else the value's text.
fn unknown_if(unknown: bool, text: impl FnOnce() -> String) -> String {
    if unknown { "-".to_owned() } else { text() }
}

/// A courier's capacity; none, or all zero, means the planner does not limit its load.
fn capacity(capacity: Option<&pb::Load>) -> String {
    match capacity {
        Some(c) if *c != pb::Load::default() => load(Some(c)),
        _ => "not limited".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;
    use crate::domain::convert::time_to_proto;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, h, m, s).unwrap()
    }

    fn ts(h: u32, m: u32, s: u32) -> Option<prost_types::Timestamp> {
        Some(time_to_proto(at(h, m, s)))
    }

    fn clock() -> Clock {
        Clock::new(at(12, 0, 0), true)
    }

    fn fix(s: u32, speed: f32) -> pb::PositionFix {
        pb::PositionFix {
            location: Some(pb::LatLng {
                lat: 52.52,
                lng: 13.4,
            }),
            recorded_at: ts(11, 59, s),
            accuracy_m: 5.0,
            speed_mps: speed,
            heading_deg: -1.0,
        }
    }

    #[test]
    fn a_courier_reads_as_fields_and_stops() {
        let state = pb::CourierState {
            courier_id: "c-1".into(),
            status: pb::CourierStatus::OnShift as i32,
            vehicle: pb::VehicleType::Bicycle as i32,
            capacity: Some(pb::Load {
                weight_grams: 20_000,
                volume_ml: 40_000,
            }),
            shift_end: ts(20, 0, 0),
            last_fix: Some(fix(55, 0.0)),
            on_board: vec!["o-1".into()],
            route: Some(pb::Route {
                courier_id: "c-1".into(),
                version: 3,
                planned_at: ts(11, 59, 0),
                stops: vec![pb::Stop {
                    kind: pb::StopKind::Dropoff as i32,
                    order_ids: vec!["o-1".into()],
                    place: Some(pb::Place {
                        address: "door".into(),
                        location: Some(pb::LatLng {
                            lat: 52.5,
                            lng: 13.4,
                        }),
                        ..Default::default()
                    }),
                    eta: ts(12, 5, 0),
                    etd: ts(12, 6, 0),
                    ..Default::default()
                }],
                legs: vec![pb::Leg {
                    duration_s: 300,
                    distance_m: 1_234,
                    polyline: String::new(),
                }],
            }),
            connected: true,
            ..Default::default()
        };
        assert_eq!(
            courier(&state, &clock()),
            "\
courier:   c-1
status:    on shift, shift ends 2025-03-01 20:00:00 UTC (in 8 h)
vehicle:   bicycle
capacity:  20000 g, 40000 ml
connected: yes
last fix:  52.52000, 13.40000 at 2025-03-01 11:59:55 UTC (5 s ago), within 5 m
on board:  o-1
route:     version 3, planned 2025-03-01 11:59:00 UTC (1 min ago), 1 stop

#  KIND     ORDERS  ETA (UTC)            ETD                  LEG            PLACE
1  dropoff  o-1     2025-03-01 12:05:00  2025-03-01 12:06:00  5 min, 1.2 km  door (52.50000, 13.40000)
"
        );
    }

    #[test]
    fn a_courier_without_a_capacity_is_not_limited() {
        for capacity in [None, Some(pb::Load::default())] {
            let state = pb::CourierState {
                courier_id: "c-1".into(),
                capacity,
                ..Default::default()
            };
            let text = courier(&state, &clock());
            assert!(text.contains("\ncapacity:  not limited\n"), "{text}");
        }
    }

    #[test]
    fn a_track_is_one_line_per_fix() {
        let response = pb::GetCourierTrackResponse {
            fixes: vec![fix(0, 4.3), fix(30, -1.0)],
            thinned: true,
        };
        assert_eq!(
            track("c-1", at(11, 0, 0), at(12, 0, 0), &response, &clock()),
            "\
courier c-1: 2 fixes from 2025-03-01 11:00:00 UTC to 2025-03-01 12:00:00 UTC (thinned: more were recorded)
TIME (UTC)           LAT       LNG       ACCURACY  SPEED    HEADING
2025-03-01 11:59:00  52.52000  13.40000  5 m       4.3 m/s  -
2025-03-01 11:59:30  52.52000  13.40000  5 m       -        -
"
        );
        let empty = pb::GetCourierTrackResponse::default();
        assert_eq!(
            track("c-1", at(11, 0, 0), at(12, 0, 0), &empty, &clock()),
            "courier c-1: no fixes from 2025-03-01 11:00:00 UTC to 2025-03-01 12:00:00 UTC\n"
        );
    }
}
