//! Between the protobuf messages and the domain model. Everything that enters from the wire is
//! checked here, and a refusal names the field and says what was wrong.

use chrono::{DateTime, Utc};
use proto::dispatch::v1 as pb;
use router::geo::LatLng;

pub use super::check::{
    Horizon, MAX_ADDRESS_BYTES, MAX_FIXES, MAX_ID_BYTES, MAX_TAG_BYTES, MAX_TAGS, MAX_TEXT_BYTES,
    check_counter, check_id, check_text,
};
use super::check::{
    MAX_ACCURACY_M, MAX_HEADING_DEG, MAX_SERVICE_S, MAX_SPEED_MPS, MAX_VOLUME_ML, MAX_WEIGHT_G,
    MAX_WINDOW, TIMESTAMP_SECONDS, check_at_most, check_measure,
};
use super::{DecisionRecord, Fix, Load, Order, OrderEventRecord, OrderSpec, Place, Vehicle};

/// A field that does not hold what the API promises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    /// The field's path, e.g. `order.pickup.location.lat`.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl ValidationError {
    /// A refusal of `field` because of `problem`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

type Result<T> = std::result::Result<T, ValidationError>;

/// A protobuf timestamp as a UTC time. Refuses what `timestamp.proto` calls invalid: seconds
/// outside 0001-01-01 to 9999-12-31 and nanos outside 0 to 999,999,999 (chrono would read nanos
/// up to two seconds' worth as a leap second).
pub fn time_from_proto(field: &str, ts: Option<&prost_types::Timestamp>) -> Result<DateTime<Utc>> {
    let ts = ts.ok_or_else(|| ValidationError::new(field, "is required"))?;
    if !TIMESTAMP_SECONDS.contains(&ts.seconds) {
        return Err(ValidationError::new(
            field,
            format!("seconds {} is outside 0001-01-01 to 9999-12-31", ts.seconds),
        ));
    }
    let nanos = u32::try_from(ts.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or_else(|| {
            ValidationError::new(field, format!("nanos {} is not 0 to 999999999", ts.nanos))
        })?;
    DateTime::from_timestamp(ts.seconds, nanos)
        .ok_or_else(|| ValidationError::new(field, "is out of range"))
}

/// A protobuf timestamp that must lie within `horizon` of the service clock `now`.
pub fn time_near(
    field: &str,
    ts: Option<&prost_types::Timestamp>,
    horizon: Horizon,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>> {
    let at = time_from_proto(field, ts)?;
    horizon.check(field, at, now)?;
    Ok(at)
}

/// An optional protobuf timestamp within `horizon` of `now`; unset stays `None`.
pub fn optional_time_near(
    field: &str,
    ts: Option<&prost_types::Timestamp>,
    horizon: Horizon,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    ts.map(|ts| time_near(field, Some(ts), horizon, now))
        .transpose()
}

/// A ready-time revision (kitchen API or `ReadyTimeRevised` event): the new ready time, planned
/// and near the clock, and a revision number the store can hold.
pub fn ready_revision_from_proto(
    ready_at: Option<&prost_types::Timestamp>,
    revision: u64,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, u64)> {
    let at = time_near("ready_at", ready_at, Horizon::PLANNED, now)?;
    check_counter("revision", revision)?;
    Ok((at, revision))
}

/// A UTC time as a protobuf timestamp.
pub fn time_to_proto(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// A protobuf coordinate, refusing NaN, infinities and values out of range.
pub fn latlng_from_proto(field: &str, p: Option<&pb::LatLng>) -> Result<LatLng> {
    let p = p.ok_or_else(|| ValidationError::new(field, "is required"))?;
    LatLng::new(p.lat, p.lng).map_err(|_| {
        ValidationError::new(
            field,
            format!(
                "lat {} lng {} is not a finite coordinate with lat in [-90, 90] and lng in \
                 [-180, 180]",
                p.lat, p.lng
            ),
        )
    })
}

/// A coordinate as protobuf.
pub fn latlng_to_proto(p: LatLng) -> pb::LatLng {
    pb::LatLng {
        lat: p.lat(),
        lng: p.lng(),
    }
}

fn place_from_proto(field: &str, p: Option<&pb::Place>) -> Result<Place> {
    let p = p.ok_or_else(|| ValidationError::new(field, "is required"))?;
    check_text(&format!("{field}.address"), &p.address, MAX_ADDRESS_BYTES)?;
    check_text(
        &format!("{field}.instructions"),
        &p.instructions,
        MAX_TEXT_BYTES,
    )?;
    Ok(Place {
        location: latlng_from_proto(&format!("{field}.location"), p.location.as_ref())?,
        address: p.address.clone(),
        instructions: p.instructions.clone(),
    })
}

fn place_to_proto(p: &Place) -> pb::Place {
    pb::Place {
        location: Some(latlng_to_proto(p.location)),
        address: p.address.clone(),
        instructions: p.instructions.clone(),
    }
}

/// A protobuf vehicle type; `UNSPECIFIED` and unknown values are refused.
pub fn vehicle_from_proto(field: &str, value: i32) -> Result<Vehicle> {
    match pb::VehicleType::try_from(value) {
        Ok(pb::VehicleType::Car) => Ok(Vehicle::Car),
        Ok(pb::VehicleType::Bicycle) => Ok(Vehicle::Bicycle),
        Ok(pb::VehicleType::Scooter) => Ok(Vehicle::Scooter),
        Ok(pb::VehicleType::Foot) => Ok(Vehicle::Foot),
        _ => Err(ValidationError::new(
            field,
            format!("{value} is not a vehicle type (car, bicycle, scooter or foot)"),
        )),
    }
}

/// A vehicle as protobuf.
pub fn vehicle_to_proto(v: Vehicle) -> pb::VehicleType {
    match v {
        Vehicle::Car => pb::VehicleType::Car,
        Vehicle::Bicycle => pb::VehicleType::Bicycle,
        Vehicle::Scooter => pb::VehicleType::Scooter,
        Vehicle::Foot => pb::VehicleType::Foot,
    }
}

/// A protobuf load.
pub fn load_from_proto(l: Option<&pb::Load>) -> Load {
    l.map_or_else(Load::default, |l| Load {
        weight_g: l.weight_grams,
        volume_ml: l.volume_ml,
    })
}

/// A protobuf load, each dimension checked against its upper bound.
pub fn checked_load_from_proto(field: &str, l: Option<&pb::Load>) -> Result<Load> {
    let load = load_from_proto(l);
    check_at_most(
        &format!("{field}.weight_grams"),
        load.weight_g,
        MAX_WEIGHT_G,
        "g",
    )?;
    check_at_most(
        &format!("{field}.volume_ml"),
        load.volume_ml,
        MAX_VOLUME_ML,
        "ml",
    )?;
    Ok(load)
}

/// A load as protobuf.
pub fn load_to_proto(l: Load) -> pb::Load {
    pb::Load {
        weight_grams: l.weight_g,
        volume_ml: l.volume_ml,
    }
}

/// Equipment tags, checked for count and length.
pub fn tags_from_proto(field: &str, tags: &[String]) -> Result<Vec<String>> {
    if tags.len() > MAX_TAGS {
        return Err(ValidationError::new(
            field,
            format!("at most {MAX_TAGS} tags, got {}", tags.len()),
        ));
    }
    for (i, tag) in tags.iter().enumerate() {
        if tag.is_empty() || tag.len() > MAX_TAG_BYTES || tag.contains(char::is_control) {
            return Err(ValidationError::new(
                format!("{field}[{i}]"),
                format!("must be 1 to {MAX_TAG_BYTES} bytes without control characters"),
            ));
        }
    }
    Ok(tags.to_vec())
}

/// An order from the kitchen API or an `OrderPlaced` event, fully checked against the service
/// clock `now`: placed in the past (give or take the clock skew), ready and promised within days.
pub fn order_spec_from_proto(o: Option<&pb::OrderSpec>, now: DateTime<Utc>) -> Result<OrderSpec> {
    let o = o.ok_or_else(|| ValidationError::new("order", "is required"))?;
    check_id("order.order_id", &o.order_id)?;
    check_id("order.kitchen_id", &o.kitchen_id)?;
    let placed_at = time_near(
        "order.placed_at",
        o.placed_at.as_ref(),
        Horizon::HAPPENED,
        now,
    )?;
    let pickup = place_from_proto("order.pickup", o.pickup.as_ref())?;
    let ready_at = time_near("order.ready_at", o.ready_at.as_ref(), Horizon::PLANNED, now)?;
    check_at_most(
        "order.pickup_service_s",
        o.pickup_service_s,
        MAX_SERVICE_S,
        "s",
    )?;
    let dropoff = place_from_proto("order.dropoff", o.dropoff.as_ref())?;
    let promised = o
        .promised
        .as_ref()
        .ok_or_else(|| ValidationError::new("order.promised", "is required"))?;
    let promised_start = time_near(
        "order.promised.start",
        promised.start.as_ref(),
        Horizon::PLANNED,
        now,
    )?;
    let promised_end = time_near(
        "order.promised.end",
        promised.end.as_ref(),
        Horizon::PLANNED,
        now,
    )?;
    if promised_end < promised_start {
        return Err(ValidationError::new(
            "order.promised.end",
            "is before order.promised.start",
        ));
    }
    if promised_end - promised_start > MAX_WINDOW {
        return Err(ValidationError::new(
            "order.promised.end",
            format!(
                "is more than {} h after order.promised.start",
                MAX_WINDOW.num_hours()
            ),
        ));
    }
    if ready_at > promised_end {
        return Err(ValidationError::new(
            "order.ready_at",
            "is after the end of the promised window",
        ));
    }
    check_at_most(
        "order.dropoff_service_s",
        o.dropoff_service_s,
        MAX_SERVICE_S,
        "s",
    )?;
    let size = checked_load_from_proto("order.size", o.size.as_ref())?;
    let mut allowed_vehicles = Vec::with_capacity(o.allowed_vehicles.len().min(4));
    for (i, &v) in o.allowed_vehicles.iter().enumerate() {
        let field = format!("order.allowed_vehicles[{i}]");
        let vehicle = vehicle_from_proto(&field, v)?;
        // At most one of each, so the list is bounded by the number of vehicle types.
        if allowed_vehicles.contains(&vehicle) {
            return Err(ValidationError::new(
                field,
                format!("{} is listed twice", vehicle.name()),
            ));
        }
        allowed_vehicles.push(vehicle);
    }
    Ok(OrderSpec {
        order_id: o.order_id.clone(),
        kitchen_id: o.kitchen_id.clone(),
        placed_at,
        pickup,
        ready_at,
        pickup_service_s: o.pickup_service_s,
        dropoff,
        promised_start,
        promised_end,
        dropoff_service_s: o.dropoff_service_s,
        size,
        allowed_vehicles,
        required_equipment: tags_from_proto("order.required_equipment", &o.required_equipment)?,
        hard_window: o.hard_window,
    })
}

/// An order spec as protobuf.
pub fn order_spec_to_proto(s: &OrderSpec) -> pb::OrderSpec {
    pb::OrderSpec {
        order_id: s.order_id.clone(),
        kitchen_id: s.kitchen_id.clone(),
        placed_at: Some(time_to_proto(s.placed_at)),
        pickup: Some(place_to_proto(&s.pickup)),
        ready_at: Some(time_to_proto(s.ready_at)),
        pickup_service_s: s.pickup_service_s,
        dropoff: Some(place_to_proto(&s.dropoff)),
        promised: Some(pb::TimeWindow {
            start: Some(time_to_proto(s.promised_start)),
            end: Some(time_to_proto(s.promised_end)),
        }),
        dropoff_service_s: s.dropoff_service_s,
        size: Some(load_to_proto(s.size)),
        allowed_vehicles: s
            .allowed_vehicles
            .iter()
            .map(|&v| vehicle_to_proto(v) as i32)
            .collect(),
        required_equipment: s.required_equipment.clone(),
        hard_window: s.hard_window,
    }
}

/// One GPS fix, checked: a real coordinate, recorded in the past week (give or take the clock
/// skew), and finite measurements in range. Negative accuracy, speed and heading mean "unknown".
pub fn fix_from_proto(field: &str, f: &pb::PositionFix, now: DateTime<Utc>) -> Result<Fix> {
    let location = latlng_from_proto(&format!("{field}.location"), f.location.as_ref())?;
    let recorded_at = time_near(
        &format!("{field}.recorded_at"),
        f.recorded_at.as_ref(),
        Horizon::HAPPENED,
        now,
    )?;
    for (name, value, max) in [
        ("accuracy_m", f.accuracy_m, MAX_ACCURACY_M),
        ("speed_mps", f.speed_mps, MAX_SPEED_MPS),
        ("heading_deg", f.heading_deg, MAX_HEADING_DEG),
    ] {
        check_measure(&format!("{field}.{name}"), value, -max, max)?;
    }
    Ok(Fix {
        location,
        recorded_at,
        accuracy_m: f.accuracy_m.max(0.0),
        speed_mps: f.speed_mps,
        heading_deg: f.heading_deg,
    })
}

/// A fix as protobuf.
pub fn fix_to_proto(f: &Fix) -> pb::PositionFix {
    pb::PositionFix {
        location: Some(latlng_to_proto(f.location)),
        recorded_at: Some(time_to_proto(f.recorded_at)),
        accuracy_m: f.accuracy_m,
        speed_mps: f.speed_mps,
        heading_deg: f.heading_deg,
    }
}

/// A batch of fixes, checked for count and order.
pub fn fixes_from_proto(
    field: &str,
    fixes: &[pb::PositionFix],
    now: DateTime<Utc>,
) -> Result<Vec<Fix>> {
    if fixes.is_empty() || fixes.len() > MAX_FIXES {
        return Err(ValidationError::new(
            field,
            format!("must hold 1 to {MAX_FIXES} fixes, got {}", fixes.len()),
        ));
    }
    let out = fixes
        .iter()
        .enumerate()
        .map(|(i, f)| fix_from_proto(&format!("{field}[{i}]"), f, now))
        .collect::<Result<Vec<_>>>()?;
    if out.windows(2).any(|w| w[1].recorded_at < w[0].recorded_at) {
        return Err(ValidationError::new(
            field,
            "fixes must be in increasing recorded_at order",
        ));
    }
    Ok(out)
}

/// The `OrderStatus` message of an order.
pub(super) fn order_status(o: &Order) -> pb::OrderStatus {
    pb::OrderStatus {
        scope: Some(o.region.to_scope()),
        spec: Some(order_spec_to_proto(&o.spec)),
        state: o.state.to_proto() as i32,
        courier_id: o.courier_id.clone().unwrap_or_default(),
        pickup_eta: o.pickup_eta.map(time_to_proto),
        dropoff_eta: o.dropoff_eta.map(time_to_proto),
        pinned: o.pinned,
        held: o.held,
        unassigned_reason: o.unassigned_reason.map_or(0, |r| r.to_proto() as i32),
        state_changed_at: Some(time_to_proto(o.state_changed_at)),
        ready_revision: o.ready_revision,
    }
}

/// An order event as protobuf.
pub fn event_to_proto(e: &OrderEventRecord) -> pb::OrderEvent {
    pb::OrderEvent {
        event_id: e.event_id.clone(),
        order_id: e.order_id.clone(),
        occurred_at: Some(time_to_proto(e.occurred_at)),
        kind: e.kind.to_proto() as i32,
        from_state: e.from_state.to_proto() as i32,
        to_state: e.to_state.to_proto() as i32,
        courier_id: e.courier_id.clone().unwrap_or_default(),
        actor: e.actor.clone(),
        reason: e.reason.clone(),
        ready_at: e.ready_at.map(time_to_proto),
    }
}

/// A decision as protobuf.
pub fn decision_to_proto(d: &DecisionRecord) -> pb::AssignmentDecision {
    pb::AssignmentDecision {
        decision_id: d.decision_id.clone(),
        order_id: d.order_id.clone(),
        decided_at: Some(time_to_proto(d.decided_at)),
        plan_version: d.plan_version,
        courier_id: d.courier_id.clone().unwrap_or_default(),
        previous_courier_id: d.previous_courier_id.clone().unwrap_or_default(),
        unassigned_reason: d.unassigned_reason.map_or(0, |r| r.to_proto() as i32),
        reason_code: d.reason_code.clone(),
        pickup_eta: d.pickup_eta.map(time_to_proto),
        dropoff_eta: d.dropoff_eta.map(time_to_proto),
        expected_lateness_s: d.expected_lateness_s,
        cost_delta: d.cost_delta,
        detail: d.detail.clone(),
    }
}
