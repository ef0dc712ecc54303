//! Road-network routing for the dispatcher: travel times, distances and geometry between places.
//!
//! A plain synchronous library (no async runtime, no I/O beyond reading map files), so it can be
//! benchmarked and tested on its own.
//!
//! ```
//! use router::geo::{LatLng, haversine_m};
//!
//! let brandenburg_gate = LatLng::new(52.516_275, 13.377_704)?;
//! let alexanderplatz = LatLng::new(52.521_918, 13.413_215)?;
//! let metres = haversine_m(brandenburg_gate, alexanderplatz);
//! assert!((metres - 2_480.0).abs() < 20.0);
//! # Ok::<(), router::geo::InvalidCoordinate>(())
//! ```
#![forbid(unsafe_code)]

pub mod error;
pub mod file;
pub mod geo;
pub mod graph;
pub mod hierarchy;
pub mod network;
pub mod osm;
pub mod profile;
pub mod reference;
pub mod route;
pub mod snap;
pub mod synthetic;
pub mod traffic;
pub mod travel;

pub use error::{Result, RouterError};
pub use graph::RoadGraph;
pub use profile::Profile;
