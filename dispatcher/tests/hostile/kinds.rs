//! The kinds of bad input the hostile run sends, each with what its refusal must be.

use std::pin::Pin;

use chrono::{TimeDelta, Utc};
use dispatcher::{
    bus::{routing, topology},
    domain::{RegionKey, convert::time_to_proto},
};
use prost::Message as _;
use proto::dispatch::v1::{self as pb, courier_down, courier_up, envelope::Payload};
use tokio_stream::StreamExt as _;
use tonic::{Code, Status};

use crate::{clients::Clients, envelope, harness::at, harness::order};

type Answer = Pin<Box<dyn Future<Output = Result<(), Status>> + Send>>;

/// A bad gRPC call and how to tell its answer is the right one.
pub(crate) struct GrpcKind {
    pub(crate) kind: &'static str,
    pub(crate) call: fn(Clients, RegionKey, usize) -> Answer,
    pub(crate) expect: fn(&Result<(), Status>) -> bool,
}

/// The exchange, routing key and body of one try.
type Message = (&'static str, String, Vec<u8>);

/// A bad RabbitMQ message: exchange, routing key and body for try `i`, and what the dead-letter
/// reason must contain.
pub(crate) struct AmqpKind {
    pub(crate) kind: &'static str,
    pub(crate) message: Box<dyn Fn(usize) -> Message>,
    pub(crate) reason: &'static str,
}

/// `INVALID_ARGUMENT` whose message starts with `field`.
fn invalid(answer: &Result<(), Status>, field: &str) -> bool {
    matches!(answer, Err(s) if s.code() == Code::InvalidArgument && s.message().starts_with(field))
}

/// A CreateOrder of an order edited by `edit`.
fn create(
    clients: Clients,
    region: RegionKey,
    i: usize,
    edit: impl FnOnce(&mut pb::OrderSpec),
) -> Answer {
    let mut o = order(&format!("bad-{i}"), at(0.0, 0.0), at(100.0, 0.0), 5);
    edit(&mut o);
    let mut kitchen = clients.kitchen;
    Box::pin(async move {
        kitchen
            .create_order(pb::CreateOrderRequest {
                scope: Some(region.to_scope()),
                order: Some(o),
            })
            .await
            .map(|_| ())
    })
}

fn pickup_location(o: &mut pb::OrderSpec) -> &mut pb::LatLng {
    o.pickup
        .as_mut()
        .and_then(|p| p.location.as_mut())
        .expect("a located pickup")
}

/// Every gRPC kind.
pub(crate) fn grpc() -> Vec<GrpcKind> {
    vec![
        GrpcKind {
            kind: "coordinate NaN / infinite",
            call: |c, r, i| {
                create(c, r, i, |o| {
                    pickup_location(o).lat = if i % 2 == 0 { f64::NAN } else { f64::INFINITY };
                })
            },
            expect: |a| invalid(a, "order.pickup.location:"),
        },
        GrpcKind {
            kind: "coordinate out of range",
            call: |c, r, i| create(c, r, i, |o| pickup_location(o).lng = 180.0 + 1.0 + i as f64),
            expect: |a| invalid(a, "order.pickup.location:"),
        },
        GrpcKind {
            kind: "ready after the promised window",
            call: |c, r, i| {
                create(c, r, i, |o| {
                    o.ready_at = Some(time_to_proto(Utc::now() + TimeDelta::minutes(50)));
                })
            },
            expect: |a| invalid(a, "order.ready_at:"),
        },
        GrpcKind {
            kind: "window end before start",
            call: |c, r, i| {
                create(c, r, i, |o| {
                    let w = o.promised.as_mut().expect("a window");
                    std::mem::swap(&mut w.start, &mut w.end);
                })
            },
            expect: |a| invalid(a, "order.promised.end:"),
        },
        GrpcKind {
            kind: "timestamp far in the future",
            call: |c, r, i| {
                create(c, r, i, |o| {
                    o.placed_at = Some(time_to_proto(Utc::now() + TimeDelta::days(365)));
                })
            },
            expect: |a| invalid(a, "order.placed_at:"),
        },
        GrpcKind {
            kind: "timestamp i64::MIN / nanos out of range",
            call: |c, r, i| {
                create(c, r, i, |o| {
                    o.ready_at = Some(if i % 2 == 0 {
                        prost_types::Timestamp {
                            seconds: i64::MIN,
                            nanos: 0,
                        }
                    } else {
                        prost_types::Timestamp {
                            seconds: Utc::now().timestamp(),
                            nanos: 1_500_000_000,
                        }
                    });
                })
            },
            expect: |a| invalid(a, "order.ready_at:"),
        },
        GrpcKind {
            kind: "oversized load",
            call: |c, r, i| {
                create(c, r, i, |o| {
                    o.size = Some(pb::Load {
                        weight_grams: u32::MAX,
                        volume_ml: 1,
                    });
                })
            },
            expect: |a| invalid(a, "order.size.weight_grams:"),
        },
        GrpcKind {
            kind: "over-long id",
            call: |c, r, i| create(c, r, i, |o| o.order_id = "o".repeat(10_000)),
            expect: |a| invalid(a, "order.order_id:"),
        },
        GrpcKind {
            kind: "NUL in text",
            call: |c, r, i| {
                create(c, r, i, |o| {
                    o.pickup.as_mut().expect("a pickup").address = "door\0".into();
                })
            },
            expect: |a| invalid(a, "order.pickup.address:"),
        },
        GrpcKind {
            kind: "revision past i64::MAX",
            call: |c, r, i| {
                let mut kitchen = c.kitchen;
                Box::pin(async move {
                    kitchen
                        .revise_ready_time(pb::ReviseReadyTimeRequest {
                            scope: Some(r.to_scope()),
                            order_id: "good-first".into(),
                            ready_at: Some(time_to_proto(Utc::now())),
                            revision: u64::MAX - i as u64,
                        })
                        .await
                        .map(|_| ())
                })
            },
            expect: |a| invalid(a, "revision:"),
        },
        GrpcKind {
            kind: "unknown id",
            call: |c, r, i| {
                let mut support = c.support;
                Box::pin(async move {
                    support
                        .get_order(pb::GetOrderRequest {
                            scope: Some(r.to_scope()),
                            order_id: format!("no-such-order-{i}"),
                        })
                        .await
                        .map(|_| ())
                })
            },
            expect: |a| matches!(a, Err(s) if s.code() == Code::NotFound && s.message().contains("no-such-order-")),
        },
        GrpcKind {
            kind: "oversized message (5 MiB)",
            call: |c, r, i| {
                create(c, r, i, |o| {
                    o.pickup.as_mut().expect("a pickup").instructions = "x".repeat(5 << 20);
                })
            },
            // tonic answers OUT_OF_RANGE (the gRPC spec suggests RESOURCE_EXHAUSTED), with the size
            // and the limit in the message.
            expect: |a| {
                matches!(a, Err(s) if s.code() == Code::OutOfRange
                    && s.message().contains("too large")
                    && s.message().contains("4194304"))
            },
        },
        GrpcKind {
            kind: "fix with NaN speed (courier stream)",
            call: |c, r, i| Box::pin(nan_speed_fix(c, r, i)),
            expect: |a| invalid(a, "positions.fixes[0].speed_mps:"),
        },
    ]
}

/// Opens a courier session and sends a fix with a NaN speed; the answer is the rejection's
/// message as an `INVALID_ARGUMENT` status, or `Ok` if the fix was taken.
async fn nan_speed_fix(clients: Clients, region: RegionKey, i: usize) -> Result<(), Status> {
    let (up, rx) = tokio::sync::mpsc::channel(4);
    let hello = pb::Hello {
        scope: Some(region.to_scope()),
        courier_id: format!("hostile-courier-{i}"),
        vehicle: pb::VehicleType::Bicycle as i32,
        capacity: None,
        equipment: Vec::new(),
        app_version: "hostile".into(),
    };
    let message = |seq, body| pb::CourierUp {
        seq,
        sent_at: None,
        body: Some(body),
    };
    up.send(message(0, courier_up::Body::Hello(hello)))
        .await
        .map_err(|_| Status::internal("stream closed"))?;
    let mut courier = clients.courier(&format!("hostile-courier-{i}"));
    let mut down = courier
        .session(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await?
        .into_inner();
    let fix = pb::PositionFix {
        location: Some(dispatcher::domain::convert::latlng_to_proto(at(0.0, 0.0))),
        recorded_at: Some(time_to_proto(Utc::now())),
        accuracy_m: 5.0,
        speed_mps: f32::NAN,
        heading_deg: -1.0,
    };
    up.send(message(
        1,
        courier_up::Body::Positions(pb::PositionUpdate { fixes: vec![fix] }),
    ))
    .await
    .map_err(|_| Status::internal("stream closed"))?;
    let mut rejected = None;
    while let Some(next) = down.next().await {
        match next?.body {
            Some(courier_down::Body::Rejected(r)) if r.code == "invalid_argument" => {
                rejected = Some(
                    r.message
                        .trim_start_matches("invalid argument: ")
                        .to_owned(),
                );
            }
            Some(courier_down::Body::Ack(a)) if a.seq >= 1 => break,
            _ => {}
        }
    }
    rejected.map_or(Ok(()), |message| Err(Status::invalid_argument(message)))
}

/// Every RabbitMQ kind, for `region`.
pub(crate) fn amqp(region: &RegionKey) -> Vec<AmqpKind> {
    let key = |kind: &str| {
        routing::routing_key(&region.tenant_id, &region.region_id, kind).expect("a short key")
    };
    let orders = topology::ORDERS_EXCHANGE;
    let order_key = key("order_placed");
    let placed = {
        let region = region.clone();
        move |i: usize, edit: &dyn Fn(&mut pb::OrderSpec)| {
            let id = format!("amqp-bad-{i}");
            let mut o = order(&id, at(0.0, 0.0), at(100.0, 0.0), 5);
            edit(&mut o);
            envelope(
                &region,
                &id,
                Payload::OrderPlaced(pb::OrderPlaced { order: Some(o) }),
            )
            .encode_to_vec()
        }
    };
    let r = region.clone();
    let k = order_key.clone();
    let p1 = placed.clone();
    let p2 = placed.clone();
    let p3 = placed;
    let (k1, k2, k3, k4) = (
        order_key.clone(),
        order_key.clone(),
        order_key.clone(),
        order_key,
    );
    let (r2, r3) = (region.clone(), region.clone());
    let (revise_key, cancel_key, fix_key) = (
        key("ready_time_revised"),
        key("order_cancelled"),
        key("position_batch"),
    );
    vec![
        AmqpKind {
            kind: "undecodable bytes",
            message: Box::new(move |i| (orders, k.clone(), vec![0xff; i + 1])),
            reason: "undecodable envelope",
        },
        AmqpKind {
            kind: "oversized envelope (300 KiB)",
            message: Box::new(move |_| (orders, k1.clone(), vec![0; 300 * 1024])),
            reason: "body: 307200 bytes is more than the limit",
        },
        AmqpKind {
            kind: "coordinate NaN",
            message: Box::new(move |i| {
                let body = p1(i, &|o| pickup_location(o).lat = f64::NAN);
                (orders, k2.clone(), body)
            }),
            reason: "order.pickup.location:",
        },
        AmqpKind {
            kind: "timestamp far in the future",
            message: Box::new(move |i| {
                let body = p2(i, &|o| {
                    o.placed_at = Some(time_to_proto(Utc::now() + TimeDelta::days(400)));
                });
                (orders, k3.clone(), body)
            }),
            reason: "order.placed_at:",
        },
        AmqpKind {
            kind: "NUL in an id",
            message: Box::new(move |i| {
                let body = p3(i, &|o| o.order_id = format!("o\0{i}"));
                (orders, k4.clone(), body)
            }),
            reason: "order.order_id:",
        },
        AmqpKind {
            kind: "revision past i64::MAX",
            message: Box::new(move |i| {
                let body = envelope(
                    &r,
                    &format!("rev-{i}"),
                    Payload::ReadyTimeRevised(pb::ReadyTimeRevised {
                        order_id: "good-first".into(),
                        ready_at: Some(time_to_proto(Utc::now())),
                        revision: u64::MAX,
                    }),
                )
                .encode_to_vec();
                (orders, revise_key.clone(), body)
            }),
            reason: "revision:",
        },
        AmqpKind {
            kind: "unknown id",
            message: Box::new(move |i| {
                let body = envelope(
                    &r2,
                    &format!("cancel-{i}"),
                    Payload::OrderCancelled(pb::OrderCancelled {
                        order_id: format!("no-such-order-{i}"),
                        reason: String::new(),
                    }),
                )
                .encode_to_vec();
                (orders, cancel_key.clone(), body)
            }),
            reason: "not found",
        },
        AmqpKind {
            kind: "scope not matching the routing key",
            message: Box::new({
                let key = key("order_cancelled");
                let region = region.clone();
                move |i| {
                    let other = RegionKey::new("someone-else", &region.region_id);
                    let body = envelope(
                        &other,
                        &format!("foreign-{i}"),
                        Payload::OrderCancelled(pb::OrderCancelled {
                            order_id: "good-first".into(),
                            reason: String::new(),
                        }),
                    )
                    .encode_to_vec();
                    (orders, key.clone(), body)
                }
            }),
            reason: "routing key",
        },
        AmqpKind {
            kind: "fix heading 720 degrees",
            message: Box::new(move |i| {
                let fix = pb::PositionFix {
                    location: Some(dispatcher::domain::convert::latlng_to_proto(at(0.0, 0.0))),
                    recorded_at: Some(time_to_proto(Utc::now())),
                    accuracy_m: 5.0,
                    speed_mps: 1.0,
                    heading_deg: 720.0,
                };
                let body = envelope(
                    &r3,
                    &format!("fix-{i}"),
                    Payload::PositionBatch(pb::PositionBatch {
                        courier_id: format!("courier-{i}"),
                        fixes: vec![fix],
                    }),
                )
                .encode_to_vec();
                (topology::POSITIONS_EXCHANGE, fix_key.clone(), body)
            }),
            reason: "position_batch.fixes[0].heading_deg:",
        },
    ]
}
