//! The `dispatcher` command.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use dispatcher::{bus, store};
use tracing_subscriber::EnvFilter;

/// Courier dispatch service.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Setup {
            database_url,
            amqp_url,
            regions,
        } => setup(&database_url, &amqp_url, &regions).await,
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
