//! Traffic: factors on free-flow travel times, per H3 cell and hour of the week.
//!
//! A factor of 1.5 in a cell at Friday 18:00 makes every road segment whose midpoint lies in that cell
//! take 1.5 times its free-flow time in that hour. Cells are chosen by the table's owner at any
//! resolution up to [`ARC_RESOLUTION`]; arcs outside every listed cell keep their free-flow time.

use std::collections::HashMap;
use std::fmt;

use h3o::{CellIndex, LatLng as H3LatLng, Resolution};

use crate::error::{Result, RouterError};
use crate::geo::LatLng;
use crate::graph::{Millis, RoadGraph};

/// The resolution at which each arc's midpoint cell is stored (about 10 m across): fine enough that
/// any coarser traffic cell is its parent.
pub const ARC_RESOLUTION: Resolution = Resolution::Twelve;

/// Smallest factor accepted: nothing moves five times faster than free flow.
pub const MIN_FACTOR: f64 = 0.2;

/// Largest factor accepted: beyond twenty times free flow a road is closed, which is a different
/// thing to model.
pub const MAX_FACTOR: f64 = 20.0;

/// An hour of the week, 0 = Monday 00:00–01:00 up to 167 = Sunday 23:00–24:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HourOfWeek(u8);

impl HourOfWeek {
    /// Hours in a week.
    pub const COUNT: u8 = 168;

    /// Validates an hour index.
    pub fn new(hour: u32) -> Result<Self> {
        u8::try_from(hour)
            .ok()
            .filter(|&h| h < Self::COUNT)
            .map(Self)
            .ok_or_else(|| {
                RouterError::InvalidTraffic(format!("hour of week {hour} is not in 0..168"))
            })
    }

    /// The hour as an index, 0..168.
    pub fn index(self) -> u8 {
        self.0
    }
}

impl fmt::Display for HourOfWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        write!(
            f,
            "{} {:02}:00",
            DAYS[usize::from(self.0 / 24)],
            self.0 % 24
        )
    }
}

/// Traffic factors at one H3 resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    resolution: Resolution,
    factors: HashMap<(CellIndex, HourOfWeek), f64>,
}

impl Traffic {
    /// An empty table (free flow everywhere) for cells of the given resolution, which must not be
    /// finer than [`ARC_RESOLUTION`].
    pub fn new(resolution: Resolution) -> Result<Self> {
        if resolution > ARC_RESOLUTION {
            return Err(RouterError::InvalidTraffic(format!(
                "resolution {resolution} is finer than the arcs' resolution {ARC_RESOLUTION}"
            )));
        }
        Ok(Self {
            resolution,
            factors: HashMap::new(),
        })
    }

    /// The resolution of the table's cells.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// Sets the factor of one cell in one hour, refusing cells of another resolution and factors
    /// that are not finite or outside [`MIN_FACTOR`]..=[`MAX_FACTOR`]. A factor of 1 removes the entry.
    pub fn set(&mut self, cell: CellIndex, hour: HourOfWeek, factor: f64) -> Result<()> {
        if cell.resolution() != self.resolution {
            return Err(RouterError::InvalidTraffic(format!(
                "cell {cell} has resolution {}, the table uses {}",
                cell.resolution(),
                self.resolution
            )));
        }
        if !factor.is_finite() || !(MIN_FACTOR..=MAX_FACTOR).contains(&factor) {
            return Err(RouterError::InvalidTraffic(format!(
                "factor {factor} for cell {cell} at {hour} is not in {MIN_FACTOR}..={MAX_FACTOR}"
            )));
        }
        if factor == 1.0 {
            self.factors.remove(&(cell, hour));
        } else {
            self.factors.insert((cell, hour), factor);
        }
        Ok(())
    }

    /// The factor in force for a cell of the table's resolution in an hour.
    pub fn factor(&self, cell: CellIndex, hour: HourOfWeek) -> f64 {
        self.factors.get(&(cell, hour)).copied().unwrap_or(1.0)
    }

    /// Number of non-neutral entries.
    pub fn len(&self) -> usize {
        self.factors.len()
    }

    /// Whether the table is free flow everywhere.
    pub fn is_empty(&self) -> bool {
        self.factors.is_empty()
    }

    /// Travel time of every arc in `hour`: free-flow time times the factor of the arc's cell.
    pub fn arc_millis(&self, graph: &RoadGraph, cells: &ArcCells, hour: HourOfWeek) -> Vec<Millis> {
        let hour_has_entries = self.factors.keys().any(|&(_, h)| h == hour);
        graph
            .arcs()
            .map(|(_, a)| {
                let free = graph.millis(a);
                if !hour_has_entries {
                    return free;
                }
                let cell = cells.cells[a]
                    .parent(self.resolution)
                    .expect("table resolution is coarser");
                let factor = self.factor(cell, hour);
                if factor == 1.0 {
                    free
                } else {
                    ((f64::from(free) * factor).round() as Millis).max(1)
                }
            })
            .collect()
    }
}

/// The H3 cell (at [`ARC_RESOLUTION`]) of each arc's midpoint, in graph arc order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArcCells {
    cells: Vec<CellIndex>,
}

impl ArcCells {
    /// Locates every arc of the graph.
    pub fn of(graph: &RoadGraph) -> Self {
        let cells = graph
            .arcs()
            .map(|(tail, a)| {
                let (p, q) = (graph.coord(tail), graph.coord(graph.head(a)));
                midpoint_cell(p, q)
            })
            .collect();
        Self { cells }
    }

    /// The cells as raw H3 indices, for storing.
    pub fn to_raw(&self) -> Vec<u64> {
        self.cells.iter().map(|&c| u64::from(c)).collect()
    }

    /// Cells read back from [`to_raw`](Self::to_raw); `None` if an index is not a valid cell at
    /// [`ARC_RESOLUTION`].
    pub fn from_raw(raw: &[u64]) -> Option<Self> {
        raw.iter()
            .map(|&r| {
                CellIndex::try_from(r)
                    .ok()
                    .filter(|c| c.resolution() == ARC_RESOLUTION)
            })
            .collect::<Option<Vec<_>>>()
            .map(|cells| Self { cells })
    }

    /// Number of arcs located.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether there are no arcs.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

/// The cell at [`ARC_RESOLUTION`] containing the midpoint of a segment. Segments are short, so the
/// plain average of the ends is on the segment to well under a metre.
pub fn midpoint_cell(p: LatLng, q: LatLng) -> CellIndex {
    let mid = H3LatLng::new((p.lat() + q.lat()) / 2.0, (p.lng() + q.lng()) / 2.0)
        .expect("the average of two valid coordinates is valid");
    mid.to_cell(ARC_RESOLUTION)
}

/// The cell of a point at a resolution, for building traffic tables from places.
pub fn cell_of(point: LatLng, resolution: Resolution) -> CellIndex {
    H3LatLng::new(point.lat(), point.lng())
        .expect("a valid LatLng is a valid H3 coordinate")
        .to_cell(resolution)
}
