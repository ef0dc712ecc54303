//! The courier app's session: Hello, then positions, status and answers to offers, each acknowledged
//! once durable and applied at most once per (courier, seq).

use chrono::{DateTime, Utc};
use proto::dispatch::v1::{self as pb, courier_down::Body, courier_up};
use tokio::sync::mpsc;

use super::{
    Core, CoreError, Txn,
    kitchen::{apply_finish, finish_order},
};
use crate::{
    domain::{
        Actor, Courier, CourierStatus, DecisionRecord, EventKind, Fix, OrderState, RegionKey,
        ValidationError,
        check::{Horizon, MAX_APP_VERSION_BYTES, MAX_NOTE_BYTES},
        convert::{self, time_near},
    },
    store::{Committed, positions::PositionRow},
    world::{CourierEntry, RegionState},
};

/// What a courier app says after Hello.
#[derive(Debug, Clone, PartialEq)]
pub enum CourierCommand {
    /// Fixes, oldest first.
    Positions(Vec<Fix>),
    /// Starts, pauses or ends work.
    Status {
        /// New status.
        status: CourierStatus,
        /// Intended end of work.
        shift_end: Option<DateTime<Utc>>,
    },
    /// Takes an offer.
    Accept {
        /// The offer.
        offer_id: String,
    },
    /// Turns an offer down.
    Decline {
        /// The offer.
        offer_id: String,
        /// Why, as text.
        reason: String,
    },
    /// At a stop.
    Arrived {
        /// The stop from the current route.
        stop_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Collected an order.
    PickedUp {
        /// The order.
        order_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Handed an order over.
    Delivered {
        /// The order.
        order_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Could not deliver.
    Failed {
        /// The order.
        order_id: String,
        /// Why, as text.
        reason: String,
        /// When.
        at: DateTime<Utc>,
    },
}

impl CourierCommand {
    /// The command in an app message (other than Hello), checked; times against the service
    /// clock `now`.
    pub fn from_proto(
        body: &courier_up::Body,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        let happened = |field: &str, ts: Option<&prost_types::Timestamp>| {
            time_near(field, ts, Horizon::HAPPENED, now)
        };
        use courier_up::Body as B;
        Ok(match body {
            B::Hello(_) => {
                return Err(ValidationError::new(
                    "hello",
                    "only allowed as the first message",
                ));
            }
            B::Positions(p) => CourierCommand::Positions(convert::fixes_from_proto(
                "positions.fixes",
                &p.fixes,
                now,
            )?),
            B::Status(s) => {
                let status = match pb::CourierStatus::try_from(s.status) {
                    Ok(pb::CourierStatus::OnShift) => CourierStatus::OnShift,
                    Ok(pb::CourierStatus::Paused) => CourierStatus::Paused,
                    Ok(pb::CourierStatus::OffShift) => CourierStatus::OffShift,
                    _ => {
                        return Err(ValidationError::new(
                            "status.status",
                            format!("{} is not a courier status", s.status),
                        ));
                    }
                };
                let shift_end = convert::optional_time_near(
                    "status.shift_end",
                    s.shift_end.as_ref(),
                    Horizon::SHIFT_END,
                    now,
                )?;
                CourierCommand::Status { status, shift_end }
            }
            B::Accept(a) => {
                convert::check_id("accept.offer_id", &a.offer_id)?;
                CourierCommand::Accept {
                    offer_id: a.offer_id.clone(),
                }
            }
            B::Decline(d) => {
                convert::check_id("decline.offer_id", &d.offer_id)?;
                convert::check_text("decline.note", &d.note, MAX_NOTE_BYTES)?;
                let reason = pb::DeclineReason::try_from(d.reason)
                    .map_or("unspecified", |r| r.as_str_name());
                CourierCommand::Decline {
                    offer_id: d.offer_id.clone(),
                    reason: format!("{reason} {}", d.note).trim().to_owned(),
                }
            }
            B::Arrived(a) => {
                convert::check_id("arrived.stop_id", &a.stop_id)?;
                CourierCommand::Arrived {
                    stop_id: a.stop_id.clone(),
                    at: happened("arrived.arrived_at", a.arrived_at.as_ref())?,
                }
            }
            B::PickedUp(p) => {
                convert::check_id("picked_up.order_id", &p.order_id)?;
                CourierCommand::PickedUp {
                    order_id: p.order_id.clone(),
                    at: happened("picked_up.picked_up_at", p.picked_up_at.as_ref())?,
                }
            }
            B::Delivered(d) => {
                convert::check_id("delivered.order_id", &d.order_id)?;
                CourierCommand::Delivered {
                    order_id: d.order_id.clone(),
                    at: happened("delivered.delivered_at", d.delivered_at.as_ref())?,
                }
            }
            B::Failed(f) => {
                convert::check_id("failed.order_id", &f.order_id)?;
                convert::check_text("failed.note", &f.note, MAX_NOTE_BYTES)?;
                let reason = pb::FailureReason::try_from(f.reason)
                    .map_or("unspecified", |r| r.as_str_name());
                CourierCommand::Failed {
                    order_id: f.order_id.clone(),
                    reason: format!("{reason} {}", f.note).trim().to_owned(),
                    at: happened("failed.failed_at", f.failed_at.as_ref())?,
                }
            }
        })
    }
}

/// The service's answer to one app message.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Durable (or applied before); acknowledge up to this seq.
    Ack(u64),
    /// Could not be applied; still acknowledged, since re-sending will not help.
    Rejected {
        /// The message's seq.
        seq: u64,
        /// Machine-readable reason.
        code: &'static str,
        /// Explanation.
        message: String,
    },
}

impl Reply {
    /// The messages to send down for this reply.
    pub fn into_bodies(self) -> Vec<Body> {
        match self {
            Reply::Ack(seq) => vec![Body::Ack(pb::Ack { seq })],
            Reply::Rejected { seq, code, message } => vec![
                Body::Rejected(pb::Rejected {
                    seq,
                    code: code.to_owned(),
                    message,
                }),
                Body::Ack(pb::Ack { seq }),
            ],
        }
    }
}

/// A courier's open session.
#[derive(Debug)]
pub struct Welcome {
    /// The session, for [`Core::courier_left`].
    pub session_id: u64,
    /// Everything the service sends on this session, starting with the `Welcome` message.
    pub down: mpsc::Receiver<pb::CourierDown>,
}

/// Who is speaking on a session, as established by Hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Speaker {
    /// The courier's region.
    pub region: RegionKey,
    /// The courier.
    pub courier_id: String,
}

impl Core {
    /// Opens a courier's session: records who they are this shift and registers the stream.
    pub async fn courier_hello(&self, hello: &pb::Hello) -> Result<(Speaker, Welcome), CoreError> {
        let scope = hello
            .scope
            .as_ref()
            .ok_or_else(|| ValidationError::new("hello.scope", "is required"))?;
        convert::check_id("hello.scope.tenant_id", &scope.tenant_id)?;
        convert::check_id("hello.scope.region_id", &scope.region_id)?;
        convert::check_id("hello.courier_id", &hello.courier_id)?;
        convert::check_text(
            "hello.app_version",
            &hello.app_version,
            MAX_APP_VERSION_BYTES,
        )?;
        let vehicle = convert::vehicle_from_proto("hello.vehicle", hello.vehicle)?;
        let capacity = convert::checked_load_from_proto("hello.capacity", hello.capacity.as_ref())?;
        let equipment = convert::tags_from_proto("hello.equipment", &hello.equipment)?;
        let region_key = RegionKey::new(&scope.tenant_id, &scope.region_id);
        let courier_id = hello.courier_id.clone();

        let mut world = self.world.lock().await;
        let now = self.now();
        let region = Self::region_mut(&mut world, &region_key)?;
        let mut courier = match region.couriers.get(&courier_id) {
            Some(entry) => entry.courier.clone(),
            None => match self
                .store
                .courier(&region_key.tenant_id, &courier_id)
                .await?
            {
                Some(stored) if stored.region == region_key => stored,
                Some(stored) => {
                    return Err(CoreError::precondition(format!(
                        "courier {courier_id} belongs to region {}",
                        stored.region
                    )));
                }
                None => Courier {
                    region: region_key.clone(),
                    courier_id: courier_id.clone(),
                    vehicle,
                    capacity,
                    equipment: Vec::new(),
                    status: CourierStatus::OffShift,
                    shift_end: None,
                    last_fix: None,
                    last_durable_seq: 0,
                },
            },
        };
        courier.vehicle = vehicle;
        courier.capacity = capacity;
        courier.equipment = equipment;
        let mut txn = Txn::new(&region_key, now);
        txn.put_courier(&courier);
        txn.wake_planner = true;
        self.commit(txn).await?;
        region.put_courier(courier.clone());
        let Some(entry) = region.couriers.get_mut(&courier_id) else {
            return Err(CoreError::Unavailable(format!(
                "courier {courier_id} vanished while connecting"
            )));
        };
        let (session_id, down) = self.hub.open(&region_key.tenant_id, &courier_id);
        entry.connected = true;
        let open_offers = entry
            .open_offer
            .as_ref()
            .and_then(|id| region.offers.get(id))
            .map(|o| o.message.clone())
            .into_iter()
            .collect();
        let message = pb::Welcome {
            session_id: format!("s-{session_id}"),
            last_durable_seq: courier.last_durable_seq,
            route: region.couriers[&courier_id].route.clone(),
            open_offers,
            position_interval_s: self.settings.position_interval_s,
        };
        // Sent while the world is locked, so nothing planned for this courier can overtake it.
        self.hub
            .send(&region_key.tenant_id, &courier_id, Body::Welcome(message));
        self.metrics.couriers_connected.set(self.hub.len() as i64);
        tracing::info!(region = %region_key, courier_id, session_id, "courier connected");
        Ok((
            Speaker {
                region: region_key,
                courier_id,
            },
            Welcome { session_id, down },
        ))
    }

    /// Closes a courier's session (the stream ended).
    pub async fn courier_left(&self, speaker: &Speaker, session_id: u64) {
        let closed = self
            .hub
            .close(&speaker.region.tenant_id, &speaker.courier_id, session_id);
        // The hub may have dropped a stuck stream itself; then nobody else marks the courier gone.
        if closed
            || !self
                .hub
                .is_connected(&speaker.region.tenant_id, &speaker.courier_id)
        {
            let mut world = self.world.lock().await;
            if let Some(c) = world
                .region_mut(&speaker.region)
                .and_then(|r| r.couriers.get_mut(&speaker.courier_id))
            {
                c.connected = false;
            }
            tracing::info!(region = %speaker.region, courier_id = %speaker.courier_id, session_id, "courier disconnected");
        }
        self.metrics.couriers_connected.set(self.hub.len() as i64);
    }

    /// Applies one app message. Domain refusals come back as [`Reply::Rejected`] (and are still made
    /// durable, so the app stops re-sending); only transient failures are errors.
    pub async fn courier_message(
        &self,
        speaker: &Speaker,
        seq: u64,
        command: Result<CourierCommand, ValidationError>,
    ) -> Result<Reply, CoreError> {
        if seq == 0 {
            return Ok(Reply::Rejected {
                seq,
                code: "invalid_argument",
                message: "seq must be 1 or more after hello".into(),
            });
        }
        // Refused before anything is stored: the store could never hold it, and the failure would
        // look transient and close the session for the app to re-send it for ever.
        if let Err(invalid) = convert::check_counter("seq", seq) {
            return Ok(Reply::Rejected {
                seq,
                code: "invalid_argument",
                message: invalid.to_string(),
            });
        }
        // A message applied before (the app re-sent it after a reconnect) is only acknowledged.
        {
            let world = self.world.lock().await;
            let durable = world
                .region(&speaker.region)
                .and_then(|r| r.couriers.get(&speaker.courier_id))
                .map_or(0, |c| c.courier.last_durable_seq);
            if seq <= durable {
                return Ok(Reply::Ack(seq));
            }
        }
        let outcome = match command {
            Ok(CourierCommand::Positions(fixes)) => {
                return self.courier_positions(speaker, seq, fixes).await;
            }
            Ok(command) => self.courier_command(speaker, seq, command).await,
            Err(invalid) => Err(CoreError::Invalid(invalid)),
        };
        match outcome {
            Ok(()) => Ok(Reply::Ack(seq)),
            Err(error) if error.is_transient() => Err(error),
            Err(error) => {
                tracing::info!(courier_id = %speaker.courier_id, seq, code = error.code(), %error, "courier message rejected");
                self.mark_durable(speaker, seq).await?;
                Ok(Reply::Rejected {
                    seq,
                    code: rejection_code(&error),
                    message: error.to_string(),
                })
            }
        }
    }

    async fn mark_durable(&self, speaker: &Speaker, seq: u64) -> Result<(), CoreError> {
        let mut world = self.world.lock().await;
        let mut txn = Txn::new(&speaker.region, self.now());
        txn.courier_seq(&speaker.courier_id, seq);
        self.commit(txn).await?;
        raise_seq(&mut world, speaker, seq);
        Ok(())
    }

    async fn courier_positions(
        &self,
        speaker: &Speaker,
        seq: u64,
        fixes: Vec<Fix>,
    ) -> Result<Reply, CoreError> {
        let rows: Vec<PositionRow> = fixes
            .iter()
            .map(|f| position_row(&speaker.region, &speaker.courier_id, f))
            .collect();
        self.metrics.positions_received_grpc(rows.len() as u64);
        self.positions
            .write(
                rows,
                Some(crate::store::CourierSeq {
                    tenant_id: speaker.region.tenant_id.clone(),
                    courier_id: speaker.courier_id.clone(),
                    seq,
                }),
            )
            .await?;
        if let Some(newest) = fixes.last().copied() {
            self.note_fix(&speaker.region, &speaker.courier_id, newest);
        }
        let mut world = self.world.lock().await;
        raise_seq(&mut world, speaker, seq);
        Ok(Reply::Ack(seq))
    }

    async fn courier_command(
        &self,
        speaker: &Speaker,
        seq: u64,
        command: CourierCommand,
    ) -> Result<(), CoreError> {
        let mut world = self.world.lock().await;
        let now = self.now();
        let region = Self::region_mut(&mut world, &speaker.region)?;
        let courier_id = speaker.courier_id.as_str();
        let actor = Actor::Courier(courier_id.to_owned());
        let mut txn = Txn::new(&speaker.region, now);
        txn.courier_seq(courier_id, seq);
        let entry = region
            .couriers
            .get(courier_id)
            .cloned()
            .ok_or_else(|| CoreError::not_found("courier", courier_id))?;
        match command {
            CourierCommand::Positions(_) => {
                return Err(CoreError::precondition("positions take their own path"));
            }
            CourierCommand::Status { status, shift_end } => {
                let mut courier = entry.courier.clone();
                courier.status = status;
                courier.shift_end = match status {
                    CourierStatus::OffShift => None,
                    _ => shift_end.or(courier.shift_end),
                };
                txn.put_courier(&courier);
                txn.wake_planner = true;
                self.commit(txn).await?;
                region.put_courier(courier);
            }
            CourierCommand::Accept { offer_id } => {
                self.accept(region, txn, &entry, &offer_id, &actor).await?;
            }
            CourierCommand::Decline { offer_id, reason } => {
                let offer = own_offer(region, courier_id, &offer_id)?;
                let orders = super::timers::lapse_offer(
                    region,
                    &mut txn,
                    &offer,
                    EventKind::OfferDeclined,
                    &actor,
                    &reason,
                );
                self.commit(txn).await?;
                super::kitchen::apply_withdraw(region, &offer_id, &orders, now);
                self.metrics.offers_declined.inc();
            }
            CourierCommand::Arrived { stop_id, at } => {
                let stop = entry
                    .route
                    .as_ref()
                    .and_then(|r| r.stops.iter().find(|s| s.stop_id == stop_id))
                    .cloned()
                    .ok_or_else(|| CoreError::not_found("stop", &stop_id))?;
                let kind = if stop.kind == pb::StopKind::Pickup as i32 {
                    EventKind::ArrivedAtPickup
                } else {
                    EventKind::ArrivedAtDropoff
                };
                for order_id in &stop.order_ids {
                    if let Some(order) = region.order(order_id) {
                        txn.record(order, kind, order.state, &actor, format!("at {at}"));
                    }
                }
                self.commit(txn).await?;
            }
            CourierCommand::PickedUp { order_id, at } => {
                let mut order = own_order(region, courier_id, &order_id)?;
                let from = order.state;
                match from {
                    OrderState::Accepted => {}
                    OrderState::PickedUp => return Ok(()),
                    _ => return Err(not_accepted(&order_id, from)),
                }
                order.set_state(OrderState::PickedUp, now);
                txn.put_order(&order);
                txn.record(
                    &order,
                    EventKind::PickedUp,
                    from,
                    &actor,
                    format!("at {at}"),
                );
                txn.wake_planner = true;
                self.commit(txn).await?;
                region.put_order(order, now);
            }
            CourierCommand::Delivered { order_id, at } => {
                let mut order = own_order(region, courier_id, &order_id)?;
                let from = order.state;
                if !matches!(from, OrderState::Accepted | OrderState::PickedUp) {
                    return Err(not_accepted(&order_id, from));
                }
                if from == OrderState::Accepted {
                    // The app skipped "picked up"; the delivery proves it happened.
                    order.set_state(OrderState::PickedUp, now);
                    txn.record(
                        &order,
                        EventKind::PickedUp,
                        from,
                        &actor,
                        "implied by delivery",
                    );
                }
                let before = order.state;
                order.set_state(OrderState::Delivered, now);
                order.courier_id = Some(courier_id.to_owned());
                txn.put_order(&order);
                txn.record(
                    &order,
                    EventKind::Delivered,
                    before,
                    &actor,
                    format!("at {at}"),
                );
                txn.wake_planner = true;
                self.commit(txn).await?;
                region.put_order(order, now);
            }
            CourierCommand::Failed {
                order_id, reason, ..
            } => {
                let order = own_order(region, courier_id, &order_id)?;
                if !matches!(order.state, OrderState::Accepted | OrderState::PickedUp) {
                    return Err(not_accepted(&order_id, order.state));
                }
                let finished =
                    finish_order(region, &mut txn, order, OrderState::Failed, &actor, &reason);
                self.commit(txn).await?;
                apply_finish(region, &finished, now);
            }
        }
        raise_seq(&mut world, speaker, seq);
        Ok(())
    }

    async fn accept(
        &self,
        region: &mut RegionState,
        mut txn: Txn,
        entry: &CourierEntry,
        offer_id: &str,
        actor: &Actor,
    ) -> Result<(), CoreError> {
        let now = txn.now;
        let courier_id = entry.courier.courier_id.as_str();
        let offer = own_offer(region, courier_id, offer_id)?;
        if offer.expires_at < now {
            return Err(CoreError::precondition(format!(
                "offer {offer_id} expired at {}",
                offer.expires_at
            )));
        }
        let mut accepted = Vec::new();
        for order_id in &offer.order_ids {
            let Some(order) = region.order(order_id) else {
                continue;
            };
            if order.state != OrderState::Offered {
                continue;
            }
            let mut order = order.clone();
            order.set_state(OrderState::Accepted, now);
            order.courier_id = Some(courier_id.to_owned());
            txn.put_order(&order);
            txn.record(&order, EventKind::Accepted, OrderState::Offered, actor, "");
            let decision = DecisionRecord {
                region: txn.region.clone(),
                decision_id: super::txn::new_id(),
                order_id: order_id.clone(),
                decided_at: now,
                plan_version: region.plan_version,
                courier_id: Some(courier_id.to_owned()),
                previous_courier_id: None,
                unassigned_reason: None,
                reason_code: "offer_accepted".into(),
                pickup_eta: order.pickup_eta,
                dropoff_eta: order.dropoff_eta,
                expected_lateness_s: 0,
                cost_delta: 0.0,
                detail: format!("courier {courier_id} accepted offer {offer_id}"),
            };
            txn.publish(
                decision.decision_id.clone(),
                pb::envelope::Payload::AssignmentMade(pb::AssignmentMade {
                    decision: Some(convert::decision_to_proto(&decision)),
                }),
            );
            txn.decide(decision);
            accepted.push(order);
        }
        // The proposed route was versioned when the offer went out; routes sent since then carry
        // higher versions, so it is re-versioned or the app would ignore it as stale.
        let route = offer.message.proposed_route.clone().map(|mut route| {
            route.version = super::txn::next_route_version(entry.route.as_ref(), now);
            route.planned_at = Some(convert::time_to_proto(now));
            route
        });
        if let Some(route) = route.clone() {
            txn.send(
                courier_id,
                Body::Route(pb::RouteUpdate {
                    route: Some(route),
                    reason: format!("accepted offer {offer_id}"),
                }),
            );
        }
        txn.wake_planner = true;
        if self.commit(txn).await? == Committed::Applied {
            self.metrics.offers_accepted.inc();
        }
        region.offers.remove(offer_id);
        if let Some(c) = region.couriers.get_mut(courier_id) {
            c.open_offer = None;
            if route.is_some() {
                c.route = route;
            }
        }
        for order in accepted {
            region.put_order(order, now);
        }
        Ok(())
    }
}

fn raise_seq(world: &mut crate::world::World, speaker: &Speaker, seq: u64) {
    if let Some(c) = world
        .region_mut(&speaker.region)
        .and_then(|r| r.couriers.get_mut(&speaker.courier_id))
    {
        c.courier.last_durable_seq = c.courier.last_durable_seq.max(seq);
    }
}

fn own_offer(
    region: &RegionState,
    courier_id: &str,
    offer_id: &str,
) -> Result<crate::world::OpenOffer, CoreError> {
    region
        .offers
        .get(offer_id)
        .filter(|o| o.courier_id == courier_id)
        .cloned()
        .ok_or_else(|| CoreError::not_found("offer", offer_id))
}

fn own_order(
    region: &RegionState,
    courier_id: &str,
    order_id: &str,
) -> Result<crate::domain::Order, CoreError> {
    region
        .order(order_id)
        .filter(|o| o.courier_id.as_deref() == Some(courier_id))
        .cloned()
        .ok_or_else(|| CoreError::not_found("order", order_id))
}

fn not_accepted(order_id: &str, state: OrderState) -> CoreError {
    CoreError::precondition(format!(
        "order {order_id} is {}, not accepted by this courier",
        state.as_str()
    ))
}

fn rejection_code(error: &CoreError) -> &'static str {
    match error {
        CoreError::NotFound { what: "offer", .. } => "unknown_offer",
        CoreError::NotFound { what: "order", .. } => "unknown_order",
        CoreError::NotFound { what: "stop", .. } => "unknown_stop",
        CoreError::FailedPrecondition(m) if m.contains("expired") => "offer_expired",
        other => other.code(),
    }
}

/// A stored row for one fix.
pub fn position_row(region: &RegionKey, courier_id: &str, f: &Fix) -> PositionRow {
    PositionRow {
        tenant_id: region.tenant_id.clone(),
        region_id: region.region_id.clone(),
        courier_id: courier_id.to_owned(),
        recorded_at: f.recorded_at,
        lat: f.location.lat(),
        lng: f.location.lng(),
        accuracy_m: f.accuracy_m,
        speed_mps: f.speed_mps,
        heading_deg: f.heading_deg,
    }
}
