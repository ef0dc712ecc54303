//! Everything that can go wrong in the router, as one enum.

use std::path::PathBuf;

use crate::geo::{InvalidCoordinate, LatLng};

/// Errors from importing, loading, snapping and querying road graphs.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The `.osm.pbf` file is not valid.
    #[error("cannot decode osm pbf {path}: {reason}")]
    Pbf {
        /// The file.
        path: PathBuf,
        /// The decoder's message.
        reason: String,
    },
    /// The extract holds no road usable by the profile.
    #[error("no road usable by profile {profile} in {path}")]
    NoRoads {
        /// The profile asked for.
        profile: String,
        /// The file.
        path: PathBuf,
    },
    /// A profile name that is not one of car, bicycle, scooter, foot.
    #[error("unknown profile {0:?} (expected car, bicycle, scooter or foot)")]
    UnknownProfile(String),
    /// A prepared graph file that is not ours, from another version, or damaged.
    #[error("bad prepared graph file {path}: {reason}")]
    BadGraphFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A coordinate out of range or not finite.
    #[error(transparent)]
    InvalidCoordinate(#[from] InvalidCoordinate),
    /// No usable road within the snapping radius.
    #[error("no road within {max_m} m of {point} (nearest is {nearest_m:.0} m away)")]
    TooFarFromRoad {
        /// The point asked for.
        point: LatLng,
        /// Distance to the nearest usable road, or infinity when the graph has none.
        nearest_m: f64,
        /// The snapping radius in force.
        max_m: f64,
    },
    /// A node index past the end of the graph.
    #[error("node {node} out of range (graph has {nodes} nodes)")]
    NodeOutOfRange {
        /// The index given.
        node: u32,
        /// How many nodes the graph has.
        nodes: usize,
    },
    /// A traffic factor that is not a finite number in the allowed range, or an hour past the week.
    #[error("invalid traffic entry: {0}")]
    InvalidTraffic(String),
    /// No route exists between the two places (they are on roads that do not connect in this direction).
    #[error("no route from {from} to {to}")]
    NoRoute {
        /// Start.
        from: LatLng,
        /// End.
        to: LatLng,
    },
}

/// Shorthand for results in this crate.
pub type Result<T, E = RouterError> = std::result::Result<T, E>;
