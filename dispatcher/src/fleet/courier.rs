//! A simulated courier app: a real gRPC client of `CourierService.Session` that goes on shift, sends
//! position fixes as it moves, answers offers, and follows its route stop by stop, reporting
//! arrivals, pickups and deliveries.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, TimeDelta, Utc};
use proto::dispatch::v1::{
    self as pb, courier_down, courier_service_client::CourierServiceClient, courier_up,
};
use router::geo::{LatLng, haversine_m};
use tokio::sync::mpsc;
use tokio_stream::{StreamExt as _, wrappers::ReceiverStream};

use super::Events;
use crate::{
    auth::BearerChannel,
    clock::{Clock, ScaledClock},
    domain::{
        RegionKey, Vehicle,
        convert::{
            latlng_from_proto, latlng_to_proto, time_from_proto, time_to_proto, vehicle_to_proto,
        },
    },
};

/// How one simulated courier behaves.
#[derive(Debug, Clone)]
pub struct CourierPlan {
    /// Region.
    pub region: RegionKey,
    /// Courier id.
    pub courier_id: String,
    /// Vehicle.
    pub vehicle: Vehicle,
    /// Where the shift starts.
    pub start: LatLng,
    /// Speed over the ground, metres per second.
    pub speed_mps: f64,
    /// Chance of accepting an offer, 0 to 1.
    pub accept: f64,
    /// Whether the courier moves (false: stays put and only answers offers, for load tests).
    pub moves: bool,
    /// Seed of its decisions.
    pub seed: u64,
    /// The road network it drives on; `None` to move in straight lines.
    pub road: Option<Arc<router::network::RoadNetwork>>,
}

/// What a courier saw, for the summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct CourierTally {
    /// Offers received.
    pub offers: u64,
    /// Offers accepted.
    pub accepted: u64,
    /// Offers declined.
    pub declined: u64,
    /// Orders delivered.
    pub delivered: u64,
    /// Simulated seconds on shift.
    pub on_shift_s: f64,
    /// Simulated seconds with work (a route to follow).
    pub busy_s: f64,
}

struct App {
    plan: CourierPlan,
    clock: ScaledClock,
    up: mpsc::Sender<pb::CourierUp>,
    seq: u64,
    at: LatLng,
    stops: Vec<pb::Stop>,
    route_version: u64,
    rng: fastrand::Rng,
    tally: CourierTally,
    events: Arc<Events>,
    last_fix: DateTime<Utc>,
    /// The way to the stop `leg.0`: waypoints still ahead, at speed `leg.2` (metres per second).
    leg: (String, std::collections::VecDeque<LatLng>, f64),
}

impl App {
    async fn send(&mut self, body: courier_up::Body) -> bool {
        self.seq += 1;
        let message = pb::CourierUp {
            seq: self.seq,
            sent_at: Some(time_to_proto(self.clock.now())),
            body: Some(body),
        };
        self.up.send(message).await.is_ok()
    }

    async fn on_down(&mut self, down: pb::CourierDown) -> bool {
        use courier_down::Body;
        match down.body {
            Some(Body::Offer(offer)) => {
                self.tally.offers += 1;
                self.events.offer_seen(&offer, self.clock.now());
                let take = self.rng.f64() < self.plan.accept;
                let body = if take {
                    self.tally.accepted += 1;
                    courier_up::Body::Accept(pb::AcceptOffer {
                        offer_id: offer.offer_id,
                    })
                } else {
                    self.tally.declined += 1;
                    courier_up::Body::Decline(pb::DeclineOffer {
                        offer_id: offer.offer_id,
                        reason: pb::DeclineReason::TooFar as i32,
                        note: String::new(),
                    })
                };
                self.events.say(format!(
                    "{} {} offer of {} order(s)",
                    self.plan.courier_id,
                    if take { "accepts" } else { "declines" },
                    offer.orders.len()
                ));
                return self.send(body).await;
            }
            Some(Body::Route(update)) => {
                if let Some(route) = update.route
                    && route.version >= self.route_version
                {
                    self.route_version = route.version;
                    self.stops = route.stops;
                }
            }
            Some(Body::OrderCancelled(notice)) => {
                for stop in &mut self.stops {
                    stop.order_ids.retain(|o| *o != notice.order_id);
                }
                self.stops.retain(|s| !s.order_ids.is_empty());
            }
            Some(Body::Rejected(r)) => {
                tracing::debug!(courier_id = %self.plan.courier_id, code = %r.code, message = %r.message, "message rejected");
            }
            _ => {}
        }
        true
    }

    /// Moves toward the next stop for `dt` of simulated time and works the stop when there.
    async fn advance(&mut self, dt: TimeDelta) -> bool {
        let now = self.clock.now();
        let seconds = dt.num_milliseconds() as f64 / 1000.0;
        self.tally.on_shift_s += seconds;
        if !self.stops.is_empty() {
            self.tally.busy_s += seconds;
        }
        if self.plan.moves
            && let Some(stop) = self.stops.first().cloned()
        {
            let target = latlng_from_proto(
                "stop",
                stop.place.as_ref().and_then(|p| p.location.as_ref()),
            )
            .unwrap_or(self.at);
            if self.leg.0 != stop.stop_id {
                self.leg = self.way_to(&stop.stop_id, target);
            }
            let step = self.leg.2 * dt.num_milliseconds() as f64 / 1000.0;
            if !self.walk(step) {
                // On the way.
            } else {
                self.at = target;
                let ready = stop
                    .ready_at
                    .as_ref()
                    .and_then(|t| time_from_proto("ready_at", Some(t)).ok());
                if stop.kind == pb::StopKind::Pickup as i32 && ready.is_some_and(|r| r > now) {
                    // Waiting for the food.
                } else if !self.work_stop(&stop, now).await {
                    return false;
                }
            }
        }
        if now - self.last_fix >= TimeDelta::seconds(5) {
            self.last_fix = now;
            self.events.fix(
                &self.plan.courier_id,
                self.plan.vehicle.name(),
                now,
                self.at,
            );
            let fix = pb::PositionFix {
                location: Some(latlng_to_proto(self.at)),
                recorded_at: Some(time_to_proto(now)),
                accuracy_m: 5.0,
                speed_mps: self.plan.speed_mps as f32,
                heading_deg: -1.0,
            };
            return self
                .send(courier_up::Body::Positions(pb::PositionUpdate {
                    fixes: vec![fix],
                }))
                .await;
        }
        true
    }

    /// The way to `target` for the stop `stop_id`: along the roads at their speeds when the courier
    /// has a network and a path exists, else a straight line at its own speed.
    fn way_to(
        &self,
        stop_id: &str,
        target: LatLng,
    ) -> (String, std::collections::VecDeque<LatLng>, f64) {
        let road = self
            .plan
            .road
            .as_ref()
            .and_then(|network| network.route(self.at, target).ok())
            .filter(|r| r.millis > 0);
        match road {
            Some(route) => {
                let metres = route.centimetres as f64 / 100.0;
                let speed = metres / (route.millis as f64 / 1000.0);
                let mut points: std::collections::VecDeque<LatLng> = route.geometry.into();
                points.push_back(target);
                (stop_id.to_owned(), points, speed.max(0.5))
            }
            None => (stop_id.to_owned(), [target].into(), self.plan.speed_mps),
        }
    }

    /// Moves `step` metres along the way; true once at its end.
    fn walk(&mut self, mut step: f64) -> bool {
        while let Some(&next) = self.leg.1.front() {
            let gap = haversine_m(self.at, next);
            if gap <= step.max(0.5) {
                self.at = next;
                step -= gap;
                self.leg.1.pop_front();
            } else {
                let f = step / gap;
                self.at = LatLng::new(
                    self.at.lat() + (next.lat() - self.at.lat()) * f,
                    self.at.lng() + (next.lng() - self.at.lng()) * f,
                )
                .unwrap_or(next);
                return false;
            }
        }
        true
    }

    async fn work_stop(&mut self, stop: &pb::Stop, now: DateTime<Utc>) -> bool {
        self.stops.retain(|s| s.stop_id != stop.stop_id);
        let at = Some(time_to_proto(now));
        let arrived = courier_up::Body::Arrived(pb::ArrivedAtStop {
            stop_id: stop.stop_id.clone(),
            arrived_at: at,
        });
        if !self.send(arrived).await {
            return false;
        }
        if stop.kind == pb::StopKind::Pickup as i32 {
            self.events
                .picked_up(&self.plan.courier_id, &stop.order_ids, now);
        }
        for order_id in &stop.order_ids {
            let body = if stop.kind == pb::StopKind::Pickup as i32 {
                courier_up::Body::PickedUp(pb::PickedUp {
                    order_id: order_id.clone(),
                    picked_up_at: at,
                })
            } else {
                self.tally.delivered += 1;
                self.events
                    .say(format!("{} delivers {order_id}", self.plan.courier_id));
                courier_up::Body::Delivered(pb::Delivered {
                    order_id: order_id.clone(),
                    delivered_at: at,
                })
            };
            if !self.send(body).await {
                return false;
            }
        }
        true
    }
}

/// Runs one courier until `until` (simulated) or until the stream fails; returns its tally.
pub async fn run(
    mut client: CourierServiceClient<BearerChannel>,
    plan: CourierPlan,
    clock: ScaledClock,
    until: DateTime<Utc>,
    events: Arc<Events>,
) -> Result<CourierTally, tonic::Status> {
    let (up, rx) = mpsc::channel(64);
    let hello = pb::CourierUp {
        seq: 0,
        sent_at: Some(time_to_proto(clock.now())),
        body: Some(courier_up::Body::Hello(pb::Hello {
            scope: Some(plan.region.to_scope()),
            courier_id: plan.courier_id.clone(),
            vehicle: vehicle_to_proto(plan.vehicle) as i32,
            capacity: None,
            equipment: Vec::new(),
            app_version: "fleet-sim".into(),
        })),
    };
    up.send(hello)
        .await
        .map_err(|_| tonic::Status::internal("session closed"))?;
    let mut down = client.session(ReceiverStream::new(rx)).await?.into_inner();
    let now = clock.now();
    let mut app = App {
        rng: fastrand::Rng::with_seed(plan.seed),
        at: plan.start,
        plan,
        clock,
        up,
        seq: 0,
        stops: Vec::new(),
        route_version: 0,
        tally: CourierTally::default(),
        events,
        last_fix: now - TimeDelta::hours(1),
        leg: (String::new(), Default::default(), 0.0),
    };
    // The welcome says which of our messages the service already holds.
    match down.next().await {
        Some(Ok(pb::CourierDown {
            body: Some(courier_down::Body::Welcome(welcome)),
            ..
        })) => app.seq = welcome.last_durable_seq,
        Some(Err(status)) => return Err(status),
        _ => return Err(tonic::Status::internal("no welcome")),
    }
    let shift_end = until + TimeDelta::hours(2);
    app.send(courier_up::Body::Status(pb::StatusChange {
        status: pb::CourierStatus::OnShift as i32,
        shift_end: Some(time_to_proto(shift_end)),
    }))
    .await;
    app.advance(TimeDelta::zero()).await;

    // Real-time step; the simulated step is this times the clock's factor.
    let step = Duration::from_millis(250);
    let mut ticker = tokio::time::interval(step);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last = app.clock.now();
    loop {
        tokio::select! {
            message = down.next() => match message {
                Some(Ok(m)) => if !app.on_down(m).await { break },
                Some(Err(status)) => return Err(status),
                None => break,
            },
            _ = ticker.tick() => {
                let now = app.clock.now();
                if now >= until && app.stops.is_empty() {
                    break;
                }
                let dt = now - last;
                last = now;
                if !app.advance(dt).await {
                    break;
                }
            }
        }
    }
    let _ = app
        .send(courier_up::Body::Status(pb::StatusChange {
            status: pb::CourierStatus::OffShift as i32,
            shift_end: None,
        }))
        .await;
    Ok(app.tally)
}
