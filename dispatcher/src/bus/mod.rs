//! RabbitMQ: the exchanges and queues, publishing with confirms, and receiving with dead-lettering.
//!
//! Every message is a protobuf `dispatch.v1.Envelope` (see `proto/dispatch/v1/events.proto`).

pub mod inbound;
pub mod publisher;
pub mod routing;
pub mod topology;

pub use inbound::{DeadLettered, InboundMessage, InboundQueue, Received, RejectReason};
pub use publisher::Publisher;

use lapin::{Connection, ConnectionProperties};

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
