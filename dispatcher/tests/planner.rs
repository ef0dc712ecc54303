//! The planner on an in-memory core, without gRPC: who gets offers (couriers taking work, not paused
//! ones, never one who declined), what never moves (on board, pinned), and that every plan it sends
//! passed the solver's independent checker (a refused plan fails the round).

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use dispatcher::{
    clock::ManualClock,
    core::{Core, CourierCommand, Reply, Settings, Speaker, support::Override},
    domain::{
        Actor, CourierStatus, Fix, Load, OrderSpec, OrderState, Place, RegionKey,
        convert::{latlng_to_proto, time_to_proto},
    },
    metrics::Metrics,
    planner::{Planner, PlannerSettings, Rules, TravelModel},
    positions::{BatchConfig, PositionSink},
    store::MemoryStore,
};
use proto::dispatch::v1::{self as pb, courier_down::Body};
use router::geo::LatLng;
use tokio::sync::mpsc;

fn at(dx: f64, dy: f64) -> LatLng {
    LatLng::new(52.52 + dy / 111_320.0, 13.40 + dx / 67_800.0).unwrap()
}

struct World {
    core: Arc<Core>,
    planner: Arc<Planner>,
    clock: ManualClock,
    region: RegionKey,
    _writers: tokio::task::JoinSet<()>,
}

async fn world() -> World {
    world_with(Rules::default()).await
}

async fn world_with(rules: Rules) -> World {
    let region = RegionKey::new("acme", "berlin");
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap());
    let store = Arc::new(MemoryStore::new());
    let (metrics, _registry) = Metrics::new();
    let (positions, writers) =
        PositionSink::start(store.clone(), BatchConfig::default(), metrics.clone());
    let settings = Settings {
        regions: vec![region.clone()],
        ..Settings::default()
    };
    let core = Core::start(settings, Arc::new(clock.clone()), store, metrics, positions)
        .await
        .unwrap();
    let planner = Arc::new(
        Planner::new(
            PlannerSettings {
                threads: 1,
                budget: std::time::Duration::from_millis(50),
                rules,
                ..PlannerSettings::default()
            },
            TravelModel::straight(),
        )
        .unwrap(),
    );
    World {
        core,
        planner,
        clock,
        region,
        _writers: writers,
    }
}

struct Courier {
    speaker: Speaker,
    down: mpsc::Receiver<pb::CourierDown>,
    seq: u64,
}

impl Courier {
    async fn say(&mut self, core: &Core, command: CourierCommand) -> Reply {
        self.seq += 1;
        core.courier_message(&self.speaker, self.seq, Ok(command))
            .await
            .unwrap()
    }

    /// The offers received so far.
    fn offers(&mut self) -> Vec<pb::Offer> {
        let mut out = Vec::new();
        while let Ok(message) = self.down.try_recv() {
            if let Some(Body::Offer(offer)) = message.body {
                out.push(offer);
            }
        }
        out
    }
}

async fn courier(w: &World, id: &str, place: LatLng, status: CourierStatus) -> Courier {
    let hello = pb::Hello {
        scope: Some(w.region.to_scope()),
        courier_id: id.into(),
        vehicle: pb::VehicleType::Bicycle as i32,
        capacity: None,
        equipment: Vec::new(),
        app_version: String::new(),
    };
    let (speaker, welcome) = w.core.courier_hello(&hello).await.unwrap();
    let mut c = Courier {
        speaker,
        down: welcome.down,
        seq: 0,
    };
    let now = w.clock.now_for_tests();
    c.say(
        &w.core,
        CourierCommand::Status {
            status,
            shift_end: Some(now + TimeDelta::hours(6)),
        },
    )
    .await;
    let fix = Fix {
        location: place,
        recorded_at: now,
        accuracy_m: 5.0,
        speed_mps: 0.0,
        heading_deg: -1.0,
    };
    assert_eq!(
        c.say(&w.core, CourierCommand::Positions(vec![fix])).await,
        Reply::Ack(c.seq)
    );
    c
}

trait Now {
    fn now_for_tests(&self) -> chrono::DateTime<Utc>;
}

impl Now for ManualClock {
    fn now_for_tests(&self) -> chrono::DateTime<Utc> {
        dispatcher::clock::Clock::now(self)
    }
}

fn spec(id: &str, pickup: LatLng, dropoff: LatLng, now: chrono::DateTime<Utc>) -> OrderSpec {
    let place = |p: LatLng| Place {
        location: p,
        address: String::new(),
        instructions: String::new(),
    };
    let _ = (latlng_to_proto(pickup), time_to_proto(now));
    OrderSpec {
        order_id: id.into(),
        kitchen_id: "k".into(),
        placed_at: now,
        pickup: place(pickup),
        ready_at: now + TimeDelta::minutes(5),
        pickup_service_s: 60,
        dropoff: place(dropoff),
        promised_start: now,
        promised_end: now + TimeDelta::minutes(40),
        dropoff_service_s: 60,
        size: Load::default(),
        allowed_vehicles: Vec::new(),
        required_equipment: Vec::new(),
        hard_window: false,
    }
}

#[tokio::test]
async fn offers_go_to_working_couriers_never_to_paused_ones_or_those_who_declined() {
    let w = world().await;
    let mut paused = courier(&w, "paused", at(0.0, 0.0), CourierStatus::Paused).await;
    let mut near = courier(&w, "near", at(100.0, 0.0), CourierStatus::OnShift).await;
    let mut far = courier(&w, "far", at(5_000.0, 0.0), CourierStatus::OnShift).await;
    let now = w.clock.now_for_tests();
    w.core
        .create_order(
            &w.region,
            spec("o-1", at(0.0, 0.0), at(500.0, 0.0), now),
            Actor::System,
            None,
        )
        .await
        .unwrap();

    let reports = w.planner.round(&w.core).await.unwrap();
    assert_eq!(reports[0].offers, 1);
    assert!(
        paused.offers().is_empty(),
        "a paused courier gets no new work"
    );
    let offer = near
        .offers()
        .pop()
        .expect("the nearest working courier is offered it");
    assert!(far.offers().is_empty());

    near.say(
        &w.core,
        CourierCommand::Decline {
            offer_id: offer.offer_id,
            reason: "too far".into(),
        },
    )
    .await;
    w.clock.advance(TimeDelta::seconds(5));
    w.planner.round(&w.core).await.unwrap();
    assert!(
        near.offers().is_empty(),
        "never offered again to a courier who declined"
    );
    assert_eq!(far.offers().len(), 1, "the next courier gets it");
    assert!(paused.offers().is_empty());
}

#[tokio::test]
async fn a_courier_past_its_shift_end_collects_nothing_even_standing_at_the_kitchen() {
    // The benchmark's rule: the shift end bounds pickups only. A shift that is over must allow no
    // pickup at all, not one "now" at the courier's own place.
    let w = world_with(Rules {
        shift_end_limits_pickups_only: true,
        ..Rules::default()
    })
    .await;
    let kitchen = at(0.0, 0.0);
    let mut late = courier(&w, "late", kitchen, CourierStatus::OnShift).await;
    let now = w.clock.now_for_tests();
    let reply = late
        .say(
            &w.core,
            CourierCommand::Status {
                status: CourierStatus::OnShift,
                shift_end: Some(now - TimeDelta::minutes(1)),
            },
        )
        .await;
    assert!(matches!(reply, Reply::Ack(_)), "{reply:?}");
    let mut ready = spec("o-ready", kitchen, at(800.0, 0.0), now);
    ready.ready_at = now - TimeDelta::minutes(2);
    w.core
        .create_order(&w.region, ready, Actor::System, None)
        .await
        .unwrap();

    let reports = w.planner.round(&w.core).await.unwrap();
    assert_eq!(reports[0].offers, 0);
    assert!(late.offers().is_empty());
    let order = w.core.find_order(&w.region, "o-ready").await.unwrap();
    assert_eq!(order.state, OrderState::Placed);
}

#[tokio::test]
async fn orders_on_board_and_pinned_orders_stay_with_their_courier() {
    let w = world().await;
    let mut a = courier(&w, "a", at(0.0, 0.0), CourierStatus::OnShift).await;
    let mut b = courier(&w, "b", at(3_000.0, 0.0), CourierStatus::OnShift).await;
    let now = w.clock.now_for_tests();
    for id in ["o-board", "o-pin"] {
        w.core
            .create_order(
                &w.region,
                spec(id, at(0.0, 0.0), at(3_000.0, 200.0), now),
                Actor::System,
                None,
            )
            .await
            .unwrap();
    }
    w.planner.round(&w.core).await.unwrap();
    let offers: Vec<pb::Offer> = a.offers().into_iter().chain(b.offers()).collect();
    assert!(!offers.is_empty());
    // Whoever got them accepts; then one goes on board and the other is pinned by support.
    for offer in &offers {
        let courier = if offer.proposed_route.as_ref().map(|r| r.courier_id.as_str()) == Some("a") {
            &mut a
        } else {
            &mut b
        };
        let reply = courier
            .say(
                &w.core,
                CourierCommand::Accept {
                    offer_id: offer.offer_id.clone(),
                },
            )
            .await;
        assert!(matches!(reply, Reply::Ack(_)), "{reply:?}");
    }
    let holder = |id: &str| {
        let core = w.core.clone();
        let region = w.region.clone();
        let id = id.to_owned();
        async move { core.find_order(&region, &id).await.unwrap() }
    };
    let board = holder("o-board").await;
    let board_courier = board.courier_id.clone().unwrap();
    let c = if board_courier == "a" { &mut a } else { &mut b };
    c.say(
        &w.core,
        CourierCommand::PickedUp {
            order_id: "o-board".into(),
            at: now,
        },
    )
    .await;
    let pin = holder("o-pin").await;
    let pinned_to = if pin.courier_id.as_deref() == Some("a") {
        "b"
    } else {
        "a"
    };
    w.core
        .reassign(
            &w.region,
            "o-pin",
            pinned_to,
            &Override {
                operator_id: "op".into(),
                reason: "customer asked".into(),
            },
        )
        .await
        .unwrap();
    // Many rounds later, with the couriers moved far away, nothing has moved.
    for _ in 0..5 {
        w.clock.advance(TimeDelta::seconds(30));
        w.planner.round(&w.core).await.unwrap();
    }
    let board = holder("o-board").await;
    assert_eq!(
        (board.state, board.courier_id.as_deref()),
        (OrderState::PickedUp, Some(board_courier.as_str()))
    );
    let pin = holder("o-pin").await;
    assert!(pin.pinned);
    assert_eq!(pin.courier_id.as_deref(), Some(pinned_to));
}
