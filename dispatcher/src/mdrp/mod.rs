//! The Meal Delivery Routing Problem benchmark (Grubhub instances, Reyes et al. 2018): everything
//! about a replay that does not depend on the planner.
//!
//! - [`instance`]: the instance files, the travel rule `ceil(euclid / metres per minute)` and the
//!   click-to-door lower bound.
//! - [`replay`]: a finished day in the official evaluator's terms (assignments, delivered orders,
//!   courier moves) and its three solution files, written and read with the evaluator's traps in mind.
//! - [`mod@check`]: every feasibility rule of the evaluator, plus the stricter ones it skips.
//! - [`metrics`]: the evaluator's measures, computed the way it computes them.
//!
//! The rules and definitions are those of `shared/data/mdrp/MODEL.md`; where it leaves a choice open,
//! the item's documentation says which one was made.

use std::path::PathBuf;

pub mod check;
pub mod instance;
pub mod metrics;
pub mod replay;
pub mod sim;
pub mod suite;

mod leg;
mod read;
mod route;
mod table;
mod violation;

pub use check::check;
pub use instance::{Courier, Instance, Order, Parameters, Restaurant};
pub use metrics::Metrics;
pub use replay::{Assignment, Move, OrderOutcome, Place, Replay};
pub use violation::Violation;

/// An order id as written in the instance files (`o1`, ...); it also names the order's customer.
pub type OrderId = String;
/// A restaurant id as written in the instance files (`r1`, ...).
pub type RestaurantId = String;
/// A courier id as written in the instance files (`c1`, ...).
pub type CourierId = String;

/// Why an instance or a solution file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MdrpError {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// One field of one line does not hold what the format promises.
    #[error("{}, line {line}, field {field}: {problem}", file.display())]
    Field {
        /// The file.
        file: PathBuf,
        /// The line, counting from 1 (the header is line 1).
        line: usize,
        /// The column's name.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The file as a whole is wrong (no header, no data line, wrong header).
    #[error("{}: {problem}", file.display())]
    File {
        /// The file.
        file: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A replay that cannot be written as files the evaluator would read correctly.
    #[error("cannot write the solution files: {problem}")]
    Unwritable {
        /// Which item is the problem, and why.
        problem: String,
    },
    /// The replay itself failed (the core or planner refused something).
    #[error("replay failed: {0}")]
    Replay(String),
}
