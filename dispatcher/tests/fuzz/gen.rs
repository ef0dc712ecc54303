//! Hostile values for the fuzz properties: each generator mixes plausible values with the extremes
//! an attacker or a broken client would send (NaN, infinities, huge numbers, timestamps at the ends
//! of i64, nanos out of range, empty and 10 kB strings, control characters).

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proto::dispatch::v1 as pb;

/// A string that may be fine, empty, at or past a limit, huge, or hold control characters.
pub(crate) fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z0-9-]{1,12}",
        1 => Just(String::new()),
        1 => Just("x".repeat(128)),
        1 => Just("x".repeat(129)),
        1 => Just("y".repeat(10_000)),
        1 => Just("nul\0inside".to_owned()),
        1 => Just("line\nbreak".to_owned()),
        1 => "\\PC{0,40}",
    ]
}

/// A float that may be in range, at its edge, just past it, huge or not a number.
pub(crate) fn float(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => lo..=hi,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(hi),
        1 => Just(lo),
        1 => Just(hi + 1e-7),
        1 => Just(f64::MAX),
        1 => Just(-f64::MAX),
        1 => any::<f64>(),
    ]
}

/// A whole number that may be small or at the top of its type.
pub(crate) fn count(typical: u32) -> impl Strategy<Value = u32> {
    prop_oneof![
        6 => 0..=typical,
        1 => Just(u32::MAX),
        1 => Just(i32::MAX as u32),
        1 => Just(i32::MAX as u32 + 1),
        1 => any::<u32>(),
    ]
}

/// A timestamp: near `now` (within `spread_s` either way), at the ends of time, or malformed.
pub(crate) fn timestamp(
    now: DateTime<Utc>,
    spread_s: i64,
) -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    let now_s = now.timestamp();
    let ts = |seconds: i64, nanos: i32| prost_types::Timestamp { seconds, nanos };
    prop_oneof![
        10 => (-spread_s..=spread_s, 0..1_000_000_000i32)
            .prop_map(move |(d, n)| Some(ts(now_s + d, n))),
        1 => Just(None),
        1 => Just(Some(ts(i64::MIN, 0))),
        1 => Just(Some(ts(i64::MAX, 999_999_999))),
        1 => Just(Some(ts(0, 0))),
        1 => Just(Some(ts(-62_135_596_801, 0))),
        1 => Just(Some(ts(253_402_300_800, 0))),
        1 => prop_oneof![Just(-1), Just(1_000_000_000), Just(1_999_999_999), Just(i32::MIN), Just(i32::MAX)]
            .prop_map(move |n| Some(ts(now_s, n))),
        1 => (any::<i64>(), any::<i32>()).prop_map(move |(s, n)| Some(ts(s, n))),
    ]
}

/// A coordinate, possibly out of range or not a number.
pub(crate) fn latlng() -> impl Strategy<Value = Option<pb::LatLng>> {
    prop_oneof![
        10 => (float(-90.0, 90.0), float(-180.0, 180.0))
            .prop_map(|(lat, lng)| Some(pb::LatLng { lat, lng })),
        1 => Just(None),
    ]
}

fn place() -> impl Strategy<Value = Option<pb::Place>> {
    prop_oneof![
        10 => (latlng(), text(), text()).prop_map(|(location, address, instructions)| {
            Some(pb::Place { location, address, instructions })
        }),
        1 => Just(None),
    ]
}

/// An enum value: known, zero (unspecified) or unknown.
pub(crate) fn enum_value(known: i32) -> impl Strategy<Value = i32> {
    prop_oneof![8 => 1..=known, 1 => Just(0), 1 => any::<i32>()]
}

/// Usually `good`, sometimes `hostile`: most cases then carry one or two bad fields among good
/// ones, so both the refusals and the acceptances are exercised.
fn mostly<T: std::fmt::Debug + Clone + 'static>(
    good: impl Strategy<Value = T> + 'static,
    hostile: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    prop_oneof![12 => good, 1 => hostile].boxed()
}

fn good_id() -> impl Strategy<Value = String> {
    "[a-z0-9-]{1,12}"
}

fn good_place() -> impl Strategy<Value = Option<pb::Place>> {
    (-60.0..60.0f64, -170.0..170.0f64, "[a-z ]{0,20}").prop_map(|(lat, lng, address)| {
        Some(pb::Place {
            location: Some(pb::LatLng { lat, lng }),
            address,
            instructions: String::new(),
        })
    })
}

fn near(
    now: DateTime<Utc>,
    from_s: i64,
    to_s: i64,
) -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    let now_s = now.timestamp();
    (from_s..=to_s, 0..1_000_000_000i32).prop_map(move |(d, nanos)| {
        Some(prost_types::Timestamp {
            seconds: now_s + d,
            nanos,
        })
    })
}

/// An order spec whose fields are each usually good and sometimes hostile.
pub(crate) fn order_spec(now: DateTime<Utc>) -> impl Strategy<Value = pb::OrderSpec> {
    let spread = 8 * 86_400;
    let window = mostly(
        (near(now, 0, 600), near(now, 2700, 3600))
            .prop_map(|(start, end)| Some(pb::TimeWindow { start, end })),
        prop_oneof![
            (timestamp(now, spread), timestamp(now, spread))
                .prop_map(|(start, end)| Some(pb::TimeWindow { start, end })),
            Just(None),
        ],
    );
    let size = mostly(
        (0..20_000u32, 0..40_000u32).prop_map(|(w, v)| {
            Some(pb::Load {
                weight_grams: w,
                volume_ml: v,
            })
        }),
        prop_oneof![
            (count(2_000_000), count(20_000_000)).prop_map(|(w, v)| Some(pb::Load {
                weight_grams: w,
                volume_ml: v
            })),
            Just(None),
        ],
    );
    (
        (
            mostly(good_id(), text()),
            mostly(good_id(), text()),
            mostly(near(now, -3600, 0), timestamp(now, spread)),
            mostly(near(now, 0, 1800), timestamp(now, spread)),
            window,
        ),
        (
            mostly(good_place(), place()),
            mostly(good_place(), place()),
            mostly(0..600u32, count(4000)),
            mostly(0..600u32, count(4000)),
            size,
        ),
        (
            mostly(
                proptest::sample::subsequence(vec![1, 2, 3, 4], 0..=4),
                proptest::collection::vec(enum_value(4), 0..6),
            ),
            mostly(
                proptest::collection::vec("[a-z_]{1,10}", 0..3),
                prop_oneof![
                    proptest::collection::vec(text(), 0..4),
                    proptest::collection::vec(Just("t".to_owned()), 17..18),
                ],
            ),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (order_id, kitchen_id, placed_at, ready_at, promised),
                (pickup, dropoff, pickup_service_s, dropoff_service_s, size),
                (allowed_vehicles, required_equipment, hard_window),
            )| pb::OrderSpec {
                order_id,
                kitchen_id,
                placed_at,
                pickup,
                ready_at,
                pickup_service_s,
                dropoff,
                promised,
                dropoff_service_s,
                size,
                allowed_vehicles,
                required_equipment,
                hard_window,
            },
        )
}

/// A GPS fix with any field possibly hostile.
pub(crate) fn fix(now: DateTime<Utc>) -> impl Strategy<Value = pb::PositionFix> {
    let measure = |good: f32, hi: f64| mostly(0.0..good, float(-hi, hi).prop_map(|v| v as f32));
    (
        mostly(
            good_place().prop_map(|p| p.and_then(|p| p.location)),
            latlng(),
        ),
        mostly(near(now, -600, 0), timestamp(now, 8 * 86_400)),
        measure(50.0, 200_000.0),
        measure(30.0, 2000.0),
        measure(359.0, 720.0),
    )
        .prop_map(
            |(location, recorded_at, accuracy_m, speed_mps, heading_deg)| pb::PositionFix {
                location,
                recorded_at,
                accuracy_m,
                speed_mps,
                heading_deg,
            },
        )
}

/// A batch of fixes: usually a few, sometimes none or more than allowed.
pub(crate) fn fixes(now: DateTime<Utc>) -> impl Strategy<Value = Vec<pb::PositionFix>> {
    prop_oneof![
        8 => proptest::collection::vec(fix(now), 0..5),
        1 => fix(now).prop_map(|f| vec![f; 1001]),
    ]
}

/// A revision or sequence number, possibly past what the store holds.
pub(crate) fn counter() -> impl Strategy<Value = u64> {
    prop_oneof![
        6 => 0..1000u64,
        1 => Just(i64::MAX as u64),
        1 => Just(i64::MAX as u64 + 1),
        1 => Just(u64::MAX),
    ]
}

/// A scope: usually the served region, sometimes missing, another or malformed.
pub(crate) fn scope(served: pb::Scope) -> impl Strategy<Value = Option<pb::Scope>> {
    prop_oneof![
        8 => Just(Some(served)),
        1 => Just(None),
        1 => (text(), text()).prop_map(|(tenant_id, region_id)| Some(pb::Scope { tenant_id, region_id })),
    ]
}
