//! The demo's city: the OpenStreetMap extract embedded in the binary (Monaco, ODbL), imported and
//! prepared for every vehicle the demo's couriers use, with the places orders come from and go to.

use std::sync::Arc;

use router::{
    Profile, RoadGraph,
    geo::{LatLng, haversine_m},
    network::RoadNetwork,
};

/// The embedded extract; see `dispatcher/assets/README.md` for its source and licence.
const MONACO: &[u8] = include_bytes!("../../assets/monaco.osm.pbf");

/// What the map needs to say wherever it is shown.
pub const ATTRIBUTION: &str = "Map data © OpenStreetMap contributors, ODbL 1.0";

/// The centre of the demo's city (Monte Carlo) and how far from it orders go.
const CENTRE: (f64, f64) = (43.7384, 7.4246);
const RADIUS_M: f64 = 2_200.0;

/// Errors loading the map.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// The extract could not be written out for the importer.
    #[error("cannot write the embedded map to {path}: {source}")]
    Write {
        /// Where.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The router refused the extract.
    #[error("cannot import the embedded map for {profile}: {source}")]
    Import {
        /// Which profile.
        profile: &'static str,
        /// Why.
        source: router::RouterError,
    },
}

/// The city, ready to route on.
#[derive(Debug, Clone)]
pub struct CityMap {
    /// A prepared network per vehicle profile.
    pub networks: Vec<(Profile, Arc<RoadNetwork>)>,
    /// Road points near the centre reachable by every profile's network (places for kitchens and
    /// customers).
    pub places: Vec<LatLng>,
    /// Street segments of the car network, each once, for drawing.
    pub streets: Vec<[LatLng; 2]>,
}

impl CityMap {
    /// Imports the embedded extract for `profiles` (the first one's roads are drawn).
    pub fn load(profiles: &[Profile]) -> Result<Self, MapError> {
        // The importer reads a file; one of its own per load, so concurrent loads never share one.
        static LOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = LOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "dispatcher-demo-{}-{n}-monaco.osm.pbf",
            std::process::id()
        ));
        std::fs::write(&path, MONACO).map_err(|source| MapError::Write {
            path: path.display().to_string(),
            source,
        })?;
        let imported: Result<Vec<_>, MapError> = profiles
            .iter()
            .map(|&profile| {
                router::osm::import(&path, profile)
                    .map(|import| (profile, import.graph))
                    .map_err(|source| MapError::Import {
                        profile: profile.name(),
                        source,
                    })
            })
            .collect();
        let _ = std::fs::remove_file(&path);
        let graphs = imported?;
        let centre = LatLng::new(CENTRE.0, CENTRE.1).expect("a valid constant");
        let streets = graphs.first().map(|(_, g)| streets(g)).unwrap_or_default();
        let networks: Vec<(Profile, Arc<RoadNetwork>)> = graphs
            .into_iter()
            .map(|(profile, graph)| (profile, Arc::new(RoadNetwork::prepare(profile, graph))))
            .collect();
        let places = match networks.first() {
            Some((_, first)) => (0..first.graph().node_count() as u32)
                .map(|v| first.graph().coord(v))
                .filter(|&p| haversine_m(p, centre) <= RADIUS_M)
                // Kept only where every vehicle can get to and from: a one-way car street may be a
                // bicycle's dead end.
                .filter(|&p| networks.iter().all(|(_, n)| n.snap(p).is_ok()))
                .collect(),
            None => Vec::new(),
        };
        Ok(Self {
            networks,
            places,
            streets,
        })
    }

    /// The prepared network of `profile`, if loaded.
    pub fn network(&self, profile: Profile) -> Option<&Arc<RoadNetwork>> {
        self.networks
            .iter()
            .find(|(p, _)| *p == profile)
            .map(|(_, n)| n)
    }
}

/// Every road segment once (an arc and its reverse are one segment).
fn streets(graph: &RoadGraph) -> Vec<[LatLng; 2]> {
    graph
        .arcs()
        .filter_map(|(tail, arc)| {
            let head = graph.head(arc);
            let twin = graph.find_arc(head, tail).is_some();
            (!twin || tail < head).then(|| [graph.coord(tail), graph.coord(head)])
        })
        .collect()
}
