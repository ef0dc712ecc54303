//! Kitchen planning systems placing orders, one over gRPC (`KitchenService.CreateOrder`) and one over
//! RabbitMQ (`dispatch.orders` with publisher confirms). Each retries an order until it is confirmed,
//! with the same content (gRPC: the same order id is idempotent) or the same envelope (RabbitMQ: the
//! same `event_id`), backing off while the service or the broker is away.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use chrono::{TimeDelta, Utc};
use dispatcher::{
    bus::{self, Backoff, Publisher, topology},
    domain::{
        RegionKey,
        convert::{latlng_to_proto, time_to_proto},
    },
};
use proto::dispatch::v1::{self as pb, envelope::Payload};
use router::geo::LatLng;
use tokio::sync::watch;
use tonic::Code;

use crate::{client, ledger::Ledger, load::Phase};

/// How long one attempt may take before the kitchen counts it failed and tries again.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// One kitchen of the load.
#[derive(Debug, Clone)]
pub(crate) struct KitchenSpec {
    pub(crate) region: RegionKey,
    pub(crate) kitchen_id: String,
    pub(crate) at: LatLng,
    pub(crate) order_every: Duration,
}

/// An order of `kitchen`, numbered `n`, from its door to a place nearby.
fn order(kitchen: &KitchenSpec, n: u64) -> pb::OrderSpec {
    let now = Utc::now();
    let dropoff = LatLng::new(
        kitchen.at.lat() + 0.002 * ((n % 5) as f64 - 2.0),
        kitchen.at.lng() + 0.003,
    )
    .unwrap_or(kitchen.at);
    pb::OrderSpec {
        order_id: format!("{}-o{n}", kitchen.kitchen_id),
        kitchen_id: kitchen.kitchen_id.clone(),
        placed_at: Some(time_to_proto(now)),
        pickup: Some(pb::Place {
            location: Some(latlng_to_proto(kitchen.at)),
            address: "kitchen".into(),
            instructions: String::new(),
        }),
        ready_at: Some(time_to_proto(now + TimeDelta::minutes(5))),
        pickup_service_s: 60,
        dropoff: Some(pb::Place {
            location: Some(latlng_to_proto(dropoff)),
            address: "door".into(),
            instructions: String::new(),
        }),
        promised: Some(pb::TimeWindow {
            start: Some(time_to_proto(now)),
            end: Some(time_to_proto(now + TimeDelta::minutes(60))),
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

/// Places an order every `order_every` over gRPC while the load runs.
pub(crate) async fn grpc(
    spec: KitchenSpec,
    addr: SocketAddr,
    ledger: Ledger,
    mut phase: watch::Receiver<Phase>,
) {
    let mut tick = tokio::time::interval(spec.order_every);
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
    let mut channel = None;
    for n in 0.. {
        tokio::select! {
            _ = tick.tick() => {}
            _ = phase.wait_for(|p| *p != Phase::Load) => return,
        }
        let request = pb::CreateOrderRequest {
            scope: Some(spec.region.to_scope()),
            order: Some(order(&spec, n)),
        };
        loop {
            if *phase.borrow() == Phase::Stop {
                return;
            }
            let attempt = async {
                let open = match channel.clone() {
                    Some(open) => open,
                    None => client::channel(addr)
                        .await
                        .map_err(|e| tonic::Status::unavailable(format!("connect: {e}")))?,
                };
                channel = Some(open.clone());
                client::kitchen(open, &spec.region.tenant_id, &spec.kitchen_id)
                    .create_order(request.clone())
                    .await
            };
            let started = Instant::now();
            let result = tokio::time::timeout(ATTEMPT_TIMEOUT, attempt).await;
            {
                let mut book = ledger.book();
                book.slowest_call = book.slowest_call.max(started.elapsed());
            }
            let status = match result {
                Ok(Ok(_)) => {
                    let mut book = ledger.book();
                    book.orders_confirmed.insert(
                        request
                            .order
                            .as_ref()
                            .map(|o| o.order_id.clone())
                            .unwrap_or_default(),
                    );
                    backoff.reset();
                    break;
                }
                Ok(Err(status)) => status,
                Err(_) => tonic::Status::deadline_exceeded("no answer within the attempt timeout"),
            };
            ledger.error(
                "create order",
                format_args!("{:?}", status.code()),
                status.message(),
            );
            if matches!(
                status.code(),
                Code::InvalidArgument
                    | Code::AlreadyExists
                    | Code::FailedPrecondition
                    | Code::NotFound
            ) {
                // Re-sending cannot help: the service refused this order for good.
                *ledger
                    .book()
                    .rejected
                    .entry(format!("{:?}", status.code()))
                    .or_default() += 1;
                break;
            }
            // The connection may be broken: the next attempt opens a fresh one.
            channel = None;
            tokio::select! {
                () = tokio::time::sleep(backoff.next_delay()) => {}
                _ = phase.wait_for(|p| *p == Phase::Stop) => return,
            }
        }
    }
}

/// A broker connection with the region's queues declared and a confirming channel.
struct Link {
    connection: lapin::Connection,
    publisher: Publisher,
}

async fn open(amqp_url: &str, region: &RegionKey) -> Result<Link, bus::BusError> {
    let connection = bus::connect(amqp_url, "faults-kitchen").await?;
    let channel = connection.create_channel().await?;
    // As `dispatcher setup` would have: publishing is mandatory, so the queue must exist.
    topology::declare(&channel).await?;
    topology::declare_region(&channel, &region.tenant_id, &region.region_id).await?;
    let publisher = Publisher::open(&connection).await?;
    Ok(Link {
        connection,
        publisher,
    })
}

/// Publishes an order every `order_every` to `dispatch.orders` while the load runs.
pub(crate) async fn amqp(
    spec: KitchenSpec,
    amqp_url: String,
    ledger: Ledger,
    mut phase: watch::Receiver<Phase>,
) {
    let mut tick = tokio::time::interval(spec.order_every);
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
    let mut link: Option<Link> = None;
    for n in 0.. {
        tokio::select! {
            _ = tick.tick() => {}
            _ = phase.wait_for(|p| *p != Phase::Load) => break,
        }
        let order = order(&spec, n);
        let order_id = order.order_id.clone();
        let envelope = pb::Envelope {
            event_id: uuid::Uuid::new_v4().simple().to_string(),
            scope: Some(spec.region.to_scope()),
            occurred_at: Some(time_to_proto(Utc::now())),
            source: spec.kitchen_id.clone(),
            source_seq: n,
            payload: Some(Payload::OrderPlaced(pb::OrderPlaced { order: Some(order) })),
        };
        loop {
            if *phase.borrow() == Phase::Stop {
                return;
            }
            let attempt = async {
                if link
                    .as_ref()
                    .is_some_and(|l| !l.connection.status().connected())
                {
                    link = None;
                }
                let current = match link.as_mut() {
                    Some(current) => current,
                    None => link.insert(open(&amqp_url, &spec.region).await?),
                };
                current
                    .publisher
                    .publish(topology::ORDERS_EXCHANGE, &envelope)
                    .await
            };
            match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt).await {
                Ok(Ok(())) => {
                    let mut book = ledger.book();
                    book.orders_confirmed.insert(order_id.clone());
                    book.orders_via_amqp.insert(order_id.clone());
                    backoff.reset();
                    break;
                }
                Ok(Err(error)) => ledger.error("amqp publish", "error", &error.to_string()),
                Err(_) => ledger.error(
                    "amqp publish",
                    "timeout",
                    "no confirm within the attempt timeout",
                ),
            }
            // Unconfirmed: publish the same envelope again on a fresh connection.
            if let Some(old) = link.take() {
                let _ = tokio::time::timeout(
                    Duration::from_secs(1),
                    old.connection.close(200, "reconnecting".into()),
                )
                .await;
            }
            tokio::select! {
                () = tokio::time::sleep(backoff.next_delay()) => {}
                _ = phase.wait_for(|p| *p == Phase::Stop) => return,
            }
        }
    }
    if let Some(old) = link.take() {
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            old.connection.close(200, "done".into()),
        )
        .await;
    }
}
