//! Who may call: every dispatch RPC needs a genuine bearer token, and each role acts only as
//! itself and only in its tenant. The service runs on the embedded default (in-memory store,
//! in-process bus) on a free port and plans two tenants' regions, so a refusal across tenants is
//! the authorization's doing, not a region this instance does not plan.

mod common;
#[path = "service/harness.rs"]
mod harness;

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use dispatcher::{
    auth::{Bearer, BearerChannel, Claims, Issuer, Role, Secret, TokenSettings},
    clock::WallClock,
    config::{Config, TlsFiles},
    domain::{RegionKey, convert::time_to_proto},
    planner::TravelModel,
    service::{Running, StartError},
};
use harness::{at, order, support_claims, token, token_settings};
use proto::dispatch::v1::{
    self as pb, kitchen_service_client::KitchenServiceClient,
    support_service_client::SupportServiceClient,
};
use tonic::{
    Code, Status,
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint},
};

fn demo() -> RegionKey {
    RegionKey::new("demo", "city")
}

fn rival() -> RegionKey {
    RegionKey::new("rival", "city")
}

/// The embedded service planning `demo/city` and `rival/city`, with the test suite's token key.
fn config() -> Config {
    let mut config = Config::defaults();
    config.grpc_addr = "127.0.0.1:0".parse().unwrap();
    config.metrics_addr = "127.0.0.1:0".parse().unwrap();
    config.dispatch_regions = vec![demo(), rival()];
    config.auth = Some(token_settings());
    config
}

async fn start(config: &Config) -> Running {
    Running::start(config, Arc::new(WallClock), TravelModel::straight())
        .await
        .expect("the service starts")
}

async fn channel(running: &Running) -> Channel {
    Endpoint::from_shared(format!("http://{}", running.grpc_addr))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn kitchen(channel: &Channel, bearer: Bearer) -> KitchenServiceClient<BearerChannel> {
    KitchenServiceClient::with_interceptor(channel.clone(), bearer)
}

fn support(channel: &Channel, bearer: Bearer) -> SupportServiceClient<BearerChannel> {
    SupportServiceClient::with_interceptor(channel.clone(), bearer)
}

fn create(region: &RegionKey, spec: pb::OrderSpec) -> pb::CreateOrderRequest {
    pb::CreateOrderRequest {
        scope: Some(region.to_scope()),
        order: Some(spec),
    }
}

fn get(region: &RegionKey, order_id: &str) -> pb::GetOrderRequest {
    pb::GetOrderRequest {
        scope: Some(region.to_scope()),
        order_id: order_id.into(),
    }
}

fn new_order(id: &str, kitchen_id: &str) -> pb::OrderSpec {
    let mut spec = order(id, at(0.0, 0.0), at(800.0, 600.0), 10);
    spec.kitchen_id = kitchen_id.into();
    spec
}

/// Opens a courier session as `courier_id` of `region` with `bearer` (if any) and returns the
/// Welcome, or the status the service refused it with.
async fn session(
    channel: &Channel,
    bearer: Option<Bearer>,
    region: &RegionKey,
    courier_id: &str,
) -> Result<pb::Welcome, Status> {
    harness::App::try_hello(channel.clone(), bearer, region, courier_id)
        .await
        .map(|app| app.welcome)
}

/// A token signed exactly as given, with the suite's key.
fn signed(claims: &Claims) -> String {
    Issuer::new(&token_settings())
        .unwrap()
        .sign(claims)
        .unwrap()
}

fn assert_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, what: &str) -> Status {
    match result {
        Ok(value) => panic!("{what}: expected {code:?}, got {value:?}"),
        Err(status) => {
            assert_eq!(status.code(), code, "{what}: {}", status.message());
            status
        }
    }
}

/// The calls `running` answered with the error `code`, as its metrics count them.
fn errors(running: &Running, code: &'static str) -> u64 {
    running
        .core
        .metrics()
        .grpc_errors
        .get_or_create(&[("code", code)])
        .get()
}

/// A refusal for want of permission, saying who may not do what.
fn denied<T: std::fmt::Debug>(result: Result<T, Status>, what: &str) {
    let status = assert_code(result, Code::PermissionDenied, what);
    assert!(
        status.message().contains("may not"),
        "{what}: {}",
        status.message()
    );
}

#[tokio::test]
async fn a_call_without_a_genuine_token_is_unauthenticated() {
    let running = start(&config()).await;
    let channel = channel(&running).await;

    // No token at all, on each service.
    let status = assert_code(
        KitchenServiceClient::new(channel.clone())
            .create_order(create(&demo(), new_order("o-1", "k-1")))
            .await,
        Code::Unauthenticated,
        "create without a token",
    );
    assert!(
        status.message().contains("missing bearer token"),
        "{}",
        status.message()
    );
    assert_code(
        SupportServiceClient::new(channel.clone())
            .get_order(get(&demo(), "o-1"))
            .await,
        Code::Unauthenticated,
        "support without a token",
    );
    assert_code(
        session(&channel, None, &demo(), "c-1").await,
        Code::Unauthenticated,
        "a session without a token",
    );

    // Tokens that are not genuine, current and well formed.
    let other_key =
        TokenSettings::shared_secret(Secret::new(*b"somebody else's secret, 32 bytes!").unwrap());
    let forged = Issuer::new(&other_key)
        .unwrap()
        .mint("demo", Role::Admin, "mallory", Duration::from_secs(600))
        .unwrap();
    let expired = signed(&support_claims(-3600));
    let hs512 = {
        let mut settings = token_settings();
        settings.algorithm = dispatcher::auth::Algorithm::HS512;
        Issuer::new(&settings)
            .unwrap()
            .mint("demo", Role::Support, "op-1", Duration::from_secs(600))
            .unwrap()
    };
    // {"alg":"none","typ":"JWT"} . {"sub":"op-1","tenant":"demo","role":"admin","exp":9999999999} .
    let unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.\
                    eyJzdWIiOiJvcC0xIiwidGVuYW50IjoiZGVtbyIsInJvbGUiOiJhZG1pbiIsImV4cCI6OTk5OTk5OTk5OX0.";
    let unknown_role = {
        let valid = signed(&support_claims(600));
        // Same header and signature scheme, but a claims part naming a role that does not exist.
        let payload =
            "eyJzdWIiOiJvcC0xIiwidGVuYW50IjoiZGVtbyIsInJvbGUiOiJib3NzIiwiZXhwIjo5OTk5OTk5OTk5fQ";
        let header = valid.split('.').next().unwrap().to_owned();
        format!("{header}.{payload}.AAAA")
    };
    let empty_tenant = signed(&Claims {
        tenant: String::new(),
        ..support_claims(600)
    });
    for (token, why) in [
        ("not-a-jwt".to_owned(), "not a well-formed JWT"),
        (forged.clone(), "signature does not verify"),
        (expired, "expired"),
        (hs512, "another algorithm"),
        (unsigned.to_owned(), ""),
        (unknown_role, ""),
        (empty_tenant, "tenant claim"),
    ] {
        let status = assert_code(
            support(&channel, Bearer::new(&token).unwrap())
                .get_order(get(&demo(), "o-1"))
                .await,
            Code::Unauthenticated,
            why,
        );
        assert!(
            status.message().contains(why),
            "{why}: {}",
            status.message()
        );
        assert!(!status.message().contains(&token), "the token is echoed");
    }
    // Every refusal is counted, for the operator's alerts: 3 without a token, 7 with bad ones.
    assert_eq!(errors(&running, "unauthenticated"), 10);

    // Health answers anyone: load balancers probe without credentials.
    let health = tonic_health::pb::health_client::HealthClient::new(channel.clone())
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health answers without a token")
        .into_inner();
    assert_eq!(
        health.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    running.shutdown().await;
}

#[tokio::test]
async fn each_role_acts_only_as_itself_and_in_its_tenant() {
    let running = start(&config()).await;
    let channel = channel(&running).await;
    let k1 = token(&demo(), Role::Kitchen, "k-1");
    let k2 = token(&demo(), Role::Kitchen, "k-2");

    // Kitchens: their own orders, in their own tenant.
    kitchen(&channel, k1.clone())
        .create_order(create(&demo(), new_order("o-1", "k-1")))
        .await
        .expect("k-1 creates its own order");
    denied(
        kitchen(&channel, k2.clone())
            .create_order(create(&demo(), new_order("o-2", "k-1")))
            .await,
        "k-2 creates an order of k-1",
    );
    denied(
        kitchen(&channel, k2.clone())
            .revise_ready_time(pb::ReviseReadyTimeRequest {
                scope: Some(demo().to_scope()),
                order_id: "o-1".into(),
                ready_at: Some(time_to_proto(Utc::now() + chrono::TimeDelta::minutes(5))),
                revision: 1,
            })
            .await,
        "k-2 revises o-1",
    );
    denied(
        kitchen(&channel, k2.clone())
            .cancel_order(pb::CancelOrderRequest {
                scope: Some(demo().to_scope()),
                order_id: "o-1".into(),
                reason: "mine now".into(),
            })
            .await,
        "k-2 cancels o-1",
    );
    denied(
        kitchen(&channel, k2.clone())
            .watch_pickup_etas(pb::WatchPickupEtasRequest {
                scope: Some(demo().to_scope()),
                kitchen_id: "k-1".into(),
            })
            .await,
        "k-2 watches k-1",
    );
    denied(
        kitchen(&channel, token(&rival(), Role::Kitchen, "k-1"))
            .create_order(create(&demo(), new_order("o-3", "k-1")))
            .await,
        "rival's k-1 creates in demo",
    );
    let revised = kitchen(&channel, k1.clone())
        .revise_ready_time(pb::ReviseReadyTimeRequest {
            scope: Some(demo().to_scope()),
            order_id: "o-1".into(),
            ready_at: Some(time_to_proto(Utc::now() + chrono::TimeDelta::minutes(5))),
            revision: 1,
        })
        .await
        .expect("k-1 revises its own order")
        .into_inner();
    assert!(revised.applied);

    // Support: its own tenant only; other roles not at all.
    let found = support(&channel, token(&demo(), Role::Support, "op-1"))
        .get_order(get(&demo(), "o-1"))
        .await
        .expect("demo's support reads demo's order")
        .into_inner();
    assert_eq!(found.spec.map(|spec| spec.order_id).as_deref(), Some("o-1"));
    denied(
        support(&channel, token(&rival(), Role::Support, "op-1"))
            .get_order(get(&demo(), "o-1"))
            .await,
        "rival's support reads demo's order",
    );
    denied(
        support(&channel, token(&demo(), Role::Courier, "c-1"))
            .get_order(get(&demo(), "o-1"))
            .await,
        "a courier calls support",
    );
    denied(
        kitchen(&channel, token(&demo(), Role::Support, "op-1"))
            .create_order(create(&demo(), new_order("o-4", "k-1")))
            .await,
        "support creates an order",
    );

    // Couriers: a session only as themselves, so offers reach only them.
    denied(
        session(
            &channel,
            Some(token(&demo(), Role::Courier, "c-2")),
            &demo(),
            "c-1",
        )
        .await,
        "c-2 opens c-1's session",
    );
    denied(
        session(
            &channel,
            Some(token(&rival(), Role::Courier, "c-1")),
            &demo(),
            "c-1",
        )
        .await,
        "rival's c-1 opens demo's c-1 session",
    );
    denied(
        session(
            &channel,
            Some(token(&demo(), Role::Admin, "root")),
            &demo(),
            "c-1",
        )
        .await,
        "an admin opens a courier session",
    );
    let welcome = session(
        &channel,
        Some(token(&demo(), Role::Courier, "c-1")),
        &demo(),
        "c-1",
    )
    .await
    .expect("c-1 opens its own session");
    assert!(!welcome.session_id.is_empty());

    // An admin of the platform works in any tenant.
    let admin = token(&RegionKey::new("platform", "all"), Role::Admin, "root");
    support(&channel, admin.clone())
        .get_order(get(&demo(), "o-1"))
        .await
        .expect("an admin reads demo's order");
    kitchen(&channel, admin)
        .create_order(create(&rival(), new_order("r-1", "k-9")))
        .await
        .expect("an admin creates an order for rival");
    assert_eq!(
        errors(&running, "permission_denied"),
        11,
        "each refusal above is counted"
    );

    running.shutdown().await;
}

#[tokio::test]
async fn the_service_never_starts_without_a_token_key() {
    let mut config = config();
    config.auth = None;
    let error = Running::start(&config, Arc::new(WallClock), TravelModel::straight())
        .await
        .expect_err("no key, no service");
    assert!(matches!(error, StartError::NoTokenKey), "{error}");
    assert!(error.to_string().contains("AUTH_JWT_SECRET"), "{error}");
}

#[tokio::test]
async fn the_grpc_port_serves_tls_when_configured() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!("dispatch-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();

    let mut config = config();
    config.grpc_tls = Some(TlsFiles {
        cert: cert.clone(),
        key,
    });
    let running = start(&config).await;
    let port = running.grpc_addr.port();

    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(certified.cert.pem()))
        .domain_name("localhost");
    let secure = Endpoint::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .expect("a TLS connection");
    assert_code(
        support(&secure, token(&demo(), Role::Support, "op-1"))
            .get_order(get(&demo(), "o-404"))
            .await,
        Code::NotFound,
        "a request over TLS reaches the service",
    );

    // A plaintext client cannot talk to a TLS port.
    let plain = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5));
    if let Ok(plain) = plain.connect().await {
        let result = support(&plain, token(&demo(), Role::Support, "op-1"))
            .get_order(get(&demo(), "o-404"))
            .await;
        assert!(result.is_err(), "plaintext got an answer: {result:?}");
    }

    running.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
