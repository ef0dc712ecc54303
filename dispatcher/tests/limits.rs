//! The service's limits against the live service on the embedded default: a client over its limit
//! is told `RESOURCE_EXHAUSTED`, and the others carry on as if nothing happened.

mod common;
#[path = "service/harness.rs"]
mod harness;

use std::{sync::Arc, time::Duration};

use dispatcher::{
    auth::Role, clock::WallClock, config::Config, domain::RegionKey, planner::TravelModel,
    service::Running,
};
use harness::{App, at, eventually, token, token_settings};
use proto::dispatch::v1 as pb;
use tonic::{
    Code,
    transport::{Channel, Endpoint},
};

fn region() -> RegionKey {
    RegionKey::new("demo", "city")
}

async fn start(configure: impl FnOnce(&mut Config)) -> (Running, Channel) {
    let mut config = Config::defaults();
    config.grpc_addr = "127.0.0.1:0".parse().unwrap();
    config.metrics_addr = "127.0.0.1:0".parse().unwrap();
    config.auth = Some(token_settings());
    configure(&mut config);
    let running = Running::start(&config, Arc::new(WallClock), TravelModel::straight())
        .await
        .expect("the service starts");
    let channel = Endpoint::from_shared(format!("http://{}", running.grpc_addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    (running, channel)
}

async fn courier(channel: &Channel, id: &str) -> Result<App, tonic::Status> {
    App::try_hello(
        channel.clone(),
        Some(token(&region(), Role::Courier, id)),
        &region(),
        id,
    )
    .await
}

/// Sends a fix and waits for its acknowledgement: the session works.
async fn still_served(app: &mut App, dx: f64) {
    let seq = app.position(at(dx, 0.0)).await;
    app.acked(seq).await;
}

#[tokio::test]
async fn streams_over_the_instance_limit_are_refused_and_the_open_ones_carry_on() {
    let (running, channel) = start(|c| c.grpc_limits.max_streams = 2).await;
    let mut first = courier(&channel, "c-1").await.expect("c-1 opens");
    let mut second = courier(&channel, "c-2").await.expect("c-2 opens");

    let refused = courier(&channel, "c-3")
        .await
        .err()
        .expect("c-3 is refused");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused}");
    assert!(refused.message().contains("2 streams"), "{refused}");
    // A pickup-ETA watch is a stream too.
    let watch = harness::kitchen(&channel, &region())
        .watch_pickup_etas(pb::WatchPickupEtasRequest {
            scope: Some(region().to_scope()),
            kitchen_id: "k-1".into(),
        })
        .await;
    assert_eq!(
        watch.err().map(|status| status.code()),
        Some(Code::ResourceExhausted)
    );
    // Unary calls are not streams: the kitchen still places orders.
    harness::kitchen(&channel, &region())
        .create_order(pb::CreateOrderRequest {
            scope: Some(region().to_scope()),
            order: Some(harness::order("o-1", at(0.0, 0.0), at(500.0, 0.0), 10)),
        })
        .await
        .expect("an order is placed while the streams are full");

    still_served(&mut first, 1.0).await;
    still_served(&mut second, 2.0).await;

    // Once a stream ends, its slot serves the next courier.
    drop(first);
    let mut third = eventually("a slot is free again", || {
        let channel = channel.clone();
        async move { courier(&channel, "c-3").await.ok() }
    })
    .await;
    still_served(&mut third, 3.0).await;
    still_served(&mut second, 4.0).await;

    running.shutdown().await;
}

#[tokio::test]
async fn a_courier_over_its_message_rate_is_cut_off_and_the_others_are_not() {
    // Two messages per second, ten at once. Forty messages sent back to back are over it unless
    // sending them took fifteen seconds.
    let (running, channel) = start(|c| c.grpc_limits.courier_messages_per_s = 2).await;
    let mut noisy = courier(&channel, "c-noisy").await.expect("c-noisy opens");
    let mut quiet = courier(&channel, "c-quiet").await.expect("c-quiet opens");

    let mut last = 0;
    for i in 0..40 {
        last = noisy.position(at(f64::from(i), 0.0)).await;
    }
    let ended = noisy.ended().await.expect("the session ends with a status");
    assert_eq!(ended.code(), Code::ResourceExhausted, "{ended}");
    assert!(
        ended.message().contains("more than 2 messages per second"),
        "{ended}"
    );

    still_served(&mut quiet, 1.0).await;

    // Back after a pause, the courier learns what was kept and re-sends the rest.
    let back = eventually("the noisy courier reconnects", || {
        let channel = channel.clone();
        async move { courier(&channel, "c-noisy").await.ok() }
    })
    .await;
    let durable = back.welcome.last_durable_seq;
    assert!(
        (10..last).contains(&durable),
        "the burst of ten was kept and the rest was not: {durable} of {last}"
    );

    running.shutdown().await;
}

#[tokio::test]
async fn a_courier_message_over_the_size_limit_ends_the_session_saying_so() {
    let (running, channel) = start(|_| {}).await;
    let mut app = courier(&channel, "c-big").await.expect("c-big opens");
    let mut quiet = courier(&channel, "c-quiet").await.expect("c-quiet opens");
    app.send(pb::courier_up::Body::Failed(pb::DeliveryFailed {
        order_id: "o-1".into(),
        note: "x".repeat(dispatcher::grpc::MAX_MESSAGE_BYTES + 1),
        ..Default::default()
    }))
    .await;
    let ended = app.ended().await.expect("the session ends with a status");
    assert_eq!(ended.code(), Code::OutOfRange, "{ended}");
    assert!(ended.message().contains("too large"), "{ended}");
    still_served(&mut quiet, 1.0).await;
    running.shutdown().await;
}

#[tokio::test]
async fn the_limits_are_configured_and_checked() {
    let defaults = Config::defaults().grpc_limits;
    assert_eq!(defaults.max_streams, 20_000);
    assert_eq!(defaults.courier_messages_per_s, 20);
    assert_eq!(defaults.request_timeout, Duration::from_secs(10));
    let env = |name: &str| match name {
        "GRPC_MAX_STREAMS" => Some("0".to_owned()),
        _ => None,
    };
    let error = Config::from_sources(None, &env).unwrap_err();
    assert!(
        error.to_string().starts_with("GRPC_MAX_STREAMS=0"),
        "{error}"
    );
}
