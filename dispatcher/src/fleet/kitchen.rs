//! A simulated kitchen system: restaurants around a centre placing orders over gRPC.

use chrono::{DateTime, TimeDelta, Utc};
use proto::dispatch::v1::{self as pb, kitchen_service_client::KitchenServiceClient};
use router::geo::LatLng;
use tonic::transport::Channel;

use crate::{
    auth::Bearer,
    domain::{
        RegionKey,
        convert::{latlng_to_proto, time_to_proto},
    },
};

/// A restaurant.
#[derive(Debug, Clone)]
pub struct Restaurant {
    /// Kitchen id.
    pub kitchen_id: String,
    /// Where.
    pub location: LatLng,
    /// Its typical preparation time, seconds: each order takes 60 % to 140 % of it.
    pub prep_s: u32,
}

impl Restaurant {
    /// A restaurant whose typical preparation time is drawn from 8 to 18 minutes.
    pub fn new(kitchen_id: String, location: LatLng, rng: &mut fastrand::Rng) -> Self {
        Self {
            kitchen_id,
            location,
            prep_s: 480 + rng.u32(0..600),
        }
    }
}

/// Where and how orders arise.
#[derive(Debug, Clone)]
pub struct OrderStream {
    /// Region of the orders.
    pub region: RegionKey,
    /// The city centre.
    pub centre: LatLng,
    /// Customers live within this radius of the centre, metres.
    pub radius_m: f64,
    /// The restaurants.
    pub restaurants: Vec<Restaurant>,
    /// Where customers are (points on the road map); empty: anywhere within the radius.
    pub customers: Vec<LatLng>,
    /// Seed.
    pub seed: u64,
}

/// A point `dx` metres east and `dy` metres north of `p`.
pub fn offset(p: LatLng, dx: f64, dy: f64) -> LatLng {
    let lat = p.lat() + dy / 111_320.0;
    let lng = p.lng() + dx / (111_320.0 * p.lat().to_radians().cos().max(0.01));
    LatLng::new(lat.clamp(-89.9, 89.9), lng.clamp(-179.9, 179.9)).unwrap_or(p)
}

impl OrderStream {
    /// `count` restaurants in a ring of districts around `centre`.
    pub fn restaurants_around(
        centre: LatLng,
        count: usize,
        rng: &mut fastrand::Rng,
    ) -> Vec<Restaurant> {
        (0..count)
            .map(|i| {
                let angle = rng.f64() * std::f64::consts::TAU;
                let r = 300.0 + rng.f64() * 1_500.0;
                let location = offset(centre, r * angle.cos(), r * angle.sin());
                Restaurant::new(format!("kitchen-{i}"), location, rng)
            })
            .collect()
    }

    /// The `n`-th order of the stream, placed at `now`.
    pub fn order(&self, n: u64, now: DateTime<Utc>) -> pb::OrderSpec {
        let mut rng = fastrand::Rng::with_seed(self.seed.wrapping_mul(1_000_003).wrapping_add(n));
        let restaurant = &self.restaurants[rng.usize(..self.restaurants.len().max(1))];
        let dropoff = if self.customers.is_empty() {
            let angle = rng.f64() * std::f64::consts::TAU;
            let r = self.radius_m * rng.f64().sqrt();
            offset(self.centre, r * angle.cos(), r * angle.sin())
        } else {
            self.customers[rng.usize(..self.customers.len())]
        };
        let prep = TimeDelta::seconds(
            (f64::from(restaurant.prep_s) * (0.6 + 0.8 * rng.f64())).round() as i64,
        );
        pb::OrderSpec {
            order_id: format!("order-{}-{n}", self.seed),
            kitchen_id: restaurant.kitchen_id.clone(),
            placed_at: Some(time_to_proto(now)),
            pickup: Some(pb::Place {
                location: Some(latlng_to_proto(restaurant.location)),
                address: format!("{} counter", restaurant.kitchen_id),
                instructions: String::new(),
            }),
            ready_at: Some(time_to_proto(now + prep)),
            pickup_service_s: 120,
            dropoff: Some(pb::Place {
                location: Some(latlng_to_proto(dropoff)),
                address: format!("customer {n}"),
                instructions: String::new(),
            }),
            promised: Some(pb::TimeWindow {
                start: Some(time_to_proto(now)),
                end: Some(time_to_proto(now + TimeDelta::minutes(45))),
            }),
            dropoff_service_s: 180,
            size: Some(pb::Load {
                weight_grams: 1_500,
                volume_ml: 4_000,
            }),
            allowed_vehicles: Vec::new(),
            required_equipment: Vec::new(),
            hard_window: false,
        }
    }
}

/// Submits one order over gRPC, as the kitchen whose token is `kitchen`.
pub async fn place_order(
    client: &mut KitchenServiceClient<Channel>,
    kitchen: &Bearer,
    region: &RegionKey,
    spec: pb::OrderSpec,
) -> Result<pb::CreateOrderResponse, tonic::Status> {
    let mut request = tonic::Request::new(pb::CreateOrderRequest {
        scope: Some(region.to_scope()),
        order: Some(spec),
    });
    kitchen.authorize(&mut request);
    Ok(client.create_order(request).await?.into_inner())
}
