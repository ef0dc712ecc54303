//! The bus services against a real RabbitMQ and an in-memory core: the consumer applies orders once
//! each, dead-letters what can never be applied and goes on, stores position batches, survives losing
//! its queue and stops cleanly; the outbox relay publishes on `dispatch.events`; the in-process bus
//! does the same without a broker.
//!
//! Effects are awaited by polling the world, the store or a queue with a deadline.

mod common;

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use chrono::{TimeDelta, Utc};
use dispatcher::{
    bus::{
        self, AmqpPublisher, BusError, DeadLetter, LocalBus, Publish, Publisher, consumer, relay,
        routing, topology,
    },
    clock::WallClock,
    core::{Core, IngestOutcome, Settings},
    domain::{EventKind, RegionKey},
    metrics::Metrics,
    positions::{BatchConfig, PositionSink},
    store::{Change, MemoryStore, Store},
};
use lapin::{
    BasicProperties, Channel, Connection,
    message::BasicGetMessage,
    options::{
        BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, QueueBindOptions,
        QueueDeclareOptions, QueueDeleteOptions,
    },
    types::{AMQPValue, FieldTable},
};
use prost::Message as _;
use proto::dispatch::v1::{
    Envelope, LatLng, OrderEvent, OrderLifecycle, OrderPlaced, OrderSpec, Place, PositionBatch,
    PositionFix, Scope, TimeWindow, envelope::Payload,
};
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};

/// How long any effect may take to show.
const PATIENCE: Duration = Duration::from_secs(20);
const REGION: &str = "berlin";

/// A tenant id no other test (or earlier run) uses, so queues and bindings do not interfere.
fn unique_tenant() -> String {
    format!("t-{}", uuid::Uuid::new_v4().simple())
}

/// Polls `check` until it yields a value; panics after [`PATIENCE`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn ts(at: chrono::DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

fn place(lat: f64, lng: f64) -> Place {
    Place {
        location: Some(LatLng { lat, lng }),
        address: "somewhere".into(),
        instructions: String::new(),
    }
}

fn scope(tenant: &str) -> Scope {
    Scope {
        tenant_id: tenant.into(),
        region_id: REGION.into(),
    }
}

fn order_placed(tenant: &str, event_id: &str, order_id: &str) -> Envelope {
    let now = Utc::now();
    Envelope {
        event_id: event_id.into(),
        scope: Some(scope(tenant)),
        occurred_at: Some(ts(now)),
        source: "kitchen-planner".into(),
        source_seq: 1,
        payload: Some(Payload::OrderPlaced(OrderPlaced {
            order: Some(OrderSpec {
                order_id: order_id.into(),
                kitchen_id: "k-1".into(),
                placed_at: Some(ts(now)),
                pickup: Some(place(52.52, 13.40)),
                ready_at: Some(ts(now + TimeDelta::minutes(10))),
                pickup_service_s: 120,
                dropoff: Some(place(52.50, 13.42)),
                promised: Some(TimeWindow {
                    start: Some(ts(now + TimeDelta::minutes(20))),
                    end: Some(ts(now + TimeDelta::minutes(40))),
                }),
                dropoff_service_s: 60,
                ..OrderSpec::default()
            }),
        })),
    }
}

fn position_batch(tenant: &str, event_id: &str, courier_id: &str) -> Envelope {
    let now = Utc::now();
    Envelope {
        event_id: event_id.into(),
        scope: Some(scope(tenant)),
        occurred_at: Some(ts(now)),
        source: "app-backend".into(),
        source_seq: 0,
        payload: Some(Payload::PositionBatch(PositionBatch {
            courier_id: courier_id.into(),
            fixes: (0..3)
                .map(|i| PositionFix {
                    location: Some(LatLng {
                        lat: 52.5 + f64::from(i) * 1e-4,
                        lng: 13.4,
                    }),
                    recorded_at: Some(ts(now - TimeDelta::seconds(10 - i64::from(i)))),
                    accuracy_m: 5.0,
                    speed_mps: 4.0,
                    heading_deg: 90.0,
                })
                .collect(),
        })),
    }
}

fn lifecycle(tenant: &str, event_id: &str) -> Envelope {
    Envelope {
        event_id: event_id.into(),
        scope: Some(scope(tenant)),
        occurred_at: Some(ts(Utc::now())),
        source: "dispatcher".into(),
        source_seq: 0,
        payload: Some(Payload::OrderLifecycle(OrderLifecycle {
            event: Some(OrderEvent {
                event_id: format!("{event_id}-event"),
                order_id: "o-1".into(),
                reason: "test".into(),
                ..OrderEvent::default()
            }),
        })),
    }
}

/// A core on a memory store, serving the test tenant's region.
struct TestCore {
    core: Arc<Core>,
    metrics: Metrics,
    region: RegionKey,
    _writers: tokio::task::JoinSet<()>,
}

async fn start_core(tenant: &str) -> TestCore {
    // Logs show with a failing test's output.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_test_writer()
        .try_init();
    let region = RegionKey::new(tenant, REGION);
    let (metrics, _registry) = Metrics::new();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (positions, writers) =
        PositionSink::start(store.clone(), BatchConfig::default(), metrics.clone());
    let core = Core::start(
        Settings {
            regions: vec![region.clone()],
            ..Settings::default()
        },
        Arc::new(WallClock),
        store,
        metrics.clone(),
        positions,
    )
    .await
    .expect("start core");
    TestCore {
        core,
        metrics,
        region,
        _writers: writers,
    }
}

impl TestCore {
    async fn has_order(&self, order_id: &str) -> bool {
        self.core
            .world()
            .await
            .region(&self.region)
            .is_some_and(|r| r.order(order_id).is_some())
    }
}

/// A service task and the switch that stops it.
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    fn spawn<F: Future<Output = ()> + Send + 'static>(
        start: impl FnOnce(Pin<Box<dyn Future<Output = ()> + Send>>) -> F,
    ) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = Box::pin(async move {
            let _ = stopped.await;
        });
        let task = tokio::spawn(start(shutdown));
        Self { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("stops within the deadline")
            .expect("task did not panic");
    }
}

fn start_consumer(tc: &TestCore, prefetch: u16) -> Running {
    let core = tc.core.clone();
    let regions = vec![tc.region.clone()];
    Running::spawn(move |shutdown| {
        consumer::run(
            common::amqp_url(),
            core,
            regions,
            prefetch,
            bus::TenantSource::default(),
            shutdown,
        )
    })
}

/// The test's own view of the broker.
struct Broker {
    connection: Connection,
    channel: Channel,
    tenant: String,
    queues: topology::RegionQueues,
}

impl Broker {
    /// Connects and declares the region's queues (as the consumer does), so messages published
    /// before the consumer is up wait for it.
    async fn open(tenant: &str) -> Self {
        let connection = bus::connect(&common::amqp_url(), "dispatcher-tests")
            .await
            .expect("connect to RabbitMQ");
        let channel = connection.create_channel().await.expect("channel");
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .expect("confirms");
        topology::declare(&channel).await.expect("declare topology");
        let queues = topology::declare_region(&channel, tenant, REGION)
            .await
            .expect("declare region queues");
        Self {
            connection,
            channel,
            tenant: tenant.into(),
            queues,
        }
    }

    /// A private queue bound on `exchange` for this tenant's region.
    async fn watch(&self, exchange: &str) -> String {
        let queue = self
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
        self.channel
            .queue_bind(
                queue.name().clone(),
                exchange.into(),
                routing::region_pattern(&self.tenant, REGION)
                    .as_str()
                    .into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind watch queue");
        queue.name().to_string()
    }

    async fn publish(&self, exchange: &str, envelope: &Envelope) -> Result<(), BusError> {
        Publisher::open(&self.connection)
            .await
            .expect("publisher")
            .publish(exchange, envelope)
            .await
    }

    async fn publish_raw(&self, key: &str, body: &[u8], message_id: &str) {
        let properties = BasicProperties::default()
            .with_content_type(proto::ENVELOPE_CONTENT_TYPE.into())
            .with_message_id(message_id.into());
        let confirm = self
            .channel
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

    async fn get(&self, queue: &str) -> Option<BasicGetMessage> {
        self.channel
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .expect("basic.get")
    }

    /// Messages ready on a queue (not counting those delivered and unacknowledged).
    async fn ready(&self, queue: &str) -> u32 {
        self.channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("passive declare")
            .message_count()
    }

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

fn reason_of(message: &BasicGetMessage) -> String {
    let headers = message
        .delivery
        .properties
        .headers()
        .as_ref()
        .expect("headers");
    match headers.inner().get(topology::REASON_HEADER) {
        Some(AMQPValue::LongString(reason)) => reason.to_string(),
        other => panic!("no reason header: {other:?}"),
    }
}

fn message_id_of(message: &BasicGetMessage) -> Option<String> {
    message
        .delivery
        .properties
        .message_id()
        .as_ref()
        .map(|id| id.to_string())
}

#[tokio::test]
async fn orders_are_applied_once_and_poison_is_dead_lettered_while_consumption_goes_on() {
    let tenant = unique_tenant();
    let broker = Broker::open(&tenant).await;
    let dead_letters = broker.watch(topology::DEAD_LETTER_EXCHANGE).await;
    let tc = start_core(&tenant).await;
    let consumer = start_consumer(&tc, 16);

    let first = order_placed(&tenant, "evt-1", "o-1");
    broker
        .publish(topology::ORDERS_EXCHANGE, &first)
        .await
        .expect("publish");
    eventually("o-1 in the world", || async {
        tc.has_order("o-1").await.then_some(())
    })
    .await;

    // The same envelope again, then garbage, then one that decodes but can never be applied, then a
    // good one: the good one still gets through.
    broker
        .publish(topology::ORDERS_EXCHANGE, &first)
        .await
        .expect("publish again");
    let key = routing::routing_key(&tenant, REGION, "order_placed").expect("key");
    broker
        .publish_raw(&key, b"\xff\xff\xff not protobuf", "garbage-1")
        .await;
    let mut no_window = order_placed(&tenant, "evt-invalid", "o-invalid");
    if let Some(Payload::OrderPlaced(placed)) = &mut no_window.payload
        && let Some(order) = &mut placed.order
    {
        order.promised = None;
    }
    broker
        .publish(topology::ORDERS_EXCHANGE, &no_window)
        .await
        .expect("publish invalid");
    broker
        .publish(
            topology::ORDERS_EXCHANGE,
            &order_placed(&tenant, "evt-2", "o-2"),
        )
        .await
        .expect("publish second");
    eventually("o-2 in the world", || async {
        tc.has_order("o-2").await.then_some(())
    })
    .await;

    // Applied once: one order, one history entry, one duplicate counted.
    assert!(!tc.has_order("o-invalid").await);
    let history = tc
        .core
        .store()
        .order_history(&tenant, "o-1")
        .await
        .expect("history");
    assert_eq!(
        history
            .iter()
            .filter(|e| e.kind == EventKind::Placed)
            .count(),
        1,
        "{history:?}"
    );
    assert_eq!(
        tc.metrics
            .messages_duplicate
            .get_or_create(&[("source", "amqp")])
            .get(),
        1
    );

    // Both poison messages are on the dead-letter exchange with their reasons.
    let mut got = Vec::new();
    while got.len() < 2 {
        let message = eventually("a dead letter", || broker.get(&dead_letters)).await;
        got.push((message_id_of(&message), reason_of(&message)));
    }
    assert_eq!(got[0].0.as_deref(), Some("garbage-1"));
    assert!(got[0].1.contains("undecodable"), "{:?}", got[0]);
    assert_eq!(got[1].0.as_deref(), Some("evt-invalid"));
    assert!(
        got[1].1.starts_with("invalid:") && got[1].1.contains("order.promised"),
        "{:?}",
        got[1]
    );
    assert_eq!(
        tc.metrics
            .messages_dead_lettered
            .get_or_create(&[("reason", "decode")])
            .get(),
        1
    );
    assert_eq!(
        tc.metrics
            .messages_dead_lettered
            .get_or_create(&[("reason", "invalid_argument")])
            .get(),
        1
    );

    // A clean stop acknowledged everything: nothing comes back to the queue.
    consumer.stop().await;
    assert_eq!(broker.ready(&broker.queues.orders).await, 0);
    broker.teardown().await;
}

#[tokio::test]
async fn position_batches_are_stored_and_acknowledged() {
    let tenant = unique_tenant();
    let broker = Broker::open(&tenant).await;
    let dead_letters = broker.watch(topology::DEAD_LETTER_EXCHANGE).await;
    let tc = start_core(&tenant).await;
    let consumer = start_consumer(&tc, 8);

    // A batch without fixes can never be applied; the ones after it still are.
    let mut empty = position_batch(&tenant, "pos-empty", "c-0");
    if let Some(Payload::PositionBatch(batch)) = &mut empty.payload {
        batch.fixes.clear();
    }
    broker
        .publish(topology::POSITIONS_EXCHANGE, &empty)
        .await
        .expect("publish empty batch");
    const BATCHES: usize = 40;
    for i in 0..BATCHES {
        broker
            .publish(
                topology::POSITIONS_EXCHANGE,
                &position_batch(&tenant, &format!("pos-{i}"), &format!("c-{}", i % 10)),
            )
            .await
            .expect("publish batch");
    }
    let from = Utc::now() - TimeDelta::minutes(5);
    let to = Utc::now() + TimeDelta::minutes(5);
    for c in 0..10 {
        let courier = format!("c-{c}");
        eventually("fixes stored", || async {
            let track = tc
                .core
                .store()
                .track(&tenant, &courier, from, to, 100)
                .await
                .expect("track");
            (!track.is_empty()).then_some(())
        })
        .await;
    }
    eventually("every batch counted", || async {
        (tc.metrics
            .positions_received
            .get_or_create(&[("source", "amqp")])
            .get()
            >= (BATCHES * 3) as u64)
            .then_some(())
    })
    .await;

    let dead = eventually("the empty batch dead-lettered", || {
        broker.get(&dead_letters)
    })
    .await;
    assert_eq!(message_id_of(&dead).as_deref(), Some("pos-empty"));
    assert!(
        reason_of(&dead).contains("position_batch.fixes"),
        "{}",
        reason_of(&dead)
    );

    consumer.stop().await;
    assert_eq!(broker.ready(&broker.queues.positions).await, 0);
    broker.teardown().await;
}

#[tokio::test]
async fn the_consumer_reconnects_when_its_queue_disappears() {
    let tenant = unique_tenant();
    let broker = Broker::open(&tenant).await;
    let tc = start_core(&tenant).await;
    let consumer = start_consumer(&tc, 4);

    broker
        .publish(
            topology::ORDERS_EXCHANGE,
            &order_placed(&tenant, "evt-1", "o-1"),
        )
        .await
        .expect("publish");
    eventually("o-1 in the world", || async {
        tc.has_order("o-1").await.then_some(())
    })
    .await;

    // Deleting the queue cancels the consumer; it reconnects and declares the queue again.
    broker
        .channel
        .queue_delete(
            broker.queues.orders.as_str().into(),
            QueueDeleteOptions::default(),
        )
        .await
        .expect("delete the orders queue");
    eventually("the queue declared again", || async {
        match broker
            .publish(
                topology::ORDERS_EXCHANGE,
                &order_placed(&tenant, "evt-2", "o-2"),
            )
            .await
        {
            Ok(()) => Some(()),
            Err(BusError::Unroutable { .. }) => None,
            Err(error) => panic!("publish failed: {error}"),
        }
    })
    .await;
    eventually("o-2 in the world", || async {
        tc.has_order("o-2").await.then_some(())
    })
    .await;
    assert!(tc.metrics.amqp_reconnects.get() >= 1);

    consumer.stop().await;
    broker.teardown().await;
}

#[tokio::test]
async fn the_relay_publishes_the_outbox_on_the_events_exchange() {
    let tenant = unique_tenant();
    let broker = Broker::open(&tenant).await;
    let events = broker.watch(topology::EVENTS_EXCHANGE).await;
    let tc = start_core(&tenant).await;

    // Nobody listens for the first one (another tenant): that must not hold up the second.
    let nobody = Envelope {
        scope: Some(Scope {
            tenant_id: unique_tenant(),
            region_id: "nowhere".into(),
        }),
        ..lifecycle(&tenant, "out-0")
    };
    let sent = lifecycle(&tenant, "out-1");
    tc.core
        .store()
        .commit(Change {
            outbound: vec![nobody, sent.clone()],
            ..Change::default()
        })
        .await
        .expect("commit outbox");
    tc.core.outbox_wake().notify_one();

    let publisher: Arc<dyn Publish> = Arc::new(
        AmqpPublisher::connect(&common::amqp_url())
            .await
            .expect("publisher"),
    );
    let core = tc.core.clone();
    let relay = Running::spawn(move |shutdown| relay::run(publisher, core, shutdown));

    let got = eventually("the event on a bound queue", || broker.get(&events)).await;
    assert_eq!(
        Envelope::decode(got.delivery.data.as_slice()).expect("decode"),
        sent
    );
    assert_eq!(message_id_of(&got).as_deref(), Some("out-1"));
    eventually("the outbox emptied", || async {
        tc.core
            .store()
            .outbox_peek(10)
            .await
            .expect("peek")
            .is_empty()
            .then_some(())
    })
    .await;
    assert_eq!(tc.metrics.events_published.get(), 2);
    assert_eq!(tc.metrics.outbox_pending.get(), 0);

    relay.stop().await;
    broker.teardown().await;
}

#[tokio::test]
async fn without_a_broker_the_local_bus_carries_events_and_keeps_dead_letters() {
    let tenant = unique_tenant();
    let tc = start_core(&tenant).await;
    let local = Arc::new(LocalBus::default());
    let mut events = local.subscribe();

    // In-process producers: applied once, and what can never be applied is kept with its reason.
    let order = order_placed(&tenant, "evt-1", "o-1");
    assert_eq!(
        local
            .deliver(&tc.core, order.clone())
            .await
            .expect("deliver"),
        IngestOutcome::Applied
    );
    assert_eq!(
        local.deliver(&tc.core, order).await.expect("deliver again"),
        IngestOutcome::Duplicate
    );
    assert!(tc.has_order("o-1").await);
    let elsewhere = Envelope {
        scope: Some(Scope {
            tenant_id: tenant.clone(),
            region_id: "elsewhere".into(),
        }),
        ..order_placed(&tenant, "evt-2", "o-2")
    };
    match local.deliver(&tc.core, elsewhere).await {
        Err(DeadLetter::Rejected { envelope, reason }) => {
            assert_eq!(envelope.event_id, "evt-2");
            assert!(reason.contains("not served"), "{reason}");
        }
        other => panic!("expected a dead letter, got {other:?}"),
    }
    let dead = local.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0.event_id, "evt-2");

    // The relay drains the outbox into the local bus, also when shutdown has already begun.
    tc.core
        .store()
        .commit(Change {
            outbound: vec![lifecycle(&tenant, "out-1"), lifecycle(&tenant, "out-2")],
            ..Change::default()
        })
        .await
        .expect("commit outbox");
    let publisher: Arc<dyn Publish> = local.clone();
    tokio::time::timeout(PATIENCE, relay::run(publisher, tc.core.clone(), async {}))
        .await
        .expect("relay drains and stops");
    // The order placed above published its own events first; ours follow, in order.
    let mut published = Vec::new();
    while let Ok(event) = events.try_recv() {
        published.push(event.event_id);
    }
    assert!(published.len() > 2, "{published:?}");
    assert_eq!(published[published.len() - 2..], ["out-1", "out-2"]);
    let recent: Vec<_> = local.recent().into_iter().map(|e| e.event_id).collect();
    assert_eq!(recent, published);
    assert!(
        tc.core
            .store()
            .outbox_peek(10)
            .await
            .expect("peek")
            .is_empty()
    );
}
