//! (a) Bytes off the broker: arbitrary, mutated from valid envelopes, or valid protobuf with
//! hostile content, through the decoder, every inbound check and the core's ingest. Nothing may
//! panic, nothing may look like a storage failure (which the consumer would retry for ever), and
//! every refusal must name what it refuses.

use chrono::Utc;
use dispatcher::{
    bus::{RejectReason, TenantSource, inbound::decode_parts, routing},
    core::CoreError,
    domain::convert::time_to_proto,
};
use proptest::prelude::*;
use prost::Message as _;
use proto::dispatch::v1::{self as pb, envelope::Payload};

use crate::{
    config, r#gen,
    service::{Fixture, fixture},
    validators::{ORDER_FIELDS, assert_names},
};

/// What a dead-letter reason must start with or contain: the part of the message it refuses.
const REASON_SUBJECTS: &[&str] = &[
    "content type",
    "body:",
    "undecodable envelope",
    "event_id",
    "scope",
    "payload:",
    "routing key",
    "user_id:",
];

/// Asserts that a decoder refusal says which part of the message it refuses.
#[track_caller]
pub(crate) fn assert_reason_names_part(reason: &RejectReason) {
    let text = reason.to_string();
    assert!(
        REASON_SUBJECTS.iter().any(|s| text.contains(s)),
        "reason names nothing: {text}"
    );
}

/// Field paths an inbound envelope's refusal may name.
fn envelope_fields() -> Vec<&'static str> {
    let mut fields = vec![
        "scope",
        "event_id",
        "source",
        "occurred_at",
        "payload",
        "order",
        "order_id",
        "ready_at",
        "revision",
        "reason",
        "position_batch.courier_id",
        "position_batch.fixes",
        "position_batch.fixes[].location",
        "position_batch.fixes[].recorded_at",
        "position_batch.fixes[].accuracy_m",
        "position_batch.fixes[].speed_mps",
        "position_batch.fixes[].heading_deg",
    ];
    fields.extend_from_slice(ORDER_FIELDS);
    fields
}

/// Decodes `body` as if delivered with `routing_key`, and ingests it if it passes; panics (fails
/// the case) on any outcome a hostile message must not have. Returns the refusal, as the
/// dead-letter reason would say it.
pub(crate) fn deliver(fixture: &Fixture, routing_key: &str, body: &[u8]) -> Result<(), String> {
    let envelope = match decode_parts(
        proto::ENVELOPE_CONTENT_TYPE,
        routing_key,
        None,
        body,
        TenantSource::RoutingKey,
    ) {
        Ok(envelope) => envelope,
        Err(reason) => {
            assert_reason_names_part(&reason);
            return Err(reason.to_string());
        }
    };
    let result = fixture
        .runtime
        .block_on(fixture.running.core.ingest(&envelope));
    let error = match result {
        Ok(_) => return Ok(()),
        Err(error) => error,
    };
    match &error {
        CoreError::Invalid(invalid) => assert_names(invalid, &envelope_fields()),
        CoreError::NotFound { id, .. } => assert!(!id.is_empty()),
        CoreError::AlreadyExists { .. }
        | CoreError::FailedPrecondition(_)
        | CoreError::UnknownRegion(_) => {}
        CoreError::Store(_) | CoreError::Unavailable(_) => {
            panic!("hostile input looks like a transient failure, retried for ever: {error}")
        }
    }
    Err(error.to_string())
}

/// The routing key the envelope's own scope and payload call for, or a plain one.
pub(crate) fn key_of(envelope: &pb::Envelope) -> String {
    let scope = envelope.scope.clone().unwrap_or_default();
    proto::routing_kind(envelope)
        .and_then(|kind| routing::routing_key(&scope.tenant_id, &scope.region_id, kind))
        .unwrap_or_else(|| "fuzz.city.order_placed".to_owned())
}

/// An envelope for the fuzz region with a hostile payload of any inbound kind.
fn envelope() -> impl Strategy<Value = pb::Envelope> {
    let now = Utc::now();
    let served = fixture().region.to_scope();
    let payload = prop_oneof![
        r#gen::order_spec(now)
            .prop_map(|o| Payload::OrderPlaced(pb::OrderPlaced { order: Some(o) })),
        (
            r#gen::text(),
            r#gen::timestamp(now, 8 * 86_400),
            r#gen::counter()
        )
            .prop_map(|(order_id, ready_at, revision)| Payload::ReadyTimeRevised(
                pb::ReadyTimeRevised {
                    order_id,
                    ready_at,
                    revision,
                }
            )),
        (r#gen::text(), r#gen::text()).prop_map(|(order_id, reason)| {
            Payload::OrderCancelled(pb::OrderCancelled { order_id, reason })
        }),
        (r#gen::text(), r#gen::fixes(now)).prop_map(|(courier_id, fixes)| {
            Payload::PositionBatch(pb::PositionBatch { courier_id, fixes })
        }),
        Just(Payload::OrderLifecycle(pb::OrderLifecycle::default())),
    ];
    (
        r#gen::text(),
        r#gen::scope(served),
        prop_oneof![4 => Just(Some(time_to_proto(now))), 1 => r#gen::timestamp(now, 1_000_000)],
        r#gen::text(),
        proptest::option::weighted(0.9, payload),
    )
        .prop_map(
            |(event_id, scope, occurred_at, source, payload)| pb::Envelope {
                event_id,
                scope,
                occurred_at,
                source,
                source_seq: 0,
                payload,
            },
        )
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_bytes_are_refused_by_part_or_ingested(body in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = deliver(fixture(), "fuzz.city.order_placed", &body);
    }

    #[test]
    fn mutated_envelopes_are_refused_by_part_or_ingested(
        e in envelope(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut body = e.encode_to_vec();
        if !body.is_empty() {
            for (at, byte) in flips {
                let i = at.index(body.len());
                body[i] ^= byte;
            }
            if truncate {
                body.truncate(cut.index(body.len()));
            }
        }
        let _ = deliver(fixture(), &key_of(&e), &body);
    }

    #[test]
    fn hostile_envelopes_are_refused_by_field_or_ingested(e in envelope()) {
        let _ = deliver(fixture(), &key_of(&e), &e.encode_to_vec());
    }
}
