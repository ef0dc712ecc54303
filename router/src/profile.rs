//! Vehicle profiles: which roads each kind of courier may use and how fast it moves on them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::RouterError;

/// How a courier travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Profile {
    /// A car or van.
    Car,
    /// A bicycle (or e-bike).
    Bicycle,
    /// A moped or motor scooter: public roads but no motorways, at most 45 km/h.
    Scooter,
    /// On foot.
    Foot,
}

impl Profile {
    /// Every profile, in a fixed order.
    pub const ALL: [Profile; 4] = [
        Profile::Car,
        Profile::Bicycle,
        Profile::Scooter,
        Profile::Foot,
    ];

    /// The lowercase name used on command lines and in files.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Car => "car",
            Profile::Bicycle => "bicycle",
            Profile::Scooter => "scooter",
            Profile::Foot => "foot",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = RouterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| RouterError::UnknownProfile(s.to_owned()))
    }
}
