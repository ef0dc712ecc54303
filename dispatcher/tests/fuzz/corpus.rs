//! The hand-written hostile corpus in `tests/corpus/`: raw message bodies, each with the routing
//! key it arrives on and what its refusal must say, listed in `tests/corpus/index.tsv`. Every run
//! replays all of them. `cargo test -p dispatcher --test fuzz -- --ignored write_corpus` rewrites
//! the files from [`cases`] after a change to the list.

use std::path::PathBuf;

use chrono::TimeDelta;
use dispatcher::domain::convert::time_to_proto;
use prost::Message as _;
use proto::dispatch::v1::{self as pb, envelope::Payload};

use crate::{
    envelope::deliver,
    service::{corpus_fixture, corpus_now},
};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn scope() -> Option<pb::Scope> {
    Some(pb::Scope {
        tenant_id: "fuzz".into(),
        region_id: "city".into(),
    })
}

fn envelope(payload: Payload) -> pb::Envelope {
    pb::Envelope {
        event_id: "corpus-1".into(),
        scope: scope(),
        occurred_at: Some(time_to_proto(corpus_now())),
        source: "corpus".into(),
        source_seq: 0,
        payload: Some(payload),
    }
}

fn order() -> pb::OrderSpec {
    let now = corpus_now();
    let place = || pb::Place {
        location: Some(pb::LatLng {
            lat: 43.73,
            lng: 7.42,
        }),
        address: "door".into(),
        instructions: String::new(),
    };
    pb::OrderSpec {
        order_id: "corpus-order".into(),
        kitchen_id: "k".into(),
        placed_at: Some(time_to_proto(now)),
        pickup: Some(place()),
        ready_at: Some(time_to_proto(now + TimeDelta::minutes(10))),
        pickup_service_s: 60,
        dropoff: Some(place()),
        promised: Some(pb::TimeWindow {
            start: Some(time_to_proto(now)),
            end: Some(time_to_proto(now + TimeDelta::minutes(45))),
        }),
        dropoff_service_s: 60,
        size: None,
        allowed_vehicles: Vec::new(),
        required_equipment: Vec::new(),
        hard_window: false,
    }
}

fn placed(edit: impl FnOnce(&mut pb::OrderSpec)) -> Vec<u8> {
    let mut o = order();
    edit(&mut o);
    envelope(Payload::OrderPlaced(pb::OrderPlaced { order: Some(o) })).encode_to_vec()
}

fn fix_batch(edit: impl FnOnce(&mut pb::PositionFix)) -> Vec<u8> {
    let mut fix = pb::PositionFix {
        location: Some(pb::LatLng {
            lat: 43.73,
            lng: 7.42,
        }),
        recorded_at: Some(time_to_proto(corpus_now())),
        accuracy_m: 5.0,
        speed_mps: 1.0,
        heading_deg: 90.0,
    };
    edit(&mut fix);
    envelope(Payload::PositionBatch(pb::PositionBatch {
        courier_id: "c".into(),
        fixes: vec![fix],
    }))
    .encode_to_vec()
}

/// One corpus entry: file name, routing kind, body and what the refusal must contain.
type Case = (&'static str, &'static str, Vec<u8>, &'static str);

/// The corpus. Times are relative to [`corpus_now`], the clock of the service that replays it.
fn cases() -> Vec<Case> {
    let ts = |seconds, nanos| Some(prost_types::Timestamp { seconds, nanos });
    vec![
        (
            "not-protobuf.bin",
            "order_placed",
            b"\xff\xfenot protobuf".to_vec(),
            "undecodable",
        ),
        ("empty.bin", "order_placed", Vec::new(), "event_id"),
        (
            "too-large.bin",
            "order_placed",
            vec![0; 256 * 1024 + 1],
            "body:",
        ),
        (
            "lat-nan.bin",
            "order_placed",
            placed(|o| {
                o.pickup.as_mut().unwrap().location.as_mut().unwrap().lat = f64::NAN;
            }),
            "order.pickup.location",
        ),
        (
            "lng-inf.bin",
            "order_placed",
            placed(|o| {
                o.dropoff.as_mut().unwrap().location.as_mut().unwrap().lng = f64::INFINITY;
            }),
            "order.dropoff.location",
        ),
        (
            "placed-at-i64-max.bin",
            "order_placed",
            placed(|o| o.placed_at = ts(i64::MAX, 0)),
            "order.placed_at",
        ),
        (
            "placed-at-i64-min.bin",
            "order_placed",
            placed(|o| o.placed_at = ts(i64::MIN, 0)),
            "order.placed_at",
        ),
        (
            "placed-at-year-9000.bin",
            "order_placed",
            placed(|o| o.placed_at = ts(221_845_392_000, 0)),
            "order.placed_at",
        ),
        (
            "ready-at-negative-nanos.bin",
            "order_placed",
            placed(|o| {
                o.ready_at.as_mut().unwrap().nanos = -1;
            }),
            "order.ready_at",
        ),
        (
            "ready-at-leap-nanos.bin",
            "order_placed",
            placed(|o| {
                o.ready_at.as_mut().unwrap().nanos = 1_500_000_000;
            }),
            "order.ready_at",
        ),
        (
            "ready-after-window.bin",
            "order_placed",
            placed(|o| {
                o.ready_at = o.promised.as_ref().unwrap().end;
                o.ready_at.as_mut().unwrap().seconds += 60;
            }),
            "order.ready_at",
        ),
        (
            "window-reversed.bin",
            "order_placed",
            placed(|o| {
                let w = o.promised.as_mut().unwrap();
                std::mem::swap(&mut w.start, &mut w.end);
            }),
            "order.promised.end",
        ),
        (
            "weight-u32-max.bin",
            "order_placed",
            placed(|o| {
                o.size = Some(pb::Load {
                    weight_grams: u32::MAX,
                    volume_ml: 1,
                });
            }),
            "order.size.weight_grams",
        ),
        (
            "order-id-10k.bin",
            "order_placed",
            placed(|o| o.order_id = "o".repeat(10_000)),
            "order.order_id",
        ),
        (
            "order-id-nul.bin",
            "order_placed",
            placed(|o| o.order_id = "o\0".into()),
            "order.order_id",
        ),
        (
            "address-nul.bin",
            "order_placed",
            placed(|o| {
                o.pickup.as_mut().unwrap().address = "a\0b".into();
            }),
            "order.pickup.address",
        ),
        (
            "vehicles-repeated.bin",
            "order_placed",
            placed(|o| o.allowed_vehicles = vec![1; 100_000]),
            "order.allowed_vehicles[1]",
        ),
        (
            "revision-u64-max.bin",
            "ready_time_revised",
            envelope(Payload::ReadyTimeRevised(pb::ReadyTimeRevised {
                order_id: "corpus-order".into(),
                ready_at: Some(time_to_proto(corpus_now())),
                revision: u64::MAX,
            }))
            .encode_to_vec(),
            "revision",
        ),
        (
            "cancel-unknown-order.bin",
            "order_cancelled",
            envelope(Payload::OrderCancelled(pb::OrderCancelled {
                order_id: "no-such-order".into(),
                reason: String::new(),
            }))
            .encode_to_vec(),
            "no-such-order",
        ),
        (
            "fix-speed-nan.bin",
            "position_batch",
            fix_batch(|f| f.speed_mps = f32::NAN),
            "position_batch.fixes[0].speed_mps",
        ),
        (
            "fix-heading-720.bin",
            "position_batch",
            fix_batch(|f| f.heading_deg = 720.0),
            "position_batch.fixes[0].heading_deg",
        ),
        (
            "fix-in-year-2100.bin",
            "position_batch",
            fix_batch(|f| f.recorded_at = ts(4_102_444_800, 0)),
            "position_batch.fixes[0].recorded_at",
        ),
        (
            "outbound-kind.bin",
            "order_lifecycle",
            envelope(Payload::OrderLifecycle(pb::OrderLifecycle::default())).encode_to_vec(),
            "payload",
        ),
    ]
}

/// Where the index is: `file<TAB>routing kind<TAB>expected` per line.
fn index() -> PathBuf {
    dir().join("index.tsv")
}

#[test]
#[ignore = "rewrites tests/corpus; run by hand after changing the list"]
fn write_corpus() {
    let mut index_text = String::new();
    for (file, kind, body, expected) in cases() {
        std::fs::write(dir().join(file), body).expect("write a corpus file");
        index_text.push_str(&format!("{file}\t{kind}\t{expected}\n"));
    }
    std::fs::write(index(), index_text).expect("write the corpus index");
}

#[test]
fn the_corpus_is_refused_as_listed() {
    let text = std::fs::read_to_string(index()).expect("tests/corpus/index.tsv");
    let mut replayed = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.split('\t');
        let (Some(file), Some(kind), Some(expected)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("malformed index line {line:?}");
        };
        let body = std::fs::read(dir().join(file)).expect("a corpus file");
        let refusal = deliver(corpus_fixture(), &format!("fuzz.city.{kind}"), &body)
            .expect_err(&format!("{file} was accepted"));
        assert!(
            refusal.contains(expected),
            "{file}: refusal {refusal:?} does not say {expected:?}"
        );
        replayed += 1;
    }
    assert!(replayed >= 20, "only {replayed} corpus entries");
}
