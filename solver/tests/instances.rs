//! The readers against every Solomon and Li & Lim instance in ../shared/data/vrp, and against broken
//! input.

use std::path::PathBuf;

use solver::{SolverError, instances};

fn data(set: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/vrp")
        .join(set)
}

fn instance_files(set: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data(set))
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (is ../shared beside the checkout?)",
                data(set).display()
            )
        })
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_solomon_instance_reads_with_100_customers() {
    let files = instance_files("solomon");
    assert_eq!(files.len(), 56);
    for file in files {
        let instance = instances::read(&file).expect("reads");
        let p = &instance.problem;
        assert_eq!(p.jobs.len(), 100, "{}", instance.name);
        assert_eq!(p.matrices[0].len(), 101);
        assert!(p.jobs.iter().all(|j| j.pickup.is_none() && j.size[0] > 0));
        assert_eq!(
            instance.name,
            file.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
        );
    }
}

#[test]
fn every_li_lim_instance_reads_as_pickup_delivery_pairs() {
    let files = instance_files("lilim100");
    assert_eq!(files.len(), 56);
    for file in files {
        let instance = instances::read(&file).expect("reads");
        let p = &instance.problem;
        // Every place but the depot is one stop of exactly one request.
        assert_eq!(
            p.jobs.len() * 2 + 1,
            p.matrices[0].len(),
            "{}",
            instance.name
        );
        for job in &p.jobs {
            let pickup = job.pickup.expect("a pickup");
            assert!(pickup.window.start <= pickup.window.end);
            assert_ne!(pickup.location, job.delivery.location);
        }
    }
}

#[test]
fn solomon_values_land_where_they_belong() {
    let c101 = instances::read(&data("solomon").join("C101.txt")).expect("reads");
    let p = &c101.problem;
    assert_eq!(p.vehicles.len(), 25);
    assert_eq!(p.vehicles[0].capacity[0], 200);
    assert_eq!(p.vehicles[0].shift_end, 1236.0);
    // Customer 1: 45 68, demand 10, window 912-967, service 90.
    let job = &p.jobs[0];
    assert_eq!(job.size[0], 10);
    assert_eq!(
        (job.delivery.window.start, job.delivery.window.end),
        (912.0, 967.0)
    );
    assert_eq!(job.delivery.service, 90.0);
    assert_eq!(p.matrices[0].distance(0, 1), (5.0f64).hypot(18.0));
}

fn parse_error_line(result: Result<instances::Instance, SolverError>) -> usize {
    match result {
        Err(SolverError::Parse { line, .. }) => line,
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn broken_input_names_the_line() {
    let solomon = "X\n\nVEHICLE\nNUMBER CAPACITY\n 2 10\n\nCUSTOMER\nCUST NO. ...\n\n 0 0 0 0 0 100 0\n 1 3 4 five 0 50 1\n";
    assert_eq!(
        parse_error_line(instances::solomon::parse(solomon, "x")),
        11
    );

    let short_row = "X\nVEHICLE\n 2 10\nCUSTOMER\n 0 0 0 0 0 100 0\n 1 3 4 5 0 50\n";
    assert_eq!(
        parse_error_line(instances::solomon::parse(short_row, "x")),
        6
    );

    let unpaired = "2\t10\t1\n0\t0\t0\t0\t0\t100\t0\t0\t0\n1\t1\t1\t5\t0\t50\t1\t0\t2\n2\t2\t2\t-4\t0\t50\t1\t1\t0\n";
    // Reported on the delivery line, whose demand does not mirror its pickup's.
    assert_eq!(
        parse_error_line(instances::lilim::parse(unpaired, "x", "x")),
        4
    );

    assert!(instances::lilim::parse("", "x", "x").is_err());
    assert!(instances::read(&data("no-such-set").join("x.txt")).is_err());
}
