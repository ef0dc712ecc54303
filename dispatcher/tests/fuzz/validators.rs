//! (b) The validators on structured hostile input: each either accepts, and then the value keeps
//! the API's rules (checked here independently, from the .proto comments, not by calling the
//! validator again), or refuses naming a field that exists in the message.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use dispatcher::{
    core::CourierCommand,
    domain::{
        OrderSpec, ValidationError,
        convert::{fixes_from_proto, order_spec_from_proto, order_spec_to_proto},
    },
};
use proptest::prelude::*;
use proto::dispatch::v1::{self as pb, courier_up::Body};

use crate::{config, r#gen};

/// The service clock of these properties.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

/// The field paths of `OrderSpec` a refusal may name (indices of repeated fields removed).
pub(crate) const ORDER_FIELDS: &[&str] = &[
    "order.order_id",
    "order.kitchen_id",
    "order.placed_at",
    "order.pickup",
    "order.pickup.location",
    "order.pickup.address",
    "order.pickup.instructions",
    "order.ready_at",
    "order.pickup_service_s",
    "order.dropoff",
    "order.dropoff.location",
    "order.dropoff.address",
    "order.dropoff.instructions",
    "order.promised",
    "order.promised.start",
    "order.promised.end",
    "order.dropoff_service_s",
    "order.size.weight_grams",
    "order.size.volume_ml",
    "order.allowed_vehicles[]",
    "order.required_equipment",
    "order.required_equipment[]",
];

/// `field` with every `[n]` turned into `[]`.
pub(crate) fn without_indices(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// Asserts that a refusal names one of `fields` and says something about it.
#[track_caller]
pub(crate) fn assert_names(error: &ValidationError, fields: &[&str]) {
    let field = without_indices(&error.field);
    assert!(
        fields.contains(&field.as_str()),
        "refusal names an unknown field: {error}"
    );
    assert!(
        !error.problem.is_empty(),
        "refusal without a problem: {error}"
    );
}

fn id_ok(id: &str) -> bool {
    (1..=128).contains(&id.len()) && !id.chars().any(char::is_control)
}

fn within(at: DateTime<Utc>, past: TimeDelta, future: TimeDelta) -> bool {
    at >= now() - past && at <= now() + future
}

/// The rules of an accepted order, from common.proto and the documented bounds.
fn assert_order_rules(spec: &OrderSpec) {
    assert!(id_ok(&spec.order_id) && id_ok(&spec.kitchen_id));
    assert!(within(
        spec.placed_at,
        TimeDelta::days(7),
        TimeDelta::minutes(5)
    ));
    for at in [spec.ready_at, spec.promised_start, spec.promised_end] {
        assert!(within(at, TimeDelta::days(1), TimeDelta::days(7)), "{at}");
    }
    assert!(spec.promised_start <= spec.promised_end);
    assert!(spec.promised_end - spec.promised_start <= TimeDelta::days(1));
    assert!(spec.ready_at <= spec.promised_end);
    for place in [&spec.pickup, &spec.dropoff] {
        let (lat, lng) = (place.location.lat(), place.location.lng());
        assert!(lat.is_finite() && lng.is_finite());
        assert!(lat.abs() <= 90.0 && lng.abs() <= 180.0);
        assert!(place.address.len() <= 512 && place.instructions.len() <= 1024);
        assert!(!place.address.contains('\0') && !place.instructions.contains('\0'));
    }
    assert!(spec.pickup_service_s <= 86_400 && spec.dropoff_service_s <= 86_400);
    assert!(spec.size.weight_g <= 1_000_000 && spec.size.volume_ml <= 10_000_000);
    for (i, vehicle) in spec.allowed_vehicles.iter().enumerate() {
        assert!(
            !spec.allowed_vehicles[..i].contains(vehicle),
            "listed twice"
        );
    }
    assert!(spec.required_equipment.len() <= 16);
    for tag in &spec.required_equipment {
        assert!((1..=64).contains(&tag.len()) && !tag.chars().any(char::is_control));
    }
}

proptest! {
    // Pure functions: many cases cost little.
    #![proptest_config(config(1024))]

    #[test]
    fn an_order_spec_is_accepted_intact_or_refused_by_field(o in r#gen::order_spec(now())) {
        match order_spec_from_proto(Some(&o), now()) {
            Ok(spec) => {
                assert_order_rules(&spec);
                // Nothing was changed on the way in (an unset size is the zero load).
                let mut sent = o.clone();
                sent.size.get_or_insert_with(Default::default);
                prop_assert_eq!(order_spec_to_proto(&spec), sent);
            }
            Err(error) => assert_names(&error, ORDER_FIELDS),
        }
    }

    #[test]
    fn a_fix_batch_is_accepted_in_range_or_refused_by_field(fixes in r#gen::fixes(now())) {
        match fixes_from_proto("positions.fixes", &fixes, now()) {
            Ok(accepted) => {
                prop_assert!((1..=1000).contains(&accepted.len()));
                prop_assert!(accepted.windows(2).all(|w| w[0].recorded_at <= w[1].recorded_at));
                for f in &accepted {
                    prop_assert!(within(f.recorded_at, TimeDelta::days(7), TimeDelta::minutes(5)));
                    prop_assert!(f.location.lat().abs() <= 90.0 && f.location.lng().abs() <= 180.0);
                    prop_assert!((0.0..=100_000.0).contains(&f.accuracy_m));
                    prop_assert!(f.speed_mps.is_finite() && f.speed_mps.abs() <= 1000.0);
                    prop_assert!(f.heading_deg.is_finite() && f.heading_deg <= 360.0);
                }
            }
            Err(error) => assert_names(&error, &[
                "positions.fixes",
                "positions.fixes[].location",
                "positions.fixes[].recorded_at",
                "positions.fixes[].accuracy_m",
                "positions.fixes[].speed_mps",
                "positions.fixes[].heading_deg",
            ]),
        }
    }

    #[test]
    fn a_courier_message_is_accepted_or_refused_by_field(body in courier_body()) {
        match CourierCommand::from_proto(&body, now()) {
            Ok(CourierCommand::Status { shift_end: Some(end), .. }) => {
                prop_assert!(within(end, TimeDelta::days(1), TimeDelta::hours(24)));
            }
            Ok(
                CourierCommand::Arrived { at, .. }
                | CourierCommand::PickedUp { at, .. }
                | CourierCommand::Delivered { at, .. }
                | CourierCommand::Failed { at, .. },
            ) => prop_assert!(within(at, TimeDelta::days(7), TimeDelta::minutes(5))),
            Ok(_) => {}
            Err(error) => assert_names(&error, COURIER_FIELDS),
        }
    }
}

pub(crate) const COURIER_FIELDS: &[&str] = &[
    "hello",
    "positions.fixes",
    "positions.fixes[].location",
    "positions.fixes[].recorded_at",
    "positions.fixes[].accuracy_m",
    "positions.fixes[].speed_mps",
    "positions.fixes[].heading_deg",
    "status.status",
    "status.shift_end",
    "accept.offer_id",
    "decline.offer_id",
    "decline.note",
    "arrived.stop_id",
    "arrived.arrived_at",
    "picked_up.order_id",
    "picked_up.picked_up_at",
    "delivered.order_id",
    "delivered.delivered_at",
    "failed.order_id",
    "failed.note",
    "failed.failed_at",
];

/// Any message a courier app could send after Hello.
pub(crate) fn courier_body() -> impl Strategy<Value = Body> {
    let at = || r#gen::timestamp(now(), 8 * 86_400);
    prop_oneof![
        r#gen::fixes(now()).prop_map(|fixes| Body::Positions(pb::PositionUpdate { fixes })),
        (r#gen::enum_value(3), at())
            .prop_map(|(status, shift_end)| Body::Status(pb::StatusChange { status, shift_end })),
        r#gen::text().prop_map(|offer_id| Body::Accept(pb::AcceptOffer { offer_id })),
        (r#gen::text(), r#gen::enum_value(5), r#gen::text()).prop_map(
            |(offer_id, reason, note)| {
                Body::Decline(pb::DeclineOffer {
                    offer_id,
                    reason,
                    note,
                })
            }
        ),
        (r#gen::text(), at()).prop_map(|(stop_id, arrived_at)| Body::Arrived(pb::ArrivedAtStop {
            stop_id,
            arrived_at
        })),
        (r#gen::text(), at()).prop_map(|(order_id, picked_up_at)| {
            Body::PickedUp(pb::PickedUp {
                order_id,
                picked_up_at,
            })
        }),
        (r#gen::text(), at()).prop_map(|(order_id, delivered_at)| {
            Body::Delivered(pb::Delivered {
                order_id,
                delivered_at,
            })
        }),
        (r#gen::text(), r#gen::enum_value(6), r#gen::text(), at()).prop_map(
            |(order_id, reason, note, failed_at)| {
                Body::Failed(pb::DeliveryFailed {
                    order_id,
                    reason,
                    note,
                    failed_at,
                })
            }
        ),
        Just(Body::Hello(pb::Hello::default())),
    ]
}
