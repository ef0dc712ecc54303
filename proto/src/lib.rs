//! The `dispatch.v1` API: protobuf messages, tonic clients and servers, and the descriptor set for
//! server reflection. The `.proto` files under `proto/dispatch/v1/` are the source of truth; this crate
//! only compiles them (with protox, so no system `protoc` is needed).
//!
//! Units, for every field: timestamps are UTC, coordinates WGS84 degrees, distances metres,
//! durations seconds, weights grams, volumes millilitres.
//!
//! ```
//! use prost::Message;
//! use proto::dispatch::v1::{Envelope, OrderCancelled, Scope, envelope::Payload};
//!
//! let event = Envelope {
//!     event_id: "kitchen-planner:42".into(),
//!     scope: Some(Scope { tenant_id: "acme".into(), region_id: "berlin".into() }),
//!     source: "kitchen-planner".into(),
//!     source_seq: 42,
//!     payload: Some(Payload::OrderCancelled(OrderCancelled {
//!         order_id: "o-1".into(),
//!         reason: "customer changed their mind".into(),
//!     })),
//!     ..Default::default()
//! };
//! let bytes = event.encode_to_vec();
//! assert_eq!(Envelope::decode(bytes.as_slice()).unwrap(), event);
//! assert_eq!(proto::routing_kind(&event), Some("order_cancelled"));
//! ```
#![forbid(unsafe_code)]

/// Generated code, one module per protobuf package.
pub mod dispatch {
    /// Version 1 of the dispatch API.
    pub mod v1 {
        #![allow(missing_docs, unreachable_pub, clippy::doc_lazy_continuation)]
        include!(concat!(env!("OUT_DIR"), "/dispatch.v1.rs"));
    }
}

/// The encoded `FileDescriptorSet` of every `dispatch.v1` file, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/dispatch_v1_descriptor.bin"));

/// The AMQP `content_type` of every message on the dispatch exchanges.
pub const ENVELOPE_CONTENT_TYPE: &str = "application/x-protobuf; proto=dispatch.v1.Envelope";

/// The last part of the routing key (`<tenant>.<region>.<kind>`) for an envelope: its payload's field
/// name, or `None` if the envelope carries no payload this version knows.
pub fn routing_kind(envelope: &dispatch::v1::Envelope) -> Option<&'static str> {
    use dispatch::v1::envelope::Payload;
    Some(match envelope.payload.as_ref()? {
        Payload::OrderPlaced(_) => "order_placed",
        Payload::ReadyTimeRevised(_) => "ready_time_revised",
        Payload::OrderCancelled(_) => "order_cancelled",
        Payload::PositionBatch(_) => "position_batch",
        Payload::AssignmentMade(_) => "assignment_made",
        Payload::AssignmentChanged(_) => "assignment_changed",
        Payload::OrderLifecycle(_) => "order_lifecycle",
    })
}
