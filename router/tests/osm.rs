//! OSM import on the two test extracts: sizes, connectivity, speeds, and ways checked by hand.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use petgraph::algo::kosaraju_scc;
use router::geo::haversine_m;
use router::osm::{Import, import};
use router::{Profile, RouterError};

const MONACO: &str = "monaco.osm.pbf";
const ANDORRA: &str = "andorra-2026-04-04.osm.pbf";

fn data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/osm")
        .join(file)
}

/// An import with a lookup from OSM node id to graph node.
struct Imported {
    import: Import,
    node_of: HashMap<i64, u32>,
}

impl Imported {
    fn has_arc(&self, from: i64, to: i64) -> bool {
        match (self.node_of.get(&from), self.node_of.get(&to)) {
            (Some(&a), Some(&b)) => self.import.graph.find_arc(a, b).is_some(),
            _ => false,
        }
    }
}

/// Each (extract, profile) is imported once per test binary and shared by the tests.
fn imported(file: &'static str, profile: Profile) -> &'static Imported {
    static CACHE: OnceLock<HashMap<(&'static str, Profile), OnceLock<Imported>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| {
        [MONACO, ANDORRA]
            .into_iter()
            .flat_map(|f| Profile::ALL.map(|p| ((f, p), OnceLock::new())))
            .collect()
    });
    cache[&(file, profile)].get_or_init(|| {
        let import = import(&data(file), profile).expect("test extract imports");
        let node_of = import
            .osm_ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, i as u32))
            .collect();
        Imported { import, node_of }
    })
}

/// Expected graph sizes (nodes after keeping the largest strongly connected component), give or take
/// 10 % for rule tweaks and deliberately loose. Walkers and cyclists get many more nodes than cars in
/// Andorra: mountain paths and tracks.
fn expected_nodes(file: &str, profile: Profile) -> usize {
    match (file, profile) {
        (MONACO, Profile::Car) => 14_360,
        (MONACO, Profile::Scooter) => 14_086,
        (MONACO, Profile::Bicycle) => 18_879,
        (MONACO, Profile::Foot) => 23_759,
        (_, Profile::Car | Profile::Scooter) => 35_202,
        (_, Profile::Bicycle) => 126_225,
        (_, Profile::Foot) => 136_905,
    }
}

fn every_import() -> impl Iterator<Item = (&'static str, Profile, &'static Imported)> {
    [MONACO, ANDORRA]
        .into_iter()
        .flat_map(|f| Profile::ALL.map(|p| (f, p, imported(f, p))))
}

#[test]
fn sizes_are_plausible_and_ids_consistent() {
    for (file, profile, imp) in every_import() {
        let (g, stats) = (&imp.import.graph, imp.import.stats);
        let expected = expected_nodes(file, profile) as f64;
        let n = g.node_count();
        assert!(
            (n as f64 - expected).abs() < 0.1 * expected,
            "{file} {profile}: {n} nodes, expected about {expected}"
        );
        assert_eq!(stats.nodes, n);
        assert_eq!(stats.arcs, g.arc_count());
        assert!(stats.nodes_before_scc >= n && stats.ways_used > 0);
        assert!(g.arc_count() > n, "{file} {profile}: too few arcs");
        assert_eq!(imp.import.osm_ids.len(), n);
        assert_eq!(imp.node_of.len(), n, "{file} {profile}: repeated OSM ids");
        g.validate().expect("graph arrays fit together");
    }
}

#[test]
fn graphs_are_strongly_connected() {
    for (file, profile, imp) in every_import() {
        let components = kosaraju_scc(&imp.import.graph.to_petgraph());
        assert_eq!(components.len(), 1, "{file} {profile}");
    }
}

#[test]
fn arcs_take_time_at_speeds_the_profile_allows() {
    for (file, profile, imp) in every_import() {
        let g = &imp.import.graph;
        let (low, high) = profile.speed_bounds_kmh();
        for (tail, a) in g.arcs() {
            assert!(g.millis(a) > 0, "{file} {profile}: free arc");
            let metres = haversine_m(g.coord(tail), g.coord(g.head(a)));
            assert!((metres - f64::from(g.centimetres(a)) / 100.0).abs() < 0.01);
            // Below 10 m, rounding to whole milliseconds blurs the speed too much to check.
            if metres >= 10.0 {
                let kmh = metres / (f64::from(g.millis(a)) / 1000.0) * 3.6;
                assert!(
                    kmh > low * 0.99 && kmh < high * 1.01,
                    "{file} {profile}: {kmh} km/h outside {low}..{high}"
                );
            }
        }
    }
}

#[test]
fn import_is_deterministic() {
    let again = import(&data(MONACO), Profile::Car).unwrap();
    let first = &imported(MONACO, Profile::Car).import;
    assert_eq!(again.osm_ids, first.osm_ids);
    let arcs = |g: &router::RoadGraph| {
        g.arcs()
            .map(|(t, a)| (t, g.head(a), g.millis(a), g.centimetres(a)))
            .collect::<Vec<_>>()
    };
    assert_eq!(arcs(&again.graph), arcs(&first.graph));
}

/// Way 4227157, Rue des Remparts in Monaco-Ville: residential, `oneway=yes`, nodes 25182821 then
/// 25182851.
#[test]
fn oneway_street_is_one_way_for_cars_only() {
    let (from, to) = (25_182_821, 25_182_851);
    let car = imported(MONACO, Profile::Car);
    assert!(car.has_arc(from, to) && !car.has_arc(to, from));
    let scooter = imported(MONACO, Profile::Scooter);
    assert!(scooter.has_arc(from, to) && !scooter.has_arc(to, from));
    let foot = imported(MONACO, Profile::Foot);
    assert!(foot.has_arc(from, to) && foot.has_arc(to, from));
}

/// Way 24672730, Voie Romaine (Beausoleil): residential, `oneway=-1`, so traffic runs from its second
/// node 1868736573 to its first 1868736685.
#[test]
fn reverse_oneway_runs_against_the_node_order() {
    let (first, second) = (1_868_736_685, 1_868_736_573);
    let car = imported(MONACO, Profile::Car);
    assert!(car.has_arc(second, first) && !car.has_arc(first, second));
    let foot = imported(MONACO, Profile::Foot);
    assert!(foot.has_arc(second, first) && foot.has_arc(first, second));
}

/// Way 4229900, Avenue Albert II: `junction=roundabout` without `oneway`, nodes 25177422 then
/// 25204458. One way for every vehicle, bicycles included; not for walkers.
#[test]
fn roundabout_is_one_way_for_vehicles() {
    let (from, to) = (25_177_422, 25_204_458);
    for profile in [Profile::Car, Profile::Scooter, Profile::Bicycle] {
        let imp = imported(MONACO, profile);
        assert!(imp.has_arc(from, to) && !imp.has_arc(to, from), "{profile}");
    }
    let foot = imported(MONACO, Profile::Foot);
    assert!(foot.has_arc(from, to) && foot.has_arc(to, from));
}

/// Way 203711529, Quai Louis II: service alley with `access=private`, `motor_vehicle=private`,
/// `foot=yes`, `bicycle=no`; nodes 2137099319 then 2137099322. Only walkers may use it.
#[test]
fn private_alley_is_open_to_walkers_only() {
    let (a, b) = (2_137_099_319, 2_137_099_322);
    for profile in [Profile::Car, Profile::Scooter, Profile::Bicycle] {
        let imp = imported(MONACO, profile);
        assert!(!imp.has_arc(a, b) && !imp.has_arc(b, a), "{profile}");
    }
    let foot = imported(MONACO, Profile::Foot);
    assert!(foot.has_arc(a, b) && foot.has_arc(b, a));
}

/// Way 93137627, Place de l'Opéra: service alley with `access=private` but `motor_vehicle=permissive`
/// and `bicycle=designated`, nodes 25239182 then 1737272391: the specific tags win.
#[test]
fn specific_access_tags_override_access_private() {
    let (a, b) = (25_239_182, 1_737_272_391);
    for profile in [Profile::Car, Profile::Bicycle, Profile::Foot] {
        let imp = imported(MONACO, profile);
        assert!(imp.has_arc(a, b) && imp.has_arc(b, a), "{profile}");
    }
}

/// Way 24703938, the Le Corbusier footpath (old customs officers' path) at Roquebrune: `highway=footway`,
/// `foot=yes`, nodes 271061003 then 2425135911. Walkers only: no `bicycle` tag opens it to bicycles.
#[test]
fn footway_is_for_walkers() {
    let (a, b) = (271_061_003, 2_425_135_911);
    for profile in [Profile::Car, Profile::Scooter, Profile::Bicycle] {
        let imp = imported(MONACO, profile);
        assert!(!imp.has_arc(a, b) && !imp.has_arc(b, a), "{profile}");
    }
    let foot = imported(MONACO, Profile::Foot);
    assert!(foot.has_arc(a, b) && foot.has_arc(b, a));
}

// Neither extract has a contraflow cycle lane (no `oneway:bicycle`, `cycleway=opposite*` or
// `cycleway:*:oneway`), so those rules are checked on tag lists in the profile's unit tests.

/// A file name under the temp dir that no other test run uses.
fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("router-osm-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).expect("temp dir is writable");
    path
}

#[test]
fn missing_file_is_an_io_error() {
    let path = data("no-such-extract.osm.pbf");
    assert!(matches!(
        import(&path, Profile::Car),
        Err(RouterError::Io { .. })
    ));
}

#[test]
fn garbage_and_empty_files_are_pbf_errors() {
    let garbage = temp_file(
        "garbage.osm.pbf",
        &b"this is not a pbf file at all\n".repeat(50),
    );
    let empty = temp_file("empty.osm.pbf", b"");
    for path in [&garbage, &empty] {
        let result = import(path, Profile::Foot);
        let _ = std::fs::remove_file(path);
        assert!(
            matches!(result, Err(RouterError::Pbf { .. })),
            "{}: {result:?}",
            path.display()
        );
    }
}

/// Protobuf length-delimited field `field` holding `bytes` (all lengths here are under 128).
fn field(field: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![(field << 3) | 2, bytes.len() as u8];
    out.extend_from_slice(bytes);
    out
}

/// A PBF file holding nothing but a header block that requires `features`: the smallest valid file.
fn header_only_pbf(features: &[&str]) -> Vec<u8> {
    let header_block: Vec<u8> = features
        .iter()
        .flat_map(|f| field(4, f.as_bytes()))
        .collect();
    let blob = field(1, &header_block); // Blob.raw, uncompressed
    let mut blob_header = field(1, b"OSMHeader");
    blob_header.extend([3 << 3, blob.len() as u8]); // BlobHeader.datasize, a varint
    let mut file = (blob_header.len() as u32).to_be_bytes().to_vec();
    file.extend(blob_header);
    file.extend(blob);
    file
}

#[test]
fn valid_file_without_roads_has_no_roads() {
    let path = temp_file("roadless.osm.pbf", &header_only_pbf(&["OsmSchema-V0.6"]));
    let result = import(&path, Profile::Car);
    let _ = std::fs::remove_file(&path);
    assert!(
        matches!(result, Err(RouterError::NoRoads { .. })),
        "{result:?}"
    );
}

#[test]
fn file_requiring_unknown_features_is_refused() {
    let pbf = header_only_pbf(&["OsmSchema-V0.6", "HistoricalInformation"]);
    let path = temp_file("history.osm.pbf", &pbf);
    let result = import(&path, Profile::Car);
    let _ = std::fs::remove_file(&path);
    match result {
        Err(RouterError::Pbf { reason, .. }) => assert!(reason.contains("HistoricalInformation")),
        other => panic!("{other:?}"),
    }
}

/// Sizes and release timing, for the report: `cargo test --release -p router --test osm -- --ignored --nocapture`.
#[test]
#[ignore]
fn print_sizes_and_times() {
    for file in [MONACO, ANDORRA] {
        for profile in Profile::ALL {
            let best = (0..5)
                .map(|_| import(&data(file), profile).unwrap().stats)
                .min_by(|a, b| a.seconds.total_cmp(&b.seconds))
                .unwrap();
            println!("{file} {profile}: {best:?}");
        }
    }
}
