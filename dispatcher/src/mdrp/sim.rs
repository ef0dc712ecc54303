//! The MDRP replay: a discrete-event simulation on a manual clock that drives the live service's own
//! core and planner. Orders are revealed at their placement time through `create_order`, couriers
//! are in-process apps that accept every offer and follow their routes with the instance's travel
//! rule, and planning rounds run every epoch of simulated time with a fixed iteration budget, so a
//! replay is the same on every machine.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proto::dispatch::v1::{self as pb, courier_down::Body};
use router::geo::LatLng;
use tokio::sync::mpsc;

use super::{
    instance::Instance,
    leg::{Leg, next_leg},
    replay::{Assignment, Move, OrderOutcome, Place, Replay},
};
use crate::{
    clock::ManualClock,
    core::{Core, CourierCommand, Settings, Speaker},
    domain::{Actor, CourierStatus, Fix, Load, OrderSpec, Place as DomainPlace, RegionKey},
    metrics::Metrics,
    planner::{Planar, Planner, PlannerSettings, Rules, TravelModel},
    positions::{BatchConfig, PositionSink},
    store::MemoryStore,
};

/// Metres per degree used to carry the instance's metres in coordinates.
const METRES_PER_DEGREE: f64 = 100_000.0;

/// How to replay.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Minutes between planning rounds.
    pub epoch_min: i64,
    /// Search iterations per round and thread.
    pub iterations: u64,
    /// Search threads.
    pub threads: usize,
    /// Objective weights (seconds and metres).
    pub weights: solver::Weights,
    /// Idle couriers with nothing to do wait at the nearest restaurant instead of where they
    /// are (the benchmark's prepositioning mode).
    pub preposition: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            epoch_min: 1,
            iterations: 300,
            threads: 2,
            weights: solver::Weights::default(),
            preposition: true,
        }
    }
}

/// Errors of a replay.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The service core refused something the simulation did.
    #[error("core: {0}")]
    Core(#[from] crate::core::CoreError),
    /// The planner could not start.
    #[error("planner: {0}")]
    Planner(#[from] solver::SolverError),
    /// A coordinate that cannot be carried as a latitude and longitude.
    #[error("coordinate ({x}, {y}) is out of range")]
    Coordinate {
        /// Metres east.
        x: f64,
        /// Metres north.
        y: f64,
    },
}

/// The instance's metres as a coordinate; `None` for a point beyond the poles (metres in the
/// millions), which no instance has.
fn point(x: f64, y: f64) -> Result<LatLng, SimError> {
    LatLng::new(y / METRES_PER_DEGREE, x / METRES_PER_DEGREE)
        .map_err(|_| SimError::Coordinate { x, y })
}

/// What a simulated courier is doing.
#[derive(Debug, Clone)]
enum Doing {
    /// At a place, free to start the next stop.
    Idle { at: Place, xy: (f64, f64) },
    /// Moving to a stop; arrives at `until`.
    Travelling {
        leg: Leg,
        dest: Place,
        xy: (f64, f64),
        until: i64,
    },
    /// At a stop until `until` (waiting for food, or serving).
    Serving {
        at: Place,
        xy: (f64, f64),
        until: i64,
    },
}

/// How the planning rounds of a replay went (wall time, so machine-dependent, unlike the replay).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Planning {
    /// Rounds run.
    pub rounds: usize,
    /// Rounds that failed (logged; the next one retried).
    pub failed: usize,
    /// The longest round, seconds: snapshot, matrices, search, checker and sending.
    pub max_s: f64,
    /// All rounds together, seconds.
    pub total_s: f64,
}

/// A replay and how its planning went.
#[derive(Debug, Clone)]
pub struct Replayed {
    /// What happened, in the evaluator's terms.
    pub replay: Replay,
    /// The planning rounds.
    pub planning: Planning,
}

struct SimCourier {
    speaker: Speaker,
    down: mpsc::Receiver<pb::CourierDown>,
    seq: u64,
    doing: Doing,
    route: Vec<pb::Stop>,
    version: u64,
    /// Orders collected and not yet handed over.
    carrying: Vec<String>,
}

impl SimCourier {
    /// Follows `route` from now on unless a newer one came first; notes when courier `id` was
    /// first told of each order on it (the assignment time the evaluator wants).
    fn adopt(
        &mut self,
        route: pb::Route,
        id: &str,
        minute: i64,
        told: &mut HashMap<(String, String), i64>,
    ) {
        if route.version < self.version {
            return;
        }
        for stop in &route.stops {
            for o in &stop.order_ids {
                told.entry((id.to_owned(), o.clone())).or_insert(minute);
            }
        }
        self.version = route.version;
        self.route = route.stops;
    }
}

/// Replays `instance` and returns what happened, in the evaluator's terms, with how long planning
/// took.
pub async fn replay(
    instance: &Instance,
    name: &str,
    options: &SimOptions,
) -> Result<Replayed, SimError> {
    let day: DateTime<Utc> = Utc
        .with_ymd_and_hms(2026, 1, 5, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let at_min = |m: i64| day + TimeDelta::minutes(m);
    let clock = ManualClock::new(day);
    let region = RegionKey::new("mdrp", name);
    let store = Arc::new(MemoryStore::new());
    let (metrics, _registry) = Metrics::new();
    let (positions, writers) = PositionSink::start(
        store.clone(),
        // Nothing to gather on a simulated clock: every write is flushed at once.
        BatchConfig {
            linger: std::time::Duration::ZERO,
            ..BatchConfig::default()
        },
        metrics.clone(),
    );
    let core = Core::start(
        Settings {
            regions: vec![region.clone()],
            // Couriers accept at once; an offer never lapses in simulated time.
            offer_expiry: TimeDelta::days(2),
            ..Settings::default()
        },
        Arc::new(clock.clone()),
        store,
        metrics,
        positions,
    )
    .await?;
    let p = instance.parameters();
    let planner = Arc::new(Planner::new(
        PlannerSettings {
            iterations: Some(options.iterations),
            threads: options.threads,
            weights: options.weights,
            seed: 1,
            rules: Rules {
                shift_end_limits_pickups_only: true,
                trips: solver::TripRule::OnePickupPlace,
                service_once_per_visit: true,
            },
            ..PlannerSettings::default()
        },
        TravelModel::planar(Planar {
            metres_per_degree: METRES_PER_DEGREE,
            metres_per_step: p.metres_per_minute,
            step_s: 60.0,
        }),
    )?);
    let half_pickup = p.pickup_half();
    let half_dropoff = p.dropoff_half();
    let travel = |a: (f64, f64), b: (f64, f64)| instance.travel_minutes(a, b);
    let restaurant_xy: HashMap<&str, (f64, f64)> = instance
        .restaurants()
        .iter()
        .map(|r| (r.id.as_str(), (r.x, r.y)))
        .collect();
    let order_of: HashMap<&str, &super::instance::Order> = instance
        .orders()
        .iter()
        .map(|o| (o.id.as_str(), o))
        .collect();

    // A bundle is ready when its last order is.
    let ready_of = |orders: &[String]| {
        orders
            .iter()
            .filter_map(|o| order_of.get(o.as_str()))
            .map(|o| o.ready)
            .max()
    };

    // Events by minute: orders revealed, couriers on and off.
    let mut reveals: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, o) in instance.orders().iter().enumerate() {
        reveals.entry(o.placement).or_default().push(i);
    }
    let mut ons: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, c) in instance.couriers().iter().enumerate() {
        ons.entry(c.on).or_default().push(i);
    }
    let end = instance.couriers().iter().map(|c| c.off).max().unwrap_or(0) + 240;

    let mut couriers: HashMap<String, SimCourier> = HashMap::new();
    let mut replay = Replay::default();
    // When each courier was first told of each order (offer or route): its assignment time.
    let mut told: HashMap<(String, String), i64> = HashMap::new();
    let mut pickup_of: HashMap<String, (i64, String)> = HashMap::new();
    let mut open_orders = 0usize;
    let mut planning = Planning::default();
    let mut minute = instance
        .orders()
        .iter()
        .map(|o| o.placement)
        .min()
        .unwrap_or(0)
        .min(instance.couriers().iter().map(|c| c.on).min().unwrap_or(0));
    while minute <= end {
        clock.set(at_min(minute));
        // Couriers start.
        for &i in ons.get(&minute).into_iter().flatten() {
            let c = &instance.couriers()[i];
            let hello = pb::Hello {
                scope: Some(region.to_scope()),
                courier_id: c.id.clone(),
                vehicle: pb::VehicleType::Car as i32,
                capacity: None,
                equipment: Vec::new(),
                app_version: "mdrp".into(),
            };
            let (speaker, welcome) = core.courier_hello(&hello).await?;
            let mut sc = SimCourier {
                speaker,
                down: welcome.down,
                seq: 0,
                doing: Doing::Idle {
                    at: Place::OnLocation,
                    xy: (c.x, c.y),
                },
                route: Vec::new(),
                version: 0,
                carrying: Vec::new(),
            };
            say(
                &core,
                &mut sc,
                CourierCommand::Status {
                    status: CourierStatus::OnShift,
                    // The planner's service "starts" when the courier can leave, half a service
                    // after the pickup itself (see the orders below).
                    shift_end: Some(at_min(c.off + half_pickup)),
                },
            )
            .await?;
            fix(&core, &mut sc, point(c.x, c.y)?, at_min(minute)).await?;
            couriers.insert(c.id.clone(), sc);
        }
        // Orders are revealed.
        for &i in reveals.get(&minute).into_iter().flatten() {
            let o = &instance.orders()[i];
            let r = restaurant_xy
                .get(o.restaurant.as_str())
                .copied()
                .unwrap_or((o.x, o.y));
            let place = |xy: (f64, f64)| -> Result<DomainPlace, SimError> {
                Ok(DomainPlace {
                    location: point(xy.0, xy.1)?,
                    address: String::new(),
                    instructions: String::new(),
                })
            };
            let spec = OrderSpec {
                order_id: o.id.clone(),
                kitchen_id: o.restaurant.clone(),
                placed_at: at_min(o.placement),
                pickup: place(r)?,
                // The planner spends the whole service on arriving (once per bundle, while the
                // food finishes) and its service "starts" when the courier may leave: half a
                // service after the pickup, which is no earlier than the food is ready.
                ready_at: at_min(o.ready + half_pickup),
                pickup_service_s: (p.pickup_service * 60) as u32,
                dropoff: place((o.x, o.y))?,
                promised_start: at_min(o.placement),
                promised_end: at_min(o.placement + p.target_ctd + half_dropoff),
                dropoff_service_s: (p.dropoff_service * 60) as u32,
                size: Load::default(),
                allowed_vehicles: Vec::new(),
                required_equipment: Vec::new(),
                hard_window: false,
            };
            core.create_order(&region, spec, Actor::Kitchen(o.restaurant.clone()), None)
                .await?;
            open_orders += 1;
        }
        // Plan, then let every courier read what it was told.
        if minute % options.epoch_min.max(1) == 0 && open_orders > 0 {
            // As in live mode, a failed round is logged and the next one tries again.
            let started = std::time::Instant::now();
            let outcome = planner.round(&core).await;
            let seconds = started.elapsed().as_secs_f64();
            planning.rounds += 1;
            planning.total_s += seconds;
            planning.max_s = planning.max_s.max(seconds);
            if let Err(error) = outcome {
                planning.failed += 1;
                tracing::warn!(minute, %error, "planning round failed; the next one retries");
            }
        }
        let mut ids: Vec<String> = couriers.keys().cloned().collect();
        ids.sort();
        for id in &ids {
            let Some(sc) = couriers.get_mut(id) else {
                continue;
            };
            while let Ok(message) = sc.down.try_recv() {
                match message.body {
                    Some(Body::Offer(offer)) => {
                        for o in &offer.orders {
                            told.entry((id.clone(), o.order_id.clone()))
                                .or_insert(minute);
                        }
                        say(
                            &core,
                            sc,
                            CourierCommand::Accept {
                                offer_id: offer.offer_id,
                            },
                        )
                        .await?;
                    }
                    Some(Body::Route(update)) => {
                        if let Some(route) = update.route {
                            sc.adopt(route, id, minute, &mut told);
                        }
                    }
                    _ => {}
                }
            }
            // A route update may have arrived after the accept's ack: read again.
            while let Ok(message) = sc.down.try_recv() {
                if let Some(Body::Route(update)) = message.body
                    && let Some(route) = update.route
                {
                    sc.adopt(route, id, minute, &mut told);
                }
            }
        }
        // Move couriers whose time has come.
        for id in &ids {
            let Some(sc) = couriers.get_mut(id) else {
                continue;
            };
            loop {
                match sc.doing.clone() {
                    Doing::Travelling {
                        leg,
                        dest,
                        xy,
                        until,
                    } if until <= minute => {
                        // Arrived: serve the stop (a reposition has nothing to serve).
                        let done = if leg.orders.is_empty() {
                            until
                        } else if leg.pickup {
                            // One pickup for the whole bundle, once every order in it is ready.
                            let ready = ready_of(&leg.orders).unwrap_or(until);
                            let pickup = ready.max(until + half_pickup);
                            let mut collected = Vec::new();
                            for oid in &leg.orders {
                                let reply = say(
                                    &core,
                                    sc,
                                    CourierCommand::PickedUp {
                                        order_id: oid.clone(),
                                        at: at_min(pickup),
                                    },
                                )
                                .await?;
                                // Only orders still given to this courier are collected.
                                if matches!(reply, crate::core::Reply::Ack(_)) {
                                    pickup_of.insert(oid.clone(), (pickup, id.clone()));
                                    collected.push(oid.clone());
                                }
                            }
                            if !collected.is_empty() {
                                replay.assignments.push(Assignment {
                                    time: collected
                                        .iter()
                                        .filter_map(|o| told.get(&(id.clone(), o.clone())))
                                        .copied()
                                        .max()
                                        .unwrap_or(minute),
                                    pickup_time: pickup,
                                    courier: id.clone(),
                                    orders: collected.clone(),
                                });
                            }
                            sc.carrying.extend(collected);
                            pickup + half_pickup
                        } else {
                            let dropoff = until + half_dropoff;
                            for oid in &leg.orders {
                                if let Some((pickup, courier)) = pickup_of.get(oid) {
                                    replay.orders.push(OrderOutcome {
                                        order: oid.clone(),
                                        pickup_time: *pickup,
                                        dropoff_time: dropoff,
                                        courier: courier.clone(),
                                    });
                                }
                                say(
                                    &core,
                                    sc,
                                    CourierCommand::Delivered {
                                        order_id: oid.clone(),
                                        at: at_min(dropoff),
                                    },
                                )
                                .await?;
                                sc.carrying.retain(|o| o != oid);
                                open_orders = open_orders.saturating_sub(1);
                            }
                            dropoff + half_dropoff
                        };
                        sc.route.retain(|s| !leg.stops.contains(&s.stop_id));
                        sc.doing = Doing::Serving {
                            at: dest,
                            xy,
                            until: done,
                        };
                    }
                    Doing::Serving { at, xy, until } if until <= minute => {
                        sc.doing = Doing::Idle { at, xy };
                        fix(&core, sc, point(xy.0, xy.1)?, at_min(minute)).await?;
                    }
                    Doing::Idle { at, xy } => {
                        let next = next_leg(&sc.route, &sc.carrying, |o| {
                            order_of.get(o).map(|o| o.restaurant.as_str())
                        });
                        let (leg, dest, to_xy) = match next {
                            Some(leg) => {
                                let first =
                                    leg.orders.first().and_then(|o| order_of.get(o.as_str()));
                                match first {
                                    Some(o) if leg.pickup => {
                                        let r = &o.restaurant;
                                        let r_xy = restaurant_xy.get(r.as_str()).copied();
                                        (leg, Place::Restaurant(r.clone()), r_xy.unwrap_or(xy))
                                    }
                                    Some(o) => (leg, Place::Customer(o.id.clone()), (o.x, o.y)),
                                    None => {
                                        // An order the instance does not know: nothing to drive to.
                                        sc.route.retain(|s| !leg.stops.contains(&s.stop_id));
                                        sc.carrying.retain(|o| !leg.orders.contains(o));
                                        continue;
                                    }
                                }
                            }
                            None => {
                                // Nothing to do: wait at the nearest restaurant rather than at the
                                // last customer's door (the benchmark's prepositioning mode),
                                // unless the shift ends before the courier gets there.
                                let off = instance.courier(id).map_or(i64::MAX, |c| c.off);
                                let nearest = instance
                                    .restaurants()
                                    .iter()
                                    .min_by_key(|r| (travel(xy, (r.x, r.y)), r.id.clone()));
                                match nearest {
                                    Some(r)
                                        if options.preposition
                                            && !matches!(at, Place::Restaurant(_))
                                            && minute + travel(xy, (r.x, r.y)) < off =>
                                    {
                                        let dest = Place::Restaurant(r.id.clone());
                                        (Leg::reposition(), dest, (r.x, r.y))
                                    }
                                    _ => break,
                                }
                            }
                        };
                        let arrive = minute + travel(xy, to_xy);
                        if leg.pickup {
                            let off = instance.courier(id).map_or(i64::MAX, |c| c.off);
                            let ready = ready_of(&leg.orders).unwrap_or(arrive);
                            if ready.max(arrive + half_pickup) > off {
                                // Too late to collect before the shift ends: hand the orders back
                                // to the planner rather than break the rule.
                                let by = crate::core::support::Override {
                                    operator_id: "mdrp-simulator".into(),
                                    reason: "courier cannot collect before its shift ends".into(),
                                };
                                for oid in &leg.orders {
                                    if let Err(error) = core.release(&region, oid, &by).await {
                                        tracing::debug!(order_id = %oid, %error, "not released");
                                    }
                                }
                                sc.route.retain(|s| !leg.stops.contains(&s.stop_id));
                                break;
                            }
                            if arrive + half_pickup < ready {
                                // Leaving later loses nothing: the food would not be ready. Waiting
                                // keeps the courier free for the planner to send elsewhere first,
                                // since a courier on its way cannot be diverted.
                                break;
                            }
                            // Not diverted while travelling: what the courier drives to collect
                            // stays with it.
                            for oid in &leg.orders {
                                let by = crate::core::support::Override {
                                    operator_id: "mdrp-simulator".into(),
                                    reason: "courier on its way to the restaurant".into(),
                                };
                                if let Err(error) = core.pin(&region, oid, Some(id), &by).await {
                                    tracing::debug!(order_id = %oid, %error, "not pinned");
                                }
                            }
                        }
                        replay.moves.push(Move {
                            courier: id.clone(),
                            departure_time: minute,
                            origin: at,
                            destination: dest.clone(),
                        });
                        // Not diverted while travelling: the planner sees the courier where it is
                        // going, when it gets there.
                        fix(&core, sc, point(to_xy.0, to_xy.1)?, at_min(arrive)).await?;
                        sc.doing = Doing::Travelling {
                            leg,
                            dest,
                            xy: to_xy,
                            until: arrive,
                        };
                    }
                    _ => break,
                }
            }
        }
        minute += 1;
        if minute > end
            || (reveals.range(minute..).next().is_none()
                && open_orders == 0
                && ons.range(minute..).next().is_none())
        {
            break;
        }
    }
    // Every order left undelivered is explained in the log.
    for o in instance.orders() {
        if !pickup_of.contains_key(&o.id) || !replay.orders.iter().any(|d| d.order == o.id) {
            match core.find_order(&region, &o.id).await {
                Ok(order) => tracing::info!(
                    order_id = %o.id,
                    state = ?order.state,
                    courier_id = ?order.courier_id,
                    "order left undelivered"
                ),
                Err(error) => tracing::info!(order_id = %o.id, %error, "order left undelivered"),
            }
        }
    }
    // A bundle lists its orders in drop-off sequence, known only once they are all delivered.
    let dropped: HashMap<&str, i64> = replay
        .orders
        .iter()
        .map(|o| (o.order.as_str(), o.dropoff_time))
        .collect();
    let mut assignments = std::mem::take(&mut replay.assignments);
    for a in &mut assignments {
        a.orders.sort_by_key(|o| {
            (
                dropped.get(o.as_str()).copied().unwrap_or(i64::MAX),
                o.clone(),
            )
        });
    }
    replay.assignments = assignments;
    drop(writers);
    Ok(Replayed { replay, planning })
}

async fn say(
    core: &Core,
    sc: &mut SimCourier,
    command: CourierCommand,
) -> Result<crate::core::Reply, SimError> {
    sc.seq += 1;
    Ok(core
        .courier_message(&sc.speaker, sc.seq, Ok(command))
        .await?)
}

async fn fix(
    core: &Core,
    sc: &mut SimCourier,
    at: LatLng,
    when: DateTime<Utc>,
) -> Result<(), SimError> {
    let f = Fix {
        location: at,
        recorded_at: when,
        accuracy_m: 0.0,
        speed_mps: -1.0,
        heading_deg: -1.0,
    };
    say(core, sc, CourierCommand::Positions(vec![f])).await?;
    Ok(())
}
