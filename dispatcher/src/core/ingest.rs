//! Inbound events (from RabbitMQ, or the in-process bus of the embedded default), applied once each.

use proto::dispatch::v1::{Envelope, envelope::Payload};

use super::{Core, CoreError};
use crate::{
    domain::{
        Actor, RegionKey, ValidationError,
        check::{Horizon, MAX_NOTE_BYTES},
        convert,
    },
    store::{CourierSeq, MessageKey},
};

/// What became of an inbound event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Its effect is durable now.
    Applied,
    /// It had been applied before (a redelivery or a retry); nothing changed.
    Duplicate,
}

impl Core {
    /// Applies one inbound envelope. Errors that are not [transient](CoreError::is_transient) mean
    /// the message can never be applied: the caller dead-letters it with the error as the reason.
    pub async fn ingest(&self, envelope: &Envelope) -> Result<IngestOutcome, CoreError> {
        let scope = envelope
            .scope
            .as_ref()
            .ok_or_else(|| ValidationError::new("scope", "is required"))?;
        let region = RegionKey::new(&scope.tenant_id, &scope.region_id);
        if !self.serves(&region) {
            return Err(CoreError::UnknownRegion(region.to_string()));
        }
        convert::check_id("event_id", &envelope.event_id)?;
        convert::check_text("source", &envelope.source, 64)?;
        let now = self.now();
        convert::optional_time_near(
            "occurred_at",
            envelope.occurred_at.as_ref(),
            Horizon::OCCURRED,
            now,
        )?;
        let message = Some(MessageKey {
            tenant_id: region.tenant_id.clone(),
            message_id: envelope.event_id.clone(),
        });
        let actor = Actor::Kitchen(if envelope.source.is_empty() {
            "unknown".into()
        } else {
            envelope.source.clone()
        });
        let payload = envelope
            .payload
            .as_ref()
            .ok_or_else(|| ValidationError::new("payload", "is required"))?;
        let applied = match payload {
            Payload::OrderPlaced(placed) => {
                let spec = convert::order_spec_from_proto(placed.order.as_ref(), now)?;
                let actor = Actor::Kitchen(spec.kitchen_id.clone());
                let (_, existed) = self.create_order(&region, spec, actor, message).await?;
                !existed
            }
            Payload::ReadyTimeRevised(revised) => {
                convert::check_id("order_id", &revised.order_id)?;
                let (ready_at, _) = convert::ready_revision_from_proto(
                    revised.ready_at.as_ref(),
                    revised.revision,
                    now,
                )?;
                let (_, applied) = self
                    .revise_ready_time(
                        &region,
                        &revised.order_id,
                        ready_at,
                        revised.revision,
                        actor,
                        message,
                    )
                    .await?;
                applied
            }
            Payload::OrderCancelled(cancelled) => {
                convert::check_id("order_id", &cancelled.order_id)?;
                convert::check_text("reason", &cancelled.reason, MAX_NOTE_BYTES)?;
                self.cancel_order(
                    &region,
                    &cancelled.order_id,
                    &cancelled.reason,
                    actor,
                    message,
                )
                .await?;
                true
            }
            Payload::PositionBatch(batch) => {
                convert::check_id("position_batch.courier_id", &batch.courier_id)?;
                let fixes = convert::fixes_from_proto("position_batch.fixes", &batch.fixes, now)?;
                self.ingest_positions(&region, &batch.courier_id, &fixes, None)
                    .await?;
                true
            }
            Payload::AssignmentMade(_)
            | Payload::AssignmentChanged(_)
            | Payload::OrderLifecycle(_) => {
                return Err(ValidationError::new(
                    "payload",
                    "is an outbound event kind; inbound queues take orders and positions only",
                )
                .into());
            }
        };
        Ok(if applied {
            IngestOutcome::Applied
        } else {
            IngestOutcome::Duplicate
        })
    }

    /// Stores fixes relayed for a courier (not over its own stream) and moves its last position.
    pub async fn ingest_positions(
        &self,
        region: &RegionKey,
        courier_id: &str,
        fixes: &[crate::domain::Fix],
        seq: Option<CourierSeq>,
    ) -> Result<(), CoreError> {
        let rows = fixes
            .iter()
            .map(|f| super::position_row(region, courier_id, f))
            .collect();
        self.positions.write(rows, seq).await?;
        if let Some(newest) = fixes.last().copied() {
            self.note_fix(region, courier_id, newest);
        }
        Ok(())
    }
}
