//! A dispatcher started in-process against the real test servers, and a scripted courier app.

#![allow(dead_code, unreachable_pub)]

use std::{sync::Arc, time::Duration};

use chrono::{TimeDelta, Utc};
use dispatcher::{
    auth::{Bearer, BearerChannel, Claims, Issuer, Role, Secret, TokenSettings},
    clock::WallClock,
    config::Config,
    domain::{
        RegionKey,
        convert::{latlng_to_proto, time_to_proto},
    },
    planner::TravelModel,
    service::Running,
};
use proto::dispatch::v1::{
    self as pb, courier_down::Body, courier_service_client::CourierServiceClient, courier_up,
    kitchen_service_client::KitchenServiceClient, support_service_client::SupportServiceClient,
};
use router::geo::LatLng;
use tokio::sync::mpsc;
use tokio_stream::{StreamExt as _, wrappers::ReceiverStream};
use tonic::transport::Channel;

use crate::common::{self, TestDatabase};

/// How long any single expected event may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The shared secret every test service verifies tokens with.
pub const SECRET: &[u8] = b"the dispatch test suite's shared token secret";

/// The token settings of every test service.
pub fn token_settings() -> TokenSettings {
    TokenSettings::shared_secret(Secret::new(SECRET).unwrap())
}

/// A bearer token for `subject` in `role`, in the tenant of `region`.
pub fn token(region: &RegionKey, role: Role, subject: &str) -> Bearer {
    let minted = Issuer::new(&token_settings())
        .unwrap()
        .mint(&region.tenant_id, role, subject, Duration::from_secs(3600))
        .unwrap();
    Bearer::new(&minted).unwrap()
}

/// The claims of operator `op-1`, support in tenant `demo`, expiring `exp_from_now_s` seconds from
/// now (in the past if negative).
pub fn support_claims(exp_from_now_s: i64) -> Claims {
    Claims {
        sub: "op-1".into(),
        tenant: "demo".into(),
        role: Role::Support,
        exp: u64::try_from(Utc::now().timestamp() + exp_from_now_s).unwrap(),
        iat: None,
        iss: None,
        aud: None,
    }
}

/// The kitchen `k-1` (which [`order`] uses) of `region`'s tenant, on `channel`.
pub fn kitchen(channel: &Channel, region: &RegionKey) -> KitchenServiceClient<BearerChannel> {
    KitchenServiceClient::with_interceptor(channel.clone(), token(region, Role::Kitchen, "k-1"))
}

/// Support operator `op-1` of `region`'s tenant, on `channel`.
pub fn support(channel: &Channel, region: &RegionKey) -> SupportServiceClient<BearerChannel> {
    SupportServiceClient::with_interceptor(channel.clone(), token(region, Role::Support, "op-1"))
}

/// A configuration for one test: its own database and tenant, real RabbitMQ, fast planning.
pub fn config(db: &TestDatabase, region: &RegionKey) -> Config {
    let mut config = Config::defaults();
    config.grpc_addr = "127.0.0.1:0".parse().unwrap();
    config.metrics_addr = "127.0.0.1:0".parse().unwrap();
    config.database_url = Some(db.url.clone());
    config.database_pool_size = 4;
    config.amqp_url = Some(common::amqp_url());
    config.amqp_prefetch = 50;
    config.dispatch_regions = vec![region.clone()];
    config.planner_tick = Duration::from_millis(300);
    config.planner_urgent_gap = Duration::from_millis(50);
    config.planner_budget = Duration::from_millis(100);
    config.planner_threads = 1;
    config.offer_expiry = Duration::from_secs(30);
    config.position_linger = Duration::from_millis(5);
    config.shutdown_grace = Duration::from_secs(10);
    config.auth = Some(token_settings());
    config
}

/// A region of a tenant no other test uses.
pub fn unique_region() -> RegionKey {
    RegionKey::new(
        format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..10]),
        "city",
    )
}

/// Starts the service.
pub async fn start(config: &Config) -> Running {
    Running::start(config, Arc::new(WallClock), TravelModel::straight())
        .await
        .expect("service starts")
}

/// A gRPC channel to the service.
pub async fn channel(running: &Running) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{}", running.grpc_addr))
        .unwrap()
        .connect()
        .await
        .expect("connect to grpc")
}

/// A point `dx` metres east and `dy` metres north of Alexanderplatz.
pub fn at(dx: f64, dy: f64) -> LatLng {
    LatLng::new(52.5219 + dy / 111_320.0, 13.4132 + dx / 67_800.0).unwrap()
}

/// An order from a kitchen at `pickup` to `dropoff`, ready in `ready_min` minutes.
pub fn order(id: &str, pickup: LatLng, dropoff: LatLng, ready_min: i64) -> pb::OrderSpec {
    let now = Utc::now();
    pb::OrderSpec {
        order_id: id.into(),
        kitchen_id: "k-1".into(),
        placed_at: Some(time_to_proto(now)),
        pickup: Some(pb::Place {
            location: Some(latlng_to_proto(pickup)),
            address: "kitchen".into(),
            instructions: String::new(),
        }),
        ready_at: Some(time_to_proto(now + TimeDelta::minutes(ready_min))),
        pickup_service_s: 60,
        dropoff: Some(pb::Place {
            location: Some(latlng_to_proto(dropoff)),
            address: "door".into(),
            instructions: String::new(),
        }),
        promised: Some(pb::TimeWindow {
            start: Some(time_to_proto(now)),
            end: Some(time_to_proto(now + TimeDelta::minutes(45))),
        }),
        dropoff_service_s: 60,
        size: Some(pb::Load {
            weight_grams: 1000,
            volume_ml: 2000,
        }),
        allowed_vehicles: Vec::new(),
        required_equipment: Vec::new(),
        hard_window: false,
    }
}

/// A courier app driven step by step by a test.
pub struct App {
    pub courier_id: String,
    up: mpsc::Sender<pb::CourierUp>,
    down: tonic::Streaming<pb::CourierDown>,
    pub seq: u64,
    pub welcome: pb::Welcome,
    /// The newest route version received; every route must be newer than the one before.
    pub route_version: u64,
}

impl App {
    /// Opens a session, goes on shift and reports one fix at `at`, all acknowledged.
    pub async fn connect(
        channel: Channel,
        region: &RegionKey,
        courier_id: &str,
        at: LatLng,
    ) -> App {
        let mut app = Self::hello(channel, region, courier_id).await;
        app.send(courier_up::Body::Status(pb::StatusChange {
            status: pb::CourierStatus::OnShift as i32,
            shift_end: Some(time_to_proto(Utc::now() + TimeDelta::hours(8))),
        }))
        .await;
        // Known on shift and located before the test goes on, so the next plan can use it.
        let seq = app.position(at).await;
        app.acked(seq).await;
        app
    }

    /// Opens a session (Hello and Welcome) only; `seq` continues from what the service holds.
    pub async fn hello(channel: Channel, region: &RegionKey, courier_id: &str) -> App {
        let bearer = token(region, Role::Courier, courier_id);
        App::try_hello(channel, Some(bearer), region, courier_id)
            .await
            .expect("the session opens with a welcome")
    }

    /// Opens a session as `courier_id` of `region`, sending `bearer` if any: the app, or the status
    /// the service refused it with.
    pub async fn try_hello(
        channel: Channel,
        bearer: Option<Bearer>,
        region: &RegionKey,
        courier_id: &str,
    ) -> Result<App, tonic::Status> {
        let (up, rx) = mpsc::channel(64);
        up.send(pb::CourierUp {
            seq: 0,
            sent_at: Some(time_to_proto(Utc::now())),
            body: Some(courier_up::Body::Hello(pb::Hello {
                scope: Some(region.to_scope()),
                courier_id: courier_id.into(),
                vehicle: pb::VehicleType::Bicycle as i32,
                capacity: Some(pb::Load {
                    weight_grams: 20_000,
                    volume_ml: 40_000,
                }),
                equipment: Vec::new(),
                app_version: "test".into(),
            })),
        })
        .await
        .unwrap();
        let mut request = tonic::Request::new(ReceiverStream::new(rx));
        if let Some(bearer) = bearer {
            bearer.authorize(&mut request);
        }
        let mut down = CourierServiceClient::new(channel)
            .session(request)
            .await?
            .into_inner();
        let first = tokio::time::timeout(PATIENCE, down.next())
            .await
            .expect("an answer to hello in time")
            .expect("stream open")?;
        let Some(Body::Welcome(welcome)) = first.body else {
            panic!("first message is not a welcome: {first:?}");
        };
        Ok(App {
            courier_id: courier_id.into(),
            up,
            down,
            seq: welcome.last_durable_seq,
            route_version: welcome.route.as_ref().map_or(0, |r| r.version),
            welcome,
        })
    }

    /// Sends one message with the next seq; returns the seq.
    pub async fn send(&mut self, body: courier_up::Body) -> u64 {
        self.seq += 1;
        self.up
            .send(pb::CourierUp {
                seq: self.seq,
                sent_at: Some(time_to_proto(Utc::now())),
                body: Some(body),
            })
            .await
            .expect("stream open");
        self.seq
    }

    /// Sends a fix at `at`, now.
    pub async fn position(&mut self, at: LatLng) -> u64 {
        self.send(courier_up::Body::Positions(pb::PositionUpdate {
            fixes: vec![pb::PositionFix {
                location: Some(latlng_to_proto(at)),
                recorded_at: Some(time_to_proto(Utc::now())),
                accuracy_m: 5.0,
                speed_mps: 0.0,
                heading_deg: -1.0,
            }],
        }))
        .await
    }

    /// The next message down that `pick` accepts; other messages are skipped.
    pub async fn expect<T>(&mut self, what: &str, mut pick: impl FnMut(Body) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let message = tokio::time::timeout_at(deadline, self.down.next())
                .await
                .unwrap_or_else(|_| panic!("{}: no {what} within {PATIENCE:?}", self.courier_id))
                .unwrap_or_else(|| panic!("{}: stream ended waiting for {what}", self.courier_id))
                .unwrap_or_else(|s| {
                    panic!("{}: stream error waiting for {what}: {s}", self.courier_id)
                });
            if let Some(Body::Route(update)) = &message.body
                && let Some(route) = &update.route
            {
                assert!(
                    route.version > self.route_version,
                    "{}: route version {} after {}: the app would ignore it",
                    self.courier_id,
                    route.version,
                    self.route_version
                );
                self.route_version = route.version;
            }
            if let Some(body) = message.body
                && let Some(found) = pick(body)
            {
                return found;
            }
        }
    }

    /// Reads until the service ends the stream; the status it ended with, `None` if it just ended.
    pub async fn ended(&mut self) -> Option<tonic::Status> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.down.next()).await {
                Err(_) => panic!(
                    "{}: the stream did not end within {PATIENCE:?}",
                    self.courier_id
                ),
                Ok(None) => return None,
                Ok(Some(Err(status))) => return Some(status),
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Waits for an offer.
    pub async fn offer(&mut self) -> pb::Offer {
        self.expect("offer", |b| match b {
            Body::Offer(o) => Some(o),
            _ => None,
        })
        .await
    }

    /// Waits until `seq` is acknowledged.
    pub async fn acked(&mut self, seq: u64) {
        self.expect(&format!("ack {seq}"), |b| match b {
            Body::Ack(a) if a.seq >= seq => Some(()),
            _ => None,
        })
        .await
    }

    /// Accepts an offer and waits for the route that follows.
    pub async fn accept(&mut self, offer_id: &str) -> pb::Route {
        self.send(courier_up::Body::Accept(pb::AcceptOffer {
            offer_id: offer_id.into(),
        }))
        .await;
        self.expect("route", |b| match b {
            Body::Route(r) => r.route,
            _ => None,
        })
        .await
    }

    /// Declines an offer.
    pub async fn decline(&mut self, offer_id: &str) -> u64 {
        self.send(courier_up::Body::Decline(pb::DeclineOffer {
            offer_id: offer_id.into(),
            reason: pb::DeclineReason::TooFar as i32,
            note: String::new(),
        }))
        .await
    }

    /// Reports a pickup.
    pub async fn picked_up(&mut self, order_id: &str) -> u64 {
        self.send(courier_up::Body::PickedUp(pb::PickedUp {
            order_id: order_id.into(),
            picked_up_at: Some(time_to_proto(Utc::now())),
        }))
        .await
    }

    /// Reports a delivery.
    pub async fn delivered(&mut self, order_id: &str) -> u64 {
        self.send(courier_up::Body::Delivered(pb::Delivered {
            order_id: order_id.into(),
            delivered_at: Some(time_to_proto(Utc::now())),
        }))
        .await
    }
}

/// Polls `check` until it returns `Some`, failing after [`PATIENCE`]. For effects that are
/// observable only in the database or on a queue, not as a message to the test.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not seen within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
