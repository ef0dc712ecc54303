//! Shared set-up: the OSM extracts in ../shared/data/osm, imported and prepared once per test binary.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use router::Profile;
use router::geo::LatLng;
use router::network::RoadNetwork;

/// The extracts every router test runs on.
pub const EXTRACTS: [&str; 2] = ["monaco.osm.pbf", "andorra-2026-04-04.osm.pbf"];

/// Path of an extract in the shared data folder beside the repository.
pub fn extract(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/osm")
        .join(name)
}

/// Prepared networks by extract and profile.
type Cache = Mutex<HashMap<(String, Profile), Arc<RoadNetwork>>>;

/// The prepared network of an extract and profile, built once and shared by the tests of a binary.
pub fn network(name: &str, profile: Profile) -> Arc<RoadNetwork> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (name.to_owned(), profile);
    if let Some(n) = cache.lock().unwrap().get(&key) {
        return Arc::clone(n);
    }
    let import = router::osm::import(&extract(name), profile).expect("the shared extracts import");
    let net = Arc::new(RoadNetwork::prepare(profile, import.graph));
    Arc::clone(cache.lock().unwrap().entry(key).or_insert(net))
}

/// A point within about 20 m of a random road segment of the network.
pub fn near_road(net: &RoadNetwork, rng: &mut fastrand::Rng) -> LatLng {
    router::synthetic::point_near_road(net.graph(), rng, 20.0).expect("the network has roads")
}
