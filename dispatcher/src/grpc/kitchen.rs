//! `KitchenService`: the kitchen planning system submits, revises and cancels orders, and watches
//! when couriers will arrive at its pickups.

use std::sync::Arc;

use proto::dispatch::v1::{self as pb, kitchen_service_server::KitchenService};
use tokio::sync::{broadcast::error::RecvError, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::{
    InFlight, Stopping,
    limits::{StreamSlot, StreamSlots},
    scope::{MAX_REASON_BYTES, invalid, region_of, required_id},
};
use crate::{
    auth::{Caller, caller_of},
    core::{Core, EtaUpdate, txn::pickup_eta},
    domain::{
        Actor, RegionKey,
        convert::{check_text, order_spec_from_proto, ready_revision_from_proto},
    },
};

/// Pickup ETAs buffered per watch before the sender waits for the kitchen to read.
const WATCH_BUFFER: usize = 256;

/// The metrics' name for this source of inbound messages.
const SOURCE: &str = "grpc";

/// The kitchen planning system's service.
#[derive(Debug, Clone)]
pub(crate) struct KitchenApi {
    core: Arc<Core>,
    stopping: Stopping,
    in_flight: InFlight,
    slots: StreamSlots,
}

impl KitchenApi {
    /// The service on `core`; ETA watches end when `stopping` fires, and each takes one of
    /// `slots` while it runs. Watches and changes run on `in_flight`.
    pub(crate) fn new(
        core: Arc<Core>,
        stopping: Stopping,
        in_flight: InFlight,
        slots: StreamSlots,
    ) -> Self {
        Self {
            core,
            stopping,
            in_flight,
            slots,
        }
    }
}

#[tonic::async_trait]
impl KitchenService for KitchenApi {
    async fn create_order(
        &self,
        request: Request<pb::CreateOrderRequest>,
    ) -> Result<Response<pb::CreateOrderResponse>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let region = region_of(request.scope.as_ref(), &self.core)?;
        let spec =
            order_spec_from_proto(request.order.as_ref(), self.core.now()).map_err(invalid)?;
        caller.may_act_for_kitchen(&region.tenant_id, &spec.kitchen_id, "create this order")?;
        self.core.metrics().message_received(SOURCE, "order_placed");
        let actor = Actor::Kitchen(spec.kitchen_id.clone());
        let core = self.core.clone();
        let (order, already_existed) = self
            .in_flight
            .run_to_completion(async move { core.create_order(&region, spec, actor, None).await })
            .await?;
        if already_existed {
            self.core.metrics().message_duplicate(SOURCE);
        }
        Ok(Response::new(pb::CreateOrderResponse {
            status: Some(order.to_proto()),
            already_existed,
        }))
    }

    async fn revise_ready_time(
        &self,
        request: Request<pb::ReviseReadyTimeRequest>,
    ) -> Result<Response<pb::ReviseReadyTimeResponse>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let region = region_of(request.scope.as_ref(), &self.core)?;
        required_id("order_id", &request.order_id)?;
        let (ready_at, _) =
            ready_revision_from_proto(request.ready_at.as_ref(), request.revision, self.core.now())
                .map_err(invalid)?;
        let actor = owning_kitchen(
            &self.core,
            &caller,
            &region,
            &request.order_id,
            "revise this order",
        )
        .await?;
        self.core
            .metrics()
            .message_received(SOURCE, "ready_time_revised");
        let core = self.core.clone();
        let (order, applied) = self
            .in_flight
            .run_to_completion(async move {
                core.revise_ready_time(
                    &region,
                    &request.order_id,
                    ready_at,
                    request.revision,
                    actor,
                    None,
                )
                .await
            })
            .await?;
        Ok(Response::new(pb::ReviseReadyTimeResponse {
            applied,
            status: Some(order.to_proto()),
        }))
    }

    async fn cancel_order(
        &self,
        request: Request<pb::CancelOrderRequest>,
    ) -> Result<Response<pb::CancelOrderResponse>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let region = region_of(request.scope.as_ref(), &self.core)?;
        required_id("order_id", &request.order_id)?;
        check_text("reason", &request.reason, MAX_REASON_BYTES).map_err(invalid)?;
        let actor = owning_kitchen(
            &self.core,
            &caller,
            &region,
            &request.order_id,
            "cancel this order",
        )
        .await?;
        self.core
            .metrics()
            .message_received(SOURCE, "order_cancelled");
        let core = self.core.clone();
        let order = self
            .in_flight
            .run_to_completion(async move {
                core.cancel_order(&region, &request.order_id, &request.reason, actor, None)
                    .await
            })
            .await?;
        Ok(Response::new(pb::CancelOrderResponse {
            status: Some(order.to_proto()),
        }))
    }

    type WatchPickupEtasStream = ReceiverStream<Result<pb::PickupEta, Status>>;

    async fn watch_pickup_etas(
        &self,
        request: Request<pb::WatchPickupEtasRequest>,
    ) -> Result<Response<Self::WatchPickupEtasStream>, Status> {
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let region = region_of(request.scope.as_ref(), &self.core)?;
        required_id("kitchen_id", &request.kitchen_id)?;
        caller.may_act_for_kitchen(
            &region.tenant_id,
            &request.kitchen_id,
            "watch this kitchen's pickups",
        )?;
        let slot = self.slots.take("pickup eta watch")?;
        // Subscribed before the snapshot is taken, so no change falls between the two.
        let updates = self.core.subscribe_etas();
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        self.in_flight.spawn(
            EtaWatch {
                core: self.core.clone(),
                region,
                kitchen_id: request.kitchen_id,
                tx,
                stopping: self.stopping.clone(),
                _slot: slot,
            }
            .run(updates),
        );
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// The kitchen that prepares an order, as the actor of a change `caller` asks for, once the
/// caller is found to act for it.
///
/// An order not held here is left to the core to refuse (NOT_FOUND), with "unknown" as its
/// kitchen. An order's kitchen never changes, so checking before the change is as good as during.
async fn owning_kitchen(
    core: &Core,
    caller: &Caller,
    region: &RegionKey,
    order_id: &str,
    action: &'static str,
) -> Result<Actor, Status> {
    let kitchen_id = {
        let world = core.world().await;
        world
            .region(region)
            .and_then(|r| r.order(order_id))
            .map(|o| o.spec.kitchen_id.clone())
    };
    match kitchen_id {
        Some(kitchen_id) => {
            caller.may_act_for_kitchen(&region.tenant_id, &kitchen_id, action)?;
            Ok(Actor::Kitchen(kitchen_id))
        }
        None => {
            caller.may_act_for_kitchen(&region.tenant_id, &caller.subject, action)?;
            Ok(Actor::Kitchen("unknown".to_owned()))
        }
    }
}

/// One kitchen's pickup-ETA watch: a snapshot of its open orders, then every change.
struct EtaWatch {
    core: Arc<Core>,
    region: RegionKey,
    kitchen_id: String,
    tx: mpsc::Sender<Result<pb::PickupEta, Status>>,
    stopping: Stopping,
    /// Freed when the watch ends.
    _slot: StreamSlot,
}

impl EtaWatch {
    async fn run(mut self, mut updates: tokio::sync::broadcast::Receiver<EtaUpdate>) {
        if !self.send_snapshot().await {
            return;
        }
        loop {
            let update = tokio::select! {
                update = updates.recv() => update,
                () = self.tx.closed() => return,
                () = self.stopping.wait() => {
                    self.end_for_shutdown();
                    return;
                }
            };
            match update {
                Ok(update)
                    if update.region == self.region && update.kitchen_id == self.kitchen_id =>
                {
                    if !self.send(update.eta).await {
                        return;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(
                        region = %self.region,
                        kitchen_id = %self.kitchen_id,
                        missed,
                        "pickup eta watch fell behind; sending the full snapshot again"
                    );
                    if !self.send_snapshot().await {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
    }

    /// Sends the current ETA of every open order of the kitchen; false if the watch is over.
    async fn send_snapshot(&mut self) -> bool {
        let snapshot = self.snapshot().await;
        for eta in snapshot {
            if !self.send(eta).await {
                return false;
            }
        }
        true
    }

    /// The ETAs of the kitchen's open orders, taken with the world locked only while copying.
    async fn snapshot(&self) -> Vec<pb::PickupEta> {
        let now = self.core.now();
        let world = self.core.world().await;
        let Some(region) = world.region(&self.region) else {
            return Vec::new();
        };
        let mut etas: Vec<_> = region
            .open_orders()
            .filter(|order| order.spec.kitchen_id == self.kitchen_id)
            .map(|order| {
                let courier = order
                    .courier_id
                    .as_ref()
                    .and_then(|id| region.couriers.get(id))
                    .map(|entry| &entry.courier);
                pickup_eta(order, courier, now)
            })
            .collect();
        drop(world);
        etas.sort_by(|a, b| a.order_id.cmp(&b.order_id));
        etas
    }

    /// Sends one ETA, waiting while the kitchen reads slowly; false if the watch is over.
    async fn send(&mut self, eta: pb::PickupEta) -> bool {
        tokio::select! {
            sent = self.tx.send(Ok(eta)) => sent.is_ok(),
            () = self.stopping.wait() => {
                self.end_for_shutdown();
                false
            }
        }
    }

    /// Ends the stream with `UNAVAILABLE`, so the kitchen watches again after the restart.
    fn end_for_shutdown(&self) {
        // A full buffer means the kitchen is not reading; the stream then just ends.
        let _ = self.tx.try_send(Err(Status::unavailable(
            "the server is shutting down; watch again",
        )));
    }
}
