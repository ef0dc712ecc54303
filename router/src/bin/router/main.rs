//! The `router` command: prepare road graphs from OpenStreetMap, query them, and measure them.
//!
//! - `router prepare --pbf FILE --profile P --out FILE` imports, orders and saves a graph.
//! - `router grid --side N --out FILE` saves a synthetic N×N street grid, for growth measurements.
//! - `router route --graph FILE --from LAT,LON --to LAT,LON [--algo ch|dijkstra]` prints one route
//!   as JSON.
//! - `router bench --graph FILE --pairs N --matrix M --seed S --threads T` prints one JSON object of
//!   timings and the number of hierarchy answers that disagree with Dijkstra.

mod bench;
mod prepare;
mod route;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use router::Profile;
use router::geo::LatLng;

/// Road routing: OSM import, contraction hierarchies, matrices.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Imports an .osm.pbf for one profile and saves the prepared graph.
    Prepare {
        /// The OpenStreetMap extract.
        #[arg(long)]
        pbf: PathBuf,
        /// car, bicycle, scooter or foot.
        #[arg(long, value_parser = parse_profile)]
        profile: Profile,
        /// Where to write the prepared graph.
        #[arg(long)]
        out: PathBuf,
    },
    /// Saves a prepared synthetic street grid of side × side nodes.
    Grid {
        /// Nodes per side.
        #[arg(long)]
        side: u32,
        /// Seed of the street speeds.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write the prepared graph.
        #[arg(long)]
        out: PathBuf,
    },
    /// Prints the fastest route between two coordinates as JSON.
    Route {
        /// A prepared graph file.
        #[arg(long)]
        graph: PathBuf,
        /// Start as LAT,LON.
        #[arg(long, value_parser = parse_lat_lng, allow_hyphen_values = true)]
        from: LatLng,
        /// End as LAT,LON.
        #[arg(long, value_parser = parse_lat_lng, allow_hyphen_values = true)]
        to: LatLng,
        /// Hierarchy (fast) or plain Dijkstra (reference).
        #[arg(long, value_enum, default_value_t = Algo::Ch)]
        algo: Algo,
    },
    /// Measures loading, one-to-one queries, matrices and traffic updates; prints one JSON object.
    Bench {
        /// A prepared graph file.
        #[arg(long)]
        graph: PathBuf,
        /// Random node pairs (and coordinate pairs) to time one-to-one queries on.
        #[arg(long, default_value_t = 100_000)]
        pairs: usize,
        /// Side of the square matrix to time.
        #[arg(long, default_value_t = 1000)]
        matrix: usize,
        /// Seed of the random pairs and points.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Threads for the matrix.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Pairs checked against plain Dijkstra.
        #[arg(long, default_value_t = 1000)]
        check: usize,
    },
}

/// Which algorithm answers `route`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Algo {
    /// The customizable contraction hierarchy.
    Ch,
    /// Plain Dijkstra on petgraph.
    Dijkstra,
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    s.parse().map_err(|e: router::RouterError| e.to_string())
}

fn parse_lat_lng(s: &str) -> Result<LatLng, String> {
    let (lat, lng) = s
        .split_once(',')
        .ok_or_else(|| format!("expected LAT,LON, got {s:?}"))?;
    let number = |t: &str| t.trim().parse::<f64>().map_err(|e| format!("{t:?}: {e}"));
    LatLng::new(number(lat)?, number(lng)?).map_err(|e| e.to_string())
}

fn main() -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let result = match Cli::parse().command {
        Command::Prepare {
            pbf,
            profile,
            out: file,
        } => prepare::from_pbf(&mut out, &pbf, profile, &file),
        Command::Grid {
            side,
            seed,
            out: file,
        } => prepare::grid(&mut out, side, seed, &file),
        Command::Route {
            graph,
            from,
            to,
            algo,
        } => route::run(&mut out, &graph, from, to, algo),
        Command::Bench {
            graph,
            pairs,
            matrix,
            seed,
            threads,
            check,
        } => bench::run(
            &mut out,
            &graph,
            &bench::Settings {
                pairs,
                matrix,
                seed,
                threads,
                check,
            },
        ),
    };
    match result.and_then(|()| out.flush().context("writing to stdout")) {
        // A reader that went away (`router bench ... | head`) is not worth a message.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Output written as results come in.
type Out<'a> = std::io::StdoutLock<'a>;
