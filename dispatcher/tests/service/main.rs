//! The live service end to end, against the real PostgreSQL/TimescaleDB and RabbitMQ: orders in over
//! RabbitMQ and gRPC, couriers over gRPC streams, positions in the hypertable, lifecycle events out on
//! RabbitMQ, a restart that loses and doubles nothing, duplicates and poison messages, and offers
//! that are declined or lapse going to another courier.

#[path = "../common/mod.rs"]
mod common;
mod harness;

use std::time::Duration;

use dispatcher::bus::{self, Publisher, topology};
use futures::StreamExt as _;
use harness::{App, at, config, eventually, order, start, unique_region};
use lapin::{
    BasicProperties, Channel as AmqpChannel, options::BasicPublishOptions, types::AMQPValue,
};
use prost::Message as _;
use proto::dispatch::v1::{self as pb, envelope::Payload};

/// Watches `exchange` for everything of `tenant`.
async fn watch(channel: &AmqpChannel, exchange: &str, tenant: &str) -> lapin::Consumer {
    let binding = format!("{}.#", bus::routing::encode_word(tenant));
    common::watch(channel, exchange, &binding).await
}

fn envelope(
    region: &dispatcher::domain::RegionKey,
    event_id: &str,
    payload: Payload,
) -> pb::Envelope {
    pb::Envelope {
        event_id: event_id.into(),
        scope: Some(region.to_scope()),
        occurred_at: Some(dispatcher::domain::convert::time_to_proto(
            chrono::Utc::now(),
        )),
        source: "kitchen-planner".into(),
        source_seq: 0,
        payload: Some(payload),
    }
}

/// Publishes to `dispatch.orders`, retrying until the service has declared the region's queue.
async fn publish_order_event(publisher: &Publisher, envelope: &pb::Envelope) {
    eventually("region queue bound", || async {
        match publisher.publish(topology::ORDERS_EXCHANGE, envelope).await {
            Ok(()) => Some(()),
            Err(bus::BusError::Unroutable { .. }) => None,
            Err(error) => panic!("publish failed: {error}"),
        }
    })
    .await
}

async fn order_state(db: &tokio_postgres::Client, tenant: &str, order_id: &str) -> Option<String> {
    db.query_opt(
        "SELECT state FROM orders WHERE tenant_id = $1 AND order_id = $2",
        &[&tenant, &order_id],
    )
    .await
    .unwrap()
    .map(|row| row.get(0))
}

async fn count(db: &tokio_postgres::Client, sql: &str, tenant: &str, id: &str) -> i64 {
    db.query_one(sql, &[&tenant, &id]).await.unwrap().get(0)
}

const EVENTS_OF_KIND: &str =
    "SELECT count(*) FROM order_events WHERE tenant_id = $1 AND order_id = $2 AND kind = $3";

async fn events_of(db: &tokio_postgres::Client, tenant: &str, order_id: &str, kind: &str) -> i64 {
    db.query_one(EVENTS_OF_KIND, &[&tenant, &order_id, &kind])
        .await
        .unwrap()
        .get(0)
}

/// Takes `offers` offers, accepts each, and collects and delivers every order in them; returns the
/// orders delivered.
async fn work(app: &mut App, offers: usize) -> Vec<String> {
    let mut delivered = Vec::new();
    for _ in 0..offers {
        let offer = app.offer().await;
        app.accept(&offer.offer_id).await;
        for o in &offer.orders {
            app.picked_up(&o.order_id).await;
            let seq = app.delivered(&o.order_id).await;
            app.acked(seq).await;
            delivered.push(o.order_id.clone());
        }
    }
    delivered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_from_rabbitmq_and_grpc_are_offered_delivered_stored_and_announced() {
    let db = common::TestDatabase::create("e2e").await;
    let region = unique_region();
    let running = start(&config(&db, &region)).await;
    let channel = harness::channel(&running).await;

    let amqp = bus::connect(&common::amqp_url(), "e2e-test").await.unwrap();
    let amqp_channel = amqp.create_channel().await.unwrap();
    let mut lifecycle = watch(&amqp_channel, topology::EVENTS_EXCHANGE, &region.tenant_id).await;
    let publisher = Publisher::open(&amqp).await.unwrap();

    // Two couriers, each next to one kitchen.
    let mut near_a = App::connect(channel.clone(), &region, "c-a", at(0.0, 0.0)).await;
    let mut near_b = App::connect(channel.clone(), &region, "c-b", at(4_000.0, 0.0)).await;

    // One order through RabbitMQ, one through gRPC.
    let placed = envelope(
        &region,
        "kp:1",
        Payload::OrderPlaced(pb::OrderPlaced {
            order: Some(order("o-amqp", at(50.0, 0.0), at(600.0, 300.0), 0)),
        }),
    );
    publish_order_event(&publisher, &placed).await;
    let mut kitchen = harness::kitchen(&channel, &region);
    let created = kitchen
        .create_order(pb::CreateOrderRequest {
            scope: Some(region.to_scope()),
            order: Some(order("o-grpc", at(4_050.0, 0.0), at(4_500.0, -300.0), 0)),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!created.already_existed);

    let (a, b) = tokio::join!(work(&mut near_a, 1), work(&mut near_b, 1));
    let mut all: Vec<String> = a.into_iter().chain(b).collect();
    all.sort();
    assert_eq!(all, ["o-amqp", "o-grpc"]);

    // Positions: two more fixes each, acknowledged, then stored exactly once.
    for app in [&mut near_a, &mut near_b] {
        app.position(at(10.0, 10.0)).await;
        let seq = app.position(at(20.0, 20.0)).await;
        app.acked(seq).await;
    }
    let pg = db.connect().await;
    for courier in ["c-a", "c-b"] {
        let fixes = count(
            &pg,
            "SELECT count(*) FROM courier_positions WHERE tenant_id = $1 AND courier_id = $2",
            &region.tenant_id,
            courier,
        )
        .await;
        assert_eq!(fixes, 3, "fixes of {courier}");
    }
    for order_id in ["o-amqp", "o-grpc"] {
        assert_eq!(
            order_state(&pg, &region.tenant_id, order_id)
                .await
                .as_deref(),
            Some("delivered")
        );
        for kind in ["placed", "offered", "accepted", "picked_up", "delivered"] {
            assert_eq!(
                events_of(&pg, &region.tenant_id, order_id, kind).await,
                1,
                "{order_id} {kind}"
            );
        }
    }

    // Every transition is announced on dispatch.events; wait for both deliveries.
    let mut delivered_events = 0;
    let mut assignments = 0;
    while delivered_events < 2 {
        let delivery = tokio::time::timeout(harness::PATIENCE, lifecycle.next())
            .await
            .expect("lifecycle events in time")
            .expect("consumer open")
            .expect("delivery");
        let event = pb::Envelope::decode(delivery.data.as_slice()).expect("an envelope");
        match event.payload {
            Some(Payload::OrderLifecycle(l))
                if l.event.as_ref().map(|e| e.kind)
                    == Some(pb::OrderEventKind::Delivered as i32) =>
            {
                delivered_events += 1
            }
            Some(Payload::AssignmentMade(_)) => assignments += 1,
            _ => {}
        }
    }
    assert_eq!(assignments, 2, "one assignment per accepted order");

    running.shutdown().await;
    amqp.close(200, "done".into()).await.ok();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loses_and_doubles_nothing() {
    let db = common::TestDatabase::create("restart").await;
    let region = unique_region();
    let config = config(&db, &region);
    let running = start(&config).await;
    let channel = harness::channel(&running).await;
    let mut app = App::connect(channel.clone(), &region, "c-r", at(0.0, 0.0)).await;
    let mut kitchen = harness::kitchen(&channel, &region);
    kitchen
        .create_order(pb::CreateOrderRequest {
            scope: Some(region.to_scope()),
            order: Some(order("o-1", at(30.0, 0.0), at(800.0, 0.0), 0)),
        })
        .await
        .unwrap();
    let offer = app.offer().await;
    app.accept(&offer.offer_id).await;
    let seq = app.position(at(15.0, 0.0)).await;
    app.acked(seq).await;
    // The kitchen keeps sending while the service goes down.
    kitchen
        .create_order(pb::CreateOrderRequest {
            scope: Some(region.to_scope()),
            order: Some(order("o-2", at(30.0, 0.0), at(-800.0, 0.0), 30)),
        })
        .await
        .unwrap();
    running.shutdown().await;
    drop(app);

    let running = start(&config).await;
    {
        let world = running.core.world().await;
        let r = world.region(&region).unwrap();
        let o1 = r.order("o-1").expect("accepted order rebuilt");
        assert_eq!(o1.state, dispatcher::domain::OrderState::Accepted);
        assert_eq!(o1.courier_id.as_deref(), Some("c-r"));
        assert!(r.order("o-2").is_some(), "open order rebuilt");
        let c = r.couriers.get("c-r").expect("courier on shift rebuilt");
        assert!(c.courier.last_fix.is_some(), "last position rebuilt");
    }
    let channel = harness::channel(&running).await;
    let mut app = App::hello(channel, &region, "c-r").await;
    assert_eq!(
        app.welcome.last_durable_seq, seq,
        "every acknowledged message survived"
    );
    // Re-sending an already durable message is acknowledged and not applied again.
    app.seq -= 1;
    let again = app.position(at(15.0, 0.0)).await;
    assert_eq!(again, seq);
    app.acked(seq).await;
    app.picked_up("o-1").await;
    let done = app.delivered("o-1").await;
    app.acked(done).await;

    let pg = db.connect().await;
    assert_eq!(
        order_state(&pg, &region.tenant_id, "o-1").await.as_deref(),
        Some("delivered")
    );
    for kind in ["placed", "accepted", "picked_up", "delivered"] {
        assert_eq!(
            events_of(&pg, &region.tenant_id, "o-1", kind).await,
            1,
            "o-1 {kind}"
        );
    }
    assert_eq!(events_of(&pg, &region.tenant_id, "o-2", "placed").await, 1);
    let fixes = count(
        &pg,
        "SELECT count(*) FROM courier_positions WHERE tenant_id = $1 AND courier_id = $2",
        &region.tenant_id,
        "c-r",
    )
    .await;
    assert_eq!(
        fixes, 2,
        "the initial fix and one more; the re-sent one is not doubled"
    );
    running.shutdown().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_is_applied_once_and_poison_is_dead_lettered() {
    let db = common::TestDatabase::create("poison").await;
    let region = unique_region();
    let running = start(&config(&db, &region)).await;
    let amqp = bus::connect(&common::amqp_url(), "poison-test")
        .await
        .unwrap();
    let amqp_channel = amqp.create_channel().await.unwrap();
    let mut dead = watch(
        &amqp_channel,
        topology::DEAD_LETTER_EXCHANGE,
        &region.tenant_id,
    )
    .await;
    let publisher = Publisher::open(&amqp).await.unwrap();

    let placed = envelope(
        &region,
        "kp:7",
        Payload::OrderPlaced(pb::OrderPlaced {
            order: Some(order("o-dup", at(0.0, 0.0), at(500.0, 0.0), 10)),
        }),
    );
    publish_order_event(&publisher, &placed).await;
    publisher
        .publish(topology::ORDERS_EXCHANGE, &placed)
        .await
        .unwrap();
    let revised = envelope(
        &region,
        "kp:8",
        Payload::ReadyTimeRevised(pb::ReadyTimeRevised {
            order_id: "o-dup".into(),
            ready_at: Some(dispatcher::domain::convert::time_to_proto(
                chrono::Utc::now() + chrono::TimeDelta::minutes(12),
            )),
            revision: 1,
        }),
    );
    publisher
        .publish(topology::ORDERS_EXCHANGE, &revised)
        .await
        .unwrap();
    publisher
        .publish(topology::ORDERS_EXCHANGE, &revised)
        .await
        .unwrap();

    // Poison: not a protobuf envelope at all, on the region's routing key.
    let key =
        bus::routing::routing_key(&region.tenant_id, &region.region_id, "order_placed").unwrap();
    amqp_channel
        .basic_publish(
            topology::ORDERS_EXCHANGE.into(),
            key.as_str().into(),
            BasicPublishOptions::default(),
            b"\xff\xfenot protobuf",
            BasicProperties::default()
                .with_content_type(proto::ENVELOPE_CONTENT_TYPE.into())
                .with_message_id("poison-1".into()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    // A good message after the poison is still consumed.
    let after = envelope(
        &region,
        "kp:9",
        Payload::OrderPlaced(pb::OrderPlaced {
            order: Some(order("o-after", at(0.0, 0.0), at(-500.0, 0.0), 10)),
        }),
    );
    publisher
        .publish(topology::ORDERS_EXCHANGE, &after)
        .await
        .unwrap();

    let letter = tokio::time::timeout(harness::PATIENCE, dead.next())
        .await
        .expect("dead letter in time")
        .expect("consumer open")
        .expect("delivery");
    let reason = letter
        .properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(topology::REASON_HEADER).cloned());
    let Some(AMQPValue::LongString(reason)) = reason else {
        panic!(
            "dead letter without a reason header: {:?}",
            letter.properties
        );
    };
    assert!(
        reason.to_string().contains("undecodable"),
        "reason: {reason}"
    );
    assert_eq!(letter.data, b"\xff\xfenot protobuf");

    let pg = db.connect().await;
    eventually("the message after the poison is applied", || {
        let pg = &pg;
        let tenant = region.tenant_id.clone();
        async move { order_state(pg, &tenant, "o-after").await }
    })
    .await;
    assert_eq!(
        events_of(&pg, &region.tenant_id, "o-dup", "placed").await,
        1
    );
    assert_eq!(
        events_of(&pg, &region.tenant_id, "o-dup", "ready_time_revised").await,
        1
    );
    let revision: i64 = pg
        .query_one(
            "SELECT ready_revision FROM orders WHERE tenant_id = $1 AND order_id = 'o-dup'",
            &[&region.tenant_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(revision, 1);
    running.shutdown().await;
    amqp.close(200, "done".into()).await.ok();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_and_expired_offers_go_to_another_courier() {
    let db = common::TestDatabase::create("decline").await;
    let region = unique_region();
    let mut config = config(&db, &region);
    config.offer_expiry = Duration::from_secs(2);
    let running = start(&config).await;
    let channel = harness::channel(&running).await;
    let mut near = App::connect(channel.clone(), &region, "c-near", at(0.0, 0.0)).await;
    let mut far = App::connect(channel.clone(), &region, "c-far", at(6_000.0, 0.0)).await;
    let mut kitchen = harness::kitchen(&channel, &region);
    let create = |id: &'static str| pb::CreateOrderRequest {
        scope: Some(region.to_scope()),
        order: Some(order(id, at(20.0, 0.0), at(400.0, 0.0), 0)),
    };

    // Declined: the near courier turns it down; it goes to the far one.
    kitchen.create_order(create("o-declined")).await.unwrap();
    let offer = near.offer().await;
    assert_eq!(offer.orders[0].order_id, "o-declined");
    near.decline(&offer.offer_id).await;
    let offer = far.offer().await;
    assert_eq!(offer.orders[0].order_id, "o-declined");
    far.accept(&offer.offer_id).await;

    // Expired: the near courier does not answer in time; it goes to the far one.
    kitchen.create_order(create("o-expired")).await.unwrap();
    let offer = near.offer().await;
    assert_eq!(offer.orders[0].order_id, "o-expired");
    let withdrawn = near
        .expect("withdrawal", |b| match b {
            pb::courier_down::Body::OfferWithdrawn(w) => Some(w),
            pb::courier_down::Body::Offer(o) => panic!("offered again to the same courier: {o:?}"),
            _ => None,
        })
        .await;
    assert_eq!(withdrawn.offer_id, offer.offer_id);
    let offer = far.offer().await;
    assert_eq!(offer.orders[0].order_id, "o-expired");

    let pg = db.connect().await;
    assert_eq!(
        events_of(&pg, &region.tenant_id, "o-declined", "offer_declined").await,
        1
    );
    assert_eq!(
        events_of(&pg, &region.tenant_id, "o-expired", "offer_expired").await,
        1
    );
    let declined_by: Vec<String> = pg
        .query_one(
            "SELECT declined_by FROM orders WHERE tenant_id = $1 AND order_id = 'o-expired'",
            &[&region.tenant_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(declined_by, ["c-near"]);
    running.shutdown().await;
    db.drop().await;
}
