//! The courier dispatch service.
//!
//! Orders and courier positions stream in over gRPC and RabbitMQ; the planner re-optimises continuously
//! with the `solver` crate on travel times from the `router` crate; every event is kept in
//! TimescaleDB. This crate holds the service's parts; the `dispatcher` binary wires them up.
//!
//! How a change flows: an input arrives ([`grpc`] from apps and kitchens, [`bus`] from RabbitMQ or
//! the in-process bus), the [`core`] checks it against the [`world`] state, makes its effect durable
//! through the [`store`] (one transaction, with an outbox for the events it publishes), then updates
//! the world and tells couriers over the [`hub`]. The [`planner`] takes a snapshot every tick, solves
//! it off the async runtime and sends only what changed. Positions take their own batched path
//! ([`positions`]). [`service`] starts and stops it all; [`fleet`] is a simulated city that talks to it
//! over gRPC; [`ctl`] is the support CLI, a client of the support service.
//!
//! - [`config`]: every setting, from defaults, a TOML file and the environment.
//! - [`domain`]: orders, couriers, events and decisions, and their protobuf conversions.
//! - [`store`]: the storage interface, TimescaleDB and in-memory implementations, migrations.
//! - [`bus`]: RabbitMQ topology, consumers with dead-lettering, the outbox relay, the in-process bus.
//! - [`metrics`]: Prometheus metrics on an HTTP port.
//! - [`clock`]: wall, manual and sped-up clocks, so live and simulated runs share the planner.
//! - [`report`]: a finished run as one self-contained HTML page: map, key figures, charts.
//!
//! ```
//! use dispatcher::{bus::routing, store::migrations};
//!
//! // Every message on the broker is routed by tenant, region and kind.
//! let key = routing::routing_key("acme", "berlin", "order_placed");
//! assert_eq!(key.as_deref(), Some("acme.berlin.order_placed"));
//!
//! // The schema travels inside the binary and is applied at start-up.
//! let names: Vec<_> = migrations::embedded().iter().map(|m| m.name).collect();
//! assert!(names.contains(&"courier_positions"));
//! ```
#![forbid(unsafe_code)]

pub mod auth;
pub mod bus;
pub mod clock;
pub mod config;
pub mod core;
pub mod ctl;
pub mod demo;
pub mod domain;
pub mod fleet;
pub mod grpc;
pub mod hub;
pub mod mdrp;
pub mod metrics;
pub mod planner;
pub mod positions;
pub mod report;
pub mod service;
pub mod store;
pub mod world;
