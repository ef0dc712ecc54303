//! (c) Hostile requests of every type through the gRPC server of the embedded service: the answer
//! is a success or a refusal the caller can act on (invalid argument naming a field, not found
//! naming the id, failed precondition, already exists, permission denied); never an internal
//! error, an unavailable service or a dropped connection. Calls carry the tokens of
//! `tests/common/clients.rs`.

use chrono::Utc;
use proptest::prelude::*;
use proto::dispatch::v1::{self as pb, courier_down, courier_up};
use tokio_stream::StreamExt as _;
use tonic::{Code, Status};

use crate::{
    clients::ADMIN,
    config, r#gen,
    service::fixture,
    validators::{COURIER_FIELDS, ORDER_FIELDS, courier_body, without_indices},
};

/// Request fields other than the order's that a refusal may name.
const REQUEST_FIELDS: &[&str] = &[
    "scope",
    "scope.tenant_id",
    "scope.region_id",
    "order",
    "order_id",
    "ready_at",
    "revision",
    "reason",
    "kitchen_id",
    "courier_id",
    "to_courier_id",
    "from",
    "to",
    "until",
    "context",
    "context.operator_id",
    "context.reason",
    "hello.scope",
    "hello.scope.tenant_id",
    "hello.scope.region_id",
    "hello.courier_id",
    "hello.app_version",
    "hello.vehicle",
    "hello.capacity.weight_grams",
    "hello.capacity.volume_ml",
    "hello.equipment",
    "hello.equipment[]",
];

/// Asserts that a status is one a hostile caller may get.
#[track_caller]
fn assert_refusal_is_actionable(status: &Status) {
    match status.code() {
        Code::InvalidArgument => {
            let (field, problem) = status
                .message()
                .split_once(": ")
                .unwrap_or_else(|| panic!("no field named: {status:?}"));
            let field = without_indices(field);
            assert!(
                REQUEST_FIELDS.contains(&field.as_str()) || ORDER_FIELDS.contains(&field.as_str()),
                "unknown field {field:?} in {status:?}"
            );
            assert!(!problem.is_empty());
        }
        Code::NotFound => assert!(status.message().contains("not found"), "{status:?}"),
        // Permission: a scope of another tenant, an override in another operator's name.
        Code::FailedPrecondition | Code::AlreadyExists | Code::PermissionDenied => {}
        _ => panic!("hostile request answered with {status:?}"),
    }
}

/// Runs one call on the fixture's runtime and checks its outcome.
fn check<T>(call: impl Future<Output = Result<T, Status>>) {
    if let Err(status) = fixture().runtime.block_on(call) {
        assert_refusal_is_actionable(&status);
    }
}

fn scope() -> impl Strategy<Value = Option<pb::Scope>> {
    r#gen::scope(fixture().region.to_scope())
}

/// An id: usually one the service may know ("o-1"/"c-1"), sometimes hostile.
fn id() -> impl Strategy<Value = String> {
    prop_oneof![2 => Just("o-1".to_owned()), 2 => Just("c-1".to_owned()), 3 => r#gen::text()]
}

fn context() -> impl Strategy<Value = Option<pb::OverrideContext>> {
    // Mostly in the caller's own name, so the override reaches the checks past permission.
    let operator = prop_oneof![3 => Just(ADMIN.to_owned()), 1 => r#gen::text()];
    proptest::option::weighted(
        0.9,
        (operator, r#gen::text()).prop_map(|(operator_id, reason)| pb::OverrideContext {
            operator_id,
            reason,
        }),
    )
}

fn at() -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    r#gen::timestamp(Utc::now(), 10 * 86_400)
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn kitchen_requests(
        scope in scope(),
        order in proptest::option::weighted(0.95, r#gen::order_spec(Utc::now())),
        order_id in id(),
        ready_at in at(),
        revision in r#gen::counter(),
        reason in r#gen::text(),
        kitchen_id in id(),
    ) {
        let mut kitchen = fixture().clients.kitchen.clone();
        check(kitchen.create_order(pb::CreateOrderRequest { scope: scope.clone(), order }));
        check(kitchen.revise_ready_time(pb::ReviseReadyTimeRequest {
            scope: scope.clone(),
            order_id: order_id.clone(),
            ready_at,
            revision,
        }));
        check(kitchen.watch_pickup_etas(pb::WatchPickupEtasRequest {
            scope: scope.clone(),
            kitchen_id,
        }));
        check(kitchen.cancel_order(pb::CancelOrderRequest { scope, order_id, reason }));
    }

    #[test]
    fn support_requests(
        scope in scope(),
        order_id in id(),
        courier_id in id(),
        (from, to, until) in (at(), at(), at()),
        max_points in r#gen::count(20_000),
        context in context(),
    ) {
        let mut support = fixture().clients.support.clone();
        check(support.get_order(pb::GetOrderRequest { scope: scope.clone(), order_id: order_id.clone() }));
        check(support.get_order_history(pb::GetOrderHistoryRequest {
            scope: scope.clone(),
            order_id: order_id.clone(),
        }));
        check(support.explain_order(pb::ExplainOrderRequest { scope: scope.clone(), order_id: order_id.clone() }));
        check(support.get_courier(pb::GetCourierRequest { scope: scope.clone(), courier_id: courier_id.clone() }));
        check(support.get_courier_track(pb::GetCourierTrackRequest {
            scope: scope.clone(),
            courier_id: courier_id.clone(),
            from,
            to,
            max_points,
        }));
        check(support.reassign_order(pb::ReassignOrderRequest {
            scope: scope.clone(),
            order_id: order_id.clone(),
            to_courier_id: courier_id.clone(),
            context: context.clone(),
        }));
        check(support.pin_order(pb::PinOrderRequest {
            scope: scope.clone(),
            order_id: order_id.clone(),
            courier_id,
            context: context.clone(),
        }));
        check(support.hold_order(pb::HoldOrderRequest {
            scope: scope.clone(),
            order_id: order_id.clone(),
            until,
            context: context.clone(),
        }));
        check(support.release_order(pb::ReleaseOrderRequest {
            scope: scope.clone(),
            order_id: order_id.clone(),
            context: context.clone(),
        }));
        check(support.cancel_order(pb::SupportCancelOrderRequest { scope, order_id, context }));
    }

    #[test]
    fn courier_sessions(
        scope in scope(),
        courier_id in r#gen::text(),
        vehicle in r#gen::enum_value(4),
        (weight, volume) in (r#gen::count(30_000), r#gen::count(60_000)),
        equipment in proptest::collection::vec(r#gen::text(), 0..3),
        app_version in r#gen::text(),
        body in courier_body(),
        seq in prop_oneof![4 => Just(1u64), 1 => r#gen::counter()],
    ) {
        let hello = pb::Hello {
            scope,
            courier_id,
            vehicle,
            capacity: Some(pb::Load { weight_grams: weight, volume_ml: volume }),
            equipment,
            app_version,
        };
        fixture().runtime.block_on(session(hello, body, seq));
    }
}

/// Opens a session with `hello`; if it opens, sends `body` as message `seq` and expects it
/// acknowledged (with or without a rejection naming a field), the session still open.
async fn session(hello: pb::Hello, body: courier_up::Body, seq: u64) {
    // A token can only name a subject of 1 to 128 bytes; for any other courier id the session is
    // opened by someone else and must be refused.
    let courier_id = if (1..=128).contains(&hello.courier_id.len()) {
        hello.courier_id.clone()
    } else {
        "someone-else".to_owned()
    };
    let (up, rx) = tokio::sync::mpsc::channel(4);
    let message = |seq, body| pb::CourierUp {
        seq,
        sent_at: None,
        body: Some(body),
    };
    up.send(message(0, courier_up::Body::Hello(hello)))
        .await
        .expect("the stream takes hello");
    let mut courier = fixture().clients.courier(&courier_id);
    let mut down = match courier
        .session(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
    {
        Ok(down) => down.into_inner(),
        Err(status) => return assert_refusal_is_actionable(&status),
    };
    let first = down.next().await;
    let welcome = match first {
        Some(Ok(m)) => m,
        Some(Err(status)) => return assert_refusal_is_actionable(&status),
        None => panic!("the session ended before a welcome"),
    };
    // A courier id seen before continues from its durable seq.
    let last = match welcome.body {
        Some(courier_down::Body::Welcome(w)) => w.last_durable_seq,
        other => panic!("first message is not a welcome: {other:?}"),
    };
    let seq = if seq == 1 { last + 1 } else { seq };
    up.send(message(seq, body))
        .await
        .expect("the stream is open");
    loop {
        let next = down
            .next()
            .await
            .expect("the session stays open")
            .expect("the session ends without an error");
        match next.body {
            Some(courier_down::Body::Rejected(r)) => {
                assert_eq!(r.seq, seq);
                if r.code == "invalid_argument" {
                    let text = r.message.trim_start_matches("invalid argument: ");
                    let field = text.split_once(": ").map(|(f, _)| without_indices(f));
                    let field = field.unwrap_or_default();
                    assert!(
                        COURIER_FIELDS.contains(&field.as_str()) || field == "seq",
                        "rejection names no field: {r:?}"
                    );
                }
            }
            Some(courier_down::Body::Ack(a)) if a.seq >= seq => return,
            _ => {}
        }
    }
}
