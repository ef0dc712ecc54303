//! The solver, capability by capability. Every plan it returns goes through the independent checker.

use std::{path::PathBuf, sync::atomic::AtomicBool, time::Duration};

use solver::{
    Cost, Job, Objective, Plan, Problem, SolverError, Stop, StopKind, StopRef, TimeWindow,
    TripRule, UnassignedReason, Vehicle, Weights, checker, instances,
    matrix::TravelMatrix,
    problem::PreviousAssignment,
    search::{SolveConfig, Solver},
};

fn instance(set: &str, name: &str) -> instances::Instance {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/vrp")
        .join(set)
        .join(format!("{name}.txt"));
    instances::read(&path).expect("instance reads")
}

/// A run whose outcome depends only on the seed, threads and iteration count.
struct Run {
    config: SolveConfig,
    threads: usize,
}

fn budget(iterations: u64, threads: usize) -> Run {
    let config = SolveConfig {
        time_limit: Duration::from_secs(3600),
        max_iterations: Some(iterations),
        seed: 7,
    };
    Run { config, threads }
}

fn solve_checked(problem: &Problem, run: &Run) -> (Plan, Cost) {
    let solver = Solver::new(run.threads).expect("threads start");
    let solved = solver.solve(problem, &run.config, None).expect("solves");
    match checker::check(problem, &solved.plan) {
        Ok(cost) => (solved.plan, cost),
        Err(violations) => panic!("checker rejects the plan: {violations:#?}"),
    }
}

#[test]
fn solomon_c101_reaches_the_best_known_fleet_and_distance() {
    let c101 = instance("solomon", "C101");
    let (_, cost) = solve_checked(&c101.problem, &budget(3_000, 1));
    assert_eq!(cost.unassigned, 0);
    assert_eq!(cost.vehicles, 10);
    assert!((cost.distance - 828.94).abs() < 0.01, "{}", cost.distance);
}

#[test]
fn li_lim_requests_are_served_pickup_first_on_one_vehicle() {
    let lr101 = instance("lilim100", "lr101");
    let (plan, cost) = solve_checked(&lr101.problem, &budget(2_000, 2));
    assert_eq!(cost.unassigned, 0);
    assert!(cost.vehicles <= 20, "{} vehicles", cost.vehicles);
    let stops: usize = plan.routes.iter().map(|r| r.visits.len()).sum();
    assert_eq!(stops, 2 * lr101.problem.jobs.len());
}

#[test]
fn the_same_seed_threads_and_iterations_give_the_same_plan() {
    let r201 = instance("solomon", "R201");
    for threads in [1, 2] {
        let a = solve_checked(&r201.problem, &budget(600, threads)).0;
        let b = solve_checked(&r201.problem, &budget(600, threads)).0;
        assert_eq!(a, b, "threads {threads}");
    }
}

#[test]
fn a_cancelled_solve_still_returns_a_checked_plan() {
    let r101 = instance("solomon", "R101");
    let cancel = AtomicBool::new(true);
    let config = SolveConfig {
        time_limit: Duration::from_secs(3600),
        ..SolveConfig::default()
    };
    let solver = Solver::new(1).expect("threads start");
    let solved = solver
        .solve(&r101.problem, &config, Some(&cancel))
        .expect("solves");
    // The construction alone: valid, with every job either routed or reported with a reason.
    let cost = checker::check(&r101.problem, &solved.plan).expect("feasible");
    assert_eq!(solved.iterations, 0);
    assert!(cost.unassigned < r101.problem.jobs.len() / 10, "{cost:?}");
}

#[test]
fn an_unbounded_time_limit_runs_to_the_iteration_budget() {
    let c101 = instance("solomon", "C101");
    let run = Run {
        config: SolveConfig {
            time_limit: Duration::MAX,
            max_iterations: Some(10),
            seed: 1,
        },
        threads: 2,
    };
    let solver = Solver::new(run.threads).expect("threads start");
    let solved = solver
        .solve(&c101.problem, &run.config, None)
        .expect("solves");
    assert_eq!(solved.iterations, 20);
    checker::check(&c101.problem, &solved.plan).expect("feasible");
}

// A small city for the dispatch objective: places on a line, 1 distance unit per second.
fn city(places: usize) -> TravelMatrix {
    let points: Vec<(f64, f64)> = (0..places).map(|i| (i as f64 * 100.0, 0.0)).collect();
    TravelMatrix::euclidean(&points, 1.0).expect("matrix")
}

fn stop(location: usize, start: f64, end: f64, hard: bool) -> Stop {
    Stop {
        location,
        window: TimeWindow { start, end, hard },
        setup: 0.0,
        service: 30.0,
    }
}

fn order(id: &str, pickup: usize, ready: f64, dropoff: usize, promised: f64) -> Job {
    Job {
        id: id.into(),
        pickup: Some(stop(pickup, ready, f64::INFINITY, false)),
        delivery: stop(dropoff, 0.0, promised, false),
        size: [1_000, 2_000],
        required_skills: 0,
        placed_at: Some(0.0),
        fixed_vehicle: None,
        on_board: false,
        excluded_vehicles: Vec::new(),
    }
}

fn courier(id: &str, start: usize, skills: u64) -> Vehicle {
    Vehicle {
        id: id.into(),
        profile: 0,
        start,
        start_time: 0.0,
        end: None,
        shift_end: 4_000.0,
        latest_pickup: f64::INFINITY,
        capacity: [5_000, 10_000],
        skills,
    }
}

fn dispatch(jobs: Vec<Job>, vehicles: Vec<Vehicle>) -> Problem {
    Problem {
        matrices: vec![city(12)],
        jobs,
        vehicles,
        objective: Objective::Weighted(Weights::default()),
        previous: None,
        trips: TripRule::Free,
    }
}

#[test]
fn dispatch_gives_each_order_to_the_nearby_courier_on_open_routes() {
    let problem = dispatch(
        vec![
            order("a", 1, 100.0, 2, 900.0),
            order("b", 9, 100.0, 10, 900.0),
        ],
        vec![courier("west", 0, 0), courier("east", 11, 0)],
    );
    let (plan, cost) = solve_checked(&problem, &budget(300, 1));
    assert_eq!(cost.unassigned, 0);
    assert_eq!(cost.lateness, 0.0);
    let vehicle_of = |job: usize| {
        plan.routes
            .iter()
            .find(|r| r.visits.iter().any(|v| v.stop.job == job))
            .map(|r| r.vehicle)
    };
    assert_eq!(vehicle_of(0), Some(0));
    assert_eq!(vehicle_of(1), Some(1));
}

#[test]
fn capacity_skills_and_windows_left_unserved_say_why() {
    let mut too_big = order("too-big", 1, 0.0, 2, 900.0);
    too_big.size = [9_000, 0];
    let mut needs_bag = order("needs-bag", 1, 0.0, 2, 900.0);
    needs_bag.required_skills = 0b10;
    let mut impossible = order("impossible", 1, 0.0, 11, 50.0);
    impossible.delivery.window.hard = true;
    let problem = dispatch(
        vec![
            too_big,
            needs_bag,
            impossible,
            order("fine", 1, 0.0, 2, 900.0),
        ],
        vec![courier("c", 0, 0b01)],
    );
    let (plan, cost) = solve_checked(&problem, &budget(200, 1));
    assert_eq!(cost.unassigned, 3);
    let reason = |job: usize| {
        plan.unassigned
            .iter()
            .find(|u| u.job == job)
            .map(|u| u.reason)
    };
    assert_eq!(reason(0), Some(UnassignedReason::Capacity));
    assert_eq!(reason(1), Some(UnassignedReason::Skills));
    assert_eq!(reason(2), Some(UnassignedReason::TimeWindow));
    assert_eq!(reason(3), None);
}

#[test]
fn orders_on_board_and_pinned_stay_with_their_courier() {
    let mut on_board = order("on-board", 0, 0.0, 10, 2_000.0);
    on_board.pickup = None;
    on_board.fixed_vehicle = Some(0);
    on_board.on_board = true;
    let mut pinned = order("pinned", 10, 0.0, 11, 2_000.0);
    pinned.fixed_vehicle = Some(0);
    // Courier 1 sits right next to the pinned order; it must still go to courier 0.
    let problem = dispatch(
        vec![on_board, pinned],
        vec![courier("far", 0, 0), courier("near", 10, 0)],
    );
    let (plan, cost) = solve_checked(&problem, &budget(200, 1));
    assert_eq!(cost.unassigned, 0);
    assert_eq!(plan.routes.len(), 1);
    assert_eq!(plan.routes[0].vehicle, 0);
}

#[test]
fn a_previous_plan_is_kept_when_moving_would_gain_little() {
    let jobs = vec![order("a", 5, 0.0, 6, 2_000.0)];
    // From 4 or from 6 the route 5 -> 6 takes the same time; the previous plan gave it to "right".
    let mut problem = dispatch(jobs, vec![courier("left", 4, 0), courier("right", 6, 0)]);
    problem.previous = Some(PreviousAssignment {
        vehicle_of_job: vec![Some(1)],
        routes: vec![
            vec![],
            vec![
                StopRef {
                    job: 0,
                    kind: StopKind::Pickup,
                },
                StopRef {
                    job: 0,
                    kind: StopKind::Delivery,
                },
            ],
        ],
    });
    let (plan, cost) = solve_checked(&problem, &budget(200, 1));
    assert_eq!(cost.reassigned, 0);
    assert_eq!(plan.routes[0].vehicle, 1);
}

fn vehicle_of(plan: &Plan, job: usize) -> Option<usize> {
    plan.routes
        .iter()
        .find(|r| r.visits.iter().any(|v| v.stop.job == job))
        .map(|r| r.vehicle)
}

#[test]
fn an_order_goes_past_the_nearest_courier_when_it_is_excluded() {
    let mut declined = order("declined", 1, 100.0, 2, 900.0);
    declined.excluded_vehicles = vec![0];
    let problem = dispatch(
        vec![declined, order("other", 1, 100.0, 2, 900.0)],
        vec![courier("west", 0, 0), courier("east", 11, 0)],
    );
    let (plan, cost) = solve_checked(&problem, &budget(300, 1));
    assert_eq!(cost.unassigned, 0);
    // "west" sits next to both orders: it keeps the one it may serve, "east" gets the other.
    assert_eq!(vehicle_of(&plan, 0), Some(1));
    assert_eq!(vehicle_of(&plan, 1), Some(0));
}

#[test]
fn a_declined_order_leaves_the_courier_that_had_it_in_the_previous_plan() {
    let mut declined = order("declined", 1, 0.0, 2, 2_000.0);
    declined.excluded_vehicles = vec![0];
    let mut problem = dispatch(
        vec![declined, order("kept", 2, 0.0, 3, 2_000.0)],
        vec![courier("west", 0, 0), courier("east", 11, 0)],
    );
    let stops =
        |job: usize| [StopKind::Pickup, StopKind::Delivery].map(|kind| StopRef { job, kind });
    problem.previous = Some(PreviousAssignment {
        vehicle_of_job: vec![Some(0), Some(0)],
        routes: vec![stops(0).into_iter().chain(stops(1)).collect(), vec![]],
    });
    let (plan, cost) = solve_checked(&problem, &budget(200, 1));
    assert_eq!(cost.unassigned, 0);
    assert_eq!(vehicle_of(&plan, 0), Some(1));
    assert_eq!(vehicle_of(&plan, 1), Some(0));
}

#[test]
fn orders_every_suitable_courier_is_excluded_from_say_so() {
    let mut everyone = order("declined-by-all", 1, 0.0, 2, 900.0);
    everyone.excluded_vehicles = vec![0, 1];
    // Only courier 0 has the bag this order needs, and it declined.
    let mut bag = order("bag-declined", 1, 0.0, 2, 900.0);
    bag.required_skills = 0b10;
    bag.excluded_vehicles = vec![0];
    // Nobody could make this window anyway: the window is the reason, not the exclusion.
    let mut impossible = order("impossible", 1, 0.0, 11, 50.0);
    impossible.delivery.window.hard = true;
    impossible.excluded_vehicles = vec![0, 1];
    let problem = dispatch(
        vec![everyone, bag, impossible, order("fine", 1, 0.0, 2, 900.0)],
        vec![courier("bag", 0, 0b11), courier("plain", 3, 0b01)],
    );
    let (plan, cost) = solve_checked(&problem, &budget(200, 1));
    assert_eq!(cost.unassigned, 3);
    let reason = |job: usize| {
        plan.unassigned
            .iter()
            .find(|u| u.job == job)
            .map(|u| u.reason)
    };
    assert_eq!(reason(0), Some(UnassignedReason::Excluded));
    assert_eq!(reason(1), Some(UnassignedReason::Excluded));
    assert_eq!(reason(2), Some(UnassignedReason::TimeWindow));
    assert_eq!(reason(3), None);
}

#[test]
fn exclusions_of_unknown_or_fixed_vehicles_are_invalid() {
    let solver = Solver::new(1).expect("threads start");
    let invalid = |job: Job| {
        let problem = dispatch(vec![job], vec![courier("a", 0, 0), courier("b", 1, 0)]);
        let Err(SolverError::InvalidProblem(message)) = problem.validate() else {
            panic!("validate accepts {:?}", problem.jobs[0]);
        };
        assert!(matches!(
            solver.solve(&problem, &budget(10, 1).config, None),
            Err(SolverError::InvalidProblem(_))
        ));
        message
    };
    let mut unknown = order("unknown", 1, 0.0, 2, 900.0);
    unknown.excluded_vehicles = vec![1, 2];
    let message = invalid(unknown);
    assert!(message.contains("excluded vehicle 2"), "{message}");

    let mut contradictory = order("contradictory", 1, 0.0, 2, 900.0);
    contradictory.fixed_vehicle = Some(1);
    contradictory.excluded_vehicles = vec![1];
    let message = invalid(contradictory);
    assert!(
        message.contains("fixed to vehicle 1") && message.contains("excludes"),
        "{message}"
    );

    // Excluding every vehicle but the fixed one is fine.
    let mut pinned = order("pinned", 1, 0.0, 2, 900.0);
    pinned.fixed_vehicle = Some(1);
    pinned.excluded_vehicles = vec![0];
    dispatch(vec![pinned], vec![courier("a", 0, 0), courier("b", 1, 0)])
        .validate()
        .expect("valid");
}

// ---------------------------------------------------------------------------------------------
// The meal delivery benchmark's rules: latest pickups and one-place trips.

/// The visits of `plan`'s route for `vehicle`, as (kind, job, place, service start).
fn visits_of(problem: &Problem, plan: &Plan, vehicle: usize) -> Vec<(StopKind, usize, usize, f64)> {
    let route = plan.routes.iter().find(|r| r.vehicle == vehicle);
    route
        .map(|r| {
            r.visits
                .iter()
                .map(|v| {
                    let job = &problem.jobs[v.stop.job];
                    let place = match v.stop.kind {
                        StopKind::Pickup => job.pickup.expect("a pickup").location,
                        StopKind::Delivery => job.delivery.location,
                    };
                    (v.stop.kind, v.stop.job, place, v.service_start)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_courier_picks_up_only_until_its_latest_pickup_but_may_deliver_after() {
    // "early" starts beside the kitchen at place 1 but may not pick up after 500; "late", at the far
    // end of the line, reaches the kitchen only at 1,000 and has no such limit. "early" picks up the
    // order ready at 400 and delivers it next door at 530, after its limit; the order ready at 600
    // would be its next (it is back at the kitchen by 660), but it may no longer pick up then.
    let mut early = courier("early", 0, 0);
    early.latest_pickup = 500.0;
    let problem = dispatch(
        vec![
            order("ready-at-400", 1, 400.0, 2, 2_000.0),
            order("ready-at-600", 1, 600.0, 2, 2_500.0),
        ],
        vec![early, courier("late", 11, 0)],
    );
    let (plan, cost) = solve_checked(&problem, &budget(300, 1));
    assert_eq!(cost.unassigned, 0);
    assert_eq!(vehicle_of(&plan, 0), Some(0));
    assert_eq!(vehicle_of(&plan, 1), Some(1));
    let early_visits = visits_of(&problem, &plan, 0);
    let pickup = early_visits.iter().find(|v| v.0 == StopKind::Pickup);
    let delivery = early_visits.iter().find(|v| v.0 == StopKind::Delivery);
    assert!(pickup.is_some_and(|v| v.3 <= 500.0), "{early_visits:?}");
    assert!(delivery.is_some_and(|v| v.3 > 500.0), "{early_visits:?}");

    // Alone with "early", the late order is left out, and its shift is the reason.
    let mut alone = problem.clone();
    alone.vehicles.truncate(1);
    let (plan, cost) = solve_checked(&alone, &budget(200, 1));
    assert_eq!(cost.unassigned, 1);
    assert_eq!(plan.unassigned[0].job, 1);
    assert_eq!(plan.unassigned[0].reason, UnassignedReason::ShiftEnd);
}

#[test]
fn a_latest_pickup_that_is_not_a_number_is_invalid() {
    let mut broken = courier("broken", 0, 0);
    broken.latest_pickup = f64::NAN;
    let problem = dispatch(vec![order("a", 1, 0.0, 2, 900.0)], vec![broken]);
    let Err(SolverError::InvalidProblem(message)) = problem.validate() else {
        panic!("validate accepts a NaN latest pickup");
    };
    assert!(message.contains("latest pickup"), "{message}");
}

/// Two orders from the kitchen at place 1, two from the one at place 2, each pair to places 5 and
/// 6, and an order on board the only courier, for place 3.
fn two_kitchens(trips: TripRule) -> Problem {
    let mut on_board = order("on-board", 0, 0.0, 3, 2_000.0);
    on_board.pickup = None;
    on_board.fixed_vehicle = Some(0);
    on_board.on_board = true;
    let mut problem = dispatch(
        vec![
            order("a1", 1, 0.0, 5, 2_000.0),
            order("b1", 2, 0.0, 5, 2_000.0),
            order("a2", 1, 0.0, 6, 2_000.0),
            order("b2", 2, 0.0, 6, 2_000.0),
            on_board,
        ],
        vec![courier("c", 0, 0)],
    );
    problem.trips = trips;
    problem
}

#[test]
fn one_pickup_place_per_trip_serves_two_kitchens_as_two_trips() {
    let problem = two_kitchens(TripRule::OnePickupPlace);
    let (plan, cost) = solve_checked(&problem, &budget(300, 1));
    assert_eq!(cost.unassigned, 0);
    let visits = visits_of(&problem, &plan, 0);
    let kitchen = |job: usize| problem.jobs[job].pickup.map(|p| p.location);
    let shape: Vec<(StopKind, Option<usize>)> =
        visits.iter().map(|v| (v.0, kitchen(v.1))).collect();
    use StopKind::{Delivery as D, Pickup as P};
    // The load on board goes first; then one kitchen's two pickups and their two deliveries, then
    // the other kitchen's.
    let first = shape[1].1.expect("a pickup after the load on board");
    let second = if first == 1 { 2 } else { 1 };
    let (a, b) = (Some(first), Some(second));
    assert_eq!(
        shape,
        [
            (D, None),
            (P, a),
            (P, a),
            (D, a),
            (D, a),
            (P, b),
            (P, b),
            (D, b),
            (D, b)
        ],
        "{visits:?}"
    );
}

#[test]
fn free_trips_interleave_the_two_kitchens() {
    // The default: the courier collects at both kitchens and then delivers all four orders, which
    // the one-pickup-place rule would refuse.
    let problem = two_kitchens(TripRule::default());
    assert_eq!(problem.trips, TripRule::Free);
    let (plan, cost) = solve_checked(&problem, &budget(300, 1));
    assert_eq!(cost.unassigned, 0);
    let strict = two_kitchens(TripRule::OnePickupPlace);
    let violations = checker::check(&strict, &plan).expect_err("the plan interleaves kitchens");
    assert!(
        violations
            .iter()
            .all(|v| matches!(v, checker::Violation::TripBroken { .. })),
        "{violations:?}"
    );
    let strict_cost = checker::check(&strict, &solve_checked(&strict, &budget(300, 1)).0)
        .expect("valid under its own rule");
    assert!(
        cost.distance < strict_cost.distance,
        "{cost:?} {strict_cost:?}"
    );
}

#[test]
fn li_lim_under_the_meal_delivery_rules_passes_the_checker() {
    // Requests picked up at five places, pickups closed in the last third of the horizon, on the
    // distance-only benchmark objective (where the insertion's constant-time checks alone decide).
    let mut problem = instance("lilim100", "lr101").problem;
    let places: Vec<usize> = problem
        .jobs
        .iter()
        .filter_map(|j| j.pickup.map(|s| s.location))
        .take(5)
        .collect();
    for (j, job) in problem.jobs.iter_mut().enumerate() {
        if let Some(pickup) = job.pickup.as_mut() {
            pickup.location = places[j % places.len()];
        }
    }
    for v in &mut problem.vehicles {
        v.latest_pickup = v.start_time + (v.shift_end - v.start_time) * 2.0 / 3.0;
    }
    problem.trips = TripRule::OnePickupPlace;
    let (plan, cost) = solve_checked(&problem, &budget(1_000, 2));
    assert!(cost.unassigned < problem.jobs.len() / 2, "{cost:?}");
    for u in &plan.unassigned {
        assert_ne!(u.reason, UnassignedReason::NoVehicle);
    }
}

#[test]
fn food_on_board_is_delivered_even_when_a_cheaper_order_could_take_its_place() {
    // The courier stands at the kitchen (place 1) carrying a very late order for place 11, and may
    // pick up only until 100. Under the trip rule it delivers what it carries before collecting,
    // so it can serve the order waiting beside it or the one on board, not both. Both cost the
    // same to leave out, and the late one costs far more to serve: only the rule that food on
    // board is always delivered keeps it.
    let mut carried = order("carried", 0, 0.0, 11, 0.0);
    carried.pickup = None;
    carried.fixed_vehicle = Some(0);
    carried.on_board = true;
    carried.placed_at = Some(-5_000.0);
    let mut courier = courier("c", 1, 0);
    courier.latest_pickup = 100.0;
    courier.shift_end = f64::INFINITY;
    let mut problem = dispatch(
        vec![carried, order("waiting", 1, 0.0, 2, 2_000.0)],
        vec![courier],
    );
    problem.trips = TripRule::OnePickupPlace;
    // As when the food was collected after the last plan, which had the courier take the other.
    problem.previous = Some(PreviousAssignment {
        vehicle_of_job: vec![None, Some(0)],
        routes: vec![vec![
            StopRef {
                job: 1,
                kind: StopKind::Pickup,
            },
            StopRef {
                job: 1,
                kind: StopKind::Delivery,
            },
        ]],
    });
    for iterations in [0, 300] {
        let (plan, cost) = solve_checked(&problem, &budget(iterations, 1));
        assert_eq!(cost.unassigned, 1);
        assert_eq!(plan.unassigned[0].job, 1);
    }
}

#[test]
fn a_previous_route_that_breaks_the_trips_is_not_kept() {
    // The previous plan collected at both kitchens before delivering: under the one-pickup-place
    // rule the first plan (no search at all) must rebuild it.
    let mut problem = two_kitchens(TripRule::OnePickupPlace);
    let stop = |job: usize, kind: StopKind| StopRef { job, kind };
    let interleaved = [0, 1, 2, 3]
        .map(|j| stop(j, StopKind::Pickup))
        .into_iter()
        .chain([4, 0, 1, 2, 3].map(|j| stop(j, StopKind::Delivery)))
        .collect();
    problem.previous = Some(PreviousAssignment {
        vehicle_of_job: vec![Some(0); 5],
        routes: vec![interleaved],
    });
    let (_, cost) = solve_checked(&problem, &budget(0, 1));
    assert_eq!(cost.unassigned, 0);
}
