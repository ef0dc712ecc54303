//! The search's hot paths: finding a job's cheapest place over every route (the recreate step's
//! inner loop) and one whole ruin-and-recreate iteration, on a Solomon instance, a Li & Lim
//! instance and a dispatch-sized city snapshot.
//!
//! `cargo bench -p solver --features bench --bench insertion`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::{hint::black_box, path::PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use solver::{
    Problem,
    instances::{
        self,
        city::{self, CityShape},
    },
    search::probe::Probe,
};

fn shared_instance(set: &str, name: &str) -> Problem {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/vrp")
        .join(set)
        .join(format!("{name}.txt"));
    match instances::read(&path) {
        Ok(instance) => instance.problem,
        Err(e) => panic!("the benches read ../shared beside the checkout: {e}"),
    }
}

fn problems() -> Vec<(&'static str, Problem)> {
    let city = match city::snapshot(&CityShape::default()) {
        Ok(problem) => problem,
        Err(e) => panic!("city snapshot: {e}"),
    };
    vec![
        ("R101", shared_instance("solomon", "R101")),
        ("lr101", shared_instance("lilim100", "lr101")),
        ("city-300x1000", city),
    ]
}

fn insertion(c: &mut Criterion) {
    let problems = problems();
    let mut group = c.benchmark_group("cheapest_insertion");
    for (name, problem) in &problems {
        let mut probe = Probe::new(problem, 10, 1).unwrap_or_else(|e| panic!("{name}: {e}"));
        let jobs = probe.removed().to_vec();
        let mut next = 0;
        group.bench_function(*name, |b| {
            b.iter(|| {
                let job = jobs[next % jobs.len()];
                next += 1;
                black_box(probe.cheapest_insertion(black_box(job)))
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("ruin_and_recreate");
    for (name, problem) in &problems {
        let mut probe = Probe::new(problem, 10, 1).unwrap_or_else(|e| panic!("{name}: {e}"));
        group.bench_function(*name, |b| b.iter(|| probe.step()));
    }
    group.finish();
}

criterion_group!(benches, insertion);
criterion_main!(benches);
