//! The service's own model of orders, couriers and what happens to them, independent of the wire
//! formats (protobuf, SQL rows) that carry it in and out.

mod courier;
mod event;
mod order;
mod region;

pub mod check;
pub mod convert;
pub use convert::ValidationError;
pub use courier::{Courier, CourierStatus, Fix};
pub use event::{Actor, DecisionRecord, EventKind, OrderEventRecord};
pub use order::{Load, Order, OrderSpec, OrderState, Place, Unassigned};
pub use region::RegionKey;
pub use router::Profile as Vehicle;
