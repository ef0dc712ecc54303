//! The live service's benchmark against the real servers (`bash scripts/services.sh up .services`):
//!
//! - **ingest**: position batches published to RabbitMQ, consumed and written into the hypertable by
//!   the service, in fixes per second, beside the raw binary-COPY rate of the same database;
//! - **offers**: the time from an order's arrival (gRPC CreateOrder) to its offer on a courier's
//!   stream, median and p99, with 500 couriers connected and 2,000 open orders.
//!
//! ```sh
//! cargo bench -p dispatcher --bench service            # both
//! cargo bench -p dispatcher --bench service -- ingest  # one
//! ```
//!
//! Prints a table; nothing here asserts a speed.

#[path = "../tests/common/mod.rs"]
mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{TimeDelta, Utc};
use dispatcher::{
    auth::{Bearer, Issuer, Role, Secret, TokenSettings},
    bus::{self, Publisher, topology},
    clock::{ScaledClock, WallClock},
    config::Config,
    domain::{RegionKey, Vehicle, convert::time_to_proto},
    fleet::{Events, OrderStream, courier::CourierPlan, offset, place_order, quantile},
    planner::TravelModel,
    service::Running,
    store::{self, positions::PositionRow},
};
use proto::dispatch::v1::{
    self as pb, courier_service_client::CourierServiceClient, envelope::Payload,
    kitchen_service_client::KitchenServiceClient,
};
use router::geo::LatLng;

/// The token settings of the benchmark's service.
fn token_settings() -> TokenSettings {
    TokenSettings::shared_secret(Secret::new(*b"the dispatch benchmarks' token secret").unwrap())
}

/// A bearer token for `subject` in `role`, in the tenant of `region`.
fn token(region: &RegionKey, role: Role, subject: &str) -> Bearer {
    let minted = Issuer::new(&token_settings())
        .unwrap()
        .mint(&region.tenant_id, role, subject, Duration::from_secs(3600))
        .unwrap();
    Bearer::new(&minted).unwrap()
}

fn base_config(db: &str, region: &RegionKey) -> Config {
    let mut config = Config::defaults();
    config.auth = Some(token_settings());
    config.grpc_addr = "127.0.0.1:0".parse().unwrap();
    config.metrics_addr = "127.0.0.1:0".parse().unwrap();
    config.database_url = Some(db.to_owned());
    config.amqp_url = Some(common::amqp_url());
    config.dispatch_regions = vec![region.clone()];
    config
}

fn row(region: &RegionKey, courier: usize, i: usize) -> PositionRow {
    PositionRow {
        tenant_id: region.tenant_id.clone(),
        region_id: region.region_id.clone(),
        courier_id: format!("c-{courier}"),
        recorded_at: chrono::DateTime::from_timestamp(1_780_000_000 + i as i64, 0).unwrap(),
        lat: 52.5 + courier as f64 * 1e-4,
        lng: 13.4 + i as f64 * 1e-6,
        accuracy_m: 5.0,
        speed_mps: 4.0,
        heading_deg: 90.0,
    }
}

async fn ingest() {
    const COURIERS: usize = 1_000;
    const MESSAGES: usize = 6_000;
    const FIXES: usize = 100;
    let region = RegionKey::new(
        format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..6]),
        "city",
    );
    // A fresh database for each part, dropped at its end.
    let db = common::TestDatabase::create("ingest").await;
    let url = db.url.clone();

    // The ceiling: one connection copying 600,000 rows in batches of 10,000.
    let mut client = store::connect(&url).await.expect("connect");
    store::migrations::apply(&mut client)
        .await
        .expect("migrate");
    let copy_rows = MESSAGES * FIXES;
    let ceiling_region = RegionKey::new("ceiling", "city");
    let rows: Vec<PositionRow> = (0..copy_rows)
        .map(|k| row(&ceiling_region, k % COURIERS, k / COURIERS))
        .collect();
    let started = Instant::now();
    for chunk in rows.chunks(10_000) {
        store::positions::write_batch(&mut client, chunk)
            .await
            .expect("copy");
    }
    let copy_rate = copy_rows as f64 / started.elapsed().as_secs_f64();
    drop(rows);

    // The service, fed through RabbitMQ by four concurrent publishers.
    let running = Running::start(
        &base_config(&url, &region),
        Arc::new(WallClock),
        TravelModel::straight(),
    )
    .await
    .expect("service starts");
    let amqp = bus::connect(&common::amqp_url(), "bench-ingest")
        .await
        .expect("amqp");
    // Wait for the consumer to bind the region's queues.
    let probe = Publisher::open(&amqp).await.expect("publisher");
    let envelope = |m: usize| pb::Envelope {
        event_id: format!("pos-{m}"),
        scope: Some(region.to_scope()),
        occurred_at: Some(time_to_proto(Utc::now())),
        source: "bench".into(),
        source_seq: m as u64,
        payload: Some(Payload::PositionBatch(pb::PositionBatch {
            courier_id: format!("c-{}", m % COURIERS),
            fixes: (0..FIXES)
                .map(|f| {
                    let r = row(&region, m % COURIERS, (m / COURIERS) * FIXES + f);
                    pb::PositionFix {
                        location: Some(pb::LatLng {
                            lat: r.lat,
                            lng: r.lng,
                        }),
                        recorded_at: Some(time_to_proto(r.recorded_at)),
                        accuracy_m: r.accuracy_m,
                        speed_mps: r.speed_mps,
                        heading_deg: r.heading_deg,
                    }
                })
                .collect(),
        })),
    };
    loop {
        match probe
            .publish(topology::POSITIONS_EXCHANGE, &envelope(0))
            .await
        {
            Ok(()) => break,
            Err(bus::BusError::Unroutable { .. }) => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(error) => panic!("publish: {error}"),
        }
    }
    let started = Instant::now();
    let mut publishers = tokio::task::JoinSet::new();
    for p in 0..4 {
        let publisher = Publisher::open(&amqp).await.expect("publisher");
        let envelopes: Vec<pb::Envelope> =
            (1..MESSAGES).filter(|m| m % 4 == p).map(envelope).collect();
        publishers.spawn(async move {
            for e in &envelopes {
                publisher
                    .publish(topology::POSITIONS_EXCHANGE, e)
                    .await
                    .expect("publish");
            }
        });
    }
    while publishers.join_next().await.is_some() {}
    let published = started.elapsed().as_secs_f64();
    let total = (MESSAGES * FIXES) as i64;
    loop {
        let stored: i64 = client
            .query_one(
                "SELECT count(*) FROM courier_positions WHERE tenant_id = $1",
                &[&region.tenant_id],
            )
            .await
            .expect("count")
            .get(0);
        if stored >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ingest_s = started.elapsed().as_secs_f64();
    let ingest_rate = total as f64 / ingest_s;
    running.shutdown().await;
    amqp.close(200, "done".into()).await.ok();
    drop(client);
    db.drop().await;

    println!("\n## Position ingest through RabbitMQ into the hypertable\n");
    println!("| measure | fixes | seconds | fixes/s |");
    println!("|---|---:|---:|---:|");
    println!(
        "| raw binary COPY, 1 connection, 10k-row batches | {copy_rows} | {:.2} | {copy_rate:.0} |",
        copy_rows as f64 / copy_rate
    );
    println!(
        "| service: {MESSAGES} messages x {FIXES} fixes, 4 publishers, until all stored | {total} | {ingest_s:.2} | {ingest_rate:.0} |"
    );
    println!("| (publishing alone took {published:.2} s) | | | |");
    println!("\nservice / ceiling: {:.2}", ingest_rate / copy_rate);
}

async fn offers() {
    const COURIERS: usize = 500;
    const OPEN: u64 = 2_000;
    const MEASURED: u64 = 300;
    let region = RegionKey::new(
        format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..6]),
        "city",
    );
    let db = common::TestDatabase::create("offers").await;
    let url = db.url.clone();
    let config = base_config(&url, &region);
    let running = Running::start(&config, Arc::new(WallClock), TravelModel::straight())
        .await
        .expect("service starts");
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", running.grpc_addr))
        .unwrap()
        .connect()
        .await
        .expect("grpc");
    let centre = LatLng::new(52.52, 13.405).unwrap();
    let mut rng = fastrand::Rng::with_seed(3);
    let stream = OrderStream {
        region: region.clone(),
        centre,
        radius_m: 4_000.0,
        restaurants: OrderStream::restaurants_around(centre, 150, &mut rng),
        customers: Vec::new(),
        seed: 3,
    };
    let events = Arc::new(Events::new(false));
    let clock = ScaledClock::new(Utc::now(), 1.0);
    let until = Utc::now() + TimeDelta::hours(3);
    let mut couriers = tokio::task::JoinSet::new();
    for i in 0..COURIERS {
        let home = &stream.restaurants[i % stream.restaurants.len()];
        let plan = CourierPlan {
            region: region.clone(),
            courier_id: format!("c-{i}"),
            vehicle: Vehicle::Bicycle,
            start: offset(
                home.location,
                rng.f64() * 600.0 - 300.0,
                rng.f64() * 600.0 - 300.0,
            ),
            speed_mps: 4.5,
            accept: 1.0,
            moves: false,
            seed: i as u64,
            road: None,
        };
        let bearer = token(&region, Role::Courier, &plan.courier_id);
        couriers.spawn(dispatcher::fleet::courier::run(
            CourierServiceClient::with_interceptor(channel.clone(), bearer),
            plan,
            clock,
            until,
            events.clone(),
        ));
    }
    let mut kitchen = KitchenServiceClient::new(channel.clone());
    // One integration places every restaurant's orders, as a platform's order router would.
    let router = token(&region, Role::Admin, "order-router");
    // Fill up to 2,000 open orders at 40 per second, then measure 300 more at 5 per second.
    let fill = Instant::now();
    for n in 0..OPEN {
        let spec = stream.order(n, Utc::now());
        events.order_created(&spec.order_id);
        place_order(&mut kitchen, &router, &region, spec)
            .await
            .expect("create");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let fill_s = fill.elapsed().as_secs_f64();
    let id = |n: u64| stream.order(n, Utc::now()).order_id;
    for n in OPEN..OPEN + MEASURED {
        let spec = stream.order(n, Utc::now());
        events.order_created(&spec.order_id);
        place_order(&mut kitchen, &router, &region, spec)
            .await
            .expect("create");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Give the last orders two ticks to be offered.
    tokio::time::sleep(config.planner_tick * 2 + config.planner_budget).await;
    let fill_ids: Vec<String> = (0..OPEN).map(id).collect();
    let measured_ids: Vec<String> = (OPEN..OPEN + MEASURED).map(id).collect();
    let mut fill_delays = events.offer_delays_of(&fill_ids);
    let mut measured = events.offer_delays_of(&measured_ids);
    let offered = measured.len();
    let (p50, p99) = (quantile(&mut measured, 0.5), quantile(&mut measured, 0.99));
    let max = measured.last().copied().unwrap_or(f64::NAN);
    let (f50, f99) = (
        quantile(&mut fill_delays, 0.5),
        quantile(&mut fill_delays, 0.99),
    );
    let open = {
        let world = running.core.world().await;
        world.region(&region).map_or(0, |r| r.open_orders().count())
    };
    couriers.abort_all();
    running.shutdown().await;
    db.drop().await;

    println!("\n## Order to offer, {COURIERS} couriers connected\n");
    println!(
        "planner tick {} ms, budget {} ms, {} threads; target p99 < tick + 500 ms = {} ms\n",
        config.planner_tick.as_millis(),
        config.planner_budget.as_millis(),
        config.planner_threads,
        (config.planner_tick + Duration::from_millis(500)).as_millis()
    );
    println!("| phase | orders offered | median s | p99 s | max s |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| filling 0 -> {OPEN} open orders at 40/s ({fill_s:.0} s) | {} of {OPEN} | {f50:.3} | {f99:.3} | {:.3} |",
        fill_delays.len(),
        fill_delays.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "| {MEASURED} more at 5/s with {OPEN}+ open | {offered} of {MEASURED} | {p50:.3} | {p99:.3} | {max:.3} |"
    );
    println!("\nopen orders at the end: {open}");
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let all = which.is_empty();
    if all || which.iter().any(|w| w == "ingest") {
        ingest().await;
    }
    if all || which.iter().any(|w| w == "offers") {
        offers().await;
    }
}
