//! Fuzzing the input paths with proptest (stable toolchain; cargo-fuzz needs nightly):
//!
//! - `envelope`: arbitrary and mutated bytes through the RabbitMQ decoder, every inbound check and
//!   the core's ingest on the embedded service;
//! - `validators`: structured hostile orders, fixes and courier messages through the validators;
//! - `grpc`: hostile requests of every type through the gRPC server of the embedded service;
//! - `corpus`: the hand-written hostile envelopes in `tests/corpus/`, replayed every run.
//!
//! Failures proptest finds are kept where proptest keeps them by default (a `.proptest-regressions`
//! file beside the property's source, committed) and replayed first on every run. `PROPTEST_CASES`
//! raises the case counts for a longer session.

#[path = "../common/clients.rs"]
mod clients;
mod corpus;
mod envelope;
mod r#gen;
mod grpc;
mod service;
mod validators;

use proptest::test_runner::Config;

/// The proptest configuration: `cases` per property (kept small, the suite runs on every push)
/// unless `PROPTEST_CASES` says otherwise.
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        ..Config::default()
    }
}
