//! A customizable contraction hierarchy (Dibbelt, Strasser and Wagner, 2016) over a [`RoadGraph`].
//!
//! Three phases, each its own file:
//! - [`Hierarchy`]: a nested-dissection order and the chordal supergraph it induces. Depends only on
//!   the road network's shape; built once per map.
//! - [`Metric`]: travel times on that structure for one set of arc times. Built again in milliseconds
//!   when traffic changes.
//! - Queries: [`Query`] for one-to-one with path unpacking, [`table`] for many-to-many.
//!
//! ```
//! use router::geo::LatLng;
//! use router::graph::{Arc, RoadGraph};
//! use router::hierarchy::{Hierarchy, Metric, Query, Scratch};
//!
//! // A one-way triangle 0 → 1 → 2 → 0.
//! let coords = [(43.70, 7.40), (43.70, 7.41), (43.71, 7.40)]
//!     .map(|(lat, lng)| LatLng::new(lat, lng).unwrap())
//!     .to_vec();
//! let arc = |tail, head, millis| Arc { tail, head, millis, centimetres: millis * 10 };
//! let graph = RoadGraph::from_arcs(coords, vec![arc(0, 1, 60_000), arc(1, 2, 90_000), arc(2, 0, 30_000)]);
//! let hierarchy = Hierarchy::build(&graph);
//! let metric = Metric::free_flow(&hierarchy, &graph);
//! let mut scratch = Scratch::new(graph.node_count());
//! let mut query = Query::new(&hierarchy, &metric, &mut scratch);
//! assert_eq!(query.node_to_node(0, 2).unwrap().millis, 150_000);
//! assert_eq!(query.node_to_node(2, 1).unwrap().millis, 90_000);
//! ```
//!
//! [`RoadGraph`]: crate::graph::RoadGraph

mod matrix;
mod metric;
mod order;
mod query;
mod topology;

pub use matrix::{Table, table};
pub use metric::Metric;
pub use query::{Anchor, Found, Query, Scratch};
pub use topology::Hierarchy;

#[cfg(test)]
mod tests;
