//! The MDRP replay parts that do not depend on the planner: every public instance loads and its
//! click-to-door lower bound matches `instances_index.csv` (which pins the travel rule and the 2 + 2
//! service split); a hand-made day whose metrics are worked out by hand; the checker on that day and
//! on broken copies of it, one rule each; the solution files, their exact text and their traps.

use std::path::{Path, PathBuf};

use dispatcher::mdrp::{
    Assignment, Instance, MdrpError, Metrics, Move, OrderOutcome, Place, Replay, Violation, check,
};

/// The shared benchmark data. Missing data is a failure, not a skip: these tests are the only
/// guard of the travel rule.
fn shared() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/mdrp");
    assert!(
        dir.join("public_instances").is_dir() && dir.join("instances_index.csv").is_file(),
        "the MDRP benchmark data is missing: expected {} with public_instances/ and \
         instances_index.csv (the Grubhub instances of github.com/grubhub/mdrplib, see its MODEL.md)",
        dir.display()
    );
    dir
}

/// A folder of its own under the system's temporary directory, removed afterwards.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("dispatcher-mdrp-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn every_public_instance_loads_and_matches_the_index_lower_bound() {
    let data = shared();
    let index = std::fs::read_to_string(data.join("instances_index.csv")).unwrap();
    let mut lines = index.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (name, orders, restaurants, couriers, speed, bound) = (
        column("instance"),
        column("orders"),
        column("restaurants"),
        column("couriers"),
        column("meters_per_minute"),
        column("ctd_lb_mean"),
    );
    let mut checked = 0;
    for line in lines {
        let row: Vec<&str> = line.split(',').collect();
        let instance = Instance::load(&data.join("public_instances").join(row[name])).unwrap();
        assert_eq!(instance.name(), row[name]);
        assert_eq!(instance.orders().len().to_string(), row[orders]);
        assert_eq!(instance.restaurants().len().to_string(), row[restaurants]);
        assert_eq!(instance.couriers().len().to_string(), row[couriers]);
        assert_eq!(
            instance.parameters().metres_per_minute,
            row[speed].parse::<f64>().unwrap()
        );
        let bounds: Vec<i64> = instance
            .orders()
            .iter()
            .map(|o| instance.ctd_lower_bound(o).unwrap())
            .collect();
        let mean = bounds.iter().sum::<i64>() as f64 / bounds.len() as f64;
        // The CSV prints two decimals, dropping trailing zeros ("20.9" is 20.90).
        let printed: f64 = row[bound].parse().unwrap();
        assert!(
            (mean - printed).abs() <= 0.005 + 1e-9,
            "{}: mean lower bound {mean} but the index says {printed}",
            row[name]
        );
        // The metrics report the same number.
        let empty = Metrics::compute(&instance, &Replay::default());
        assert_eq!(empty.ctd_lb_mean, mean);
        checked += 1;
    }
    assert_eq!(
        checked, 120,
        "instances_index.csv should list 120 instances"
    );
}

// The hand-made instance. 100 m/min, so travel is ceil(metres / 100) minutes.
//
//   r1 (0, 0)   r2 (1000, 0)
//   c1 at (0, 300),     on 30, off 94  (64 min)
//   c2 at (1000, 500),  on 20, off 52  (32 min)
//   c3 at (5000, 5000), on 0,  off 128 (128 min), never used
//   o1 to (0, 800),      placed 11, r1, ready 20
//   o2 to (600, 850),    placed 12, r1, ready 22
//   o3 to (1000, 1200),  placed 30, r2, ready 45
//   o4 to (3000, 3000),  placed 50, r2, ready 60, never delivered
//
// Travel: c1→r1 300 m = 3; r1→o1 800 m = 8; o1→o2 602.08 m = 7 (ceil, not 6); c2→r2 500 m = 5;
// r2→o3 1200 m = 12; r1→o2 1040.43 m = 11; r2→o4 3605.55 m = 37.
//
// Lower bounds (ready − placement + 2 + t(r, customer) + 2): o1 9+2+8+2 = 21, o2 10+2+11+2 = 25,
// o3 15+2+12+2 = 31, o4 10+2+37+2 = 51; mean 128/4 = 32.
const PARAMETERS: &str = "meters_per_minute\tpickup service minutes\tdropoff service minutes\t\
    target click-to-door\tmaximum click-to-door\tpay per order\tguaranteed pay per hour\n\
    100\t4\t4\t40\t90\t10\t15\n";
const RESTAURANTS: &str = "restaurant\tx\ty\nr1\t0\t0\nr2\t1000\t0\n";
const COURIERS: &str = "courier\tx\ty\ton_time\toff_time\n\
    c1\t0\t300\t30\t94\nc2\t1000\t500\t20\t52\nc3\t5000\t5000\t0\t128\n";
const ORDERS: &str = "order\tx\ty\tplacement_time\trestaurant\tready_time\n\
    o1\t0\t800\t11\tr1\t20\n\
    o2\t600\t850\t12\tr1\t22\n\
    o3\t1000\t1200\t30\tr2\t45\n\
    o4\t3000\t3000\t50\tr2\t60\n";

fn write_instance(dir: &Path, files: [(&str, &str); 4]) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn hand_instance(dir: &TempDir) -> Instance {
    write_instance(
        &dir.0,
        [
            ("instance_parameters.txt", PARAMETERS),
            ("restaurants.txt", RESTAURANTS),
            ("couriers.txt", COURIERS),
            ("orders.txt", ORDERS),
        ],
    );
    Instance::load(&dir.0).unwrap()
}

fn s(id: &str) -> String {
    id.to_owned()
}

fn go(courier: &str, departure_time: i64, origin: Place, destination: Place) -> Move {
    Move {
        courier: s(courier),
        departure_time,
        origin,
        destination,
    }
}

fn at_r(id: &str) -> Place {
    Place::Restaurant(s(id))
}

fn at_c(id: &str) -> Place {
    Place::Customer(s(id))
}

fn delivered(order: &str, pickup_time: i64, dropoff_time: i64, courier: &str) -> OrderOutcome {
    OrderOutcome {
        order: s(order),
        pickup_time,
        dropoff_time,
        courier: s(courier),
    }
}

// The hand-made day.
//
// c1: assigned {o1, o2} at 30 (its on_time; both placed). Leaves its on-location at 30, at r1 at 33;
//     pickup = max(ready 22, 33 + 2) = 35; leaves r1 at 37; at o1 at 45, drop-off 47; leaves at 49;
//     at o2 at 56 (7 min), drop-off 58.
// c2: prepositioned: leaves at 20 (on_time) for r2, there at 25, idle. Assigned {o3} at 35; pickup
//     = max(ready 45, 25 + 2, 35) = 45; leaves r2 at 47; at o3 at 59, drop-off 61.
// c3: idle. o4: undelivered.
//
// Moves are listed in time order, interleaving couriers as a simulator would.
fn hand_replay() -> Replay {
    Replay {
        assignments: vec![
            Assignment {
                time: 30,
                pickup_time: 35,
                courier: s("c1"),
                orders: vec![s("o1"), s("o2")],
            },
            Assignment {
                time: 35,
                pickup_time: 45,
                courier: s("c2"),
                orders: vec![s("o3")],
            },
        ],
        orders: vec![
            delivered("o1", 35, 47, "c1"),
            delivered("o2", 35, 58, "c1"),
            delivered("o3", 45, 61, "c2"),
        ],
        moves: vec![
            go("c2", 20, Place::OnLocation, at_r("r2")),
            go("c1", 30, Place::OnLocation, at_r("r1")),
            go("c1", 37, at_r("r1"), at_c("o1")),
            go("c2", 47, at_r("r2"), at_c("o3")),
            go("c1", 49, at_c("o1"), at_c("o2")),
        ],
    }
}

#[test]
fn the_hand_made_instance_loads_with_its_travel_times_and_bounds() {
    let dir = TempDir::new("load");
    let instance = hand_instance(&dir);
    assert_eq!(instance.travel_minutes((0.0, 300.0), (0.0, 0.0)), 3);
    assert_eq!(instance.travel_minutes((0.0, 800.0), (600.0, 850.0)), 7);
    assert_eq!(instance.travel_minutes((0.0, 0.0), (600.0, 850.0)), 11);
    assert_eq!(instance.travel_minutes((1.0, 1.0), (1.0, 1.0)), 0);
    let bounds: Vec<i64> = instance
        .orders()
        .iter()
        .map(|o| instance.ctd_lower_bound(o).unwrap())
        .collect();
    assert_eq!(bounds, [21, 25, 31, 51]);
    let p = instance.parameters();
    assert_eq!((p.pickup_half(), p.dropoff_half()), (2, 2));
    assert_eq!((p.target_ctd, p.max_ctd), (40, 90));
    assert_eq!(instance.courier("c2").unwrap().off, 52);
    assert_eq!(instance.order("o3").unwrap().restaurant, "r2");
}

#[test]
fn the_hand_made_metrics_are_exactly_the_hand_computed_ones() {
    let dir = TempDir::new("metrics");
    let instance = hand_instance(&dir);
    let m = Metrics::compute(&instance, &hand_replay());
    let expected = Metrics {
        orders: 4.0,
        delivered: 3.0,
        // o4 is not delivered: 1 of 4.
        undelivered_pct: 25.0,
        // Click-to-door: o1 47 − 11 = 36, o2 58 − 12 = 46, o3 61 − 30 = 31.
        ctd_mean: 113.0 / 3.0,
        // numpy's linear p90 of [31, 36, 46]: index 0.9 × 2 = 1.8, so 46 − (46 − 36) × 0.2 = 44.
        ctd_p90: 44.0,
        // Overage over 40: 0, 6, 0.
        overage_mean: 2.0,
        // Ready-to-door: 47 − 20 = 27, 58 − 22 = 36, 61 − 45 = 16.
        rtd_mean: 79.0 / 3.0,
        // Ready-to-pickup: 35 − 20 = 15, 35 − 22 = 13, 45 − 45 = 0.
        rtp_mean: 28.0 / 3.0,
        // p90 of [0, 13, 15]: 15 − (15 − 13) × 0.2 = 14.6.
        rtp_p90: 14.6,
        // c1: driving 3 + 8 + 7 = 18, one pickup 4, two drop-offs 8: 30 / 64 = 0.46875.
        // c2: driving 5 + 12 = 17 (the prepositioning counts), 4, 4: 25 / 32 = 0.78125. c3: 0.
        utilization_mean: (0.46875 + 0.78125 + 0.0) / 3.0,
        // p10 of [0, 0.46875, 0.78125]: index 0.1 × 2 = 0.2, so 0 + 0.46875 × 0.2 = 0.09375.
        utilization_p10: 0.09375,
        // c1 max(2 × 10, 64/60 × 15 = 16) = 20; c2 max(10, 8) = 10; c3 max(0, 32) = 32.
        total_cost: 62.0,
        cost_per_order: 62.0 / 3.0,
        // Only c3 is paid the guarantee.
        guarantee_share: 1.0 / 3.0,
        // Bundles of 2 and 1.
        orders_per_bundle: 1.5,
        over_max_pct: 0.0,
        ctd_lb_mean: 32.0,
    };
    assert_eq!(m, expected);
    // Mean click-to-door is 37.67 against a bound of 32 over all orders.
    assert_eq!(m.ctd_gap(), 113.0 / 3.0 - 32.0);
}

#[test]
fn the_mean_row_averages_every_measure() {
    let dir = TempDir::new("mean");
    let instance = hand_instance(&dir);
    let a = Metrics::compute(&instance, &hand_replay());
    let b = Metrics::compute(&instance, &Replay::default());
    assert_eq!(Metrics::mean(&[a]), a);
    let m = Metrics::mean(&[a, b]);
    // Nothing delivered: 100 % undelivered, the guarantee for everyone (16 + 8 + 32 = 56).
    assert_eq!(b.undelivered_pct, 100.0);
    assert_eq!(b.total_cost, 56.0);
    assert_eq!(b.utilization_mean, 0.0);
    assert!(b.ctd_mean.is_nan() && b.cost_per_order.is_infinite());
    assert_eq!(m.undelivered_pct, 62.5);
    assert_eq!(m.total_cost, 59.0);
    assert_eq!(m.ctd_lb_mean, 32.0);
    assert_eq!(m.orders, 4.0);
    assert_eq!(m.delivered, 1.5);
    assert!(Metrics::mean(&[]).ctd_mean.is_nan());
}

#[test]
fn an_idle_courier_waiting_at_the_restaurant_gives_exactly_the_lower_bound() {
    // In the hand-made day c2 waits at r2 from 25; o3 is ready at 45.
    let dir = TempDir::new("bound");
    let instance = hand_instance(&dir);
    let replay = hand_replay();
    let o3 = instance.order("o3").unwrap();
    let outcome = replay.orders.iter().find(|o| o.order == "o3").unwrap();
    assert_eq!(
        outcome.dropoff_time - o3.placement,
        instance.ctd_lower_bound(o3).unwrap()
    );

    // And on a real instance, order by order: a courier on duty before the order is placed goes to
    // its restaurant at once, waits, picks up at ready time and drives straight to the customer.
    let instance =
        Instance::load(&shared().join("public_instances/0o50t100s1p100")).expect("loads");
    let half = instance.parameters().pickup_half();
    let mut tried = 0;
    for order in instance.orders() {
        let r = instance.restaurant(&order.restaurant).unwrap();
        let Some(c) = instance.couriers().iter().find(|c| {
            c.on <= order.placement
                && c.on + instance.travel_minutes((c.x, c.y), (r.x, r.y)) + half <= order.ready
                && order.ready <= c.off
        }) else {
            continue;
        };
        let drive = instance.travel_minutes((r.x, r.y), (order.x, order.y));
        let dropoff = order.ready + half + drive + instance.parameters().dropoff_half();
        let replay = Replay {
            assignments: vec![Assignment {
                time: order.placement,
                pickup_time: order.ready,
                courier: c.id.clone(),
                orders: vec![order.id.clone()],
            }],
            orders: vec![delivered(&order.id, order.ready, dropoff, &c.id)],
            moves: vec![
                go(&c.id, c.on, Place::OnLocation, at_r(&r.id)),
                go(
                    &c.id,
                    order.ready + half,
                    at_r(&r.id),
                    Place::Customer(order.id.clone()),
                ),
            ],
        };
        assert_eq!(check(&instance, &replay), Ok(()), "order {}", order.id);
        let m = Metrics::compute(&instance, &replay);
        assert_eq!(
            m.ctd_mean,
            instance.ctd_lower_bound(order).unwrap() as f64,
            "order {}",
            order.id
        );
        assert_eq!(m.rtp_mean, 0.0);
        tried += 1;
    }
    assert!(
        tried > 100,
        "only {tried} orders had a courier on duty in time"
    );
}

#[test]
fn the_checker_accepts_the_hand_made_day() {
    let dir = TempDir::new("accept");
    let instance = hand_instance(&dir);
    assert_eq!(check(&instance, &hand_replay()), Ok(()));
    assert_eq!(check(&instance, &Replay::default()), Ok(()));
}

/// The violations of the hand-made day after `edit`.
fn broken(instance: &Instance, edit: impl FnOnce(&mut Replay)) -> Vec<Violation> {
    let mut replay = hand_replay();
    edit(&mut replay);
    check(instance, &replay).expect_err("the broken replay was accepted")
}

fn outcome<'a>(replay: &'a mut Replay, order: &str) -> &'a mut OrderOutcome {
    replay.orders.iter_mut().find(|o| o.order == order).unwrap()
}

/// The `n`-th move of `courier`.
fn move_of<'a>(replay: &'a mut Replay, courier: &str, n: usize) -> &'a mut Move {
    replay
        .moves
        .iter_mut()
        .filter(|m| m.courier == courier)
        .nth(n)
        .unwrap()
}

#[test]
fn the_checker_rejects_each_broken_rule_alone() {
    let dir = TempDir::new("reject-alone");
    let i = hand_instance(&dir);

    // Assigned at 25, before o3 is placed at 30 (evaluator).
    let v = broken(&i, |r| r.assignments[1].time = 25);
    let want = Violation::AssignedBeforePlacement {
        order: s("o3"),
        courier: s("c2"),
        assignment_time: 25,
        placement: 30,
    };
    assert_eq!(v, [want]);

    // c1 is assigned at 29, its shift starts at 30.
    let v = broken(&i, |r| r.assignments[0].time = 29);
    let want = Violation::AssignedBeforeOnTime {
        courier: s("c1"),
        assignment_time: 29,
        on_time: 30,
    };
    assert_eq!(v, [want]);

    // c2 waits at r2 until 53 and picks up after its off_time 52 (evaluator); the rest follows.
    let v = broken(&i, |r| {
        r.assignments[1].pickup_time = 53;
        *outcome(r, "o3") = delivered("o3", 53, 55 + 12 + 2, "c2");
        move_of(r, "c2", 1).departure_time = 55;
    });
    let want = Violation::PickupAfterOffTime {
        courier: s("c2"),
        order: s("o3"),
        pickup_time: 53,
        off_time: 52,
    };
    assert_eq!(v, [want]);

    // Picked up at 44, o3 is ready at 45 (evaluator).
    let v = broken(&i, |r| {
        r.assignments[1].pickup_time = 44;
        outcome(r, "o3").pickup_time = 44;
    });
    let want = Violation::PickupBeforeReady {
        order: s("o3"),
        pickup_time: 44,
        ready: 45,
    };
    assert_eq!(v, [want]);

    // The 2 + 2 split: c1 reaches r1 at 33, so it can pick up at 35, not 34.
    let v = broken(&i, |r| {
        r.assignments[0].pickup_time = 34;
        outcome(r, "o1").pickup_time = 34;
        outcome(r, "o2").pickup_time = 34;
    });
    let want = Violation::PickupTooSoon {
        courier: s("c1"),
        restaurant: s("r1"),
        arrival_time: 33,
        pickup_time: 34,
    };
    assert_eq!(v, [want]);

    // The 2 + 2 split: after picking up at 35, c1 may leave at 37, not 36 (the rest shifted).
    let v = broken(&i, |r| {
        move_of(r, "c1", 1).departure_time = 36;
        outcome(r, "o1").dropoff_time = 46;
        move_of(r, "c1", 2).departure_time = 48;
        outcome(r, "o2").dropoff_time = 57;
    });
    let want = Violation::LeftDuringPickup {
        courier: s("c1"),
        restaurant: s("r1"),
        pickup_time: 35,
        departure_time: 36,
    };
    assert_eq!(v, [want]);

    // Drop-off is arrival + 2 exactly: c2 reaches o3 at 59, so 61, not 62.
    let v = broken(&i, |r| outcome(r, "o3").dropoff_time = 62);
    let want = Violation::DropoffNotOnArrival {
        order: s("o3"),
        courier: s("c2"),
        arrival_time: 59,
        dropoff_time: 62,
    };
    assert_eq!(v, [want]);

    // The travel rule rounds up: o1→o2 is 602 m, 7 minutes, so c1 reaches o2 at 56, not 55; a
    // drop-off at 57 assumes rounding to 6.
    let v = broken(&i, |r| outcome(r, "o2").dropoff_time = 57);
    let want = Violation::DropoffNotOnArrival {
        order: s("o2"),
        courier: s("c1"),
        arrival_time: 56,
        dropoff_time: 57,
    };
    assert_eq!(v, [want]);

    // The 2 + 2 split at the customer: dropped off at 47, c1 may leave o1 at 49, not 48.
    let v = broken(&i, |r| {
        move_of(r, "c1", 2).departure_time = 48;
        outcome(r, "o2").dropoff_time = 57;
    });
    let want = Violation::LeftDuringDropoff {
        order: s("o1"),
        courier: s("c1"),
        dropoff_time: 47,
        departure_time: 48,
    };
    assert_eq!(v, [want]);

    // c2 leaves its on-location at 19, its shift starts at 20 (evaluator).
    let v = broken(&i, |r| move_of(r, "c2", 0).departure_time = 19);
    let want = Violation::MoveBeforeOnTime {
        courier: s("c2"),
        departure_time: 19,
        on_time: 20,
    };
    assert_eq!(v, [want]);

    // Picked up at 45 but assigned only at 46.
    let v = broken(&i, |r| r.assignments[1].time = 46);
    let want = Violation::PickupBeforeAssignment {
        courier: s("c2"),
        order: s("o3"),
        assignment_time: 46,
        pickup_time: 45,
    };
    assert_eq!(v, [want]);

    // An assignment without orders.
    let v = broken(&i, |r| {
        r.assignments.push(Assignment {
            time: 10,
            pickup_time: 10,
            courier: s("c3"),
            orders: vec![],
        });
    });
    let want = Violation::EmptyAssignment {
        courier: s("c3"),
        time: 10,
    };
    assert_eq!(v, [want]);

    // c3 drives to o4's customer (2828 m, 29 min) without delivering anything.
    let v = broken(&i, |r| {
        r.moves.push(go("c3", 0, Place::OnLocation, at_c("o4")));
    });
    let want = Violation::VisitWithoutDropoff {
        courier: s("c3"),
        order: s("o4"),
        arrival_time: 29,
    };
    assert_eq!(v, [want]);
}

#[test]
fn the_checker_names_every_rule_a_broken_fact_breaks() {
    let dir = TempDir::new("reject-among");
    let i = hand_instance(&dir);
    let has = |v: &[Violation], want: Violation| {
        assert!(v.contains(&want), "{want:?} not among {v:#?}");
    };

    // o1 also given to c2 (evaluator).
    let v = broken(&i, |r| {
        r.assignments.push(Assignment {
            time: 35,
            pickup_time: 45,
            courier: s("c2"),
            orders: vec![s("o1")],
        });
    });
    has(
        &v,
        Violation::OrderInSeveralAssignments {
            order: s("o1"),
            count: 2,
        },
    );

    // o2 of r1 bundled with o3 of r2.
    let v = broken(&i, |r| {
        r.assignments[0].orders = vec![s("o1")];
        r.assignments[1].orders = vec![s("o3"), s("o2")];
    });
    has(
        &v,
        Violation::MixedRestaurants {
            order: s("o2"),
            restaurant: s("r1"),
            bundle_restaurant: s("r2"),
        },
    );

    // c1's third move claims to start at r1, but c1 is at o1's customer (evaluator).
    let v = broken(&i, |r| move_of(r, "c1", 2).origin = at_r("r1"));
    has(
        &v,
        Violation::DiscontinuousMove {
            courier: s("c1"),
            departure_time: 49,
            origin: at_r("r1"),
            expected: at_c("o1"),
        },
    );

    // c1 leaves r1 at 32, before arriving at 33 (evaluator).
    let v = broken(&i, |r| move_of(r, "c1", 1).departure_time = 32);
    has(
        &v,
        Violation::DepartureBeforeArrival {
            courier: s("c1"),
            place: at_r("r1"),
            departure_time: 32,
            arrival_time: 33,
        },
    );

    // c2 has left r2 at 47 when it claims to pick up at 48 (evaluator).
    let v = broken(&i, |r| {
        r.assignments[1].pickup_time = 48;
        outcome(r, "o3").pickup_time = 48;
    });
    has(
        &v,
        Violation::NotAtRestaurant {
            courier: s("c2"),
            restaurant: s("r2"),
            pickup_time: 48,
            found: None,
        },
    );

    // o2 is never delivered although assigned (the evaluator crashes on it).
    let v = broken(&i, |r| r.orders.retain(|o| o.order != "o2"));
    has(
        &v,
        Violation::AssignedNotDelivered {
            order: s("o2"),
            courier: s("c1"),
        },
    );

    // The bundle says o2 before o1, the courier did o1 first (evaluator).
    let v = broken(&i, |r| r.assignments[0].orders = vec![s("o2"), s("o1")]);
    has(
        &v,
        Violation::DropoffOutOfSequence {
            order: s("o1"),
            previous: s("o2"),
            previous_dropoff: 58,
            dropoff_time: 47,
            min_gap: 4,
        },
    );
    has(
        &v,
        Violation::DropoffOutOfRoute {
            order: s("o1"),
            courier: s("c1"),
            dropoff_time: 47,
            expected: Some(s("o2")),
        },
    );

    // Drop-off at the pickup instant.
    let v = broken(&i, |r| outcome(r, "o3").dropoff_time = 45);
    has(
        &v,
        Violation::DropoffNotAfterPickup {
            order: s("o3"),
            pickup_time: 45,
            dropoff_time: 45,
        },
    );
    has(
        &v,
        Violation::NotAtCustomer {
            order: s("o3"),
            courier: s("c2"),
            dropoff_time: 45,
            found: Some(at_r("r2")),
        },
    );

    // o3 said to be delivered by c1.
    let v = broken(&i, |r| outcome(r, "o3").courier = s("c1"));
    has(
        &v,
        Violation::WrongCourier {
            order: s("o3"),
            assigned: s("c2"),
            delivered_by: s("c1"),
        },
    );

    // o4 delivered without an assignment, o3 listed twice, an unknown courier moving.
    let v = broken(&i, |r| {
        r.orders.push(delivered("o4", 70, 100, "c3"));
        r.orders.push(delivered("o3", 45, 61, "c2"));
        r.moves.push(go("c9", 0, Place::OnLocation, at_r("r1")));
    });
    has(
        &v,
        Violation::DeliveredWithoutAssignment {
            order: s("o4"),
            courier: s("c3"),
        },
    );
    has(
        &v,
        Violation::OrderDeliveredTwice {
            order: s("o3"),
            count: 2,
        },
    );
    has(&v, Violation::UnknownCourier { courier: s("c9") });
}

#[test]
fn violations_say_who_and_when() {
    let v = Violation::PickupBeforeReady {
        order: s("o3"),
        pickup_time: 44,
        ready: 45,
    };
    assert_eq!(
        v.to_string(),
        "order o3 is picked up at 44, before it is ready at 45"
    );
    let v = Violation::NotAtRestaurant {
        courier: s("c2"),
        restaurant: s("r2"),
        pickup_time: 48,
        found: None,
    };
    assert_eq!(
        v.to_string(),
        "courier c2 is not at restaurant r2 at pickup time 48 (travelling)"
    );
}

const ASSIGNMENTS_TEXT: &str = "assignment_time pickup_time courier orders\n\
    30 35 c1 o1 o2\n\
    35 45 c2 o3\n";
const ORDERS_TEXT: &str = "order placement_time ready_time pickup_time dropoff_time courier\n\
    o1 11 20 35 47 c1\n\
    o2 12 22 35 58 c1\n\
    o3 30 45 45 61 c2\n";
// Grouped by courier, couriers in order of their first move; origin 0 is the on-location.
const COURIERS_TEXT: &str = "courier departure_time origin destination\n\
    c2 20 0 r2\n\
    c2 47 r2 o3\n\
    c1 30 0 r1\n\
    c1 37 r1 o1\n\
    c1 49 o1 o2\n";

fn read_file(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn the_solution_files_have_the_evaluators_exact_format_and_read_back() {
    let dir = TempDir::new("files");
    let instance = hand_instance(&dir);
    let out = TempDir::new("files-out");
    let replay = hand_replay();
    replay.write(&out.0, &instance).unwrap();
    assert_eq!(
        read_file(&out.0, "solution_info_assignments.txt"),
        ASSIGNMENTS_TEXT
    );
    assert_eq!(read_file(&out.0, "solution_info_orders.txt"), ORDERS_TEXT);
    assert_eq!(
        read_file(&out.0, "solution_info_couriers.txt"),
        COURIERS_TEXT
    );

    let back = Replay::read(&out.0, &instance).unwrap();
    assert_eq!(back.assignments, replay.assignments);
    assert_eq!(back.orders, replay.orders);
    // The same moves, grouped by courier.
    let grouped: Vec<Move> = ["c2", "c1"]
        .iter()
        .flat_map(|c| replay.moves.iter().filter(move |m| m.courier == *c))
        .cloned()
        .collect();
    assert_eq!(back.moves, grouped);
    assert_eq!(check(&instance, &back), Ok(()));
    assert_eq!(
        Metrics::compute(&instance, &back),
        Metrics::compute(&instance, &replay)
    );

    // A return to the on-location is written as the courier's id and read back as such.
    let mut home = replay.clone();
    home.moves.push(go("c2", 63, at_c("o3"), Place::OnLocation));
    home.write(&out.0, &instance).unwrap();
    assert!(read_file(&out.0, "solution_info_couriers.txt").contains("\nc2 63 o3 c2\n"));
    let back = Replay::read(&out.0, &instance).unwrap();
    assert_eq!(back.moves[2], go("c2", 63, at_c("o3"), Place::OnLocation));
    assert_eq!(check(&instance, &back), Ok(()));
}

/// The error of reading the hand-made files after `name` was replaced by `text`.
fn read_error(instance: &Instance, name: &str, text: &str) -> String {
    let out = TempDir::new(&format!("trap-{name}"));
    hand_replay().write(&out.0, instance).unwrap();
    std::fs::write(out.0.join(name), text).unwrap();
    match Replay::read(&out.0, instance) {
        Ok(_) => panic!("{name} read without error:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn reading_refuses_what_the_evaluator_would_misread() {
    let dir = TempDir::new("traps");
    let i = hand_instance(&dir);
    let orders = "solution_info_orders.txt";
    let e = read_error(&i, orders, &ORDERS_TEXT.replace("o2 12", "o2  12"));
    assert!(
        e.contains("solution_info_orders.txt, line 3") && e.contains("one space"),
        "{e}"
    );
    let e = read_error(&i, orders, &ORDERS_TEXT.replace("o2 12", "o2\t12"));
    assert!(e.contains("line 3") && e.contains("tab"), "{e}");
    let e = read_error(&i, orders, &ORDERS_TEXT.replace("35 58", "NaN NaN"));
    assert!(e.contains("pickup_time") && e.contains("left out"), "{e}");
    let e = read_error(&i, orders, &ORDERS_TEXT.replace("35 58", "35 58.5"));
    assert!(e.contains("dropoff_time"), "{e}");
    let e = read_error(&i, orders, &ORDERS_TEXT.replace("o3 30", "o3 31"));
    assert!(e.contains("line 4, field placement_time"), "{e}");

    let couriers = "solution_info_couriers.txt";
    let split = COURIERS_TEXT.replace("c2 47 r2 o3\n", "") + "c2 47 r2 o3\n";
    let e = read_error(&i, couriers, &split);
    assert!(
        e.contains("line 6, field courier") && e.contains("consecutive"),
        "{e}"
    );
    let e = read_error(
        &i,
        couriers,
        &COURIERS_TEXT.replace("c2 20 0 r2", "c2 20 0 r7"),
    );
    assert!(e.contains("destination"), "{e}");
    let e = read_error(&i, couriers, &COURIERS_TEXT.replace("47 r2 o3", "47 r2 0"));
    assert!(e.contains("destination"), "{e}");
    let e = read_error(&i, couriers, &COURIERS_TEXT.replace("c1 37", "c1 37.5"));
    assert!(
        e.contains("departure_time") && e.contains("truncate"),
        "{e}"
    );

    let assignments = "solution_info_assignments.txt";
    let headless = ASSIGNMENTS_TEXT
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n");
    let e = read_error(&i, assignments, &headless);
    assert!(e.contains("header"), "{e}");
    let e = read_error(&i, assignments, &ASSIGNMENTS_TEXT.replace(" o3", " o9"));
    assert!(e.contains("line 3, field order1"), "{e}");
    let e = read_error(
        &i,
        assignments,
        &(ASSIGNMENTS_TEXT.to_owned() + "\n40 45 c3\n"),
    );
    assert!(e.contains("line 4"), "{e}");

    // Files the evaluator reads correctly are accepted: no header in the moves file, extra blank
    // lines there.
    let out = TempDir::new("lenient");
    hand_replay().write(&out.0, &i).unwrap();
    let text = COURIERS_TEXT
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n\n");
    std::fs::write(out.0.join(couriers), text).unwrap();
    assert_eq!(Replay::read(&out.0, &i).unwrap().moves.len(), 5);
}

#[test]
fn writing_refuses_what_the_evaluator_cannot_read() {
    let dir = TempDir::new("unwritable");
    let i = hand_instance(&dir);
    let out = TempDir::new("unwritable-out");
    let mut replay = hand_replay();
    replay.orders.push(delivered("o9", 1, 2, "c1"));
    let e = replay.write(&out.0, &i).unwrap_err();
    assert!(matches!(e, MdrpError::Unwritable { .. }), "{e}");
    let mut replay = hand_replay();
    replay.assignments[0].courier = s("c 1");
    assert!(replay.write(&out.0, &i).is_err());
}

#[test]
fn loading_names_the_file_line_and_field_of_a_bad_value() {
    let dir = TempDir::new("bad");
    let base = [
        ("instance_parameters.txt", PARAMETERS),
        ("restaurants.txt", RESTAURANTS),
        ("couriers.txt", COURIERS),
        ("orders.txt", ORDERS),
    ];
    let load_with = |name: &str, text: &str| {
        write_instance(&dir.0, base);
        std::fs::write(dir.0.join(name), text).unwrap();
        Instance::load(&dir.0).unwrap_err().to_string()
    };
    let e = load_with("orders.txt", &ORDERS.replace("r2\t60", "r2\t60.5"));
    assert!(e.contains("orders.txt, line 5, field ready_time"), "{e}");
    let e = load_with("orders.txt", &ORDERS.replace("30\tr2", "30\tr9"));
    assert!(
        e.contains("line 4, field restaurant") && e.contains("r9"),
        "{e}"
    );
    let e = load_with("couriers.txt", &COURIERS.replace("c3\t", "o1\t"));
    assert!(e.contains("couriers.txt, line 4, field courier"), "{e}");
    let e = load_with("couriers.txt", &COURIERS.replace("20\t52", "52\t20"));
    assert!(e.contains("line 3, field off_time"), "{e}");
    let e = load_with("restaurants.txt", "restaurant x y\nr1 0 0\n");
    assert!(e.contains("restaurants.txt") && e.contains("header"), "{e}");
    let e = load_with("restaurants.txt", "restaurant\tx\ty\nr1\t0\n");
    assert!(e.contains("line 2, field y"), "{e}");
    let e = load_with(
        "instance_parameters.txt",
        &PARAMETERS.replace("100\t4\t4", "100\t3\t4"),
    );
    assert!(e.contains("field pickup service minutes"), "{e}");
    write_instance(&dir.0, base);
    std::fs::remove_file(dir.0.join("couriers.txt")).unwrap();
    let e = Instance::load(&dir.0).unwrap_err();
    assert!(matches!(e, MdrpError::Io { .. }), "{e}");
}

/// The replay drives the live planner on a simulated clock; whatever it decides must pass every
/// evaluator rule and the stricter ones, and serve the orders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_of_a_real_instance_is_feasible_and_serves_its_orders() {
    use dispatcher::mdrp::{check, instance::Instance, metrics::Metrics, sim};
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/mdrp/public_instances/0o50t75s2p100");
    let instance = Instance::load(&dir).expect("the instance loads");
    let options = sim::SimOptions {
        iterations: 100,
        ..sim::SimOptions::default()
    };
    let sim::Replayed { replay, planning } = sim::replay(&instance, instance.name(), &options)
        .await
        .expect("the replay runs");
    assert_eq!(planning.failed, 0, "{planning:?}");
    if let Err(violations) = check::check(&instance, &replay) {
        panic!("{} violations, first: {}", violations.len(), violations[0]);
    }
    let m = Metrics::compute(&instance, &replay);
    assert!(
        m.undelivered_pct <= 1.0,
        "undelivered {} %",
        m.undelivered_pct
    );
    assert!(
        m.ctd_mean >= m.ctd_lb_mean,
        "click-to-door below its lower bound"
    );
}

/// One courier, two orders from one restaurant ready a minute apart, and a second restaurant far
/// off. The courier (10 minutes from the restaurant) waits where it is until leaving gets it there
/// just as the food is ready, collects both orders as one bundle, and once done waits at the
/// nearest restaurant; without prepositioning it stays at the last door.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_courier_leaves_just_in_time_bundles_one_restaurant_and_waits_at_a_restaurant() {
    use dispatcher::mdrp::sim;
    let dir = TempDir::new("tiny");
    write_instance(
        &dir.0,
        [
            ("instance_parameters.txt", PARAMETERS),
            (
                "restaurants.txt",
                "restaurant\tx\ty\nr1\t0\t0\nr2\t9000\t0\n",
            ),
            (
                "couriers.txt",
                "courier\tx\ty\ton_time\toff_time\nc1\t1000\t0\t0\t180\n",
            ),
            (
                "orders.txt",
                "order\tx\ty\tplacement_time\trestaurant\tready_time\n\
                 o1\t0\t500\t0\tr1\t30\n\
                 o2\t0\t600\t0\tr1\t31\n\
                 o3\t0\t-500\t100\tr1\t130\n",
            ),
        ],
    );
    let instance = Instance::load(&dir.0).unwrap();
    for preposition in [true, false] {
        let options = sim::SimOptions {
            iterations: 100,
            threads: 1,
            preposition,
            ..sim::SimOptions::default()
        };
        let replay = sim::replay(&instance, "tiny", &options)
            .await
            .unwrap()
            .replay;
        if let Err(violations) = check(&instance, &replay) {
            panic!("{} violations, first: {}", violations.len(), violations[0]);
        }
        // Ten minutes to r1: leaving at 19 it arrives at 29 and collects both orders at 31, when
        // the later one is ready (half a service after arriving).
        assert_eq!(
            replay.moves[0],
            go("c1", 19, Place::OnLocation, at_r("r1")),
            "{:?}",
            replay.moves
        );
        assert_eq!(replay.assignments.len(), 2, "{:?}", replay.assignments);
        assert_eq!(replay.assignments[0].orders, [s("o1"), s("o2")]);
        assert_eq!(replay.assignments[0].pickup_time, 31);
        // From the last door back to r1: at once to wait there, or only in time for o3 (ready at
        // 130, six minutes away).
        let back = replay
            .moves
            .iter()
            .find(|m| m.origin == at_c("o2"))
            .expect("the courier leaves o2's door");
        assert_eq!(back.destination, at_r("r1"));
        let expected = if preposition { 47 } else { 122 };
        assert_eq!(back.departure_time, expected, "{:?}", replay.moves);
    }
}
