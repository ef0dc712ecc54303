//! Dynamic pickup-and-delivery solver with time windows: the planning engine behind the dispatcher.
//!
//! A plain synchronous library (no async runtime, no network or database), so it can be benchmarked
//! on the public VRP instances and reused outside the service.
//!
//! - [`problem`]: jobs (pickup-and-delivery pairs, or deliveries loaded at the start), vehicles,
//!   travel matrices per profile ([`matrix`]), and the [`objective`].
//! - [`plan`]: the answer: routes with schedules, and unassigned jobs with a reason.
//! - [`instances`]: readers for the Solomon and Li & Lim benchmarks and their solution files.
//!
//! ```
//! use solver::instances::{routes, solomon};
//!
//! let text = "TINY\n\nVEHICLE\nNUMBER     CAPACITY\n  2         10\n\nCUSTOMER\n\
//!             CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME\n\n\
//!                 0      0          0          0          0        100          0\n\
//!                 1      3          4          5          0         50          1\n";
//! let instance = solomon::parse(text, "tiny.txt")?;
//! let plan = routes::to_plan(&instance.problem, &[vec![1]])?;
//! let visit = plan.routes[0].visits[0];
//! assert_eq!((visit.arrival, visit.departure), (5.0, 6.0));
//! assert!(plan.unassigned.is_empty());
//! # Ok::<(), solver::SolverError>(())
//! ```
#![forbid(unsafe_code)]

pub mod checker;
mod error;
pub mod instances;
pub mod matrix;
pub mod objective;
pub mod plan;
pub mod problem;
pub mod search;

pub use error::SolverError;
pub use objective::{Cost, Objective, Weights};
pub use plan::{Plan, Route, StopKind, StopRef, Unassigned, UnassignedReason, Visit};
pub use problem::{Job, Problem, Stop, TimeWindow, Vehicle};
