//! `dispatcher ctl` against the real service on the embedded default (in-memory store, in-process
//! bus), started in-process on a free port: look-ups and overrides read back as text, and errors
//! as one line.
//!
//! Every step waits for the answer of the one before (a gRPC reply, or an acknowledgement on the
//! courier stream), so nothing depends on timing.

use std::{sync::Arc, time::Duration};

use chrono::{SecondsFormat, TimeDelta, Utc};
use clap::Parser as _;
use dispatcher::{
    auth::{Bearer, Issuer, Role, Secret, TokenSettings},
    clock::WallClock,
    config::Config,
    ctl::{CtlArgs, CtlError, run},
    domain::convert::{latlng_to_proto, time_to_proto},
    planner::TravelModel,
    service::Running,
};
use proto::dispatch::v1::{
    self as pb, courier_down::Body, courier_service_client::CourierServiceClient, courier_up,
    kitchen_service_client::KitchenServiceClient,
};
use tokio_stream::{StreamExt as _, wrappers::ReceiverStream};
use tonic::Code;

/// How long any one answer may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// The command line of `dispatcher ctl`, as the binary parses it.
#[derive(Debug, clap::Parser)]
struct Cli {
    #[command(flatten)]
    ctl: CtlArgs,
}

/// The token settings of the test service.
fn token_settings() -> TokenSettings {
    TokenSettings::shared_secret(Secret::new(*b"the ctl tests' shared token secret").unwrap())
}

/// A token for `subject` in `role` of `tenant`.
fn token(tenant: &str, role: Role, subject: &str) -> String {
    Issuer::new(&token_settings())
        .unwrap()
        .mint(tenant, role, subject, Duration::from_secs(3600))
        .unwrap()
}

/// Runs `dispatcher ctl --addr ADDR --utc --token T ARGS...` as support operator `ann` of the
/// demo tenant, and returns its output or error.
async fn ctl(addr: &str, args: &[&str]) -> Result<String, CtlError> {
    ctl_as(&token("demo", Role::Support, "ann"), addr, args).await
}

/// [`ctl`] with the token given.
async fn ctl_as(token: &str, addr: &str, args: &[&str]) -> Result<String, CtlError> {
    let line = ["ctl", "--addr", addr, "--utc", "--token", token]
        .into_iter()
        .chain(args.iter().copied());
    let cli = Cli::try_parse_from(line).expect("the command line parses");
    run(cli.ctl).await
}

/// [`ctl`] that must succeed.
async fn ok(addr: &str, args: &[&str]) -> String {
    match ctl(addr, args).await {
        Ok(text) => text,
        Err(error) => panic!("ctl {args:?}: error: {error}"),
    }
}

/// The service on the embedded default, gRPC and metrics on free ports; its gRPC URL.
async fn start() -> (Running, String) {
    let mut config = Config::defaults();
    assert!(config.database_url.is_none() && config.amqp_url.is_none());
    config.grpc_addr = "127.0.0.1:0".parse().unwrap();
    config.metrics_addr = "127.0.0.1:0".parse().unwrap();
    config.auth = Some(token_settings());
    let running = Running::start(&config, Arc::new(WallClock), TravelModel::straight())
        .await
        .expect("the service starts");
    let url = format!("http://{}", running.grpc_addr);
    (running, url)
}

fn point(lat: f64, lng: f64) -> Option<pb::LatLng> {
    Some(latlng_to_proto(router::geo::LatLng::new(lat, lng).unwrap()))
}

/// Creates order `id` in demo/city through the kitchen API.
async fn create_order(url: &str, id: &str) {
    let now = Utc::now();
    let place = |lat, lng, address: &str| pb::Place {
        location: point(lat, lng),
        address: address.into(),
        instructions: String::new(),
    };
    let spec = pb::OrderSpec {
        order_id: id.into(),
        kitchen_id: "k-1".into(),
        placed_at: Some(time_to_proto(now)),
        pickup: Some(place(52.5219, 13.4132, "kitchen")),
        ready_at: Some(time_to_proto(now + TimeDelta::minutes(10))),
        pickup_service_s: 60,
        dropoff: Some(place(52.5300, 13.4200, "door")),
        promised: Some(pb::TimeWindow {
            start: Some(time_to_proto(now)),
            end: Some(time_to_proto(now + TimeDelta::minutes(45))),
        }),
        dropoff_service_s: 60,
        size: Some(pb::Load {
            weight_grams: 1000,
            volume_ml: 2000,
        }),
        ..Default::default()
    };
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .expect("kitchen client connects");
    let kitchen = Bearer::new(&token("demo", Role::Kitchen, "k-1")).unwrap();
    KitchenServiceClient::with_interceptor(channel, kitchen)
        .create_order(pb::CreateOrderRequest {
            scope: Some(pb::Scope {
                tenant_id: "demo".into(),
                region_id: "city".into(),
            }),
            order: Some(spec),
        })
        .await
        .expect("the order is created");
}

/// The line of `text` that starts with `key:`, with the key and spaces removed.
fn field<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key:?} line in:\n{text}"))
        .trim()
}

#[tokio::test]
async fn an_order_is_looked_up_held_released_and_cancelled() {
    let (running, url) = start().await;
    create_order(&url, "o-1").await;

    let text = ok(&url, &["order", "o-1"]).await;
    assert_eq!(field(&text, "order"), "o-1");
    assert!(
        field(&text, "state").starts_with("placed, since "),
        "{text}"
    );
    assert_eq!(field(&text, "held"), "no");
    assert_eq!(field(&text, "pickup"), "kitchen (52.52190, 13.41320)");
    assert_eq!(field(&text, "scope"), "demo/city");

    let text = ok(
        &url,
        &[
            "hold",
            "o-1",
            "--operator",
            "ann",
            "--reason",
            "customer called",
        ],
    )
    .await;
    assert!(text.starts_with("order o-1 held\n"), "{text}");
    let text = ok(&url, &["order", "o-1"]).await;
    assert_eq!(field(&text, "held"), "yes");
    let text = ok(&url, &["explain", "o-1"]).await;
    assert!(text.starts_with("Order o-1 is held by support"), "{text}");

    let text = ok(&url, &["release", "o-1", "--operator", "ann"]).await;
    assert!(text.starts_with("order o-1 released\n"), "{text}");
    assert_eq!(field(&text, "held"), "no");

    // An operator acts in its own name only: ann may not sign as bob, and bob's token signs as
    // bob without saying so.
    let error = ctl(&url, &["cancel", "o-1", "--operator", "bob"])
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(Code::PermissionDenied), "{error}");
    let bob = token("demo", Role::Support, "bob");
    let text = ctl_as(&bob, &url, &["cancel", "o-1", "--reason", "duplicate"])
        .await
        .expect("bob cancels");
    assert!(text.starts_with("order o-1 cancelled\n"), "{text}");
    assert!(
        field(&text, "state").starts_with("cancelled, since "),
        "{text}"
    );

    let history = ok(&url, &["order-history", "o-1"]).await;
    let mut lines = history.lines();
    assert!(
        lines.next().unwrap().starts_with("order o-1: "),
        "{history}"
    );
    assert!(lines.next().unwrap().starts_with("TIME (UTC)"), "{history}");
    let events: Vec<&str> = lines.collect();
    let line_of = |kind: &str| {
        events
            .iter()
            .position(|line| line.split("  ").nth(1).map(str::trim) == Some(kind))
            .unwrap_or_else(|| panic!("no {kind} event in:\n{history}"))
    };
    let (placed, held, released, cancelled) = (
        line_of("placed"),
        line_of("held"),
        line_of("released"),
        line_of("cancelled"),
    );
    assert!(
        placed < held && held < released && released < cancelled,
        "{history}"
    );
    assert!(events[held].contains("support:ann"), "{history}");
    assert!(events[held].contains("customer called"), "{history}");
    assert!(events[cancelled].contains("support:bob"), "{history}");
    assert!(events[cancelled].contains("-> cancelled"), "{history}");

    // A final order takes no more overrides; the service says why.
    let error = ctl(&url, &["hold", "o-1"]).await.unwrap_err();
    assert_eq!(error.code(), Some(Code::FailedPrecondition), "{error}");
    assert!(
        error.to_string().starts_with("failed precondition: "),
        "{error}"
    );

    running.shutdown().await;
}

#[tokio::test]
async fn unknown_ids_and_regions_are_one_line_errors() {
    let (running, url) = start().await;

    for args in [
        &["order", "o-9"][..],
        &["order-history", "o-9"],
        &["explain", "o-9"],
        &["cancel", "o-9"],
    ] {
        let error = ctl(&url, args).await.unwrap_err();
        assert_eq!(error.code(), Some(Code::NotFound), "{args:?}: {error}");
        assert_eq!(
            error.to_string(),
            "not found: order o-9 not found",
            "{args:?}"
        );
    }
    for args in [&["courier", "c-9"][..], &["courier-track", "c-9"]] {
        let error = ctl(&url, args).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "not found: courier c-9 not found",
            "{args:?}"
        );
    }

    let error = ctl(&url, &["--region", "elsewhere", "order", "o-1"])
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "failed precondition: region demo/elsewhere is not served by this instance"
    );

    running.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_dispatcher_is_named() {
    // A port that was free a moment ago and has no listener now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let error = ctl(&url, &["order", "o-1"]).await.unwrap_err();
    assert!(matches!(error, CtlError::Unreachable { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("cannot reach dispatcher at {url}: ")),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");

    let error = ctl("http://bad host", &["order", "o-1"]).await.unwrap_err();
    assert!(matches!(error, CtlError::BadAddress { .. }), "{error:?}");
}

/// A courier app on shift in demo/city with one fix, every message acknowledged; the session
/// stays open while the returned sender lives.
async fn courier_on_shift(url: &str, courier_id: &str) -> tokio::sync::mpsc::Sender<pb::CourierUp> {
    let (up, rx) = tokio::sync::mpsc::channel(8);
    let message = |seq, body| pb::CourierUp {
        seq,
        sent_at: Some(time_to_proto(Utc::now())),
        body: Some(body),
    };
    up.send(message(
        0,
        courier_up::Body::Hello(pb::Hello {
            scope: Some(pb::Scope {
                tenant_id: "demo".into(),
                region_id: "city".into(),
            }),
            courier_id: courier_id.into(),
            vehicle: pb::VehicleType::Bicycle as i32,
            capacity: Some(pb::Load {
                weight_grams: 20_000,
                volume_ml: 40_000,
            }),
            equipment: Vec::new(),
            app_version: "ctl-test".into(),
        }),
    ))
    .await
    .unwrap();
    up.send(message(
        1,
        courier_up::Body::Status(pb::StatusChange {
            status: pb::CourierStatus::OnShift as i32,
            shift_end: Some(time_to_proto(Utc::now() + TimeDelta::hours(8))),
        }),
    ))
    .await
    .unwrap();
    up.send(message(
        2,
        courier_up::Body::Positions(pb::PositionUpdate {
            fixes: vec![pb::PositionFix {
                location: point(52.5219, 13.4132),
                recorded_at: Some(time_to_proto(Utc::now())),
                accuracy_m: 5.0,
                speed_mps: 0.0,
                heading_deg: -1.0,
            }],
        }),
    ))
    .await
    .unwrap();
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let courier = Bearer::new(&token("demo", Role::Courier, courier_id)).unwrap();
    let mut down = CourierServiceClient::with_interceptor(channel, courier)
        .session(ReceiverStream::new(rx))
        .await
        .expect("the session opens")
        .into_inner();
    tokio::time::timeout(PATIENCE, async {
        while let Some(message) = down.next().await {
            match message.expect("no stream error").body {
                Some(Body::Ack(ack)) if ack.seq >= 2 => return,
                Some(Body::Rejected(rejected)) => panic!("rejected: {rejected:?}"),
                _ => {}
            }
        }
        panic!("the session ended before the fix was acknowledged");
    })
    .await
    .expect("the fix is acknowledged in time");
    // Keep reading so the service never waits on a full stream.
    tokio::spawn(async move { while down.next().await.is_some() {} });
    up
}

#[tokio::test]
async fn a_courier_and_its_track_read_back() {
    let (running, url) = start().await;
    let _app = courier_on_shift(&url, "c-1").await;

    let text = ok(&url, &["courier", "c-1"]).await;
    assert_eq!(field(&text, "courier"), "c-1");
    assert!(
        field(&text, "status").starts_with("on shift, shift ends "),
        "{text}"
    );
    assert_eq!(field(&text, "vehicle"), "bicycle");
    assert_eq!(field(&text, "connected"), "yes");
    assert!(
        field(&text, "last fix").starts_with("52.52190, 13.41320 at "),
        "{text}"
    );

    let rfc3339 = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let now = Utc::now();
    let (from, to) = (
        rfc3339(now - TimeDelta::minutes(5)),
        rfc3339(now + TimeDelta::minutes(1)),
    );
    let text = ok(
        &url,
        &["courier-track", "c-1", "--from", &from, "--to", &to],
    )
    .await;
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("courier c-1: 1 fix from "), "{text}");
    assert!(lines[1].starts_with("TIME (UTC)"), "{text}");
    assert!(lines[2].contains("52.52190  13.41320  5 m"), "{text}");
    assert_eq!(lines.len(), 3, "{text}");

    // An interval the service refuses comes back as its message.
    let error = ctl(
        &url,
        &["courier-track", "c-1", "--from", &to, "--to", &from],
    )
    .await
    .unwrap_err();
    assert_eq!(error.code(), Some(Code::InvalidArgument), "{error}");
    assert_eq!(
        error.to_string(),
        "invalid argument: to: must be after from"
    );

    running.shutdown().await;
}

#[tokio::test]
async fn a_missing_or_foreign_token_is_one_line_error() {
    let (running, url) = start().await;
    create_order(&url, "o-1").await;

    for missing in ["", "  "] {
        let error = ctl_as(missing, &url, &["order", "o-1"]).await.unwrap_err();
        assert!(matches!(error, CtlError::NoToken), "{error}");
        assert!(error.to_string().contains("DISPATCH_TOKEN"), "{error}");
    }
    let error = ctl_as("not-a-jwt", &url, &["order", "o-1"])
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(Code::Unauthenticated), "{error}");
    let courier = token("demo", Role::Courier, "c-1");
    let error = ctl_as(&courier, &url, &["order", "o-1"]).await.unwrap_err();
    assert_eq!(error.code(), Some(Code::PermissionDenied), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("permission denied: courier c-1 of tenant demo may not read orders"),
        "{error}"
    );

    running.shutdown().await;
}
