//! RabbitMQ: the exchanges and queues, publishing with confirms, and receiving with dead-lettering.
//!
//! Every message is a protobuf `dispatch.v1.Envelope` (see `proto/dispatch/v1/events.proto`).

pub mod backoff;
pub mod consumer;
pub mod inbound;
pub mod local;
pub mod publisher;
pub mod relay;
pub mod routing;
pub mod tenant;
pub mod topology;

pub use backoff::Backoff;
pub use inbound::{DeadLettered, InboundMessage, InboundQueue, Received, RejectReason};
pub use local::{DeadLetter, LocalBus};
pub use publisher::Publisher;
pub use relay::{AmqpPublisher, Publish};
pub use tenant::TenantSource;

use lapin::{Confirmation, Connection, ConnectionProperties};

/// Everything that can go wrong talking to the broker.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The broker connection or a channel operation failed.
    #[error("amqp error: {0}")]
    Amqp(#[from] lapin::Error),
    /// The broker returned a mandatory message because no queue is bound for its routing key.
    #[error("unroutable message {message_id} to {exchange} with key {routing_key}: {reply}")]
    Unroutable {
        /// The exchange published to.
        exchange: String,
        /// The routing key used.
        routing_key: String,
        /// The message's id.
        message_id: String,
        /// The broker's reply text.
        reply: String,
    },
    /// The broker refused to take responsibility for the message (publisher confirm nack).
    #[error("broker nacked message {message_id} to {exchange}")]
    Nacked {
        /// The exchange published to.
        exchange: String,
        /// The message's id.
        message_id: String,
    },
    /// The envelope is not fit to publish.
    #[error("invalid envelope: {0}")]
    InvalidEnvelope(#[from] RejectReason),
}

/// Opens a connection to the broker, named so it can be told apart in the broker's tools.
pub async fn connect(amqp_url: &str, connection_name: &str) -> Result<Connection, BusError> {
    let properties = ConnectionProperties::default().with_connection_name(connection_name.into());
    Ok(Connection::connect(amqp_url, properties).await?)
}

/// Turns the broker's answer to a mandatory publish into a result: only a plain ack means the
/// message is safely routed and stored.
fn confirmed(
    confirmation: Confirmation,
    exchange: &str,
    routing_key: &str,
    message_id: &str,
) -> Result<(), BusError> {
    match confirmation {
        Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
        Confirmation::Ack(Some(returned)) => Err(BusError::Unroutable {
            exchange: exchange.to_owned(),
            routing_key: routing_key.to_owned(),
            message_id: message_id.to_owned(),
            reply: returned.reply_text.to_string(),
        }),
        Confirmation::Nack(_) => Err(BusError::Nacked {
            exchange: exchange.to_owned(),
            message_id: message_id.to_owned(),
        }),
    }
}
