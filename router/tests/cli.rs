//! The `router` command end to end on the Monaco extract: prepare, route both ways, bench.

mod common;

use std::process::Command;

fn router(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_router"))
        .args(args)
        .output()
        .expect("the router binary runs")
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn prepare_route_and_bench_a_real_extract() {
    let graph = std::env::temp_dir().join(format!("router-cli-{}.graph", std::process::id()));
    let graph_arg = graph.to_str().unwrap();
    let pbf = common::extract(common::EXTRACTS[0]);
    let prepared = json(&router(&[
        "prepare",
        "--pbf",
        pbf.to_str().unwrap(),
        "--profile",
        "car",
        "--out",
        graph_arg,
    ]));
    assert!(prepared["nodes"].as_u64().unwrap() > 10_000, "{prepared}");

    // From the Casino de Monte-Carlo to the Stade Louis II, across the principality.
    let trip = [
        "--graph",
        graph_arg,
        "--from",
        "43.7393,7.4277",
        "--to",
        "43.7276,7.4156",
    ];
    let ch = json(&router(&[&["route"][..], &trip].concat()));
    let dijkstra = json(&router(
        &[&["route"][..], &trip, &["--algo", "dijkstra"]].concat(),
    ));
    assert_eq!(ch["seconds"], dijkstra["seconds"]);
    let metres = ch["metres"].as_f64().unwrap();
    // 1.9 km as the crow flies; by road it must be longer but not absurdly so.
    assert!((1_900.0..6_000.0).contains(&metres), "{ch}");
    assert!(!ch["polyline"].as_str().unwrap().is_empty());

    let far = router(&[
        "route",
        "--graph",
        graph_arg,
        "--from",
        "43.60,7.60",
        "--to",
        "43.7276,7.4156",
    ]);
    assert!(!far.status.success());
    assert!(
        String::from_utf8_lossy(&far.stderr).contains("no road within"),
        "{far:?}"
    );

    let bench = json(&router(&[
        "bench", "--graph", graph_arg, "--pairs", "500", "--matrix", "50", "--check", "200",
    ]));
    assert_eq!(bench["mismatches"], 0, "{bench}");
    assert_eq!(bench["matrix_size"], 50);
    std::fs::remove_file(&graph).unwrap();
}
