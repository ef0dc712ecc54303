//! The plan checker: every SINTEF best-known Li & Lim solution passes it with the published vehicle
//! count and distance; tiny hand-made plans each breaking one rule get that rule's violation; a
//! hand-scored plan gets exactly the hand-computed cost; mutated best-known solutions are rejected.

use std::{collections::HashMap, path::PathBuf};

use solver::{
    Cost, Job, Objective, Plan, Problem, Route, StopKind, StopRef, TimeWindow, TripRule,
    Unassigned, UnassignedReason, Vehicle, Visit,
    checker::{TimeField, TripBreak, Violation, check},
    instances::{self, routes},
    matrix::TravelMatrix,
    problem::{PreviousAssignment, Stop},
};

// ---------------------------------------------------------------------------------------------
// Builders for tiny problems.

/// Places on a line at x = 0, 5, 10, 15, ...: place 0 is the depot, travel time equals distance.
fn line(places: usize) -> TravelMatrix {
    let points: Vec<(f64, f64)> = (0..places).map(|i| (5.0 * i as f64, 0.0)).collect();
    TravelMatrix::euclidean(&points, 1.0).expect("valid points")
}

/// A stop at `location` with no window and no service time.
fn at(location: usize) -> Stop {
    Stop {
        location,
        window: TimeWindow::ANY,
        setup: 0.0,
        service: 0.0,
    }
}

/// A pickup-and-delivery job of size 1 in the first dimension.
fn pair(pickup: usize, delivery: usize) -> Job {
    Job {
        pickup: Some(at(pickup)),
        ..delivery_only(delivery)
    }
}

/// A delivery whose load is on the vehicle from the start, size 1 in the first dimension.
fn delivery_only(delivery: usize) -> Job {
    Job {
        id: format!("to-{delivery}"),
        pickup: None,
        delivery: at(delivery),
        size: [1, 0],
        required_skills: 0,
        placed_at: None,
        fixed_vehicle: None,
        on_board: false,
        excluded_vehicles: Vec::new(),
    }
}

/// A vehicle at the depot from time 0 until 1000, returning there, with room for 10 of each.
fn vehicle() -> Vehicle {
    Vehicle {
        id: "v".into(),
        profile: 0,
        start: 0,
        start_time: 0.0,
        end: Some(0),
        shift_end: 1_000.0,
        latest_pickup: f64::INFINITY,
        capacity: [10, 10],
        skills: 0,
    }
}

fn problem(matrix: TravelMatrix, jobs: Vec<Job>, vehicles: Vec<Vehicle>) -> Problem {
    let problem = Problem {
        matrices: vec![matrix],
        jobs,
        vehicles,
        objective: Objective::FleetThenDistance,
        previous: None,
        trips: TripRule::Free,
    };
    problem.validate().expect("test problems are valid");
    problem
}

fn p(job: usize) -> StopRef {
    StopRef {
        job,
        kind: StopKind::Pickup,
    }
}

fn d(job: usize) -> StopRef {
    StopRef {
        job,
        kind: StopKind::Delivery,
    }
}

/// A plan whose routes (vehicle, stops) are scheduled by the crate, with `unassigned` jobs.
fn plan(problem: &Problem, routes: &[(usize, Vec<StopRef>)], unassigned: &[usize]) -> Plan {
    Plan {
        routes: routes
            .iter()
            .map(|(vehicle, stops)| Route::schedule(problem, *vehicle, stops))
            .collect(),
        unassigned: unassigned
            .iter()
            .map(|&job| Unassigned {
                job,
                reason: UnassignedReason::NotWorthServing,
            })
            .collect(),
    }
}

/// A visit with the given times, for plans the crate cannot schedule (out-of-range indices).
fn visit(stop: StopRef, time: f64) -> Visit {
    Visit {
        stop,
        arrival: time,
        service_start: time,
        departure: time,
    }
}

fn violations(problem: &Problem, plan: &Plan) -> Vec<Violation> {
    match check(problem, plan) {
        Ok(cost) => panic!("expected violations, the plan passed with {cost:?}"),
        Err(violations) => violations,
    }
}

/// One-pair problem on three places (pickup at 1, delivery at 2) with two vehicles.
fn one_pair() -> Problem {
    problem(line(3), vec![pair(1, 2)], vec![vehicle(), vehicle()])
}

// ---------------------------------------------------------------------------------------------
// The best-known solutions.

fn lilim() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/vrp/lilim100")
}

/// `bks.csv`: instance -> (vehicles, distance).
fn bks_table() -> HashMap<String, (usize, f64)> {
    let path = lilim().join("bks.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (is ../shared beside the checkout?)",
            path.display()
        )
    });
    text.lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let vehicles = fields[1].parse().expect("vehicle count");
            let distance = fields[2].parse().expect("distance");
            (fields[0].to_owned(), (vehicles, distance))
        })
        .collect()
}

/// A best-known solution file: its instance, vehicle count and distance from the file name
/// (`lc101.10_828.9369.txt`), the instance's problem and the solution's routes of node ids.
struct Bks {
    instance: String,
    vehicles: usize,
    distance: f64,
    problem: Problem,
    routes: Vec<Vec<usize>>,
}

fn bks_solutions() -> Vec<Bks> {
    let dir = lilim().join("bks_solutions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    files.sort();
    files.iter().map(|file| read_bks(file)).collect()
}

fn read_bks(file: &std::path::Path) -> Bks {
    let stem = file.file_stem().and_then(|s| s.to_str()).expect("name");
    let (head, distance) = stem.split_once('_').expect("name_distance");
    let (instance, vehicles) = head.rsplit_once('.').expect("instance.vehicles");
    let problem = instances::read(&lilim().join(format!("{instance}.txt")))
        .expect("instance reads")
        .problem;
    let text = std::fs::read_to_string(file).expect("solution reads");
    let routes = routes::parse(&text, stem).expect("solution parses");
    Bks {
        instance: instance.to_owned(),
        vehicles: vehicles.parse().expect("vehicle count"),
        distance: distance.parse().expect("distance"),
        problem,
        routes,
    }
}

#[test]
fn every_li_lim_best_known_solution_passes_with_its_published_cost() {
    let table = bks_table();
    let solutions = bks_solutions();
    assert_eq!(solutions.len(), 56);
    for bks in solutions {
        let plan = routes::to_plan(&bks.problem, &bks.routes).expect("routes fit the instance");
        let cost = check(&bks.problem, &plan).unwrap_or_else(|violations| {
            let list: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
            panic!("{}: {}", bks.instance, list.join("; "))
        });
        let (csv_vehicles, csv_distance) = table[&bks.instance];
        assert_eq!(cost.vehicles, bks.vehicles, "{}", bks.instance);
        assert_eq!(cost.vehicles, csv_vehicles, "{}", bks.instance);
        assert!(
            (cost.distance - bks.distance).abs() < 0.01,
            "{}: {} vs file name {}",
            bks.instance,
            cost.distance,
            bks.distance
        );
        assert!(
            (cost.distance - csv_distance).abs() < 0.01,
            "{}: {} vs bks.csv {}",
            bks.instance,
            cost.distance,
            csv_distance
        );
        assert_eq!(cost.unassigned, 0, "{}", bks.instance);
        assert_eq!(cost.travel_time, cost.distance, "{}: speed 1", bks.instance);
    }
}

fn lc101() -> Bks {
    read_bks(&lilim().join("bks_solutions/lc101.10_828.9369.txt"))
}

#[test]
fn a_best_known_solution_with_stops_swapped_between_routes_is_rejected() {
    let mut bks = lc101();
    let (a, b) = (bks.routes[0][0], bks.routes[1][0]);
    (bks.routes[0][0], bks.routes[1][0]) = (b, a);
    let plan = routes::to_plan(&bks.problem, &bks.routes).expect("routes fit the instance");
    let found = violations(&bks.problem, &plan);
    assert!(
        found
            .iter()
            .any(|v| matches!(v, Violation::SplitJob { .. })),
        "{found:?}"
    );
}

#[test]
fn a_best_known_solution_with_a_delivery_moved_before_its_pickup_is_rejected() {
    let mut bks = lc101();
    // The first job picked up on route 0: move its delivery to the front of the route.
    let problem = &bks.problem;
    let (job, delivery) = bks.routes[0]
        .iter()
        .find_map(|&node| {
            let job = problem
                .jobs
                .iter()
                .position(|j| j.pickup.is_some_and(|p| p.location == node))?;
            Some((job, problem.jobs[job].delivery.location))
        })
        .expect("route 0 has a pickup");
    let route = &mut bks.routes[0];
    route.retain(|&node| node != delivery);
    route.insert(0, delivery);
    let plan = routes::to_plan(&bks.problem, &bks.routes).expect("routes fit the instance");
    let found = violations(&bks.problem, &plan);
    assert!(
        found
            .iter()
            .any(|v| matches!(v, Violation::DeliveryBeforePickup { job: j, .. } if *j == job)),
        "{found:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// One broken rule each.

#[test]
fn a_sound_tiny_plan_passes() {
    let problem = one_pair();
    let cost = check(&problem, &plan(&problem, &[(0, vec![p(0), d(0)])], &[])).expect("valid");
    assert_eq!((cost.vehicles, cost.distance), (1, 20.0));
}

#[test]
fn an_empty_route_is_fine_and_uses_no_vehicle() {
    let problem = one_pair();
    let cost = check(&problem, &plan(&problem, &[(0, vec![])], &[0])).expect("valid");
    assert_eq!(cost.vehicles, 0);
    assert_eq!(cost.distance, 0.0);
    assert_eq!(cost.unassigned, 1);
}

#[test]
fn a_job_neither_served_nor_unassigned_is_missing() {
    let problem = one_pair();
    assert_eq!(
        violations(&problem, &plan(&problem, &[], &[])),
        [Violation::JobMissing { job: 0 }]
    );
}

#[test]
fn a_stop_visited_twice_is_reported() {
    let problem = problem(line(2), vec![delivery_only(1)], vec![vehicle()]);
    assert_eq!(
        violations(&problem, &plan(&problem, &[(0, vec![d(0), d(0)])], &[])),
        [Violation::StopRepeated {
            job: 0,
            kind: StopKind::Delivery,
            count: 2
        }]
    );
}

#[test]
fn a_job_served_and_unassigned_is_reported() {
    let problem = one_pair();
    assert_eq!(
        violations(&problem, &plan(&problem, &[(0, vec![p(0), d(0)])], &[0])),
        [Violation::ServedAndUnassigned { job: 0, route: 0 }]
    );
}

#[test]
fn a_job_unassigned_twice_is_reported() {
    let problem = one_pair();
    assert_eq!(
        violations(&problem, &plan(&problem, &[], &[0, 0])),
        [Violation::UnassignedTwice { job: 0, count: 2 }]
    );
}

#[test]
fn a_delivery_before_its_pickup_is_reported() {
    let problem = one_pair();
    assert_eq!(
        violations(&problem, &plan(&problem, &[(0, vec![d(0), p(0)])], &[])),
        [Violation::DeliveryBeforePickup {
            job: 0,
            route: 0,
            pickup_stop: 1,
            delivery_stop: 0
        }]
    );
}

#[test]
fn pickup_and_delivery_on_different_routes_are_reported() {
    let problem = one_pair();
    assert_eq!(
        violations(
            &problem,
            &plan(&problem, &[(0, vec![p(0)]), (1, vec![d(0)])], &[])
        ),
        [Violation::SplitJob {
            job: 0,
            pickup_route: 0,
            delivery_route: 1
        }]
    );
}

#[test]
fn a_pickup_without_its_delivery_is_reported() {
    let problem = one_pair();
    assert_eq!(
        violations(&problem, &plan(&problem, &[(0, vec![p(0)])], &[])),
        [Violation::DeliveryMissing { job: 0, route: 0 }]
    );
}

#[test]
fn a_pickup_visit_of_a_delivery_only_job_is_reported() {
    let problem = problem(line(2), vec![delivery_only(1)], vec![vehicle()]);
    let mut plan = plan(&problem, &[(0, vec![d(0)])], &[]);
    plan.routes[0].visits.insert(0, visit(p(0), 0.0));
    assert_eq!(
        violations(&problem, &plan),
        [Violation::NoSuchPickup {
            route: 0,
            vehicle: 0,
            stop: 0,
            job: 0
        }]
    );
}

#[test]
fn a_wrong_reported_time_names_both_values() {
    let problem = one_pair();
    let mut plan = plan(&problem, &[(0, vec![p(0), d(0)])], &[]);
    plan.routes[0].visits[1].arrival = 11.0; // it is 10: 5 to the pickup, 5 on to the delivery
    assert_eq!(
        violations(&problem, &plan),
        [Violation::WrongTime {
            route: 0,
            vehicle: 0,
            stop: 1,
            job: 0,
            kind: StopKind::Delivery,
            field: TimeField::Arrival,
            reported: 11.0,
            expected: 10.0
        }]
    );
}

#[test]
fn reported_times_within_the_tolerance_pass() {
    let problem = one_pair();
    let mut plan = plan(&problem, &[(0, vec![p(0), d(0)])], &[]);
    plan.routes[0].visits[1].departure += 5e-6; // 1e-6 * 10 allowed
    assert!(check(&problem, &plan).is_ok());
}

#[test]
fn a_missed_hard_window_is_reported() {
    let mut job = delivery_only(1);
    job.delivery.window = TimeWindow {
        start: 0.0,
        end: 3.0,
        hard: true,
    };
    let problem = problem(line(2), vec![job], vec![vehicle()]);
    assert_eq!(
        violations(&problem, &plan(&problem, &[(0, vec![d(0)])], &[])),
        [Violation::HardWindowMissed {
            route: 0,
            vehicle: 0,
            stop: 0,
            job: 0,
            kind: StopKind::Delivery,
            service_start: 5.0,
            window_end: 3.0
        }]
    );
}

#[test]
fn the_load_of_delivery_only_jobs_counts_from_the_start() {
    let mut v = vehicle();
    v.capacity = [3, 10];
    let (mut a, mut b) = (delivery_only(1), delivery_only(2));
    (a.size, b.size) = ([2, 0], [2, 0]);
    let problem = problem(line(3), vec![a, b], vec![v]);
    assert_eq!(
        violations(&problem, &plan(&problem, &[(0, vec![d(0), d(1)])], &[])),
        [Violation::CapacityExceeded {
            route: 0,
            vehicle: 0,
            after: None,
            dimension: 0,
            load: 4,
            capacity: 3
        }]
    );
}

#[test]
fn the_load_of_pickups_counts_until_their_delivery_in_every_dimension() {
    let mut v = vehicle();
    v.capacity = [10, 3];
    let (mut a, mut b) = (pair(1, 3), pair(2, 4));
    (a.size, b.size) = ([1, 2], [1, 2]);
    let problem = problem(line(5), vec![a, b], vec![v]);
    // Both on board after stop 1: volume 4 over 3. Delivering one first keeps it at 2.
    let too_much = plan(&problem, &[(0, vec![p(0), p(1), d(0), d(1)])], &[]);
    assert_eq!(
        violations(&problem, &too_much),
        [Violation::CapacityExceeded {
            route: 0,
            vehicle: 0,
            after: Some((1, p(1))),
            dimension: 1,
            load: 4,
            capacity: 3
        }]
    );
    let one_at_a_time = plan(&problem, &[(0, vec![p(0), d(0), p(1), d(1)])], &[]);
    assert!(check(&problem, &one_at_a_time).is_ok());
}

#[test]
fn arriving_at_the_end_place_after_the_shift_end_is_reported() {
    let mut v = vehicle();
    v.shift_end = 8.0; // the delivery ends at 5, back at the depot at 10
    let problem = problem(line(2), vec![delivery_only(1)], vec![v]);
    assert_eq!(
        violations(&problem, &plan(&problem, &[(0, vec![d(0)])], &[])),
        [Violation::ShiftEndExceeded {
            route: 0,
            vehicle: 0,
            end: Some(0),
            finish: 10.0,
            shift_end: 8.0
        }]
    );
}

#[test]
fn an_open_route_ends_with_its_last_service() {
    let mut v = vehicle();
    v.end = None;
    v.shift_end = 8.0;
    let mut job = delivery_only(1);
    job.delivery.service = 4.0; // arrives at 5, done at 9
    let problem = problem(line(2), vec![job.clone()], vec![v.clone()]);
    assert_eq!(
        violations(&problem, &plan(&problem, &[(0, vec![d(0)])], &[])),
        [Violation::ShiftEndExceeded {
            route: 0,
            vehicle: 0,
            end: None,
            finish: 9.0,
            shift_end: 8.0
        }]
    );
    // Without the service it is over at 5: no return trip is charged to an open route.
    job.delivery.service = 0.0;
    let problem = self::problem(line(2), vec![job], vec![v]);
    let cost = check(&problem, &plan(&problem, &[(0, vec![d(0)])], &[])).expect("valid");
    assert_eq!(cost.distance, 5.0);
}

#[test]
fn a_pickup_after_the_vehicle_s_latest_pickup_is_reported_but_a_late_delivery_is_not() {
    let mut v = vehicle();
    v.latest_pickup = 4.0; // the pickup at place 1 starts at 5
    let problem = problem(line(3), vec![pair(1, 2)], vec![v.clone()]);
    let found = violations(&problem, &plan(&problem, &[(0, vec![p(0), d(0)])], &[]));
    assert_eq!(
        found,
        [Violation::PickupAfterLatest {
            route: 0,
            vehicle: 0,
            job: 0,
            start: 5.0,
            latest: 4.0
        }]
    );
    assert!(
        found[0].to_string().contains("latest pickup 4"),
        "{}",
        found[0]
    );
    // Picking up at 5 is allowed; the delivery at 10 comes after the limit and that is fine.
    v.latest_pickup = 5.0;
    let problem = self::problem(line(3), vec![pair(1, 2)], vec![v]);
    check(&problem, &plan(&problem, &[(0, vec![p(0), d(0)])], &[])).expect("valid");
}

/// Under the one-pickup-place rule: jobs 0 and 1 picked up at place 1, job 2 at place 2, and job 3
/// on the vehicle from the start.
fn kitchens() -> Problem {
    let mut problem = problem(
        line(6),
        vec![pair(1, 3), pair(1, 4), pair(2, 5), delivery_only(3)],
        vec![vehicle()],
    );
    problem.trips = TripRule::OnePickupPlace;
    problem
}

fn trip_broken(position: usize, why: TripBreak) -> Violation {
    Violation::TripBroken {
        route: 0,
        vehicle: 0,
        position,
        why,
    }
}

#[test]
fn trips_from_one_place_each_pass_the_one_pickup_place_rule() {
    let mut problem = kitchens();
    let stops = vec![d(3), p(0), p(1), d(1), d(0), p(2), d(2)];
    check(&problem, &plan(&problem, &[(0, stops.clone())], &[])).expect("valid");
    // Two trips from the same place one after the other are two trips, not one broken one.
    let one_by_one = vec![d(3), p(0), d(0), p(1), d(1), p(2), d(2)];
    check(&problem, &plan(&problem, &[(0, one_by_one)], &[])).expect("valid");
    problem.trips = TripRule::Free;
    check(&problem, &plan(&problem, &[(0, stops)], &[])).expect("valid");
}

#[test]
fn a_load_from_the_start_delivered_after_a_pickup_breaks_the_trips() {
    let mut problem = kitchens();
    let stops = vec![p(0), p(1), d(0), d(3), d(1), p(2), d(2)];
    let found = violations(&problem, &plan(&problem, &[(0, stops.clone())], &[]));
    assert_eq!(found, [trip_broken(3, TripBreak::StartLoadAfterPickup)]);
    assert!(
        found[0].to_string().contains("stop 3 breaks its trips"),
        "{}",
        found[0]
    );
    problem.trips = TripRule::Free;
    check(&problem, &plan(&problem, &[(0, stops)], &[])).expect("valid without the rule");
}

#[test]
fn a_trip_picking_up_at_two_places_breaks_the_trips() {
    let problem = kitchens();
    let stops = vec![d(3), p(0), p(2), p(1), d(0), d(1), d(2)];
    assert_eq!(
        violations(&problem, &plan(&problem, &[(0, stops)], &[])),
        [trip_broken(
            2,
            TripBreak::PickupElsewhere {
                place: 2,
                trip_place: 1
            }
        )]
    );
}

#[test]
fn a_pickup_before_the_trip_is_delivered_breaks_the_trips() {
    let mut problem = kitchens();
    problem.jobs.push(pair(1, 5)); // job 4, also from place 1
    // Job 4's pickup comes after the trip from place 1 began delivering, job 1 still on board.
    let stops = vec![d(3), p(0), p(1), d(0), p(4), d(1), d(4), p(2), d(2)];
    let found = violations(&problem, &plan(&problem, &[(0, stops)], &[]));
    assert_eq!(
        found,
        [trip_broken(
            4,
            TripBreak::PickupBeforeTripDelivered { undelivered: 1 }
        )]
    );
    assert!(
        found[0].to_string().contains("1 of its jobs"),
        "{}",
        found[0]
    );
    // The same with a pickup elsewhere: the trip is still delivering, which is what breaks.
    let elsewhere = vec![d(3), p(0), p(1), d(0), p(2), d(1), d(2), p(4), d(4)];
    assert_eq!(
        violations(&problem, &plan(&problem, &[(0, elsewhere)], &[])),
        [trip_broken(
            4,
            TripBreak::PickupBeforeTripDelivered { undelivered: 1 }
        )]
    );
}

#[test]
fn a_vehicle_without_a_required_skill_is_reported() {
    let mut v = vehicle();
    v.skills = 0b011;
    let mut job = delivery_only(1);
    job.required_skills = 0b110;
    let problem = problem(line(2), vec![job], vec![v]);
    assert_eq!(
        violations(&problem, &plan(&problem, &[(0, vec![d(0)])], &[])),
        [Violation::MissingSkills {
            route: 0,
            vehicle: 0,
            job: 0,
            missing: 0b100
        }]
    );
}

#[test]
fn a_job_on_another_vehicle_than_its_fixed_one_is_reported() {
    let mut job = pair(1, 2);
    job.fixed_vehicle = Some(1);
    let problem = problem(line(3), vec![job], vec![vehicle(), vehicle()]);
    assert_eq!(
        violations(&problem, &plan(&problem, &[(0, vec![p(0), d(0)])], &[])),
        [Violation::WrongVehicle {
            job: 0,
            fixed: 1,
            route: 0,
            vehicle: 0
        }]
    );
}

#[test]
fn a_job_on_a_vehicle_it_excludes_is_reported() {
    let mut job = pair(1, 2);
    job.excluded_vehicles = vec![0, 2];
    let problem = problem(line(3), vec![job], vec![vehicle(), vehicle(), vehicle()]);
    let found = violations(&problem, &plan(&problem, &[(0, vec![p(0), d(0)])], &[]));
    assert_eq!(
        found,
        [Violation::ExcludedVehicle {
            route: 0,
            vehicle: 0,
            job: 0
        }]
    );
    assert_eq!(
        found[0].to_string(),
        "route 0 (vehicle 0) serves job 0, which excludes that vehicle"
    );
    assert!(check(&problem, &plan(&problem, &[(1, vec![p(0), d(0)])], &[])).is_ok());
    assert!(check(&problem, &plan(&problem, &[], &[0])).is_ok());
}

#[test]
fn an_on_board_job_may_not_be_unassigned() {
    let mut job = delivery_only(1);
    (job.fixed_vehicle, job.on_board) = (Some(0), true);
    let problem = problem(line(2), vec![job], vec![vehicle()]);
    assert_eq!(
        violations(&problem, &plan(&problem, &[], &[0])),
        [Violation::OnBoardUnassigned {
            job: 0,
            vehicle: Some(0)
        }]
    );
    assert!(check(&problem, &plan(&problem, &[(0, vec![d(0)])], &[])).is_ok());
}

#[test]
fn an_unreachable_leg_is_reported() {
    // Place 1 cannot be reached from the depot; the way back is fine.
    let matrix = TravelMatrix::new(
        2,
        vec![0.0, f64::INFINITY, 1.0, 0.0],
        vec![0.0, 1.0, 1.0, 0.0],
    )
    .expect("valid matrix");
    let problem = problem(matrix, vec![delivery_only(1)], vec![vehicle()]);
    assert_eq!(
        violations(&problem, &plan(&problem, &[(0, vec![d(0)])], &[])),
        [Violation::Unreachable {
            route: 0,
            vehicle: 0,
            from: 0,
            to: 1,
            stop: Some(0)
        }]
    );
}

#[test]
fn an_out_of_range_vehicle_is_reported_without_panicking() {
    let problem = problem(line(2), vec![delivery_only(1)], vec![vehicle()]);
    let plan = Plan {
        routes: vec![Route {
            vehicle: 7,
            visits: vec![visit(d(0), 5.0)],
        }],
        unassigned: vec![],
    };
    assert_eq!(
        violations(&problem, &plan),
        [Violation::UnknownVehicle {
            route: 0,
            vehicle: 7
        }]
    );
}

#[test]
fn out_of_range_jobs_are_reported_without_panicking() {
    let problem = problem(line(2), vec![delivery_only(1)], vec![vehicle()]);
    let mut plan = plan(&problem, &[(0, vec![d(0)])], &[9]);
    plan.routes[0].visits.push(visit(p(8), 6.0));
    assert_eq!(
        violations(&problem, &plan),
        [
            Violation::UnknownJob {
                route: 0,
                vehicle: 0,
                stop: 1,
                job: 8
            },
            Violation::UnknownUnassignedJob { entry: 0, job: 9 }
        ]
    );
}

#[test]
fn a_vehicle_with_two_routes_is_reported() {
    let problem = problem(
        line(3),
        vec![delivery_only(1), delivery_only(2)],
        vec![vehicle(), vehicle()],
    );
    assert_eq!(
        violations(
            &problem,
            &plan(&problem, &[(0, vec![d(0)]), (0, vec![d(1)])], &[])
        ),
        [Violation::VehicleReused {
            vehicle: 0,
            first_route: 0,
            route: 1
        }]
    );
}

#[test]
fn every_violation_is_collected_not_just_the_first() {
    let mut fixed = delivery_only(2);
    fixed.fixed_vehicle = Some(1);
    let problem = problem(
        line(3),
        vec![pair(1, 2), fixed, delivery_only(1)],
        vec![vehicle(), vehicle()],
    );
    // Job 0 backwards, job 1 on the wrong vehicle, job 2 forgotten.
    let found = violations(
        &problem,
        &plan(&problem, &[(0, vec![d(0), p(0), d(1)])], &[]),
    );
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(matches!(
        found[0],
        Violation::DeliveryBeforePickup { job: 0, .. }
    ));
    assert!(matches!(found[1], Violation::WrongVehicle { job: 1, .. }));
    assert_eq!(found[2], Violation::JobMissing { job: 2 });
}

#[test]
fn violations_read_as_lowercase_sentences_with_their_numbers() {
    let v = Violation::WrongTime {
        route: 2,
        vehicle: 3,
        stop: 4,
        job: 5,
        kind: StopKind::Pickup,
        field: TimeField::ServiceStart,
        reported: 12.5,
        expected: 10.0,
    };
    assert_eq!(
        v.to_string(),
        "route 2 (vehicle 3), stop 4 (pickup of job 5): reported service start 12.5, but it is 10"
    );
    let c = Violation::CapacityExceeded {
        route: 0,
        vehicle: 1,
        after: None,
        dimension: 0,
        load: 4,
        capacity: 3,
    };
    assert_eq!(
        c.to_string(),
        "route 0 (vehicle 1) carries 4 in dimension 0, over the capacity 3, when leaving its start"
    );
    let late = Violation::PickupAfterLatest {
        route: 1,
        vehicle: 2,
        job: 3,
        start: 610.0,
        latest: 600.0,
    };
    assert_eq!(
        late.to_string(),
        "route 1 (vehicle 2): the pickup of job 3 starts at 610, after the vehicle's latest pickup \
         600"
    );
    let elsewhere = Violation::TripBroken {
        route: 1,
        vehicle: 2,
        position: 3,
        why: TripBreak::PickupElsewhere {
            place: 7,
            trip_place: 4,
        },
    };
    assert_eq!(
        elsewhere.to_string(),
        "route 1 (vehicle 2), stop 3 breaks its trips: a pickup at place 7 joins a trip that picks \
         up at place 4 (a trip picks up at one place)"
    );
}

// ---------------------------------------------------------------------------------------------
// The cost, by hand.

#[test]
fn the_cost_of_a_feasible_plan_matches_a_hand_computation() {
    // A 3-4-5 rectangle: depot 0 (0,0), 1 (0,3), 2 (4,3), 3 (4,0). Speed 0.5: time is twice the
    // distance.
    let points = [(0.0, 0.0), (0.0, 3.0), (4.0, 3.0), (4.0, 0.0)];
    let matrix = TravelMatrix::euclidean(&points, 0.5).expect("valid points");
    let window = |start, end, hard| TimeWindow { start, end, hard };
    let stop = |location, window, service| Stop {
        location,
        window,
        setup: 0.0,
        service,
    };

    let mut j0 = pair(1, 2); // ordered at 2; pickup opens at 10; delivery softly due by 12
    j0.pickup = Some(stop(1, window(10.0, 100.0, true), 1.0));
    j0.delivery = stop(2, window(0.0, 12.0, false), 1.0);
    j0.placed_at = Some(2.0);
    let mut j1 = delivery_only(3); // on board from the start, hard window, 2 to serve
    j1.delivery = stop(3, window(0.0, 1_000.0, true), 2.0);
    let mut j2 = delivery_only(1); // ordered at 5, opens at 20
    j2.delivery = stop(1, window(20.0, 30.0, false), 1.0);
    j2.placed_at = Some(5.0);
    let j3 = delivery_only(2); // left out

    let mut open = vehicle();
    (open.start_time, open.end) = (10.0, None);
    let mut problem = problem(
        matrix,
        vec![j0, j1, j2, j3],
        vec![vehicle(), open, vehicle()],
    );
    problem.previous = Some(PreviousAssignment {
        // j2 moves from vehicle 0 to 1; j3 was on vehicle 1 but is now unassigned (not counted).
        vehicle_of_job: vec![Some(0), Some(0), Some(0), Some(1)],
        routes: vec![],
    });

    let times = |stop, arrival, service_start, departure| Visit {
        stop,
        arrival,
        service_start,
        departure,
    };
    let plan = Plan {
        routes: vec![
            Route {
                vehicle: 0,
                visits: vec![
                    // 0 -> 1: 3 long, 6 to travel; waits 4 for the window.
                    times(p(0), 6.0, 10.0, 11.0),
                    // 1 -> 2: 4 long, 8 to travel; 7 late on the soft window.
                    times(d(0), 19.0, 19.0, 20.0),
                    // 2 -> 3: 3 long, 6 to travel; then 3 -> 0: 4 long, 8 to travel, back at 36.
                    times(d(1), 26.0, 26.0, 28.0),
                ],
            },
            Route {
                vehicle: 1,
                // Leaves at 10; 0 -> 1: 3 long, 6 to travel; waits 4; open route, no way back.
                visits: vec![times(d(2), 16.0, 20.0, 21.0)],
            },
            Route {
                vehicle: 2,
                visits: vec![],
            },
        ],
        unassigned: vec![Unassigned {
            job: 3,
            reason: UnassignedReason::NotWorthServing,
        }],
    };

    assert_eq!(
        check(&problem, &plan),
        Ok(Cost {
            vehicles: 2,
            distance: 3.0 + 4.0 + 3.0 + 4.0 + 3.0,
            travel_time: 2.0 * 17.0,
            waiting: 4.0 + 4.0,
            click_to_door: (19.0 - 2.0) + (20.0 - 5.0),
            lateness: 19.0 - 12.0,
            unassigned: 1,
            reassigned: 1,
        })
    );
}

#[test]
fn setup_is_paid_once_per_visit_and_waiting_for_the_window_runs_alongside_it() {
    // Two jobs collected at place 1 (x = 5), 4 of setup each, ready at 3 and at 12; delivered at
    // places 2 and 3 with no setup.
    let mut a = pair(1, 2);
    let mut b = pair(1, 3);
    for (job, ready) in [(&mut a, 3.0), (&mut b, 12.0)] {
        let pickup = job.pickup.as_mut().expect("a pair");
        pickup.setup = 4.0;
        pickup.window.start = ready;
    }
    let problem = problem(line(4), vec![a, b], vec![vehicle()]);
    let stops = vec![p(0), p(1), d(0), d(1)];
    let scheduled = plan(&problem, &[(0, stops)], &[]);
    let times: Vec<(f64, f64, f64)> = scheduled.routes[0]
        .visits
        .iter()
        .map(|v| (v.arrival, v.service_start, v.departure))
        .collect();
    // Arrives at 5 and is set up by 9; the second pickup, at the same place, pays no setup and
    // waits until 12; then 5 to each drop-off.
    assert_eq!(
        times,
        [
            (5.0, 9.0, 9.0),
            (9.0, 12.0, 12.0),
            (17.0, 17.0, 17.0),
            (22.0, 22.0, 22.0)
        ]
    );
    let cost = check(&problem, &scheduled).expect("feasible");
    assert_eq!(cost.waiting, 3.0);
    assert_eq!(cost.travel_time, 30.0);

    // A plan that skips the first setup is refused.
    let mut skipped = scheduled.clone();
    skipped.routes[0].visits[0].service_start = 5.0;
    skipped.routes[0].visits[0].departure = 5.0;
    let found = check(&problem, &skipped).expect_err("the setup was skipped");
    assert!(
        found.iter().any(|v| matches!(
            v,
            Violation::WrongTime {
                stop: 0,
                field: TimeField::ServiceStart,
                ..
            }
        )),
        "{found:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Never a panic.

#[test]
fn an_inconsistent_problem_is_reported_not_panicked_on() {
    let mut no_matrix = vehicle();
    no_matrix.profile = 3;
    let mut nowhere = vehicle();
    nowhere.start = 99;
    let problem = Problem {
        matrices: vec![line(2)],
        jobs: vec![delivery_only(1), delivery_only(1)],
        vehicles: vec![no_matrix, nowhere],
        objective: Objective::FleetThenDistance,
        previous: None,
        trips: TripRule::Free,
    };
    let plan = Plan {
        routes: vec![
            Route {
                vehicle: 0,
                visits: vec![visit(d(0), 5.0)],
            },
            Route {
                vehicle: 1,
                visits: vec![visit(d(1), 5.0)],
            },
        ],
        unassigned: vec![],
    };
    assert_eq!(
        violations(&problem, &plan),
        [
            Violation::UnknownProfile {
                route: 0,
                vehicle: 0,
                profile: 3
            },
            Violation::UnknownPlace {
                route: 1,
                vehicle: 1,
                place: 99
            }
        ]
    );
}

#[test]
fn garbage_plans_never_panic() {
    let bks = lc101();
    let problem = &bks.problem;
    let (jobs, vehicles) = (problem.jobs.len(), problem.vehicles.len());
    // A small linear congruential generator: no dependency, same sequence every run.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |below: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % below.max(1)
    };
    let odd_times = [0.0, -1.0, 1e300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    for _ in 0..300 {
        let mut plan = Plan::default();
        for _ in 0..next(4) {
            let mut route = Route {
                vehicle: next(vehicles + 3),
                visits: vec![],
            };
            for _ in 0..next(8) {
                let kind = [StopKind::Pickup, StopKind::Delivery][next(2)];
                let time = odd_times[next(odd_times.len())];
                route.visits.push(visit(
                    StopRef {
                        job: next(jobs + 3),
                        kind,
                    },
                    time,
                ));
            }
            plan.routes.push(route);
        }
        for _ in 0..next(5) {
            plan.unassigned.push(Unassigned {
                job: next(jobs + 3),
                reason: UnassignedReason::NoVehicle,
            });
        }
        // Also with a job index far out of range.
        if next(2) == 0 {
            plan.unassigned.push(Unassigned {
                job: usize::MAX,
                reason: UnassignedReason::NoVehicle,
            });
        }
        assert!(check(problem, &plan).is_err(), "garbage passed: {plan:?}");
    }
}
