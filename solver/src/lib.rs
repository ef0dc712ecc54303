//! Dynamic pickup-and-delivery solver with time windows: the planning engine behind the dispatcher.
//!
//! A plain synchronous library (no async runtime, no network or database), owning its own rayon pool,
//! so it can be benchmarked on the public VRP instances and reused outside the service. The model,
//! objectives, search, checker and instance readers are built in the solver issue; this crate is the
//! place for them in the workspace's dependency graph (`dispatcher` -> `solver`, never the reverse).
#![forbid(unsafe_code)]
