//! Hostile input against the live service (real PostgreSQL/TimescaleDB and RabbitMQ, the service
//! in-process): for each kind of bad input, N tries over gRPC or RabbitMQ, each of which must be
//! refused with the right code or dead-letter reason naming the field, with one good order after
//! every kind that must still go through. Prints the table of docs/RELIABILITY.md:
//!
//! ```sh
//! cargo test -p dispatcher --test hostile -- --nocapture
//! ```
//!
//! A second test checks `BUS_TENANT_SOURCE=user-id` against the broker's own `user_id` check.

#[path = "../common/clients.rs"]
mod clients;
#[path = "../common/mod.rs"]
mod common;
#[path = "../service/harness.rs"]
mod harness;
mod kinds;

use std::{
    collections::HashMap,
    sync::atomic::{AtomicUsize, Ordering},
};

use dispatcher::{
    bus::{self, TenantSource, routing, topology},
    domain::RegionKey,
};
use futures::StreamExt as _;
use lapin::{BasicProperties, Channel, options::BasicPublishOptions, types::AMQPValue};
use prost::Message as _;
use proto::dispatch::v1::{self as pb, envelope::Payload};

use clients::Clients;
use harness::{PATIENCE, at, config, eventually, order, start, unique_region};

/// Tries per kind of bad input.
const TRIES: usize = 20;

/// Panics in the process since start, counted by a hook that keeps the default report. The
/// other test's own thread is left out: its assertion failures are its own, not the service's.
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        if thread.name() != Some("in_user_id_mode_the_broker_user_must_name_the_tenant") {
            PANICS.fetch_add(1, Ordering::SeqCst);
        }
        default(info);
    }));
}

/// One row of the table.
struct Row {
    kind: &'static str,
    path: &'static str,
    tried: usize,
    right: usize,
    panics: usize,
    lost: usize,
}

/// Watches the dead-letter exchange for `region`'s routing keys.
async fn dead_letters(channel: &Channel, region: &RegionKey) -> lapin::Consumer {
    let binding = routing::region_pattern(&region.tenant_id, &region.region_id);
    common::watch(channel, topology::DEAD_LETTER_EXCHANGE, &binding).await
}

/// The next dead letter's message id and reason header.
async fn next_dead_letter(dead: &mut lapin::Consumer) -> (String, String) {
    let letter = tokio::time::timeout(PATIENCE, dead.next())
        .await
        .expect("a dead letter in time")
        .expect("dead-letter consumer open")
        .expect("a delivery");
    let id = letter
        .properties
        .message_id()
        .as_ref()
        .map(|id| id.to_string())
        .unwrap_or_default();
    let reason = letter
        .properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(topology::REASON_HEADER).cloned());
    let reason = match reason {
        Some(AMQPValue::LongString(reason)) => reason.to_string(),
        other => panic!("dead letter {id} without a reason: {other:?}"),
    };
    (id, reason)
}

/// Publishes `body` as-is to `exchange` with `routing_key`, message id `id` and `user_id` if any.
async fn publish_raw(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    id: &str,
    user_id: Option<&str>,
    body: &[u8],
) {
    let mut properties = BasicProperties::default()
        .with_content_type(proto::ENVELOPE_CONTENT_TYPE.into())
        .with_message_id(id.into());
    if let Some(user) = user_id {
        properties = properties.with_user_id(user.into());
    }
    channel
        .basic_publish(
            exchange.into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            body,
            properties,
        )
        .await
        .expect("publish")
        .await
        .expect("confirm");
}

/// An envelope for `region` with `event_id`.
fn envelope(region: &RegionKey, event_id: &str, payload: Payload) -> pb::Envelope {
    pb::Envelope {
        event_id: event_id.into(),
        scope: Some(region.to_scope()),
        occurred_at: Some(dispatcher::domain::convert::time_to_proto(
            chrono::Utc::now(),
        )),
        source: "hostile".into(),
        source_seq: 0,
        payload: Some(payload),
    }
}

/// True once `order_id` is stored for the tenant.
async fn stored(db: &tokio_postgres::Client, tenant: &str, order_id: &str) -> bool {
    db.query_opt(
        "SELECT 1 FROM orders WHERE tenant_id = $1 AND order_id = $2",
        &[&tenant, &order_id],
    )
    .await
    .expect("query orders")
    .is_some()
}

/// Publishes a good order over RabbitMQ until the region's queue is bound (the consumer declares
/// it after start-up), so later raw publishes are routed.
async fn first_good_order(amqp: &lapin::Connection, region: &RegionKey) {
    let publisher = bus::Publisher::open(amqp).await.expect("a publisher");
    let good = envelope(
        region,
        "good-first",
        Payload::OrderPlaced(pb::OrderPlaced {
            order: Some(order("good-first", at(0.0, 0.0), at(300.0, 0.0), 5)),
        }),
    );
    eventually("the region queue is bound", || async {
        match publisher.publish(topology::ORDERS_EXCHANGE, &good).await {
            Ok(()) => Some(()),
            Err(bus::BusError::Unroutable { .. }) => None,
            Err(error) => panic!("publish failed: {error}"),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_refused_by_field_and_good_input_still_flows() {
    count_panics();
    let db = common::TestDatabase::create("hostile").await;
    let region = unique_region();
    let mut config = config(&db, &region);
    config.auth = Some(clients::token_settings());
    let running = start(&config).await;
    let clients = Clients::connect(running.grpc_addr, &region.tenant_id).await;
    let amqp = bus::connect(&common::amqp_url(), "hostile-test")
        .await
        .expect("connect to rabbitmq");
    let channel = amqp.create_channel().await.expect("a channel");
    channel
        .confirm_select(Default::default())
        .await
        .expect("confirms");
    let mut dead = dead_letters(&channel, &region).await;
    first_good_order(&amqp, &region).await;
    let pg = db.connect().await;

    let mut rows = Vec::new();
    for kind in kinds::grpc() {
        let panics = PANICS.load(Ordering::SeqCst);
        let mut right = 0;
        for i in 0..TRIES {
            let status = (kind.call)(clients.clone(), region.clone(), i).await;
            if (kind.expect)(&status) {
                right += 1;
            } else {
                eprintln!("{}: try {i} answered {status:?}", kind.kind);
            }
        }
        let good = format!("good-grpc-{}", rows.len());
        let mut kitchen = clients.kitchen.clone();
        let sent = kitchen
            .create_order(pb::CreateOrderRequest {
                scope: Some(region.to_scope()),
                order: Some(order(&good, at(0.0, 0.0), at(200.0, 0.0), 5)),
            })
            .await;
        let lost = usize::from(sent.is_err() || !stored(&pg, &region.tenant_id, &good).await);
        rows.push(Row {
            kind: kind.kind,
            path: "gRPC",
            tried: TRIES,
            right,
            panics: PANICS.load(Ordering::SeqCst) - panics,
            lost,
        });
    }

    let kinds = kinds::amqp(&region);
    for kind in &kinds {
        let panics = PANICS.load(Ordering::SeqCst);
        for i in 0..TRIES {
            let (exchange, key, body) = (kind.message)(i);
            let id = format!("{}-{i}", kind.kind);
            publish_raw(&channel, exchange, &key, &id, None, &body).await;
        }
        // Every bad message comes back dead-lettered, in order, each with its reason.
        let mut reasons = HashMap::new();
        while reasons.len() < TRIES {
            let (id, reason) = next_dead_letter(&mut dead).await;
            reasons.insert(id, reason);
        }
        let right = (0..TRIES)
            .filter(|i| {
                let reason = reasons
                    .get(&format!("{}-{i}", kind.kind))
                    .map_or("", String::as_str);
                let ok = reason.contains(kind.reason);
                if !ok {
                    eprintln!("{}: try {i} dead-lettered with {reason:?}", kind.kind);
                }
                ok
            })
            .count();
        let good = format!("good-amqp-{}", rows.len());
        let envelope = envelope(
            &region,
            &good,
            Payload::OrderPlaced(pb::OrderPlaced {
                order: Some(order(&good, at(0.0, 0.0), at(-200.0, 0.0), 5)),
            }),
        );
        let key = routing::routing_key(&region.tenant_id, &region.region_id, "order_placed")
            .expect("a short key");
        publish_raw(
            &channel,
            topology::ORDERS_EXCHANGE,
            &key,
            &good,
            None,
            &envelope.encode_to_vec(),
        )
        .await;
        let arrived = tokio::time::timeout(PATIENCE, async {
            while !stored(&pg, &region.tenant_id, &good).await {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        })
        .await
        .is_ok();
        rows.push(Row {
            kind: kind.kind,
            path: "RabbitMQ",
            tried: TRIES,
            right,
            panics: PANICS.load(Ordering::SeqCst) - panics,
            lost: usize::from(!arrived),
        });
    }

    println!(
        "\n| kind | path | tried | rejected with the right error | panics | lost good messages |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.kind, r.path, r.tried, r.right, r.panics, r.lost
        );
    }
    println!();
    for r in &rows {
        assert_eq!(r.right, r.tried, "{} over {}", r.kind, r.path);
        assert_eq!(r.panics, 0, "{} over {}", r.kind, r.path);
        assert_eq!(r.lost, 0, "{} over {}", r.kind, r.path);
    }
    running.shutdown().await;
    amqp.close(200, "done".into()).await.ok();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_user_id_mode_the_broker_user_must_name_the_tenant() {
    let db = common::TestDatabase::create("tenant_source").await;
    // The test servers' broker user is guest: tenant "guest" is its own, tenant "acme" is not.
    let suffix = unique_region().tenant_id;
    let own = RegionKey::new("guest", format!("r{suffix}"));
    let other = RegionKey::new("acme", format!("r{suffix}"));
    let mut config = config(&db, &own);
    config.dispatch_regions = vec![own.clone(), other.clone()];
    config.bus_tenant_source = TenantSource::UserId;
    let running = start(&config).await;
    let amqp = bus::connect(&common::amqp_url(), "tenant-source-test")
        .await
        .expect("connect to rabbitmq");
    let channel = amqp.create_channel().await.expect("a channel");
    channel
        .confirm_select(Default::default())
        .await
        .expect("confirms");
    let mut dead_own = dead_letters(&channel, &own).await;
    let mut dead_other = dead_letters(&channel, &other).await;
    let pg = db.connect().await;

    let placed = |region: &RegionKey, id: &str| {
        let e = envelope(
            region,
            id,
            Payload::OrderPlaced(pb::OrderPlaced {
                order: Some(order(id, at(0.0, 0.0), at(300.0, 0.0), 5)),
            }),
        );
        let key = routing::routing_key(&region.tenant_id, &region.region_id, "order_placed")
            .expect("a short key");
        (key, e.encode_to_vec())
    };

    // Guest for tenant guest, user_id set: applied (published until the consumer has bound).
    let (key, body) = placed(&own, "by-guest");
    eventually(
        "an order published by the tenant's own user is applied",
        || {
            let (channel, key, body, pg, tenant) = (&channel, &key, &body, &pg, &own.tenant_id);
            async move {
                publish_raw(
                    channel,
                    topology::ORDERS_EXCHANGE,
                    key,
                    "by-guest",
                    Some("guest"),
                    body,
                )
                .await;
                stored(pg, tenant, "by-guest").await.then_some(())
            }
        },
    )
    .await;

    // No user_id at all: dead-lettered, naming user_id.
    let (key, body) = placed(&own, "anonymous");
    publish_raw(
        &channel,
        topology::ORDERS_EXCHANGE,
        &key,
        "anonymous",
        None,
        &body,
    )
    .await;
    let (id, reason) = next_dead_letter(&mut dead_own).await;
    assert_eq!(id, "anonymous");
    assert!(reason.starts_with("user_id: is required"), "{reason}");

    // Guest writing for tenant acme: the broker lets user_id "guest" through (it is guest's),
    // the consumer refuses it for acme.
    let (key, body) = placed(&other, "guest-as-acme");
    let mut reason = None;
    for attempt in 0..100 {
        let id = format!("guest-as-acme-{attempt}");
        publish_raw(
            &channel,
            topology::ORDERS_EXCHANGE,
            &key,
            &id,
            Some("guest"),
            &body,
        )
        .await;
        // Until the consumer has bound acme's queue the message goes nowhere; then it is refused.
        if let Ok((_, r)) = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            next_dead_letter(&mut dead_other),
        )
        .await
        {
            reason = Some(r);
            break;
        }
    }
    let reason = reason.expect("guest's message for acme is dead-lettered");
    assert!(
        reason.contains("user_id: broker user \"guest\" may not publish for tenant \"acme\""),
        "{reason}"
    );
    assert!(!stored(&pg, "acme", "guest-as-acme").await);

    running.shutdown().await;
    amqp.close(200, "done".into()).await.ok();
    db.drop().await;
}
