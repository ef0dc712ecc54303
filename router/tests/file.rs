//! Prepared graph files: what is saved loads back identical, and damaged or foreign files are refused
//! with a reason.

mod common;

use router::{Profile, RouterError, file};

use common::{EXTRACTS, network};

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("router-test-{}-{name}", std::process::id()))
}

#[test]
fn a_saved_network_loads_back_with_the_same_answers() {
    let net = network(EXTRACTS[0], Profile::Foot);
    let path = temp("roundtrip.graph");
    file::save(&net, &path).unwrap();
    let back = file::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(back.profile(), Profile::Foot);
    assert_eq!(back.graph().node_count(), net.graph().node_count());
    assert_eq!(back.hierarchy().order(), net.hierarchy().order());
    assert_eq!(back.cells(), net.cells());
    let mut rng = fastrand::Rng::with_seed(1);
    for _ in 0..200 {
        let (a, b) = (
            common::near_road(&net, &mut rng),
            common::near_road(&net, &mut rng),
        );
        assert_eq!(back.travel(a, b).unwrap(), net.travel(a, b).unwrap());
    }
}

#[test]
fn damaged_truncated_and_foreign_files_are_refused() {
    let net = network(EXTRACTS[0], Profile::Car);
    let path = temp("damaged.graph");
    file::save(&net, &path).unwrap();
    let good = std::fs::read(&path).unwrap();

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let mut wrong_version = good.clone();
    wrong_version[8] = wrong_version[8].wrapping_add(1);
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("flipped bit", flipped, "checksum"),
        ("truncated", good[..good.len() / 3].to_vec(), "checksum"),
        ("other format version", wrong_version, "version"),
        ("not ours", b"PK\x03\x04 a zip file, say".to_vec(), "magic"),
    ];
    for (what, bytes, reason) in cases {
        std::fs::write(&path, bytes).unwrap();
        match file::load(&path) {
            Err(RouterError::BadGraphFile { reason: r, .. }) => {
                assert!(r.contains(reason), "{what}: {r}")
            }
            other => panic!("{what}: expected BadGraphFile, got {other:?}"),
        }
    }
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(file::load(&path), Err(RouterError::Io { .. })));
}
