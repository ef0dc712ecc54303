//! The schema, embedded from `migrations/` at build time and applied at start-up.
//!
//! Each migration runs in its own transaction and is recorded in `schema_migrations` with a checksum.
//! A session-level advisory lock serialises dispatcher instances that start together, so exactly one
//! applies a migration and the others wait, then see it recorded. Re-running is a no-op. A migration
//! edited after it was applied is refused: the database and the code would disagree silently
//! otherwise.

use std::time::Instant;

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use super::StoreError;

/// One numbered SQL file from `migrations/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The number in the file name; migrations apply in increasing order.
    pub version: u32,
    /// The file name after the number, without `.sql`.
    pub name: &'static str,
    /// The SQL text.
    pub sql: &'static str,
}

impl Migration {
    /// SHA-256 of the SQL text, hex encoded.
    pub fn checksum(&self) -> String {
        Sha256::digest(self.sql.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

/// What a run of [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Versions applied by this run, in order.
    pub applied: Vec<u32>,
    /// Versions found already applied (and unchanged).
    pub already_applied: Vec<u32>,
}

/// The migrations built into this binary, in version order.
pub fn embedded() -> &'static [Migration] {
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"))
}

/// Arbitrary but fixed key of the advisory lock that serialises migration runs.
const LOCK_KEY: i64 = 0x636f_7572_6965_7201;

/// Applies every embedded migration that the database lacks.
pub async fn apply(client: &mut Client) -> Result<MigrationReport, StoreError> {
    apply_these(client, embedded()).await
}

/// Applies the given migrations (which must be in version order) that the database lacks.
///
/// [`apply`] is this with the embedded set; tests use it to present a changed migration.
pub async fn apply_these(
    client: &mut Client,
    migrations: &[Migration],
) -> Result<MigrationReport, StoreError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
        .await?;
    let outcome = apply_locked(client, migrations).await;
    // Release even after a failure: the caller may keep using this session.
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
        .await;
    let report = outcome?;
    unlocked?;
    Ok(report)
}

async fn apply_locked(
    client: &mut Client,
    migrations: &[Migration],
) -> Result<MigrationReport, StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version      integer     PRIMARY KEY,
                 name         text        NOT NULL,
                 checksum     text        NOT NULL,
                 applied_at   timestamptz NOT NULL DEFAULT now(),
                 duration_ms  integer     NOT NULL
             )",
        )
        .await?;
    let recorded = client
        .query("SELECT version, name, checksum FROM schema_migrations", &[])
        .await?;
    let recorded: Vec<(u32, String, String)> = recorded
        .iter()
        .map(|row| {
            let version: i32 = row.get(0);
            (version.unsigned_abs(), row.get(1), row.get(2))
        })
        .collect();

    let mut report = MigrationReport::default();
    for migration in migrations {
        let embedded = migration.checksum();
        if let Some((_, name, applied)) = recorded.iter().find(|r| r.0 == migration.version) {
            if *applied != embedded {
                return Err(StoreError::MigrationChanged {
                    version: migration.version,
                    name: name.clone(),
                    applied: applied.clone(),
                    embedded,
                });
            }
            report.already_applied.push(migration.version);
            continue;
        }
        apply_one(client, migration, &embedded).await?;
        report.applied.push(migration.version);
    }

    for (version, name, _) in &recorded {
        if !migrations.iter().any(|m| m.version == *version) {
            // A newer build applied it; this (older) build can still run against a superset schema.
            tracing::warn!(
                version,
                name,
                "database has a migration this build does not know"
            );
        }
    }
    Ok(report)
}

async fn apply_one(
    client: &mut Client,
    migration: &Migration,
    checksum: &str,
) -> Result<(), StoreError> {
    let failed = |source| StoreError::MigrationFailed {
        version: migration.version,
        name: migration.name,
        source,
    };
    let started = Instant::now();
    let tx = client.transaction().await?;
    tx.batch_execute(migration.sql).await.map_err(failed)?;
    let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let version = i32::try_from(migration.version).unwrap_or(i32::MAX);
    tx.execute(
        "INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)",
        &[&version, &migration.name, &checksum, &duration_ms],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        version = migration.version,
        name = migration.name,
        duration_ms,
        "applied migration"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_migrations_are_numbered_in_order_from_one() {
        let versions: Vec<u32> = embedded().iter().map(|m| m.version).collect();
        let expected: Vec<u32> = (1..=versions.len() as u32).collect();
        assert_eq!(versions, expected);
    }

    #[test]
    fn checksum_changes_with_the_text() {
        let a = Migration {
            version: 1,
            name: "a",
            sql: "SELECT 1",
        };
        let b = Migration {
            sql: "SELECT 2",
            ..a
        };
        assert_eq!(a.checksum().len(), 64);
        assert_ne!(a.checksum(), b.checksum());
    }
}
