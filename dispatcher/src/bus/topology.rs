//! The exchanges and queues the dispatcher uses. Declaring is idempotent; every instance declares at
//! start-up, so a fresh broker needs no manual set-up.

use lapin::{
    Channel, ExchangeKind,
    options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable, ShortString},
};

use super::{BusError, routing};

/// Inbound orders, ready-time revisions and cancellations (topic).
pub const ORDERS_EXCHANGE: &str = "dispatch.orders";
/// Inbound position batches (topic).
pub const POSITIONS_EXCHANGE: &str = "dispatch.positions";
/// Outbound assignment and lifecycle events (topic); consumers bind their own queues.
pub const EVENTS_EXCHANGE: &str = "dispatch.events";
/// Dead letters: messages that could not be decoded or validated (topic, same routing keys).
pub const DEAD_LETTER_EXCHANGE: &str = "dispatch.dlx";
/// The queue that keeps every dead letter for inspection and replay.
pub const DEAD_LETTER_QUEUE: &str = "dispatch.dead-letters";
/// Header carrying why a message was dead-lettered.
pub const REASON_HEADER: &str = "x-dispatch-reason";

/// Declares the exchanges and the dead-letter queue.
pub async fn declare(channel: &Channel) -> Result<(), BusError> {
    for exchange in [
        ORDERS_EXCHANGE,
        POSITIONS_EXCHANGE,
        EVENTS_EXCHANGE,
        DEAD_LETTER_EXCHANGE,
    ] {
        channel
            .exchange_declare(
                exchange.into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
    }
    declare_durable_queue(channel, DEAD_LETTER_QUEUE, FieldTable::default()).await?;
    channel
        .queue_bind(
            DEAD_LETTER_QUEUE.into(),
            DEAD_LETTER_EXCHANGE.into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok(())
}

/// The inbound queues of one region, as declared by [`declare_region`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionQueues {
    /// Orders, revisions and cancellations for the region.
    pub orders: String,
    /// Position batches for the region.
    pub positions: String,
}

/// The names of the inbound queues of one region.
pub fn region_queues(tenant_id: &str, region_id: &str) -> RegionQueues {
    let suffix = format!(
        "{}.{}",
        routing::encode_word(tenant_id),
        routing::encode_word(region_id)
    );
    RegionQueues {
        orders: format!("{ORDERS_EXCHANGE}.{suffix}"),
        positions: format!("{POSITIONS_EXCHANGE}.{suffix}"),
    }
}

/// True if a region's queue names and every routing key of it fit AMQP's 255-byte limit.
pub fn region_fits(tenant_id: &str, region_id: &str) -> bool {
    let queues = region_queues(tenant_id, region_id);
    let longest_kind = "ready_time_revised";
    [queues.orders.len(), queues.positions.len()]
        .into_iter()
        .all(|len| len <= routing::MAX_ROUTING_KEY_BYTES)
        && routing::routing_key(tenant_id, region_id, longest_kind).is_some()
}

/// Declares and binds the durable inbound queues of one region. Messages rejected by a consumer
/// without being dead-lettered explicitly still reach [`DEAD_LETTER_EXCHANGE`].
pub async fn declare_region(
    channel: &Channel,
    tenant_id: &str,
    region_id: &str,
) -> Result<RegionQueues, BusError> {
    let pattern = routing::region_pattern(tenant_id, region_id);
    let queues = region_queues(tenant_id, region_id);
    for (queue, exchange) in [
        (&queues.orders, ORDERS_EXCHANGE),
        (&queues.positions, POSITIONS_EXCHANGE),
    ] {
        let mut arguments = FieldTable::default();
        arguments.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(DEAD_LETTER_EXCHANGE.into()),
        );
        declare_durable_queue(channel, queue, arguments).await?;
        channel
            .queue_bind(
                ShortString::from(queue.as_str()),
                exchange.into(),
                pattern.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(queues)
}

async fn declare_durable_queue(
    channel: &Channel,
    queue: &str,
    arguments: FieldTable,
) -> Result<(), BusError> {
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            arguments,
        )
        .await?;
    Ok(())
}
