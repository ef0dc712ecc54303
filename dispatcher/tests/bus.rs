//! The RabbitMQ path against a real broker: an envelope published to an exchange comes back from a
//! bound queue unchanged; an unroutable one is an error at the publisher; undecodable and spoofed
//! messages are dead-lettered with their reason while consumption goes on.

mod common;

use dispatcher::bus::{
    self, BusError, InboundQueue, Publisher, Received, RejectReason,
    topology::{self, RegionQueues},
};
use lapin::{
    BasicProperties, Channel, Connection,
    options::{
        BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, QueueBindOptions,
        QueueDeclareOptions, QueueDeleteOptions,
    },
    types::{AMQPValue, FieldTable},
};
use proto::dispatch::v1::{
    Envelope, LatLng, OrderCancelled, OrderPlaced, OrderSpec, Place, Scope, envelope::Payload,
};

/// A tenant id no other test (or earlier run) uses, so queues and bindings do not interfere.
fn unique_tenant() -> String {
    format!("t-{}", uuid::Uuid::new_v4().simple())
}

fn order_placed(tenant: &str, region: &str, event_id: &str) -> Envelope {
    Envelope {
        event_id: event_id.into(),
        scope: Some(Scope {
            tenant_id: tenant.into(),
            region_id: region.into(),
        }),
        occurred_at: Some(prost_types::Timestamp {
            seconds: 1_772_431_200,
            nanos: 0,
        }),
        source: "kitchen-planner".into(),
        source_seq: 7,
        payload: Some(Payload::OrderPlaced(OrderPlaced {
            order: Some(OrderSpec {
                order_id: "o-1".into(),
                kitchen_id: "k-1".into(),
                pickup: Some(Place {
                    location: Some(LatLng {
                        lat: 52.52,
                        lng: 13.40,
                    }),
                    address: "Alexanderplatz 1".into(),
                    instructions: String::new(),
                }),
                pickup_service_s: 120,
                dropoff_service_s: 60,
                ..OrderSpec::default()
            }),
        })),
    }
}

struct Setup {
    connection: Connection,
    channel: Channel,
    tenant: String,
    queues: RegionQueues,
}

async fn setup() -> Setup {
    let connection = bus::connect(&common::amqp_url(), "dispatcher-tests")
        .await
        .expect("connect to RabbitMQ");
    let channel = connection.create_channel().await.expect("channel");
    topology::declare(&channel).await.expect("declare topology");
    let tenant = unique_tenant();
    let queues = topology::declare_region(&channel, &tenant, "berlin")
        .await
        .expect("declare region queues");
    Setup {
        connection,
        channel,
        tenant,
        queues,
    }
}

impl Setup {
    async fn teardown(self) {
        for queue in [&self.queues.orders, &self.queues.positions] {
            self.channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await
                .expect("delete queue");
        }
        self.connection
            .close(200, "test done".into())
            .await
            .expect("close");
    }
}

#[tokio::test]
async fn an_envelope_comes_back_unchanged_from_a_bound_queue() {
    let s = setup().await;
    let publisher = Publisher::open(&s.connection).await.expect("publisher");
    let sent = order_placed(&s.tenant, "berlin", "evt-1");
    publisher
        .publish(topology::ORDERS_EXCHANGE, &sent)
        .await
        .expect("publish");

    let mut inbound = InboundQueue::open(&s.connection, &s.queues.orders, "roundtrip", 16)
        .await
        .expect("consume");
    match inbound.next().await {
        Some(Ok(Received::Message(message))) => {
            assert_eq!(message.envelope, sent);
            assert!(!message.redelivered());
            message.ack().await.expect("ack");
        }
        other => panic!("expected the message back, got {other:?}"),
    }
    s.teardown().await;
}

#[tokio::test]
async fn an_unroutable_envelope_is_an_error_at_the_publisher() {
    let s = setup().await;
    let publisher = Publisher::open(&s.connection).await.expect("publisher");
    // Nobody binds a queue for this tenant on the outbound exchange.
    let nobody = order_placed(&unique_tenant(), "nowhere", "evt-2");
    match publisher.publish(topology::EVENTS_EXCHANGE, &nobody).await {
        Err(BusError::Unroutable {
            routing_key,
            message_id,
            ..
        }) => {
            assert!(routing_key.ends_with(".nowhere.order_placed"));
            assert_eq!(message_id, "evt-2");
        }
        other => panic!("expected Unroutable, got {other:?}"),
    }

    // An envelope without a payload never leaves the process.
    let empty = Envelope {
        payload: None,
        ..order_placed(&s.tenant, "berlin", "evt-3")
    };
    assert!(matches!(
        publisher.publish(topology::ORDERS_EXCHANGE, &empty).await,
        Err(BusError::InvalidEnvelope(RejectReason::NoPayload))
    ));
    s.teardown().await;
}

#[tokio::test]
async fn poison_messages_are_dead_lettered_with_a_reason_and_consumption_goes_on() {
    let s = setup().await;
    // A private queue on the dead-letter exchange for this tenant only, to read back what lands there.
    let watch = s
        .channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("declare watch queue");
    s.channel
        .queue_bind(
            watch.name().clone(),
            topology::DEAD_LETTER_EXCHANGE.into(),
            bus::routing::region_pattern(&s.tenant, "berlin")
                .as_str()
                .into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind watch queue");

    let raw = s.connection.create_channel().await.expect("raw channel");
    raw.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirms");
    let key = format!("{}.berlin.order_placed", s.tenant);
    let protobuf =
        BasicProperties::default().with_content_type(proto::ENVELOPE_CONTENT_TYPE.into());
    // 1. Not protobuf at all.
    publish_raw(
        &raw,
        &key,
        b"\xff\xff\xff not protobuf",
        protobuf.clone().with_message_id("bad-1".into()),
    )
    .await;
    // 2. Valid protobuf, but it claims another tenant than the routing key it came with.
    let spoofed = order_placed("someone-else", "berlin", "bad-2");
    publish_raw(
        &raw,
        &key,
        &prost::Message::encode_to_vec(&spoofed),
        protobuf.clone().with_message_id("bad-2".into()),
    )
    .await;
    // 3. A good message after the poison ones.
    let good = Envelope {
        payload: Some(Payload::OrderCancelled(OrderCancelled {
            order_id: "o-1".into(),
            reason: "customer".into(),
        })),
        ..order_placed(&s.tenant, "berlin", "good-1")
    };
    Publisher::open(&s.connection)
        .await
        .expect("publisher")
        .publish(topology::ORDERS_EXCHANGE, &good)
        .await
        .expect("publish good");

    let mut inbound = InboundQueue::open(&s.connection, &s.queues.orders, "poison", 16)
        .await
        .expect("consume");
    let mut reasons = Vec::new();
    for _ in 0..2 {
        match inbound.next().await {
            Some(Ok(Received::DeadLettered(dead))) => reasons.push(dead),
            other => panic!("expected a dead letter, got {other:?}"),
        }
    }
    assert!(matches!(reasons[0].reason, RejectReason::Undecodable(_)));
    assert_eq!(reasons[0].message_id.as_deref(), Some("bad-1"));
    assert!(matches!(
        reasons[1].reason,
        RejectReason::RoutingKeyMismatch { .. }
    ));
    match inbound.next().await {
        Some(Ok(Received::Message(message))) => {
            assert_eq!(message.envelope, good);
            message.ack().await.expect("ack");
        }
        other => panic!("expected the good message, got {other:?}"),
    }

    // Both poison messages sit on the dead-letter exchange, body intact, reason in the header.
    for (expected_id, expected_reason) in [("bad-1", "undecodable"), ("bad-2", "does not match")] {
        let got = s
            .channel
            .basic_get(watch.name().clone(), BasicGetOptions { no_ack: true })
            .await
            .expect("basic.get")
            .expect("a dead letter is waiting");
        let props = &got.delivery.properties;
        assert_eq!(
            props.message_id().as_ref().map(|id| id.as_str()),
            Some(expected_id)
        );
        let headers = props.headers().as_ref().expect("headers");
        let reason = match headers.inner().get(topology::REASON_HEADER) {
            Some(AMQPValue::LongString(reason)) => reason.to_string(),
            other => panic!("no reason header: {other:?}"),
        };
        assert!(
            reason.contains(expected_reason),
            "{expected_id}: reason {reason:?}"
        );
    }
    s.teardown().await;
}

async fn publish_raw(channel: &Channel, key: &str, body: &[u8], properties: BasicProperties) {
    let confirm = channel
        .basic_publish(
            topology::ORDERS_EXCHANGE.into(),
            key.into(),
            BasicPublishOptions::default(),
            body,
            properties,
        )
        .await
        .expect("publish raw")
        .await
        .expect("confirm raw");
    assert!(confirm.is_ack());
}
