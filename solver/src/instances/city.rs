//! Synthetic dispatch snapshots: a city's open orders and couriers at one instant, for benchmarks and
//! simulations at the scale the live system plans at (hundreds of couriers, a thousand orders).
//!
//! The shape follows meal delivery as in the Grubhub instances (`mdrp/MODEL.md`): restaurants
//! bunched in a few districts, customers spread more widely around the centre, orders placed over
//! the last twenty minutes with eight to twenty minutes of preparation and a promise about forty
//! minutes after the click, couriers scattered near the districts, some already carrying an order.
//! Times are seconds from the snapshot (0 = now, so recent clicks are negative); distances are metres
//! on a haversine matrix at a fixed city speed. Everything is drawn from `seed`, so a snapshot is
//! the same on every machine.

use crate::{
    Job, Objective, Problem, SolverError, Stop, TimeWindow, TripRule, Vehicle, Weights,
    matrix::TravelMatrix,
};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct CityShape {
    /// Couriers on shift.
    pub couriers: usize,
    /// Open orders (not yet delivered), including those already on board.
    pub orders: usize,
    /// Restaurants the orders come from.
    pub restaurants: usize,
    /// Share of couriers already carrying one order.
    pub on_board_share: f64,
    /// Travel speed in metres per second (door to door, parking included).
    pub speed: f64,
    /// Seed of every random draw.
    pub seed: u64,
}

impl Default for CityShape {
    /// The dispatch benchmark's snapshot: 300 couriers and 1,000 open orders from 150 restaurants.
    fn default() -> Self {
        Self {
            couriers: 300,
            orders: 1_000,
            restaurants: 150,
            on_board_share: 0.2,
            speed: 5.0,
            seed: 1,
        }
    }
}

/// The city centre (lat, lng), in degrees; only the scale of the map matters.
const CENTRE: (f64, f64) = (40.75, -73.98);
/// Metres per degree of latitude.
const METRES_PER_DEGREE: f64 = 111_320.0;
/// Restaurants sit within this distance (standard deviation, metres) of their district's centre.
const DISTRICT_SPREAD_M: f64 = 600.0;
/// Customers live within this distance (standard deviation, metres) of the city centre.
const CUSTOMER_SPREAD_M: f64 = 2_500.0;
/// Pickup and drop-off service times, seconds.
const PICKUP_SERVICE_S: f64 = 120.0;
const DROP_OFF_SERVICE_S: f64 = 180.0;
/// Orders a courier's bag holds at once.
const BAG_CAPACITY: i32 = 4;

/// Builds the snapshot described by `shape`, with the dispatch objective's default weights.
pub fn snapshot(shape: &CityShape) -> Result<Problem, SolverError> {
    if shape.restaurants == 0 || shape.speed <= 0.0 || !(0.0..=1.0).contains(&shape.on_board_share)
    {
        return Err(SolverError::InvalidProblem(format!(
            "city shape needs restaurants, a positive speed and a share in 0..=1: {shape:?}"
        )));
    }
    let mut rng = fastrand::Rng::with_seed(shape.seed);
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut place = |p: (f64, f64)| {
        points.push(p);
        points.len() - 1
    };

    let districts: Vec<(f64, f64)> = (0..5)
        .map(|_| {
            offset(
                CENTRE,
                gaussian(&mut rng) * 2_000.0,
                gaussian(&mut rng) * 2_000.0,
            )
        })
        .collect();
    let restaurants: Vec<usize> = (0..shape.restaurants)
        .map(|_| {
            let d = districts[rng.usize(..districts.len())];
            place(offset(
                d,
                gaussian(&mut rng) * DISTRICT_SPREAD_M,
                gaussian(&mut rng) * DISTRICT_SPREAD_M,
            ))
        })
        .collect();

    let couriers_loaded = (shape.couriers as f64 * shape.on_board_share).round() as usize;
    let vehicles: Vec<Vehicle> = (0..shape.couriers)
        .map(|c| {
            let near = districts[rng.usize(..districts.len())];
            let at = place(offset(
                near,
                gaussian(&mut rng) * 1_500.0,
                gaussian(&mut rng) * 1_500.0,
            ));
            Vehicle {
                id: format!("courier-{c}"),
                profile: 0,
                start: at,
                start_time: 0.0,
                end: None,
                // Shifts end between one and four hours from now.
                shift_end: 3_600.0 * (1.0 + 3.0 * rng.f64()),
                latest_pickup: f64::INFINITY,
                capacity: [BAG_CAPACITY, BAG_CAPACITY],
                skills: 0,
            }
        })
        .collect();

    let jobs: Vec<Job> = (0..shape.orders)
        .map(|o| {
            let customer = place(offset(
                CENTRE,
                gaussian(&mut rng) * CUSTOMER_SPREAD_M,
                gaussian(&mut rng) * CUSTOMER_SPREAD_M,
            ));
            let placed_at = -1_200.0 * rng.f64();
            let ready = placed_at + 480.0 + 720.0 * rng.f64();
            let promise = placed_at + 2_400.0 + 600.0 * rng.f64();
            let delivery = Stop {
                location: customer,
                window: TimeWindow {
                    start: f64::NEG_INFINITY,
                    end: promise,
                    hard: false,
                },
                setup: 0.0,
                service: DROP_OFF_SERVICE_S,
            };
            // The first orders go to the loaded couriers, one each, already picked up.
            let (pickup, fixed_vehicle, on_board) = if o < couriers_loaded.min(shape.couriers) {
                (None, Some(o), true)
            } else {
                let kitchen = restaurants[rng.usize(..restaurants.len())];
                let pickup = Stop {
                    location: kitchen,
                    window: TimeWindow {
                        start: ready,
                        end: f64::INFINITY,
                        hard: true,
                    },
                    setup: 0.0,
                    service: PICKUP_SERVICE_S,
                };
                (Some(pickup), None, false)
            };
            Job {
                id: format!("order-{o}"),
                pickup,
                delivery,
                size: [1, 1],
                required_skills: 0,
                placed_at: Some(placed_at),
                fixed_vehicle,
                on_board,
                excluded_vehicles: Vec::new(),
            }
        })
        .collect();

    let matrices = vec![TravelMatrix::haversine(&points, shape.speed)?];
    Ok(Problem {
        matrices,
        jobs,
        vehicles,
        objective: Objective::Weighted(Weights::default()),
        previous: None,
        trips: TripRule::Free,
    })
}

/// `from` moved `north` and `east` metres.
fn offset(from: (f64, f64), north: f64, east: f64) -> (f64, f64) {
    let lat = from.0 + north / METRES_PER_DEGREE;
    let lng = from.1 + east / (METRES_PER_DEGREE * from.0.to_radians().cos());
    (lat, lng)
}

/// A standard normal draw (Box-Muller), clamped to three deviations so no place lands far outside
/// the city.
fn gaussian(rng: &mut fastrand::Rng) -> f64 {
    let u = rng.f64().max(f64::MIN_POSITIVE);
    let v = rng.f64();
    ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()).clamp(-3.0, 3.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_valid_and_the_same_for_a_seed() {
        let shape = CityShape {
            couriers: 20,
            orders: 60,
            restaurants: 10,
            ..CityShape::default()
        };
        let a = snapshot(&shape).expect("builds");
        a.validate().expect("valid");
        assert_eq!((a.vehicles.len(), a.jobs.len()), (20, 60));
        assert_eq!(a.jobs.iter().filter(|j| j.on_board).count(), 4);
        let b = snapshot(&shape).expect("builds");
        assert_eq!(a.jobs, b.jobs);
        assert_eq!(a.matrices, b.matrices);
    }

    #[test]
    fn a_shape_without_restaurants_is_refused() {
        let shape = CityShape {
            restaurants: 0,
            ..CityShape::default()
        };
        assert!(snapshot(&shape).is_err());
    }
}
