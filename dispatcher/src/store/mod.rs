//! TimescaleDB: connections, the embedded schema migrations, and the writers and readers for each table.

pub mod migrations;
pub mod positions;

use std::str::FromStr;

use tokio_postgres::{Client, Config, NoTls};

/// Everything that can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL could not be parsed.
    #[error("invalid database url: {0}")]
    InvalidUrl(#[source] tokio_postgres::Error),
    /// A query or connection failed.
    #[error("database error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// A migration already applied to the database differs from the one built into this binary.
    #[error(
        "migration {version} ({name}) was changed after it was applied: database has checksum \
         {applied}, this build has {embedded}; add a new migration instead of editing an old one"
    )]
    MigrationChanged {
        /// The migration number.
        version: u32,
        /// The migration name.
        name: String,
        /// Checksum recorded in the database.
        applied: String,
        /// Checksum of the SQL in this build.
        embedded: String,
    },
    /// A migration failed to apply; nothing of it was kept.
    #[error("migration {version} ({name}) failed: {source}")]
    MigrationFailed {
        /// The migration number.
        version: u32,
        /// The migration name.
        name: &'static str,
        /// What PostgreSQL said.
        #[source]
        source: tokio_postgres::Error,
    },
}

/// Opens one connection (outside any pool) and drives it on the current tokio runtime.
///
/// For one-off work such as migrations, which hold a session-level advisory lock and must not hand a
/// locked session back to a pool.
pub async fn connect(database_url: &str) -> Result<Client, StoreError> {
    let config = Config::from_str(database_url).map_err(StoreError::InvalidUrl)?;
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "database connection closed with an error");
        }
    });
    Ok(client)
}
