//! The demo's figures at the end: the same measures as the MDRP replay (click-to-door, ready-to-pickup,
//! lateness, utilization, orders per bundle), computed from the service's own order records and what
//! the simulated couriers journaled.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::{
    domain::OrderState,
    fleet::{Journal, courier::CourierTally, quantile},
    world::RegionState,
};

/// The outcome of a demo run.
#[derive(Debug, Clone, Default)]
pub struct Kpis {
    /// Orders placed.
    pub placed: usize,
    /// Orders delivered.
    pub delivered: usize,
    /// Orders still open at the end.
    pub open: usize,
    /// Orders cancelled.
    pub cancelled: usize,
    /// Delivered after the promised window.
    pub late: usize,
    /// Mean minutes past the promise, over late deliveries.
    pub lateness_mean_min: f64,
    /// Click-to-door, minutes: mean and 90th percentile.
    pub click_to_door_min: (f64, f64),
    /// Ready-to-pickup, minutes: mean and 90th percentile.
    pub ready_to_pickup_min: (f64, f64),
    /// Share of on-shift time couriers had work: mean and 10th percentile over couriers.
    pub utilization: (f64, f64),
    /// Orders collected per pickup stop.
    pub orders_per_bundle: f64,
    /// Order-to-offer, wall seconds: median and 90th percentile.
    pub offer_delay_s: (f64, f64),
    /// Courier app tallies summed.
    pub couriers: CourierTally,
}

fn minutes(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 60_000.0
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

impl Kpis {
    /// Computes the figures from the region's orders, the couriers' journal and tallies.
    pub fn compute(
        region: &RegionState,
        journal: &Journal,
        tallies: &[CourierTally],
        offer_delays: &mut [f64],
    ) -> Self {
        let mut out = Self::default();
        let picked: HashMap<&str, DateTime<Utc>> = journal
            .pickups
            .iter()
            .flat_map(|(_, orders, at)| orders.iter().map(move |o| (o.as_str(), *at)))
            .collect();
        let (mut c2d, mut rtp, mut late) = (Vec::new(), Vec::new(), Vec::new());
        for entry in region.orders.values() {
            let o = &entry.order;
            out.placed += 1;
            match o.state {
                OrderState::Delivered => {
                    out.delivered += 1;
                    c2d.push(minutes(o.spec.placed_at, o.state_changed_at));
                    if o.state_changed_at > o.spec.promised_end {
                        late.push(minutes(o.spec.promised_end, o.state_changed_at));
                    }
                    if let Some(&at) = picked.get(o.id()) {
                        rtp.push(minutes(o.spec.ready_at, at).max(0.0));
                    }
                }
                OrderState::Cancelled => out.cancelled += 1,
                s if !s.is_final() => out.open += 1,
                _ => {}
            }
        }
        out.late = late.len();
        out.lateness_mean_min = mean(&late);
        out.click_to_door_min = (mean(&c2d), quantile(&mut c2d, 0.9));
        out.ready_to_pickup_min = (mean(&rtp), quantile(&mut rtp, 0.9));
        let mut used: Vec<f64> = tallies
            .iter()
            .filter(|t| t.on_shift_s > 0.0)
            .map(|t| t.busy_s / t.on_shift_s)
            .collect();
        out.utilization = (mean(&used), quantile(&mut used, 0.1));
        let collected: usize = journal.pickups.iter().map(|(_, o, _)| o.len()).sum();
        out.orders_per_bundle = collected as f64 / journal.pickups.len().max(1) as f64;
        out.offer_delay_s = (quantile(offer_delays, 0.5), quantile(offer_delays, 0.9));
        for t in tallies {
            out.couriers.offers += t.offers;
            out.couriers.accepted += t.accepted;
            out.couriers.declined += t.declined;
            out.couriers.delivered += t.delivered;
            out.couriers.on_shift_s += t.on_shift_s;
            out.couriers.busy_s += t.busy_s;
        }
        out
    }

    /// The figures as (label, value) rows, for the table and the report.
    pub fn rows(&self) -> Vec<(String, String)> {
        let pair = |(a, b): (f64, f64), unit: &str, second: &str| {
            format!("{a:.1} {unit} ({second} {b:.1} {unit})")
        };
        vec![
            ("orders placed".into(), self.placed.to_string()),
            ("delivered".into(), self.delivered.to_string()),
            ("still open".into(), self.open.to_string()),
            ("cancelled".into(), self.cancelled.to_string()),
            (
                "delivered late".into(),
                format!(
                    "{} ({:.1} min late on average)",
                    self.late,
                    if self.late == 0 {
                        0.0
                    } else {
                        self.lateness_mean_min
                    }
                ),
            ),
            (
                "click-to-door".into(),
                pair(self.click_to_door_min, "min", "p90"),
            ),
            (
                "ready-to-pickup".into(),
                pair(self.ready_to_pickup_min, "min", "p90"),
            ),
            (
                "courier utilization".into(),
                format!(
                    "{:.0} % (p10 {:.0} %)",
                    100.0 * self.utilization.0,
                    100.0 * self.utilization.1
                ),
            ),
            (
                "orders per bundle".into(),
                format!("{:.2}", self.orders_per_bundle),
            ),
            (
                "order to offer (wall clock)".into(),
                format!(
                    "median {:.2} s, p90 {:.2} s",
                    self.offer_delay_s.0, self.offer_delay_s.1
                ),
            ),
            (
                "offers".into(),
                format!(
                    "{} received, {} accepted, {} declined",
                    self.couriers.offers, self.couriers.accepted, self.couriers.declined
                ),
            ),
        ]
    }
}

impl std::fmt::Display for Kpis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows = self.rows();
        let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
        writeln!(f, "outcome")?;
        for (label, value) in rows {
            writeln!(f, "  {label:<width$}  {value}")?;
        }
        Ok(())
    }
}
