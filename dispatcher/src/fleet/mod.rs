//! A simulated fleet and order stream that talk to the service over real gRPC, the way courier apps
//! and a kitchen system do: the demo's city, the end-to-end tests' traffic, and the
//! order-to-offer benchmark's load.

pub mod courier;
mod kitchen;

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::Instant,
};

use chrono::{DateTime, Utc};
use proto::dispatch::v1 as pb;

pub use kitchen::{OrderStream, Restaurant, offset, place_order};

/// Shared notes of what the simulated clients did: printed lines and order-to-offer times.
#[derive(Debug, Default)]
pub struct Events {
    verbose: bool,
    created: Mutex<HashMap<String, Instant>>,
    offered: Mutex<HashMap<String, f64>>,
    lines: Mutex<u64>,
    journal: Mutex<Journal>,
}

/// What the simulated couriers did, in simulated time, for the demo's figures and report.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    /// Each pickup stop worked: courier, the orders collected there together, when.
    pub pickups: Vec<(String, Vec<String>, DateTime<Utc>)>,
    /// Each courier's track, by courier id.
    pub tracks: HashMap<String, Track>,
}

/// One courier's vehicle (by profile name) and the fixes it sent.
#[derive(Debug, Clone, Default)]
pub struct Track {
    /// The vehicle's profile name.
    pub vehicle: String,
    /// When and where.
    pub fixes: Vec<(DateTime<Utc>, router::geo::LatLng)>,
}

impl Events {
    /// Notes that print each line when `verbose`.
    pub fn new(verbose: bool) -> Self {
        Self {
            verbose,
            ..Self::default()
        }
    }

    /// Prints one line of what happens (when verbose).
    pub fn say(&self, line: String) {
        *self.lines.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        if self.verbose {
            println!("  {line}");
        }
    }

    /// An order was submitted now.
    pub fn order_created(&self, order_id: &str) {
        self.created
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(order_id.to_owned(), Instant::now());
    }

    /// An offer reached a courier app.
    pub fn offer_seen(&self, offer: &pb::Offer, _at: DateTime<Utc>) {
        let created = self.created.lock().unwrap_or_else(PoisonError::into_inner);
        let mut offered = self.offered.lock().unwrap_or_else(PoisonError::into_inner);
        for order in &offer.orders {
            if let Some(t) = created.get(&order.order_id) {
                offered
                    .entry(order.order_id.clone())
                    .or_insert_with(|| t.elapsed().as_secs_f64());
            }
        }
    }

    /// A courier collected `orders` together at one stop at `at`.
    pub fn picked_up(&self, courier_id: &str, orders: &[String], at: DateTime<Utc>) {
        self.journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pickups
            .push((courier_id.to_owned(), orders.to_vec(), at));
    }

    /// A courier on `vehicle` sent a fix.
    pub fn fix(&self, courier_id: &str, vehicle: &str, at: DateTime<Utc>, p: router::geo::LatLng) {
        self.journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .tracks
            .entry(courier_id.to_owned())
            .or_insert_with(|| Track {
                vehicle: vehicle.to_owned(),
                fixes: Vec::new(),
            })
            .fixes
            .push((at, p));
    }

    /// Everything journaled so far.
    pub fn journal(&self) -> Journal {
        self.journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Seconds from submission to the first offer of each of `orders` that was offered.
    pub fn offer_delays_of(&self, orders: &[String]) -> Vec<f64> {
        let offered = self.offered.lock().unwrap_or_else(PoisonError::into_inner);
        orders
            .iter()
            .filter_map(|id| offered.get(id).copied())
            .collect()
    }

    /// Seconds from submission to the first offer, per order offered so far.
    pub fn offer_delays(&self) -> Vec<f64> {
        self.offered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .copied()
            .collect()
    }
}

/// The value at quantile `q` (0..=1) of `values` (sorted in place); `NaN` if empty.
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let rank = (q.clamp(0.0, 1.0) * (values.len() - 1) as f64).round() as usize;
    values[rank]
}
