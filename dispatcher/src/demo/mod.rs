//! The main job for a newcomer: the service on the embedded default and a simulated city talking to
//! it over gRPC on loopback, on a real street map (Monaco, embedded). Kitchens place orders with
//! ready times from a preparation-time model; couriers on cars, scooters and bicycles drive the
//! router's paths at their profile's speeds, accept most offers, decline some and send position
//! fixes. Simulated time runs faster than real time; the seed makes the city repeatable (the
//! planner's decisions depend on wall-clock timing, so outcomes vary a little between runs).

pub mod kpi;
pub mod map;
pub mod page;

use std::{io::IsTerminal as _, path::PathBuf, sync::Arc, time::Duration};

use chrono::{TimeDelta, Utc};
use proto::dispatch::v1::{
    courier_service_client::CourierServiceClient, kitchen_service_client::KitchenServiceClient,
};

use self::{kpi::Kpis, map::CityMap};
use anyhow::Context as _;

use crate::{
    auth::{Bearer, Issuer, Role, Secret, TokenSettings},
    clock::{Clock, ScaledClock},
    config::Config,
    domain::{OrderState, RegionKey, Vehicle},
    fleet::{
        Events, OrderStream, Restaurant,
        courier::{self, CourierPlan, CourierTally},
        place_order,
    },
    planner::TravelModel,
    service::Running,
};

/// The simulated city.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Couriers on shift.
    pub couriers: usize,
    /// Orders placed over the run.
    pub orders: u64,
    /// Kitchens.
    pub kitchens: usize,
    /// Simulated minutes over which orders arrive.
    pub minutes: i64,
    /// How much faster than real time the simulation runs.
    pub speed_up: f64,
    /// Share of offers couriers accept.
    pub accept: f64,
    /// Seed of the city: kitchens, orders, couriers and their answers.
    pub seed: u64,
    /// Print every offer answer and delivery.
    pub verbose: bool,
    /// Write the HTML report here at the end.
    pub report: Option<PathBuf>,
    /// Keep the service running after the simulation, until Ctrl-C.
    pub keep_running: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            couriers: 30,
            orders: 120,
            kitchens: 12,
            minutes: 30,
            speed_up: 30.0,
            accept: 0.9,
            seed: 7,
            verbose: false,
            report: None,
            keep_running: false,
        }
    }
}

/// What happened.
#[derive(Debug, Clone)]
pub struct DemoOutcome {
    /// The figures.
    pub kpis: Kpis,
    /// Where gRPC listened.
    pub grpc_addr: std::net::SocketAddr,
}

/// The vehicles of the demo's couriers, in turn.
const VEHICLES: [Vehicle; 3] = [Vehicle::Bicycle, Vehicle::Scooter, Vehicle::Car];

/// How long the tokens the demo mints stay valid.
const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// Runs the demo with `config` (its store and bus settings apply; the default is embedded).
pub async fn run(config: &Config, options: &DemoOptions) -> anyhow::Result<DemoOutcome> {
    let region = config
        .dispatch_regions
        .first()
        .cloned()
        .unwrap_or_else(|| RegionKey::new("demo", "city"));
    println!("loading the map of Monaco ({})", map::ATTRIBUTION);
    let started = std::time::Instant::now();
    let city = tokio::task::spawn_blocking(|| CityMap::load(&VEHICLES)).await??;
    println!(
        "  {} street segments, {} road places for kitchens and customers, {:.1} s",
        city.streets.len(),
        city.places.len(),
        started.elapsed().as_secs_f64()
    );
    anyhow::ensure!(
        city.places.len() > options.kitchens,
        "the map has too few road places"
    );

    let start = Utc::now();
    let clock = ScaledClock::new(start, options.speed_up);
    let travel = TravelModel::with_networks(city.networks.clone());
    // The service never runs open: without a configured key, the demo makes one up and mints
    // every simulated app's token with it.
    let mut config = config.clone();
    let settings = config
        .auth
        .get_or_insert_with(|| TokenSettings::shared_secret(Secret::random()))
        .clone();
    let issuer = Issuer::new(&settings)
        .context("the demo mints its apps' tokens, so it needs AUTH_JWT_SECRET or no key at all")?;
    let token = |role: Role, subject: &str| -> anyhow::Result<Bearer> {
        let minted = issuer.mint(&region.tenant_id, role, subject, TOKEN_LIFETIME)?;
        Ok(Bearer::new(&minted)?)
    };
    let running = Running::start(&config, Arc::new(clock), travel).await?;
    let endpoint = format!("http://{}", running.grpc_addr);
    let channel = tonic::transport::Endpoint::from_shared(endpoint)?
        .connect()
        .await?;
    println!(
        "dispatcher on {} (metrics http://{}/metrics); {} couriers, {} kitchens, {} orders over {} \
         simulated minutes at {}x, seed {}",
        running.grpc_addr,
        running.metrics_addr,
        options.couriers,
        options.kitchens,
        options.orders,
        options.minutes,
        options.speed_up,
        options.seed
    );

    let mut rng = fastrand::Rng::with_seed(options.seed);
    let pick = |rng: &mut fastrand::Rng| city.places[rng.usize(..city.places.len())];
    let restaurants: Vec<Restaurant> = (0..options.kitchens)
        .map(|i| {
            let at = pick(&mut rng);
            Restaurant::new(format!("kitchen-{i}"), at, &mut rng)
        })
        .collect();
    let centre = restaurants[0].location;
    let stream = OrderStream {
        region: region.clone(),
        centre,
        radius_m: 0.0,
        restaurants,
        customers: city.places.clone(),
        seed: options.seed,
    };
    let events = Arc::new(Events::new(options.verbose));
    let until = start + TimeDelta::minutes(options.minutes);

    let mut couriers = tokio::task::JoinSet::new();
    for i in 0..options.couriers {
        let vehicle = VEHICLES[i % VEHICLES.len()];
        let plan = CourierPlan {
            region: region.clone(),
            courier_id: format!("courier-{i}"),
            vehicle,
            start: pick(&mut rng),
            // Off the map (no path), a courier moves in a straight line at a typical speed.
            speed_mps: match vehicle {
                Vehicle::Bicycle => 4.5,
                Vehicle::Scooter => 7.0,
                _ => 8.0,
            },
            accept: options.accept,
            moves: true,
            seed: options.seed.wrapping_add(i as u64),
            road: city.network(vehicle).cloned(),
        };
        let client = CourierServiceClient::with_interceptor(
            channel.clone(),
            token(Role::Courier, &plan.courier_id)?,
        );
        couriers.spawn(courier::run(client, plan, clock, until, events.clone()));
    }

    // Orders arrive evenly over the run, each placed by its own kitchen.
    let mut kitchen = KitchenServiceClient::new(channel.clone());
    let kitchen_tokens = stream
        .restaurants
        .iter()
        .map(|r| Ok((r.kitchen_id.clone(), token(Role::Kitchen, &r.kitchen_id)?)))
        .collect::<anyhow::Result<std::collections::HashMap<_, _>>>()?;
    let gap = TimeDelta::milliseconds(options.minutes * 60_000 / options.orders.max(1) as i64);
    let mut status = tokio::time::interval(Duration::from_secs(2));
    let line = StatusLine::new();
    let (mut n, mut next) = (0, start);
    let mut first_order = None;
    while n < options.orders {
        tokio::select! {
            () = tokio::time::sleep(clock.wall(next - clock.now())) => {
                let spec = stream.order(n, clock.now());
                events.order_created(&spec.order_id);
                first_order.get_or_insert_with(|| spec.order_id.clone());
                let placed = match kitchen_tokens.get(&spec.kitchen_id) {
                    Some(bearer) => place_order(&mut kitchen, bearer, &region, spec).await,
                    None => Err(tonic::Status::internal("no token for the order's kitchen")),
                };
                if let Err(status) = placed {
                    line.note(&format!("order {n} refused: {}", status.message()));
                }
                n += 1;
                next += gap;
            }
            _ = status.tick() => line.show(&running, &region, &clock).await,
        }
    }
    // Couriers finish their routes, then go off shift.
    let mut tallies: Vec<CourierTally> = Vec::new();
    loop {
        tokio::select! {
            joined = couriers.join_next() => match joined {
                Some(Ok(Ok(t))) => tallies.push(t),
                Some(Ok(Err(status))) => line.note(&format!("a courier app stopped: {}", status.message())),
                Some(Err(error)) => line.note(&format!("a courier app failed: {error}")),
                None => break,
            },
            _ = status.tick() => line.show(&running, &region, &clock).await,
        }
    }
    line.show(&running, &region, &clock).await;
    line.finish();

    let journal = events.journal();
    let (kpis, report) = {
        let world = running.core.world().await;
        let empty = crate::world::RegionState::new(region.clone());
        let r = world.region(&region).unwrap_or(&empty);
        let kpis = Kpis::compute(r, &journal, &tallies, &mut events.offer_delays());
        let report = options.report.as_ref().map(|_| {
            page::gather(
                format!(
                    "Dispatch demo: Monaco, {} couriers, {} orders, seed {}",
                    options.couriers, options.orders, options.seed
                ),
                &city.streets,
                &stream.restaurants,
                r,
                &journal,
                &kpis,
            )
        });
        (kpis, report)
    };
    if let (Some(path), Some(data)) = (&options.report, report) {
        crate::report::write(&data, path)?;
        println!("report written to {}", path.display());
    }
    let outcome = DemoOutcome {
        kpis,
        grpc_addr: running.grpc_addr,
    };
    if options.keep_running {
        print!("{}", outcome.kpis);
        println!(
            "the service keeps running on {}; Ctrl-C stops it. Try, from another terminal:",
            running.grpc_addr
        );
        // A support token for the demo's tenant, good for the rest of the working day.
        let support = issuer.mint(
            &region.tenant_id,
            Role::Support,
            "demo-operator",
            TOKEN_LIFETIME,
        )?;
        println!("  export DISPATCH_TOKEN={support}");
        let addr = format!("--addr http://{}", running.grpc_addr);
        let order = first_order.unwrap_or_default();
        let scope = format!(
            "--tenant {} --region {}",
            region.tenant_id, region.region_id
        );
        // Fixes carry simulated time, which ran ahead of the wall clock.
        let track = format!(
            "courier-track courier-0 --from {} --to {}",
            start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            clock
                .now()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        for command in [
            format!("order {order}"),
            format!("order-history {order}"),
            format!("explain {order}"),
            "courier courier-0".to_owned(),
            track,
        ] {
            println!("  cargo run --release -p dispatcher -- ctl {addr} {scope} {command}");
        }
        let _ = tokio::signal::ctrl_c().await;
    }
    running.shutdown().await;
    Ok(outcome)
}

/// One status line, rewritten in place on a terminal and printed every few seconds otherwise.
struct StatusLine {
    terminal: bool,
    last: std::sync::Mutex<std::time::Instant>,
}

impl StatusLine {
    fn new() -> Self {
        Self {
            terminal: std::io::stdout().is_terminal(),
            last: std::sync::Mutex::new(std::time::Instant::now()),
        }
    }

    /// Prints a message above the status line.
    fn note(&self, message: &str) {
        if self.terminal {
            print!("\r\x1b[2K");
        }
        println!("{message}");
    }

    async fn show(&self, running: &Running, region: &RegionKey, clock: &ScaledClock) {
        let text = {
            let world = running.core.world().await;
            let Some(r) = world.region(region) else {
                return;
            };
            let count = |s: &[OrderState]| {
                r.orders
                    .values()
                    .filter(|e| s.contains(&e.order.state))
                    .count()
            };
            let late = r
                .orders
                .values()
                .filter(|e| {
                    let o = &e.order;
                    if o.state == OrderState::Delivered {
                        o.state_changed_at > o.spec.promised_end
                    } else {
                        !o.state.is_final() && clock.now() > o.spec.promised_end
                    }
                })
                .count();
            let busy = r
                .couriers
                .keys()
                .filter(|c| r.orders_of(c).next().is_some())
                .count();
            format!(
                "[{}] placed {:>3}  assigned {:>3}  delivered {:>3}  late {:>2}  couriers busy {:>2}/{:<2}  \
                 last plan {:>4.0} ms",
                clock.now().format("%H:%M:%S"),
                r.orders.len(),
                count(&[
                    OrderState::Offered,
                    OrderState::Accepted,
                    OrderState::PickedUp
                ]),
                count(&[OrderState::Delivered]),
                late,
                busy,
                r.couriers.len(),
                running.core.metrics().planner_last_seconds.get() * 1000.0
            )
        };
        if self.terminal {
            use std::io::Write as _;
            print!("\r\x1b[2K{text}");
            let _ = std::io::stdout().flush();
        } else {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() >= Duration::from_secs(10) {
                *last = std::time::Instant::now();
                println!("{text}");
            }
        }
    }

    fn finish(&self) {
        if self.terminal {
            println!();
        }
    }
}
