//! Receiving envelopes from a queue. A message that cannot be decoded or validated is republished to
//! the dead-letter exchange with the reason in a header, then acknowledged: it is reported and kept,
//! never silently dropped, and it does not block the queue. A good message is handed to the caller,
//! who acknowledges it only once its effect is durable.

use futures::StreamExt as _;
use lapin::{
    BasicProperties, Channel, Connection, Consumer,
    message::Delivery,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
        ConfirmSelectOptions,
    },
    types::{AMQPValue, FieldTable},
};
use prost::Message as _;
use proto::dispatch::v1::Envelope;

use super::{BusError, TenantSource, routing, tenant::user_belongs_to_tenant, topology};

/// The longest event id accepted, in bytes.
pub const MAX_EVENT_ID_BYTES: usize = 128;

/// The largest message body accepted, in bytes, checked before decoding. The largest valid
/// envelope, a batch of 1000 fixes, is about 60 KiB; an order with every text at its limit is
/// under 8 KiB.
pub const MAX_ENVELOPE_BYTES: usize = 256 * 1024;

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// The content type does not name the envelope schema.
    #[error("content type {0:?} is not {ct}", ct = proto::ENVELOPE_CONTENT_TYPE)]
    WrongContentType(String),
    /// The body is larger than [`MAX_ENVELOPE_BYTES`]; it is not decoded at all.
    #[error("body: {0} bytes is more than the limit of {MAX_ENVELOPE_BYTES}")]
    TooLarge(usize),
    /// The body is not a valid protobuf envelope.
    #[error("undecodable envelope: {0}")]
    Undecodable(String),
    /// `event_id` is empty or longer than [`MAX_EVENT_ID_BYTES`].
    #[error("event_id must be 1 to {MAX_EVENT_ID_BYTES} bytes, got {0}")]
    BadEventId(usize),
    /// `scope.tenant_id` or `scope.region_id` is missing or empty.
    #[error("scope with tenant_id and region_id is required")]
    MissingScope,
    /// The payload is absent or of a kind this version does not know.
    #[error("payload: none of a known kind")]
    NoPayload,
    /// The routing key would exceed the AMQP limit.
    #[error("routing key longer than {} bytes", routing::MAX_ROUTING_KEY_BYTES)]
    RoutingKeyTooLong,
    /// The routing key does not match the envelope's tenant, region and kind.
    #[error("routing key {actual:?} does not match the envelope ({expected:?})")]
    RoutingKeyMismatch {
        /// The key the message arrived with.
        actual: String,
        /// The key its content calls for.
        expected: String,
    },
    /// `BUS_TENANT_SOURCE=user-id` and the AMQP `user_id` property is missing or belongs to
    /// another tenant than the envelope's.
    #[error("user_id: {0}")]
    TenantNotAuthenticated(String),
    /// The content failed a domain check made by the consumer.
    #[error("invalid: {0}")]
    Invalid(String),
}

/// The parts of a valid envelope that route it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked<'a> {
    /// Tenant of the event.
    pub tenant_id: &'a str,
    /// Region of the event.
    pub region_id: &'a str,
    /// The payload's kind, as in the routing key.
    pub kind: &'static str,
}

/// Checks what every envelope must have: an event id, a scope and a known payload.
pub fn validate(envelope: &Envelope) -> Result<Checked<'_>, RejectReason> {
    let id_len = envelope.event_id.len();
    if id_len == 0 || id_len > MAX_EVENT_ID_BYTES {
        return Err(RejectReason::BadEventId(id_len));
    }
    let scope = envelope.scope.as_ref().ok_or(RejectReason::MissingScope)?;
    if scope.tenant_id.is_empty() || scope.region_id.is_empty() {
        return Err(RejectReason::MissingScope);
    }
    let kind = proto::routing_kind(envelope).ok_or(RejectReason::NoPayload)?;
    Ok(Checked {
        tenant_id: &scope.tenant_id,
        region_id: &scope.region_id,
        kind,
    })
}

/// Decodes and validates one delivery, authenticating its tenant as `source` says.
pub fn decode(delivery: &Delivery, source: TenantSource) -> Result<Envelope, RejectReason> {
    let properties = &delivery.properties;
    decode_parts(
        properties
            .content_type()
            .as_ref()
            .map(|ct| ct.as_str())
            .unwrap_or_default(),
        delivery.routing_key.as_str(),
        properties.user_id().as_ref().map(|u| u.as_str()),
        &delivery.data,
        source,
    )
}

/// [`decode`] on the parts of a delivery it reads: the content type, the routing key, the AMQP
/// `user_id` property (which the broker has checked against the publishing connection's user)
/// and the body.
pub fn decode_parts(
    content_type: &str,
    routing_key: &str,
    user_id: Option<&str>,
    body: &[u8],
    source: TenantSource,
) -> Result<Envelope, RejectReason> {
    if content_type != proto::ENVELOPE_CONTENT_TYPE {
        return Err(RejectReason::WrongContentType(content_type.to_owned()));
    }
    // Before decoding, so a huge body costs no allocation beyond the broker's own.
    if body.len() > MAX_ENVELOPE_BYTES {
        return Err(RejectReason::TooLarge(body.len()));
    }
    let envelope =
        Envelope::decode(body).map_err(|error| RejectReason::Undecodable(error.to_string()))?;
    let checked = validate(&envelope)?;
    let expected = routing::routing_key(checked.tenant_id, checked.region_id, checked.kind)
        .ok_or(RejectReason::RoutingKeyTooLong)?;
    if routing_key != expected {
        return Err(RejectReason::RoutingKeyMismatch {
            actual: routing_key.to_owned(),
            expected,
        });
    }
    if source == TenantSource::UserId {
        match user_id {
            None => {
                return Err(RejectReason::TenantNotAuthenticated(
                    "is required (BUS_TENANT_SOURCE=user-id)".to_owned(),
                ));
            }
            Some(user) if !user_belongs_to_tenant(user, checked.tenant_id) => {
                return Err(RejectReason::TenantNotAuthenticated(format!(
                    "broker user {user:?} may not publish for tenant {:?}",
                    checked.tenant_id
                )));
            }
            Some(_) => {}
        }
    }
    Ok(envelope)
}

/// A valid envelope waiting to be acknowledged.
#[derive(Debug)]
pub struct InboundMessage {
    /// The decoded event.
    pub envelope: Envelope,
    delivery: Delivery,
}

impl InboundMessage {
    /// True if the broker delivered this message before (it may already have been applied).
    pub fn redelivered(&self) -> bool {
        self.delivery.redelivered
    }

    /// Acknowledges the message: call only after its effect is durable.
    pub async fn ack(self) -> Result<(), BusError> {
        self.delivery.ack(BasicAckOptions::default()).await?;
        Ok(())
    }
}

/// A message that was moved to the dead-letter exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLettered {
    /// Why.
    pub reason: RejectReason,
    /// The routing key it arrived with.
    pub routing_key: String,
    /// Its AMQP message id, if it had one.
    pub message_id: Option<String>,
}

/// What [`InboundQueue::next`] yields.
#[derive(Debug)]
pub enum Received {
    /// A valid envelope for the caller to apply and then acknowledge.
    Message(Box<InboundMessage>),
    /// A poison message, already dead-lettered and acknowledged.
    DeadLettered(DeadLettered),
}

/// A consumer on one queue with an explicit prefetch.
#[derive(Debug)]
pub struct InboundQueue {
    channel: Channel,
    consumer: Consumer,
    queue: String,
    tenant_source: TenantSource,
}

impl InboundQueue {
    /// Starts consuming `queue` with at most `prefetch` unacknowledged messages in flight.
    pub async fn open(
        connection: &Connection,
        queue: &str,
        consumer_tag: &str,
        prefetch: u16,
    ) -> Result<Self, BusError> {
        let channel = connection.create_channel().await?;
        // Confirms make the dead-letter republish durable before the original is acknowledged.
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await?;
        let consumer = channel
            .basic_consume(
                queue.into(),
                consumer_tag.into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(Self {
            channel,
            consumer,
            queue: queue.to_owned(),
            tenant_source: TenantSource::default(),
        })
    }

    /// Authenticates each message's tenant as `source` says (default: the routing key).
    pub fn with_tenant_source(mut self, source: TenantSource) -> Self {
        self.tenant_source = source;
        self
    }

    /// Waits for the next message. `None` when the consumer was cancelled or the channel closed.
    pub async fn next(&mut self) -> Option<Result<Received, BusError>> {
        let delivery = match self.consumer.next().await? {
            Ok(delivery) => delivery,
            Err(error) => return Some(Err(error.into())),
        };
        Some(match decode(&delivery, self.tenant_source) {
            Ok(envelope) => Ok(Received::Message(Box::new(InboundMessage {
                envelope,
                delivery,
            }))),
            Err(reason) => self
                .dead_letter_delivery(delivery, reason)
                .await
                .map(Received::DeadLettered),
        })
    }

    /// Dead-letters a decoded message that failed a later, domain-level check.
    pub async fn dead_letter(
        &self,
        message: InboundMessage,
        reason: RejectReason,
    ) -> Result<DeadLettered, BusError> {
        self.dead_letter_delivery(message.delivery, reason).await
    }

    async fn dead_letter_delivery(
        &self,
        delivery: Delivery,
        reason: RejectReason,
    ) -> Result<DeadLettered, BusError> {
        let message_id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(|id| id.to_string());
        tracing::warn!(
            queue = %self.queue,
            routing_key = %delivery.routing_key,
            message_id = message_id.as_deref().unwrap_or(""),
            %reason,
            "dead-lettering message"
        );
        let mut headers = delivery.properties.headers().clone().unwrap_or_default();
        headers.insert(
            topology::REASON_HEADER.into(),
            AMQPValue::LongString(reason.to_string().as_str().into()),
        );
        headers.insert(
            "x-dispatch-queue".into(),
            AMQPValue::LongString(self.queue.as_str().into()),
        );
        let properties: BasicProperties = delivery.properties.clone().with_headers(headers);
        let confirmation = self
            .channel
            .basic_publish(
                topology::DEAD_LETTER_EXCHANGE.into(),
                delivery.routing_key.clone(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                &delivery.data,
                properties,
            )
            .await?
            .await?;
        // Until the dead letter is safely stored the original stays unacknowledged, so a failure
        // here leaves it on its queue for redelivery instead of losing it.
        super::confirmed(
            confirmation,
            topology::DEAD_LETTER_EXCHANGE,
            delivery.routing_key.as_str(),
            message_id.as_deref().unwrap_or_default(),
        )?;
        let routing_key = delivery.routing_key.to_string();
        delivery.ack(BasicAckOptions::default()).await?;
        Ok(DeadLettered {
            reason,
            routing_key,
            message_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use proto::dispatch::v1::{OrderCancelled, Scope, envelope::Payload};

    use super::*;

    fn envelope() -> Envelope {
        Envelope {
            event_id: "e-1".into(),
            scope: Some(Scope {
                tenant_id: "acme".into(),
                region_id: "berlin".into(),
            }),
            payload: Some(Payload::OrderCancelled(OrderCancelled {
                order_id: "o-1".into(),
                reason: String::new(),
            })),
            ..Envelope::default()
        }
    }

    #[test]
    fn a_complete_envelope_passes_and_names_its_kind() {
        let e = envelope();
        let checked = validate(&e).expect("valid");
        assert_eq!(
            (checked.tenant_id, checked.region_id, checked.kind),
            ("acme", "berlin", "order_cancelled")
        );
    }

    #[test]
    fn each_missing_part_has_its_own_reason() {
        let no_id = Envelope {
            event_id: String::new(),
            ..envelope()
        };
        assert_eq!(validate(&no_id), Err(RejectReason::BadEventId(0)));

        let long_id = Envelope {
            event_id: "x".repeat(MAX_EVENT_ID_BYTES + 1),
            ..envelope()
        };
        assert_eq!(
            validate(&long_id),
            Err(RejectReason::BadEventId(MAX_EVENT_ID_BYTES + 1))
        );

        let no_scope = Envelope {
            scope: None,
            ..envelope()
        };
        assert_eq!(validate(&no_scope), Err(RejectReason::MissingScope));

        let empty_region = Envelope {
            scope: Some(Scope {
                tenant_id: "acme".into(),
                region_id: String::new(),
            }),
            ..envelope()
        };
        assert_eq!(validate(&empty_region), Err(RejectReason::MissingScope));

        let no_payload = Envelope {
            payload: None,
            ..envelope()
        };
        assert_eq!(validate(&no_payload), Err(RejectReason::NoPayload));
    }
}
