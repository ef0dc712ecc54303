//! A region's state at one instant turned into a solver problem: couriers become vehicles starting
//! where they were last seen, orders become jobs, with everything the domain rules make hard
//! (capacity, shift end, vehicle and equipment, on board and pinned orders, declines) expressed as
//! the solver's constraints.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use router::geo::LatLng;
use solver::{
    Job, Objective, Problem, Stop, TimeWindow, TripRule, Vehicle as SolverVehicle, Weights,
    problem::PreviousAssignment,
};

use crate::{
    domain::{CourierStatus, Fix, Load, Order, OrderState, Vehicle},
    world::RegionState,
};

/// The skill bit every courier taking new work has, and every unassigned order requires.
const NEW_WORK: u64 = 1 << 63;
/// Skill bits available for vehicle sets and equipment tags.
const FREE_BITS: u32 = 63;

/// A problem and the way back from its indices to ids.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When it was taken; time 0 of the problem.
    pub at: DateTime<Utc>,
    /// The problem.
    pub problem: Problem,
    /// Courier id of each vehicle.
    pub couriers: Vec<String>,
    /// Order id of each job.
    pub orders: Vec<String>,
    /// The order's revision when the snapshot was taken, per job.
    pub order_revs: Vec<u64>,
    /// Coordinates of each location index.
    pub points: Vec<LatLng>,
    /// Profile of each vehicle.
    pub profiles: Vec<Vehicle>,
    /// The profile of each travel matrix (`Vehicle::profile` indexes this).
    pub matrix_profiles: Vec<Vehicle>,
}

impl Snapshot {
    /// Seconds since the snapshot as a time.
    pub fn time(&self, seconds: f64) -> DateTime<Utc> {
        self.at + chrono::TimeDelta::milliseconds((seconds * 1000.0).round() as i64)
    }
}

fn secs(at: DateTime<Utc>, t: DateTime<Utc>) -> f64 {
    (t - at).num_milliseconds() as f64 / 1000.0
}

fn load_vector(l: Load) -> solver::problem::Load {
    // A courier that reports no capacity at all is not limited by it.
    if l == Load::default() {
        return [i32::MAX, i32::MAX];
    }
    [
        i32::try_from(l.weight_g).unwrap_or(i32::MAX),
        i32::try_from(l.volume_ml).unwrap_or(i32::MAX),
    ]
}

fn size_vector(l: Load) -> solver::problem::Load {
    [
        i32::try_from(l.weight_g).unwrap_or(i32::MAX),
        i32::try_from(l.volume_ml).unwrap_or(i32::MAX),
    ]
}

/// Places by coordinate, so a kitchen with many orders is one location.
#[derive(Default)]
struct Places {
    points: Vec<LatLng>,
    index: HashMap<(u64, u64), usize>,
}

impl Places {
    fn add(&mut self, p: LatLng) -> usize {
        let key = (p.lat().to_bits(), p.lng().to_bits());
        *self.index.entry(key).or_insert_with(|| {
            self.points.push(p);
            self.points.len() - 1
        })
    }
}

/// Rules a benchmark narrows the product's model with (the MDRP replay); the live service uses the
/// defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rules {
    /// A courier's shift end bounds only when it may pick up; deliveries may finish later.
    pub shift_end_limits_pickups_only: bool,
    /// How pickups and deliveries may interleave on a route.
    pub trips: TripRule,
    /// An order's pickup (drop-off) service is spent once per visit to the place, shared by every
    /// order collected (handed over) there in a row, and waiting for the food runs alongside it:
    /// the benchmark's "4 minutes per bundle". Otherwise each order's service is spent in full
    /// after the food is ready.
    pub service_once_per_visit: bool,
}

/// Builds the problem for one region at `at`, or `None` if there is nothing to plan.
pub(crate) fn build(
    region: &RegionState,
    at: DateTime<Utc>,
    weights: Weights,
    rules: Rules,
) -> Option<Snapshot> {
    let mut places = Places::default();
    // A stop's service time as the solver's (setup, service).
    let timed = |service_s: u32| {
        let t = f64::from(service_s);
        if rules.service_once_per_visit {
            (t, 0.0)
        } else {
            (0.0, t)
        }
    };

    // Couriers: those who take new work, and those who hold work (even paused or off shift).
    let mut located: Vec<(&String, Fix)> = region
        .couriers
        .iter()
        .filter(|(id, c)| c.takes_new_work() || region.orders_of(id.as_str()).next().is_some())
        .filter_map(|(id, c)| Some((id, c.courier.last_fix?)))
        .collect();
    located.sort_by(|a, b| a.0.cmp(b.0));
    let courier_ids: Vec<&String> = located.iter().map(|(id, _)| *id).collect();
    let vehicle_of: HashMap<&str, usize> = courier_ids
        .iter()
        .enumerate()
        .map(|(v, id)| (id.as_str(), v))
        .collect();

    // Skill bits: one per distinct allowed-vehicle set and per equipment tag.
    let mut bits: HashMap<String, u64> = HashMap::new();
    let mut next_bit = 0u32;
    let mut bit_for = |name: String| -> Option<u64> {
        if let Some(&b) = bits.get(&name) {
            return Some(b);
        }
        (next_bit < FREE_BITS).then(|| {
            let b = 1u64 << next_bit;
            next_bit += 1;
            bits.insert(name, b);
            b
        })
    };

    let mut orders: Vec<&Order> = region
        .open_orders()
        .filter(|o| !o.held)
        .filter(|o| match o.state {
            OrderState::Placed => true,
            _ => o
                .courier_id
                .as_deref()
                .is_some_and(|c| vehicle_of.contains_key(c)),
        })
        .collect();
    orders.sort_by(|a, b| a.id().cmp(b.id()));
    if orders.is_empty() {
        return None;
    }

    let mut profiles_used: Vec<Vehicle> = Vec::new();
    let mut vehicles = Vec::with_capacity(courier_ids.len());
    let mut vehicle_profiles = Vec::with_capacity(courier_ids.len());
    for (id, fix) in &located {
        let c = &region.couriers[id.as_str()];
        let profile = match profiles_used.iter().position(|&p| p == c.courier.vehicle) {
            Some(p) => p,
            None => {
                profiles_used.push(c.courier.vehicle);
                profiles_used.len() - 1
            }
        };
        // Kept as it is even when past: a shift that is over allows no pickup at all, not one "now".
        let shift_end = match (c.courier.status, c.courier.shift_end) {
            (CourierStatus::OffShift, _) => f64::INFINITY,
            (_, Some(end)) => secs(at, end),
            (_, None) => f64::INFINITY,
        };
        let mut skills = if c.takes_new_work() { NEW_WORK } else { 0 };
        for tag in &c.courier.equipment {
            if let Some(b) = bit_for(format!("tag:{tag}")) {
                skills |= b;
            }
        }
        let (shift_end, latest_pickup) = if rules.shift_end_limits_pickups_only {
            (f64::INFINITY, shift_end)
        } else {
            // A courier past its shift end still finishes what it carries; it just takes no more.
            (shift_end.max(0.0), f64::INFINITY)
        };
        vehicles.push(SolverVehicle {
            id: (*id).clone(),
            profile,
            start: places.add(fix.location),
            // A fix stamped in the future says where the courier will be and when (a simulated
            // courier committed to its current leg); live fixes are in the past and start now.
            start_time: secs(at, fix.recorded_at).max(0.0),
            end: None,
            shift_end,
            latest_pickup,
            capacity: load_vector(c.courier.capacity),
            skills,
        });
        vehicle_profiles.push(c.courier.vehicle);
    }

    let not_working: Vec<usize> = courier_ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !region.couriers[id.as_str()].takes_new_work())
        .map(|(v, _)| v)
        .collect();

    let mut jobs = Vec::with_capacity(orders.len());
    let mut previous = vec![None; orders.len()];
    for (j, order) in orders.iter().enumerate() {
        let spec = &order.spec;
        let holder = order
            .courier_id
            .as_deref()
            .and_then(|c| vehicle_of.get(c).copied());
        let mut required = 0u64;
        let mut excluded: Vec<usize> = Vec::new();
        if !spec.allowed_vehicles.is_empty() {
            excluded.extend(
                (0..vehicles.len())
                    .filter(|&v| !spec.allowed_vehicles.contains(&vehicle_profiles[v])),
            );
        }
        for tag in &spec.required_equipment {
            match bits.get(&format!("tag:{tag}")) {
                Some(&b) => required |= b,
                // No courier here has the tag (or the tags outnumber the skill bits): nobody may
                // take the order but whoever already holds it.
                None => excluded.extend(0..vehicles.len()),
            }
        }
        let delivery = Stop {
            location: places.add(spec.dropoff.location),
            window: TimeWindow {
                start: secs(at, spec.promised_start),
                end: secs(at, spec.promised_end),
                // Work already committed must stay feasible even when it is already late.
                hard: spec.hard_window && order.state == OrderState::Placed,
            },
            setup: timed(spec.dropoff_service_s).0,
            service: timed(spec.dropoff_service_s).1,
        };
        let pickup = (order.state != OrderState::PickedUp).then(|| Stop {
            location: places.add(spec.pickup.location),
            window: TimeWindow {
                start: secs(at, spec.ready_at),
                end: f64::INFINITY,
                hard: false,
            },
            setup: timed(spec.pickup_service_s).0,
            service: timed(spec.pickup_service_s).1,
        });
        for declined in &order.declined_by {
            if let Some(&v) = vehicle_of.get(declined.as_str()) {
                excluded.push(v);
            }
        }
        let (fixed, on_board) = match order.state {
            OrderState::PickedUp => (holder, true),
            OrderState::Offered => (holder, false),
            OrderState::Accepted if order.pinned => (holder, false),
            OrderState::Accepted => {
                previous[j] = holder;
                // May move, but only to a courier taking new work.
                excluded.extend(not_working.iter().filter(|&&v| Some(v) != holder));
                (None, false)
            }
            _ => {
                required |= NEW_WORK;
                (None, false)
            }
        };
        if let Some(f) = fixed {
            excluded.retain(|&v| v != f);
            required = 0;
        }
        excluded.sort_unstable();
        excluded.dedup();
        jobs.push(Job {
            id: spec.order_id.clone(),
            pickup,
            delivery,
            size: size_vector(spec.size),
            required_skills: required,
            placed_at: Some(secs(at, spec.placed_at)),
            fixed_vehicle: fixed,
            on_board,
            excluded_vehicles: excluded,
        });
    }

    // The last round's routes, to start from.
    let job_of: HashMap<&str, usize> = orders
        .iter()
        .enumerate()
        .map(|(j, o)| (o.id(), j))
        .collect();
    let routes = courier_ids
        .iter()
        .map(|id| {
            region
                .planned
                .get(id.as_str())
                .into_iter()
                .flatten()
                .filter_map(|(order_id, pickup)| {
                    let job = *job_of.get(order_id.as_str())?;
                    Some(solver::StopRef {
                        job,
                        kind: if *pickup {
                            solver::StopKind::Pickup
                        } else {
                            solver::StopKind::Delivery
                        },
                    })
                })
                .collect()
        })
        .collect();

    let problem = Problem {
        // Filled off the async runtime (see `TravelModel::matrices`): on a road map this is the
        // heaviest step of a round's preparation.
        matrices: Vec::new(),
        jobs,
        vehicles,
        objective: Objective::Weighted(weights),
        trips: rules.trips,
        previous: Some(PreviousAssignment {
            vehicle_of_job: previous,
            routes,
        }),
    };
    Some(Snapshot {
        at,
        problem,
        couriers: courier_ids.into_iter().cloned().collect(),
        orders: orders.iter().map(|o| o.id().to_owned()).collect(),
        order_revs: orders
            .iter()
            .map(|o| region.orders.get(o.id()).map_or(0, |e| e.rev))
            .collect(),
        points: places.points,
        profiles: vehicle_profiles,
        matrix_profiles: profiles_used,
    })
}
