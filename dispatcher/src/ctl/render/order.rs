//! Orders as text: the current status, the history one event per line, and the planner's reasons.

use proto::dispatch::v1 as pb;

use crate::ctl::text::{
    Clock, Fields, Table, event_kind, load, order_state, place, time, unassigned_reason, vehicle,
    yes_no,
};

/// An order's status: state, courier, overrides and ETAs first, then what was ordered.
pub(crate) fn order_status(status: &pb::OrderStatus, clock: &Clock) -> String {
    let spec = status.spec.clone().unwrap_or_default();
    let mut fields = Fields::default();
    fields.push("order", spec.order_id.as_str());
    let mut state = order_state(status.state);
    if let Some(since) = time(status.state_changed_at.as_ref()) {
        state.push_str(&format!(", since {}", clock.at_relative(since)));
    }
    fields.push("state", state);
    fields.push("courier", none_if_empty(&status.courier_id));
    fields.push("pinned", yes_no(status.pinned));
    fields.push("held", yes_no(status.held));
    if status.unassigned_reason != pb::UnassignedReason::Unspecified as i32 {
        fields.push("unassigned", unassigned_reason(status.unassigned_reason));
    }
    fields.push(
        "pickup eta",
        clock
            .proto_relative(status.pickup_eta.as_ref())
            .unwrap_or_else(|| "not planned".to_owned()),
    );
    fields.push("drop-off eta", dropoff_eta(status, &spec, clock));
    fields.push("kitchen", spec.kitchen_id.as_str());
    fields.push("pickup", place(spec.pickup.as_ref()));
    if let Some(ready) = clock.proto_relative(spec.ready_at.as_ref()) {
        let revision = match status.ready_revision {
            0 => String::new(),
            n => format!(", revision {n}"),
        };
        fields.push("ready at", format!("{ready}{revision}"));
    }
    fields.push("drop-off", place(spec.dropoff.as_ref()));
    if let Some(promised) = &spec.promised
        && let (Some(start), Some(end)) =
            (time(promised.start.as_ref()), time(promised.end.as_ref()))
    {
        let hard = if spec.hard_window { ", hard" } else { "" };
        fields.push("promised", format!("{}{hard}", clock.window(start, end)));
    }
    fields.push("size", load(spec.size.as_ref()));
    if !spec.allowed_vehicles.is_empty() {
        let vehicles: Vec<String> = spec.allowed_vehicles.iter().map(|&v| vehicle(v)).collect();
        fields.push("vehicles", vehicles.join(", "));
    }
    if !spec.required_equipment.is_empty() {
        fields.push("equipment", spec.required_equipment.join(", "));
    }
    fields.push_some("placed at", clock.proto_relative(spec.placed_at.as_ref()));
    if let Some(scope) = &status.scope {
        fields.push("scope", format!("{}/{}", scope.tenant_id, scope.region_id));
    }
    fields.render(0)
}

/// The drop-off ETA with whether it keeps the promise: "... (in 20 min), on time" or "3 min late".
fn dropoff_eta(status: &pb::OrderStatus, spec: &pb::OrderSpec, clock: &Clock) -> String {
    let Some(eta) = time(status.dropoff_eta.as_ref()) else {
        return "not planned".to_owned();
    };
    let promised_end = spec.promised.as_ref().and_then(|p| time(p.end.as_ref()));
    let punctuality = match promised_end {
        Some(end) if eta > end => {
            let minutes = ((eta - end).num_seconds() + 59) / 60;
            format!(", {minutes} min late")
        }
        Some(_) => ", on time".to_owned(),
        None => String::new(),
    };
    format!("{}{punctuality}", clock.at_relative(eta))
}

/// What an override did, then the order's status after it.
pub(crate) fn overridden(done: &str, status: &pb::OrderStatus, clock: &Clock) -> String {
    let order_id = status.spec.as_ref().map_or("", |s| s.order_id.as_str());
    format!("order {order_id} {done}\n\n{}", order_status(status, clock))
}

/// An order's history, one line per event, oldest first.
pub(crate) fn history(order_id: &str, events: &[pb::OrderEvent], clock: &Clock) -> String {
    if events.is_empty() {
        return format!("order {order_id} has no events yet\n");
    }
    let plural = if events.len() == 1 { "" } else { "s" };
    let mut table = Table::new([
        format!("TIME ({})", clock.zone()),
        "EVENT".to_owned(),
        "STATE".to_owned(),
        "ACTOR".to_owned(),
        "DETAILS".to_owned(),
    ]);
    for event in events {
        table.row(vec![
            time(event.occurred_at.as_ref()).map_or_else(|| "-".to_owned(), |t| clock.column(t)),
            event_kind(event.kind),
            transition(event.from_state, event.to_state),
            none_if_empty(&event.actor),
            details(event, clock),
        ]);
    }
    format!(
        "order {order_id}: {} event{plural}\n{}",
        events.len(),
        table.render()
    )
}

/// "placed -> offered", or one state when the event does not change it.
fn transition(from: i32, to: i32) -> String {
    if from == to || from == pb::OrderState::Unspecified as i32 {
        order_state(to)
    } else {
        format!("{} -> {}", order_state(from), order_state(to))
    }
}

/// The courier, the new ready time and the reason of an event, those it has.
fn details(event: &pb::OrderEvent, clock: &Clock) -> String {
    let mut parts = Vec::new();
    if !event.courier_id.is_empty() {
        parts.push(format!("courier {}", event.courier_id));
    }
    if let Some(ready) = time(event.ready_at.as_ref()) {
        parts.push(format!("ready at {}", clock.column(ready)));
    }
    if !event.reason.is_empty() {
        parts.push(event.reason.clone());
    }
    parts.join("; ")
}

/// The planner's reasons: the service's summary, then its last decision about the order.
pub(crate) fn explain(response: &pb::ExplainOrderResponse, clock: &Clock) -> String {
    let mut out = format!("{}\n", response.summary);
    if !clock.shows_utc() && !response.summary.is_empty() {
        out.push_str("(the sentence above gives times in UTC)\n");
    }
    let Some(decision) = &response.last_decision else {
        out.push_str("\nlast decision: none recorded yet\n");
        return out;
    };
    let mut fields = Fields::default();
    fields.push("round", decision.plan_version.to_string());
    fields.push_some(
        "decided at",
        clock.proto_relative(decision.decided_at.as_ref()),
    );
    fields.push("courier", none_if_empty(&decision.courier_id));
    if !decision.previous_courier_id.is_empty() {
        fields.push("previous courier", decision.previous_courier_id.as_str());
    }
    fields.push("reason", none_if_empty(&decision.reason_code));
    if decision.unassigned_reason != pb::UnassignedReason::Unspecified as i32 {
        fields.push("unassigned", unassigned_reason(decision.unassigned_reason));
    }
    fields.push_some(
        "pickup eta",
        clock.proto_relative(decision.pickup_eta.as_ref()),
    );
    fields.push_some(
        "drop-off eta",
        clock.proto_relative(decision.dropoff_eta.as_ref()),
    );
    fields.push(
        "lateness",
        match decision.expected_lateness_s {
            0 => "none expected".to_owned(),
            s => crate::ctl::text::span(u64::from(s)),
        },
    );
    fields.push("cost delta", format!("{:.2}", decision.cost_delta));
    if !decision.detail.is_empty() {
        fields.push("detail", decision.detail.as_str());
    }
    out.push_str("\nlast decision:\n");
    out.push_str(&fields.render(2));
    out
}

/// The text, or "none" if empty.
fn none_if_empty(text: &str) -> String {
    if text.is_empty() {
        "none".to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone as _, Utc};

    use super::*;
    use crate::domain::convert::time_to_proto;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, h, m, 0).unwrap()
    }

    fn ts(h: u32, m: u32) -> Option<prost_types::Timestamp> {
        Some(time_to_proto(at(h, m)))
    }

    fn clock() -> Clock {
        Clock::new(at(12, 0), true)
    }

    fn status() -> pb::OrderStatus {
        pb::OrderStatus {
            scope: Some(pb::Scope {
                tenant_id: "demo".into(),
                region_id: "city".into(),
            }),
            spec: Some(pb::OrderSpec {
                order_id: "o-1".into(),
                kitchen_id: "k-1".into(),
                placed_at: ts(11, 50),
                pickup: Some(pb::Place {
                    location: Some(pb::LatLng {
                        lat: 52.5219,
                        lng: 13.4132,
                    }),
                    address: "kitchen".into(),
                    instructions: String::new(),
                }),
                ready_at: ts(12, 10),
                dropoff: Some(pb::Place {
                    location: Some(pb::LatLng {
                        lat: 52.5,
                        lng: 13.4,
                    }),
                    ..Default::default()
                }),
                promised: Some(pb::TimeWindow {
                    start: ts(12, 0),
                    end: ts(12, 30),
                }),
                size: Some(pb::Load {
                    weight_grams: 1000,
                    volume_ml: 2000,
                }),
                ..Default::default()
            }),
            state: pb::OrderState::Accepted as i32,
            courier_id: "c-7".into(),
            pickup_eta: ts(12, 12),
            dropoff_eta: ts(12, 33),
            pinned: true,
            state_changed_at: ts(11, 58),
            ready_revision: 2,
            ..Default::default()
        }
    }

    #[test]
    fn an_order_reads_as_aligned_fields() {
        assert_eq!(
            order_status(&status(), &clock()),
            "\
order:        o-1
state:        accepted, since 2025-03-01 11:58:00 UTC (2 min ago)
courier:      c-7
pinned:       yes
held:         no
pickup eta:   2025-03-01 12:12:00 UTC (in 12 min)
drop-off eta: 2025-03-01 12:33:00 UTC (in 33 min), 3 min late
kitchen:      k-1
pickup:       kitchen (52.52190, 13.41320)
ready at:     2025-03-01 12:10:00 UTC (in 10 min), revision 2
drop-off:     52.50000, 13.40000
promised:     2025-03-01 12:00:00 to 12:30:00 UTC
size:         1000 g, 2000 ml
placed at:    2025-03-01 11:50:00 UTC (10 min ago)
scope:        demo/city
"
        );
    }

    #[test]
    fn an_unplanned_held_order_says_so() {
        let mut held = status();
        held.state = pb::OrderState::Placed as i32;
        held.courier_id.clear();
        held.pinned = false;
        held.held = true;
        held.unassigned_reason = pb::UnassignedReason::Held as i32;
        held.pickup_eta = None;
        held.dropoff_eta = None;
        let text = overridden("held", &held, &clock());
        assert!(text.starts_with("order o-1 held\n\norder:"), "{text}");
        for line in [
            "\ncourier:      none\n",
            "\nheld:         yes\n",
            "\nunassigned:   held\n",
            "\npickup eta:   not planned\n",
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
    }

    #[test]
    fn a_history_is_one_line_per_event() {
        let event =
            |m, kind: pb::OrderEventKind, from, to, actor: &str, reason: &str| pb::OrderEvent {
                occurred_at: ts(11, m),
                kind: kind as i32,
                from_state: from as i32,
                to_state: to as i32,
                actor: actor.into(),
                reason: reason.into(),
                ..Default::default()
            };
        use pb::{OrderEventKind as K, OrderState as S};
        let mut offered = event(51, K::Offered, S::Placed, S::Offered, "planner", "");
        offered.courier_id = "c-7".into();
        let events = [
            event(50, K::Placed, S::Unspecified, S::Placed, "kitchen:k-1", ""),
            offered,
            event(
                52,
                K::Held,
                S::Offered,
                S::Placed,
                "support:ann",
                "customer called",
            ),
        ];
        assert_eq!(
            history("o-1", &events, &clock()),
            "\
order o-1: 3 events
TIME (UTC)           EVENT    STATE              ACTOR        DETAILS
2025-03-01 11:50:00  placed   placed             kitchen:k-1
2025-03-01 11:51:00  offered  placed -> offered  planner      courier c-7
2025-03-01 11:52:00  held     offered -> placed  support:ann  customer called
"
        );
        assert_eq!(
            history("o-2", &[], &clock()),
            "order o-2 has no events yet\n"
        );
    }

    #[test]
    fn an_explanation_gives_the_summary_and_the_decision() {
        let response = pb::ExplainOrderResponse {
            status: Some(status()),
            last_decision: Some(pb::AssignmentDecision {
                decided_at: ts(11, 59),
                plan_version: 14,
                courier_id: "c-7".into(),
                reason_code: "best_insertion".into(),
                expected_lateness_s: 180,
                cost_delta: 12.5,
                ..Default::default()
            }),
            summary: "Order o-1 is accepted by courier c-7.".into(),
        };
        assert_eq!(
            explain(&response, &clock()),
            "\
Order o-1 is accepted by courier c-7.

last decision:
  round:      14
  decided at: 2025-03-01 11:59:00 UTC (1 min ago)
  courier:    c-7
  reason:     best_insertion
  lateness:   3 min
  cost delta: 12.50
"
        );
        let never = pb::ExplainOrderResponse {
            last_decision: None,
            ..response
        };
        assert!(explain(&never, &clock()).ends_with("\nlast decision: none recorded yet\n"));
    }
}
