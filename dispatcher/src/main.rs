//! The `dispatcher` command.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use dispatcher::{bus, store};
use tracing_subscriber::EnvFilter;

/// Courier dispatch service.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Without a command: run the service on the embedded default (in-memory store, in-process
    /// bus) with a simulated city talking to it over gRPC, and print the outcome.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A live city on a real street map (Monaco, embedded): the service on the embedded default,
    /// kitchens and couriers as gRPC clients over loopback, a status line while it runs and the
    /// figures at the end. The default when no command is given.
    Demo(DemoArgs),
    /// Runs the service: gRPC, metrics, the planner, and RabbitMQ and TimescaleDB when configured
    /// (with neither, an in-memory store and an in-process bus). Configuration comes from
    /// defaults, an optional TOML file and the environment; `--help` lists every variable.
    #[command(after_help = dispatcher::config::help_text())]
    Serve {
        /// A TOML file whose keys are the variables below in lower case.
        #[arg(long, env = "DISPATCH_CONFIG")]
        config: Option<std::path::PathBuf>,
    },
    /// Replays a benchmark through the planner on a simulated clock.
    Simulate {
        #[command(subcommand)]
        benchmark: Benchmark,
    },
    /// Prepares real servers: applies the database migrations and declares the RabbitMQ exchanges
    /// and queues. Safe to run any number of times.
    Setup {
        /// PostgreSQL with TimescaleDB, e.g. postgres://postgres@127.0.0.1:55432/courier.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// RabbitMQ, e.g. amqp://guest:guest@127.0.0.1:55672/%2f.
        #[arg(long, env = "AMQP_URL")]
        amqp_url: String,
        /// Also provision a region as TENANT/REGION: its database rows and its inbound queues.
        /// Repeatable.
        #[arg(long = "region", value_name = "TENANT/REGION")]
        regions: Vec<String>,
    },
    /// The support CLI: looks orders and couriers up and overrides the planner, through the
    /// service's gRPC support API.
    Ctl(dispatcher::ctl::CtlArgs),
    /// Mints a bearer token with the shared secret in AUTH_JWT_SECRET (and the AUTH_JWT_ALGORITHM,
    /// _ISSUER and _AUDIENCE that `serve` checks), and prints it. Where tokens are signed by an
    /// identity service with a private key, that service issues them instead.
    Token {
        /// What the bearer is: courier, kitchen, support or admin.
        #[arg(long)]
        role: dispatcher::auth::Role,
        /// The bearer's tenant.
        #[arg(long)]
        tenant: String,
        /// The courier's or kitchen's id, or the operator's.
        #[arg(long)]
        subject: String,
        /// Hours until the token expires.
        #[arg(long, default_value_t = 8)]
        hours: u64,
        /// A TOML file with the AUTH_JWT_* keys, as for `serve`.
        #[arg(long, env = "DISPATCH_CONFIG")]
        config: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct DemoArgs {
    /// Couriers on shift.
    #[arg(long, default_value_t = 30)]
    couriers: usize,
    /// Orders placed over the run.
    #[arg(long, default_value_t = 120)]
    orders: u64,
    /// Kitchens.
    #[arg(long, default_value_t = 12)]
    kitchens: usize,
    /// Simulated minutes over which orders arrive.
    #[arg(long, default_value_t = 30)]
    minutes: i64,
    /// How much faster than real time simulated time runs.
    #[arg(long, default_value_t = 30.0)]
    speed: f64,
    /// Seed of the city (kitchens, orders, couriers and their answers).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Share of offers the couriers accept.
    #[arg(long, default_value_t = 0.9)]
    accept: f64,
    /// Write an HTML report (map, tracks, charts) to this file at the end.
    #[arg(long)]
    report: Option<std::path::PathBuf>,
    /// Keep the service running after the simulation, for `dispatcher ctl`, until Ctrl-C.
    #[arg(long)]
    keep_running: bool,
    /// Print every offer answer and delivery.
    #[arg(long)]
    verbose: bool,
}

impl DemoArgs {
    /// The arguments as if none were given on the command line.
    fn parse_defaults() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            args: DemoArgs,
        }
        Only::parse_from(["dispatcher"]).args
    }
}

#[derive(Debug, Subcommand)]
enum Benchmark {
    /// The Grubhub meal delivery instances (Reyes et al. 2018): writes the evaluator's three
    /// solution files, checks them and prints the metrics.
    Mdrp {
        /// One instance folder.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        instance: Option<std::path::PathBuf>,
        /// Every instance folder below this one, as a table with the published figures.
        #[arg(long)]
        all: Option<std::path::PathBuf>,
        /// Where to write the solution files.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Minutes between planning rounds.
        #[arg(long, default_value_t = 1)]
        epoch: i64,
        /// Search iterations per round and thread.
        #[arg(long, default_value_t = 300)]
        iterations: u64,
        /// Search threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Leave idle couriers where they are instead of sending them to the nearest restaurant.
        #[arg(long)]
        no_preposition: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The demo and the support CLI print their own output; the service logs what it does.
    let default_level = match cli.command {
        None | Some(Command::Demo(_) | Command::Ctl(_) | Command::Token { .. }) => "warn",
        Some(_) => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)),
        )
        .init();
    match cli.command {
        None => demo(DemoArgs::parse_defaults()).await,
        Some(Command::Demo(args)) => demo(args).await,
        Some(Command::Serve { config }) => serve(config.as_deref()).await,
        Some(Command::Simulate {
            benchmark:
                Benchmark::Mdrp {
                    instance,
                    all,
                    out,
                    epoch,
                    iterations,
                    threads,
                    no_preposition,
                },
        }) => {
            // The planner's objective is the live service's: the same WEIGHT_* variables apply.
            let weights = dispatcher::config::Config::from_env_and_file(None)?.weights;
            let options = dispatcher::mdrp::sim::SimOptions {
                epoch_min: epoch,
                iterations,
                threads,
                weights,
                preposition: !no_preposition,
            };
            match (instance, all) {
                (Some(instance), _) => simulate_mdrp(&instance, &out, &options).await,
                (None, Some(root)) => simulate_mdrp_all(&root, &out, &options).await,
                (None, None) => anyhow::bail!("give --instance DIR or --all ROOT"),
            }
        }
        Some(Command::Setup {
            database_url,
            amqp_url,
            regions,
        }) => setup(&database_url, &amqp_url, &regions).await,
        Some(Command::Token {
            role,
            tenant,
            subject,
            hours,
            config,
        }) => {
            let config = dispatcher::config::Config::from_env_and_file(config.as_deref())?;
            let settings = config.auth.ok_or_else(|| {
                anyhow::anyhow!(
                    "no AUTH_JWT_SECRET: a token can be minted only with the shared secret"
                )
            })?;
            let token = dispatcher::auth::Issuer::new(&settings)?.mint(
                &tenant,
                role,
                &subject,
                std::time::Duration::from_secs(hours.saturating_mul(3600)),
            )?;
            println!("{token}");
            Ok(())
        }
        Some(Command::Ctl(args)) => match dispatcher::ctl::run(args).await {
            Ok(text) => {
                print!("{text}");
                Ok(())
            }
            Err(error) => {
                eprintln!("error: {error}");
                std::process::exit(1);
            }
        },
    }
}

async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let mut config = dispatcher::config::Config::defaults();
    // The simulated apps are told where to connect; kept running, the service takes the default
    // port so that `dispatcher ctl` finds it without --addr.
    if !args.keep_running {
        config.grpc_addr = "127.0.0.1:0".parse()?;
    }
    config.metrics_addr = "127.0.0.1:0".parse()?;
    config.planner_tick = std::time::Duration::from_secs(1);
    config.planner_urgent_gap = std::time::Duration::from_millis(100);
    config.planner_budget = std::time::Duration::from_millis(300);
    config.offer_expiry = std::time::Duration::from_secs(60);
    anyhow::ensure!(args.speed > 0.0, "--speed must be positive");
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.accept),
        "--accept must be between 0 and 1"
    );
    anyhow::ensure!(
        args.couriers > 0 && args.orders > 0 && args.kitchens > 0 && args.minutes > 0,
        "--couriers, --orders, --kitchens and --minutes must be positive"
    );
    let options = dispatcher::demo::DemoOptions {
        couriers: args.couriers,
        orders: args.orders,
        kitchens: args.kitchens,
        minutes: args.minutes,
        speed_up: args.speed,
        accept: args.accept,
        seed: args.seed,
        verbose: args.verbose,
        report: args.report,
        keep_running: args.keep_running,
    };
    let outcome = dispatcher::demo::run(&config, &options).await?;
    if !options.keep_running {
        print!("{}", outcome.kpis);
    }
    Ok(())
}

async fn simulate_mdrp_all(
    root: &std::path::Path,
    out: &std::path::Path,
    options: &dispatcher::mdrp::sim::SimOptions,
) -> anyhow::Result<()> {
    use dispatcher::mdrp::suite;
    let rows = suite::run_all(root, out, options, |row| {
        println!(
            "{}: {} in {:.1} s (longest round {:.2} s), click-to-door {:.2} (bound {:.2})",
            row.name,
            if row.violations == 0 {
                "feasible".to_owned()
            } else {
                format!("{} violations", row.violations)
            },
            row.seconds,
            row.planning.max_s,
            row.metrics.ctd_mean,
            row.metrics.ctd_lb_mean
        );
    })
    .await?;
    let published = suite::Published::load(&root.join("../published_results.csv"));
    print!("{}", suite::render(&rows, &published));
    Ok(())
}

async fn simulate_mdrp(
    dir: &std::path::Path,
    out: &std::path::Path,
    options: &dispatcher::mdrp::sim::SimOptions,
) -> anyhow::Result<()> {
    use dispatcher::mdrp::{check, instance::Instance, metrics::Metrics, sim};
    let instance = Instance::load(dir)?;
    let started = std::time::Instant::now();
    let sim::Replayed { replay, planning } =
        sim::replay(&instance, instance.name(), options).await?;
    let seconds = started.elapsed().as_secs_f64();
    std::fs::create_dir_all(out)?;
    replay.write(out, &instance)?;
    let verdict = match check::check(&instance, &replay) {
        Ok(()) => "feasible".to_owned(),
        Err(violations) => {
            for v in violations.iter().take(10) {
                println!("  violation: {v}");
            }
            format!("{} violations", violations.len())
        }
    };
    let m = Metrics::compute(&instance, &replay);
    println!(
        "{}: {verdict}, {seconds:.1} s ({} planning rounds, {} failed, longest {:.2} s); undelivered {:.2} %, click-to-door {:.2} (p90 {:.1}, lower \
         bound {:.2}), overage {:.2}, ready-to-pickup {:.2} (p90 {:.1}), utilization {:.2} (p10 \
         {:.2}), cost/order {:.2}, orders/bundle {:.2}",
        instance.name(),
        planning.rounds,
        planning.failed,
        planning.max_s,
        m.undelivered_pct,
        m.ctd_mean,
        m.ctd_p90,
        m.ctd_lb_mean,
        m.overage_mean,
        m.rtp_mean,
        m.rtp_p90,
        m.utilization_mean,
        m.utilization_p10,
        m.cost_per_order,
        m.orders_per_bundle
    );
    Ok(())
}

async fn serve(config: Option<&std::path::Path>) -> anyhow::Result<()> {
    let config = dispatcher::config::Config::from_env_and_file(config)?;
    let travel = dispatcher::service::load_maps(&config)?;
    let running = dispatcher::service::Running::start(
        &config,
        std::sync::Arc::new(dispatcher::clock::WallClock),
        travel,
    )
    .await?;
    shutdown_signal().await;
    running.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(term) => term,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the service");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn setup(database_url: &str, amqp_url: &str, regions: &[String]) -> anyhow::Result<()> {
    let regions: Vec<(&str, &str)> = regions
        .iter()
        .map(|r| {
            r.split_once('/')
                .filter(|(t, r)| !t.is_empty() && !r.is_empty())
                .with_context(|| format!("--region {r:?}: expected TENANT/REGION"))
        })
        .collect::<anyhow::Result<_>>()?;

    let mut db = store::connect(database_url)
        .await
        .context("connecting to the database")?;
    let report = store::migrations::apply(&mut db)
        .await
        .context("applying migrations")?;
    tracing::info!(
        applied = ?report.applied,
        already_applied = report.already_applied.len(),
        "database schema is current"
    );
    for (tenant, region) in &regions {
        db.execute(
            "INSERT INTO tenants (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING",
            &[tenant],
        )
        .await?;
        db.execute(
            "INSERT INTO regions (tenant_id, region_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[tenant, region],
        )
        .await?;
    }

    let connection = bus::connect(amqp_url, "dispatcher-setup")
        .await
        .context("connecting to RabbitMQ")?;
    let channel = connection.create_channel().await?;
    bus::topology::declare(&channel)
        .await
        .context("declaring exchanges")?;
    for (tenant, region) in &regions {
        let queues = bus::topology::declare_region(&channel, tenant, region).await?;
        tracing::info!(tenant, region, orders = %queues.orders, positions = %queues.positions, "region ready");
    }
    connection.close(200, "setup done".into()).await?;
    tracing::info!("broker topology is declared");
    Ok(())
}
