//! `SupportService`: support tooling looks orders and couriers up, replays tracks, asks why an order
//! is where it is, and overrides the planner (reassign, pin, hold, release, cancel).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use proto::dispatch::v1::{self as pb, support_service_server::SupportService};
use tonic::{Request, Response, Status};

use super::{
    InFlight,
    scope::{hold_until, invalid, optional_id, override_of, region_of, required_id},
    status_of,
};
use crate::{
    auth::{Caller, caller_of},
    core::{Core, CoreError, support::Override},
    domain::{
        Courier, CourierStatus, DecisionRecord, Fix, Order, OrderState, RegionKey, Unassigned,
        ValidationError,
        convert::{decision_to_proto, vehicle_to_proto},
        convert::{event_to_proto, fix_to_proto, load_to_proto, time_from_proto, time_to_proto},
    },
    store::positions::PositionRow,
};

/// The most fixes one track answer holds, and the default when the request names no limit.
pub(crate) const MAX_TRACK_POINTS: usize = 10_000;

/// The most fixes read from the store for one track before thinning.
const TRACK_FETCH_LIMIT: usize = 100_000;

/// The longest track interval one request may ask for.
const MAX_TRACK_SPAN: TimeDelta = TimeDelta::hours(24);

/// The support tooling's service.
#[derive(Debug, Clone)]
pub(crate) struct SupportApi {
    core: Arc<Core>,
    in_flight: InFlight,
}

impl SupportApi {
    /// The service on `core`; overrides run to completion on `in_flight`.
    pub(crate) fn new(core: Arc<Core>, in_flight: InFlight) -> Self {
        Self { core, in_flight }
    }

    /// The region a request is for, once `caller` is found to support its tenant.
    fn region_for(
        &self,
        caller: &Caller,
        scope: Option<&pb::Scope>,
        action: &'static str,
    ) -> Result<RegionKey, Status> {
        let region = region_of(scope, &self.core)?;
        caller.may_support(&region.tenant_id, action)?;
        Ok(region)
    }

    /// An order in `region`, checked request fields first.
    async fn order(
        &self,
        caller: &Caller,
        scope: Option<&pb::Scope>,
        order_id: &str,
        action: &'static str,
    ) -> Result<(RegionKey, Order), Status> {
        let region = self.region_for(caller, scope, action)?;
        required_id("order_id", order_id)?;
        let order = self
            .core
            .find_order(&region, order_id)
            .await
            .map_err(status_of)?;
        Ok((region, order))
    }
}

#[tonic::async_trait]
impl SupportService for SupportApi {
    async fn get_order(
        &self,
        request: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::OrderStatus>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let (_, order) = self
            .order(
                &caller,
                request.scope.as_ref(),
                &request.order_id,
                "read orders",
            )
            .await?;
        Ok(Response::new(order.to_proto()))
    }

    async fn get_order_history(
        &self,
        request: Request<pb::GetOrderHistoryRequest>,
    ) -> Result<Response<pb::GetOrderHistoryResponse>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let region = self.region_for(&caller, request.scope.as_ref(), "read order histories")?;
        required_id("order_id", &request.order_id)?;
        let history = self
            .core
            .store()
            .order_history(&region.tenant_id, &request.order_id)
            .await
            .map_err(|error| status_of(error.into()))?;
        let events: Vec<_> = history
            .iter()
            .filter(|event| event.region == region)
            .map(event_to_proto)
            .collect();
        if events.is_empty() {
            // NOT_FOUND if the order is unknown here; an order without events has an empty history.
            self.core
                .find_order(&region, &request.order_id)
                .await
                .map_err(status_of)?;
        }
        Ok(Response::new(pb::GetOrderHistoryResponse { events }))
    }

    async fn get_courier(
        &self,
        request: Request<pb::GetCourierRequest>,
    ) -> Result<Response<pb::CourierState>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let region = self.region_for(&caller, request.scope.as_ref(), "read couriers")?;
        required_id("courier_id", &request.courier_id)?;
        let courier_id = request.courier_id.as_str();
        let in_memory = {
            let world = self.core.world().await;
            world.region(&region).and_then(|r| {
                let entry = r.couriers.get(courier_id)?;
                let mut on_board: Vec<String> = r
                    .orders_of(courier_id)
                    .filter(|order| order.state == OrderState::PickedUp)
                    .map(|order| order.spec.order_id.clone())
                    .collect();
                on_board.sort();
                Some((entry.courier.clone(), on_board, entry.route.clone()))
            })
        };
        let (courier, on_board, route) = match in_memory {
            Some((mut courier, on_board, route)) => {
                // Fixes reach the world only when the planner takes a snapshot; the newest one
                // waits beside it.
                courier.last_fix =
                    newest(courier.last_fix, self.core.latest_fix(&region, courier_id));
                (courier, on_board, route)
            }
            None => {
                let stored = self
                    .core
                    .store()
                    .courier(&region.tenant_id, courier_id)
                    .await
                    .map_err(|error| status_of(error.into()))?
                    .filter(|courier| courier.region == region)
                    .ok_or_else(|| CoreError::NotFound {
                        what: "courier",
                        id: courier_id.to_owned(),
                    })?;
                (stored, Vec::new(), None)
            }
        };
        let connected = self.core.hub().is_connected(&region.tenant_id, courier_id);
        Ok(Response::new(courier_state(
            &courier, on_board, route, connected,
        )))
    }

    async fn get_courier_track(
        &self,
        request: Request<pb::GetCourierTrackRequest>,
    ) -> Result<Response<pb::GetCourierTrackResponse>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let region = self.region_for(&caller, request.scope.as_ref(), "read courier tracks")?;
        required_id("courier_id", &request.courier_id)?;
        let (from, to) =
            track_interval(request.from.as_ref(), request.to.as_ref()).map_err(invalid)?;
        let max_points = track_limit(request.max_points);
        let rows = self
            .core
            .store()
            .track(
                &region.tenant_id,
                &request.courier_id,
                from,
                to,
                TRACK_FETCH_LIMIT,
            )
            .await
            .map_err(|error| status_of(error.into()))?;
        if rows.len() >= TRACK_FETCH_LIMIT {
            tracing::warn!(
                region = %region,
                courier_id = %request.courier_id,
                limit = TRACK_FETCH_LIMIT,
                "courier track hit the read limit; its end is cut off"
            );
        }
        if rows.is_empty() {
            // No fixes in the interval is an answer only for a courier that exists.
            let known = self
                .core
                .world()
                .await
                .region(&region)
                .is_some_and(|r| r.couriers.contains_key(request.courier_id.as_str()))
                || self
                    .core
                    .store()
                    .courier(&region.tenant_id, &request.courier_id)
                    .await
                    .map_err(|error| status_of(error.into()))?
                    .is_some_and(|courier| courier.region == region);
            if !known {
                return Err(status_of(CoreError::NotFound {
                    what: "courier",
                    id: request.courier_id,
                }));
            }
        }
        let truncated = rows.len() >= TRACK_FETCH_LIMIT;
        let (rows, thinned) = thin(rows, max_points);
        Ok(Response::new(pb::GetCourierTrackResponse {
            fixes: rows.iter().map(row_to_fix).collect(),
            thinned: thinned || truncated,
        }))
    }

    async fn explain_order(
        &self,
        request: Request<pb::ExplainOrderRequest>,
    ) -> Result<Response<pb::ExplainOrderResponse>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let (region, order) = self
            .order(
                &caller,
                request.scope.as_ref(),
                &request.order_id,
                "explain orders",
            )
            .await?;
        let decision = self
            .core
            .store()
            .last_decision(&region.tenant_id, &request.order_id)
            .await
            .map_err(|error| status_of(error.into()))?
            .filter(|decision| decision.region == region);
        Ok(Response::new(pb::ExplainOrderResponse {
            summary: summary(&order, decision.as_ref()),
            status: Some(order.to_proto()),
            last_decision: decision.as_ref().map(decision_to_proto),
        }))
    }

    async fn reassign_order(
        &self,
        request: Request<pb::ReassignOrderRequest>,
    ) -> Result<Response<pb::OrderStatus>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let region = self.region_for(&caller, request.scope.as_ref(), "reassign orders")?;
        required_id("order_id", &request.order_id)?;
        required_id("to_courier_id", &request.to_courier_id)?;
        let by = overrider(&caller, request.context.as_ref())?;
        let core = self.core.clone();
        let order = self
            .in_flight
            .run_to_completion(async move {
                core.reassign(&region, &request.order_id, &request.to_courier_id, &by)
                    .await
            })
            .await?;
        Ok(Response::new(order.to_proto()))
    }

    async fn pin_order(
        &self,
        request: Request<pb::PinOrderRequest>,
    ) -> Result<Response<pb::OrderStatus>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let region = self.region_for(&caller, request.scope.as_ref(), "pin orders")?;
        required_id("order_id", &request.order_id)?;
        optional_id("courier_id", &request.courier_id)?;
        let by = overrider(&caller, request.context.as_ref())?;
        let core = self.core.clone();
        let order = self
            .in_flight
            .run_to_completion(async move {
                let courier = Some(request.courier_id.as_str()).filter(|id| !id.is_empty());
                core.pin(&region, &request.order_id, courier, &by).await
            })
            .await?;
        Ok(Response::new(order.to_proto()))
    }

    async fn hold_order(
        &self,
        request: Request<pb::HoldOrderRequest>,
    ) -> Result<Response<pb::OrderStatus>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let region = self.region_for(&caller, request.scope.as_ref(), "hold orders")?;
        required_id("order_id", &request.order_id)?;
        let until = hold_until(request.until.as_ref(), self.core.now())?;
        let by = overrider(&caller, request.context.as_ref())?;
        let core = self.core.clone();
        let order = self
            .in_flight
            .run_to_completion(
                async move { core.hold(&region, &request.order_id, until, &by).await },
            )
            .await?;
        Ok(Response::new(order.to_proto()))
    }

    async fn release_order(
        &self,
        request: Request<pb::ReleaseOrderRequest>,
    ) -> Result<Response<pb::OrderStatus>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let region = self.region_for(&caller, request.scope.as_ref(), "release orders")?;
        required_id("order_id", &request.order_id)?;
        let by = overrider(&caller, request.context.as_ref())?;
        let core = self.core.clone();
        let order = self
            .in_flight
            .run_to_completion(async move { core.release(&region, &request.order_id, &by).await })
            .await?;
        Ok(Response::new(order.to_proto()))
    }

    async fn cancel_order(
        &self,
        request: Request<pb::SupportCancelOrderRequest>,
    ) -> Result<Response<pb::OrderStatus>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let region = self.region_for(&caller, request.scope.as_ref(), "cancel orders")?;
        required_id("order_id", &request.order_id)?;
        let by = overrider(&caller, request.context.as_ref())?;
        let core = self.core.clone();
        let order = self
            .in_flight
            .run_to_completion(
                async move { core.support_cancel(&region, &request.order_id, &by).await },
            )
            .await?;
        Ok(Response::new(order.to_proto()))
    }
}

/// Who overrides and why, from a request's context, which must name the caller itself: the
/// order's history records who did it, so nobody may act in another operator's name.
fn overrider(caller: &Caller, context: Option<&pb::OverrideContext>) -> Result<Override, Status> {
    let by = override_of(context)?;
    caller.may_override_as(&by.operator_id, "override in another operator's name")?;
    Ok(by)
}

/// The `CourierState` message of a courier.
fn courier_state(
    courier: &Courier,
    on_board: Vec<String>,
    route: Option<pb::Route>,
    connected: bool,
) -> pb::CourierState {
    pb::CourierState {
        scope: Some(courier.region.to_scope()),
        courier_id: courier.courier_id.clone(),
        status: courier.status.to_proto() as i32,
        vehicle: vehicle_to_proto(courier.vehicle) as i32,
        capacity: Some(load_to_proto(courier.capacity)),
        shift_end: courier
            .shift_end
            .filter(|_| courier.status != CourierStatus::OffShift)
            .map(time_to_proto),
        last_fix: courier.last_fix.as_ref().map(fix_to_proto),
        on_board,
        route,
        connected,
    }
}

/// The later of two fixes.
fn newest(a: Option<Fix>, b: Option<Fix>) -> Option<Fix> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.recorded_at > a.recorded_at { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// A track request's interval: both ends required, `to` after `from`, at most 24 hours apart.
fn track_interval(
    from: Option<&prost_types::Timestamp>,
    to: Option<&prost_types::Timestamp>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ValidationError> {
    let from = time_from_proto("from", from)?;
    let to = time_from_proto("to", to)?;
    if to <= from {
        return Err(ValidationError::new("to", "must be after from"));
    }
    if to - from > MAX_TRACK_SPAN {
        return Err(ValidationError::new(
            "to",
            format!(
                "must be at most {} hours after from",
                MAX_TRACK_SPAN.num_hours()
            ),
        ));
    }
    Ok((from, to))
}

/// The most fixes to answer with: the request's `max_points`, 0 meaning the server's limit, and
/// never more than that limit.
fn track_limit(max_points: u32) -> usize {
    match usize::try_from(max_points) {
        Ok(0) | Err(_) => MAX_TRACK_POINTS,
        Ok(n) => n.min(MAX_TRACK_POINTS),
    }
}

/// At most `max` of `items`, evenly spread over them and keeping the first and the last; true if
/// any were dropped.
fn thin<T>(items: Vec<T>, max: usize) -> (Vec<T>, bool) {
    let n = items.len();
    if n <= max {
        return (items, false);
    }
    if max == 0 {
        return (Vec::new(), true);
    }
    if max == 1 {
        return (items.into_iter().take(1).collect(), true);
    }
    // Index k * (n - 1) / (max - 1) for k in 0..max: strictly increasing because n > max, from the
    // first item to the last. u128 cannot overflow for any usize length.
    let (span, steps) = ((n - 1) as u128, (max - 1) as u128);
    let mut keep = (0..max)
        .map(|k| (k as u128 * span / steps) as usize)
        .peekable();
    let thinned = items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| {
            if keep.peek() == Some(&i) {
                keep.next();
                Some(item)
            } else {
                None
            }
        })
        .collect();
    (thinned, true)
}

/// A stored fix as protobuf.
fn row_to_fix(row: &PositionRow) -> pb::PositionFix {
    pb::PositionFix {
        location: Some(pb::LatLng {
            lat: row.lat,
            lng: row.lng,
        }),
        recorded_at: Some(time_to_proto(row.recorded_at)),
        accuracy_m: row.accuracy_m,
        speed_mps: row.speed_mps,
        heading_deg: row.heading_deg,
    }
}

/// A sentence for support staff on where an order is and why, e.g. "Order o-1 is accepted by
/// courier c-7; pickup at 12:03, drop-off at 12:21 (on time). Last decision: best_insertion in
/// round 14." Times are UTC.
fn summary(order: &Order, decision: Option<&DecisionRecord>) -> String {
    let courier = order.courier_id.as_deref().unwrap_or("unknown");
    let mut text = format!("Order {} is ", order.spec.order_id);
    match order.state {
        OrderState::Placed if order.held => {
            text.push_str("held by support");
            if let Some(until) = order.held_until {
                text.push_str(&format!(" until {}", clock(until)));
            }
        }
        OrderState::Placed => text.push_str("waiting for a courier"),
        OrderState::Offered => {
            text.push_str(&format!("offered to courier {courier}"));
            if let Some(expires) = order.offer_expires_at {
                text.push_str(&format!(" until {}", clock(expires)));
            }
        }
        OrderState::Accepted => text.push_str(&format!("accepted by courier {courier}")),
        OrderState::PickedUp => text.push_str(&format!("on board with courier {courier}")),
        OrderState::Delivered => text.push_str(&format!(
            "delivered by courier {courier} at {}",
            clock(order.state_changed_at)
        )),
        OrderState::Cancelled => {
            text.push_str(&format!("cancelled at {}", clock(order.state_changed_at)));
        }
        OrderState::Failed => text.push_str(&format!(
            "failed with courier {courier} at {}",
            clock(order.state_changed_at)
        )),
    }
    if order.pinned {
        text.push_str(", pinned by support");
    }
    if !order.state.is_final() {
        let mut etas = Vec::new();
        if let Some(pickup) = order.pickup_eta {
            etas.push(format!("pickup at {}", clock(pickup)));
        }
        if let Some(dropoff) = order.dropoff_eta {
            let late = dropoff - order.spec.promised_end;
            let punctuality = if late > TimeDelta::zero() {
                let minutes = (late.num_seconds() + 59) / 60;
                format!("{minutes} min late")
            } else {
                "on time".to_owned()
            };
            etas.push(format!("drop-off at {} ({punctuality})", clock(dropoff)));
        }
        if !etas.is_empty() {
            text.push_str("; ");
            text.push_str(&etas.join(", "));
        }
        if let Some(reason) = order.unassigned_reason.filter(|r| {
            order.state == OrderState::Placed && !(order.held && *r == Unassigned::Held)
        }) {
            text.push_str(&format!(
                "; not assigned because {}",
                unassigned_text(reason)
            ));
        }
    }
    text.push_str(". ");
    match decision {
        Some(d) => match (&d.courier_id, d.unassigned_reason) {
            (None, Some(reason)) => text.push_str(&format!(
                "Last decision: left unassigned because {} in round {}.",
                unassigned_text(reason),
                d.plan_version
            )),
            _ => text.push_str(&format!(
                "Last decision: {} in round {}.",
                d.reason_code, d.plan_version
            )),
        },
        None => text.push_str("No planning decision recorded yet."),
    }
    text
}

/// A time of day, UTC, as "12:03".
fn clock(at: DateTime<Utc>) -> String {
    at.format("%H:%M").to_string()
}

/// Why an order is unassigned, as words that follow "because".
fn unassigned_text(reason: Unassigned) -> &'static str {
    match reason {
        Unassigned::NoCourier => "no courier is on shift",
        Unassigned::Capacity => "it does not fit any courier's free capacity",
        Unassigned::Requirements => "no courier on shift has the vehicle or equipment it needs",
        Unassigned::ShiftEnd => "every courier who could take it ends their shift too soon",
        Unassigned::TimeWindow => "its hard delivery window cannot be met",
        Unassigned::Unreachable => "its pickup or drop-off cannot be reached by road",
        Unassigned::Held => "support holds it",
        Unassigned::Declined => "every suitable courier declined it",
        Unassigned::NotWorthServing => {
            "serving it costs more than leaving it, under the current weights"
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use router::geo::LatLng;

    use super::*;
    use crate::domain::{Load, OrderSpec, Place};

    #[test]
    fn a_short_track_is_kept_whole() {
        let (kept, thinned) = thin((0..10).collect::<Vec<_>>(), 10);
        assert_eq!(kept, (0..10).collect::<Vec<_>>());
        assert!(!thinned);
        let (kept, thinned) = thin(Vec::<u8>::new(), 5);
        assert!(kept.is_empty() && !thinned);
    }

    #[test]
    fn thinning_spreads_evenly_and_keeps_both_ends() {
        let (kept, thinned) = thin((0..101).collect::<Vec<_>>(), 11);
        assert!(thinned);
        assert_eq!(kept, vec![0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);

        for (n, max) in [
            (11, 10),
            (10_001, 10_000),
            (100_000, 10_000),
            (7, 2),
            (3, 2),
        ] {
            let (kept, thinned) = thin((0..n).collect::<Vec<_>>(), max);
            assert!(thinned);
            assert_eq!(kept.len(), max, "n {n} max {max}");
            assert_eq!(kept.first(), Some(&0));
            assert_eq!(kept.last(), Some(&(n - 1)));
            assert!(kept.windows(2).all(|w| w[0] < w[1]), "n {n} max {max}");
            // Even: no gap is more than one item wider than another.
            let gaps: Vec<_> = kept.windows(2).map(|w| w[1] - w[0]).collect();
            let (min, max_gap) = (gaps.iter().min().unwrap(), gaps.iter().max().unwrap());
            assert!(max_gap - min <= 1, "n {n} max {max}: gaps {min}..{max_gap}");
        }
    }

    #[test]
    fn thinning_to_one_or_none() {
        assert_eq!(thin(vec![1, 2, 3], 1), (vec![1], true));
        assert_eq!(thin(vec![1, 2, 3], 0), (vec![], true));
    }

    #[test]
    fn the_track_limit_defaults_and_caps() {
        assert_eq!(track_limit(0), MAX_TRACK_POINTS);
        assert_eq!(track_limit(1), 1);
        assert_eq!(track_limit(500), 500);
        assert_eq!(track_limit(10_000), MAX_TRACK_POINTS);
        assert_eq!(track_limit(u32::MAX), MAX_TRACK_POINTS);
    }

    fn ts(seconds: i64) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds, nanos: 0 }
    }

    #[test]
    fn a_track_interval_is_ordered_and_at_most_a_day() {
        let day = 86_400;
        assert!(track_interval(Some(&ts(0)), Some(&ts(day))).is_ok());
        for (from, to, field) in [
            (None, Some(ts(1)), "from"),
            (Some(ts(0)), None, "to"),
            (Some(ts(5)), Some(ts(5)), "to"),
            (Some(ts(5)), Some(ts(4)), "to"),
            (Some(ts(0)), Some(ts(day + 1)), "to"),
        ] {
            let error = track_interval(from.as_ref(), to.as_ref()).unwrap_err();
            assert_eq!(error.field, field, "{error}");
        }
    }

    fn order(state: OrderState) -> Order {
        let at = |h, m| Utc.with_ymd_and_hms(2025, 3, 1, h, m, 0).unwrap();
        let place = Place {
            location: LatLng::new(52.5, 13.4).unwrap(),
            address: String::new(),
            instructions: String::new(),
        };
        let spec = OrderSpec {
            order_id: "o-1".into(),
            kitchen_id: "k-1".into(),
            placed_at: at(11, 40),
            pickup: place.clone(),
            ready_at: at(12, 0),
            pickup_service_s: 60,
            dropoff: place,
            promised_start: at(12, 10),
            promised_end: at(12, 30),
            dropoff_service_s: 60,
            size: Load::default(),
            allowed_vehicles: Vec::new(),
            required_equipment: Vec::new(),
            hard_window: false,
        };
        let mut order = Order::placed(RegionKey::new("acme", "berlin"), spec, at(11, 40));
        order.state = state;
        if state != OrderState::Placed {
            order.courier_id = Some("c-7".into());
            order.pickup_eta = Some(at(12, 3));
            order.dropoff_eta = Some(at(12, 21));
        }
        order
    }

    fn decision(reason_code: &str, round: u64) -> DecisionRecord {
        DecisionRecord {
            region: RegionKey::new("acme", "berlin"),
            decision_id: "d-1".into(),
            order_id: "o-1".into(),
            decided_at: Utc.with_ymd_and_hms(2025, 3, 1, 11, 50, 0).unwrap(),
            plan_version: round,
            courier_id: Some("c-7".into()),
            previous_courier_id: None,
            unassigned_reason: None,
            reason_code: reason_code.into(),
            pickup_eta: None,
            dropoff_eta: None,
            expected_lateness_s: 0,
            cost_delta: 0.0,
            detail: String::new(),
        }
    }

    #[test]
    fn the_summary_reads_like_the_example() {
        let text = summary(
            &order(OrderState::Accepted),
            Some(&decision("best_insertion", 14)),
        );
        assert_eq!(
            text,
            "Order o-1 is accepted by courier c-7; pickup at 12:03, drop-off at 12:21 (on time). \
             Last decision: best_insertion in round 14."
        );
    }

    #[test]
    fn the_summary_says_how_late_pinned_held_and_unassigned() {
        let mut late = order(OrderState::PickedUp);
        late.pinned = true;
        late.dropoff_eta = Some(late.spec.promised_end + TimeDelta::seconds(7 * 60 + 5));
        let text = summary(&late, None);
        assert!(
            text.contains("on board with courier c-7, pinned by support"),
            "{text}"
        );
        assert!(text.contains("drop-off at 12:37 (8 min late)"), "{text}");
        assert!(
            text.ends_with("No planning decision recorded yet."),
            "{text}"
        );

        let mut held = order(OrderState::Placed);
        held.held = true;
        held.unassigned_reason = Some(Unassigned::Held);
        let text = summary(&held, None);
        assert!(text.starts_with("Order o-1 is held by support."), "{text}");

        let mut waiting = order(OrderState::Placed);
        waiting.unassigned_reason = Some(Unassigned::NoCourier);
        let mut left = decision("unassigned", 3);
        left.courier_id = None;
        left.unassigned_reason = Some(Unassigned::NoCourier);
        let text = summary(&waiting, Some(&left));
        assert_eq!(
            text,
            "Order o-1 is waiting for a courier; not assigned because no courier is on shift. \
             Last decision: left unassigned because no courier is on shift in round 3."
        );
    }

    #[test]
    fn a_finished_order_has_no_etas_in_its_summary() {
        let mut delivered = order(OrderState::Delivered);
        delivered.state_changed_at = Utc.with_ymd_and_hms(2025, 3, 1, 12, 24, 0).unwrap();
        let text = summary(&delivered, Some(&decision("best_insertion", 20)));
        assert_eq!(
            text,
            "Order o-1 is delivered by courier c-7 at 12:24. Last decision: best_insertion in \
             round 20."
        );
    }
}
