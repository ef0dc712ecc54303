//! The load held during a fault: couriers on session streams and kitchens placing orders over gRPC
//! and RabbitMQ, all in one region, all retrying through outages.

use std::{net::SocketAddr, time::Duration};

use dispatcher::domain::RegionKey;
use router::geo::LatLng;
use tokio::{sync::watch, task::JoinSet};

use crate::{
    courier::{self, CourierSpec},
    kitchen::{self, KitchenSpec},
    ledger::Ledger,
};

/// Where the clients are in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// New fixes and orders at the set rates; offers accepted.
    Load,
    /// Nothing new; what is unacknowledged is still re-sent until acknowledged.
    Drain,
    /// Give up.
    Stop,
}

/// How much load.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Load {
    pub(crate) couriers: usize,
    pub(crate) fix_every: Duration,
    /// Kitchens on gRPC and as many on RabbitMQ.
    pub(crate) kitchens: usize,
    pub(crate) order_every: Duration,
}

impl Load {
    /// Fixes per second, all couriers together.
    pub(crate) fn fixes_per_s(&self) -> f64 {
        self.couriers as f64 / self.fix_every.as_secs_f64()
    }

    /// Orders per second, all kitchens together.
    pub(crate) fn orders_per_s(&self) -> f64 {
        2.0 * self.kitchens as f64 / self.order_every.as_secs_f64()
    }
}

/// The running clients.
pub(crate) struct Clients {
    phase: watch::Sender<Phase>,
    tasks: JoinSet<()>,
}

/// Somewhere in Berlin, `dx` and `dy` metres from Alexanderplatz.
fn at(dx: f64, dy: f64) -> LatLng {
    LatLng::new(52.5219 + dy / 111_320.0, 13.4132 + dx / 67_800.0).expect("a valid point")
}

impl Clients {
    /// Starts every client of `load` against the service at `addr` and the broker at `amqp_url`.
    pub(crate) fn start(
        load: Load,
        region: &RegionKey,
        addr: SocketAddr,
        amqp_url: &str,
        ledger: &Ledger,
    ) -> Self {
        let (phase, watch) = watch::channel(Phase::Load);
        let mut tasks = JoinSet::new();
        for i in 0..load.couriers {
            let spec = CourierSpec {
                region: region.clone(),
                courier_id: format!("c{i}"),
                home: at(200.0 * i as f64, 0.0),
                fix_every: load.fix_every,
            };
            tasks.spawn(courier::run(spec, addr, ledger.clone(), watch.clone()));
        }
        for i in 0..load.kitchens {
            let spec = |name: String| KitchenSpec {
                region: region.clone(),
                kitchen_id: name,
                at: at(300.0 * i as f64, 500.0),
                order_every: load.order_every,
            };
            tasks.spawn(kitchen::grpc(
                spec(format!("kg{i}")),
                addr,
                ledger.clone(),
                watch.clone(),
            ));
            tasks.spawn(kitchen::amqp(
                spec(format!("ka{i}")),
                amqp_url.to_owned(),
                ledger.clone(),
                watch.clone(),
            ));
        }
        Self { phase, tasks }
    }

    /// Stops new work; clients keep re-sending what is unacknowledged.
    pub(crate) fn drain(&self) {
        self.phase.send_replace(Phase::Drain);
    }

    /// Waits up to `patience` for every client to finish draining, then stops the rest.
    pub(crate) async fn finish(mut self, patience: Duration) {
        let drained = tokio::time::timeout(patience, async {
            while let Some(joined) = self.tasks.join_next().await {
                joined.expect("a client task panicked");
            }
        })
        .await;
        if drained.is_err() {
            self.phase.send_replace(Phase::Stop);
            while let Some(joined) = self.tasks.join_next().await {
                joined.expect("a client task panicked");
            }
        }
    }
}
