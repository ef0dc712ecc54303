//! Courier tracks: batched binary COPY into the `courier_positions` hypertable, and track queries.
//!
//! Positions are the highest-volume data the service stores, so they are only ever written in batches
//! with `COPY ... (FORMAT binary)`. Ingest is at-least-once, so a batch may arrive again: the table's
//! unique (tenant, courier, time) index turns the repeat into a no-op. The fast path copies straight
//! into the hypertable; only a batch that collides with stored rows pays for the staging table and
//! `INSERT ... ON CONFLICT DO NOTHING`.

use chrono::{DateTime, Utc};
use futures::pin_mut;
use tokio_postgres::{
    Client,
    binary_copy::BinaryCopyInWriter,
    error::SqlState,
    types::{ToSql, Type},
};

use super::StoreError;

/// One stored GPS fix.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionRow {
    /// Tenant of the courier.
    pub tenant_id: String,
    /// Region the courier works in.
    pub region_id: String,
    /// The courier.
    pub courier_id: String,
    /// GPS time of the fix, UTC.
    pub recorded_at: DateTime<Utc>,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Longitude, WGS84 degrees.
    pub lng: f64,
    /// Horizontal accuracy in metres; 0 if unknown.
    pub accuracy_m: f32,
    /// Speed in metres per second; negative if unknown.
    pub speed_mps: f32,
    /// Heading in degrees clockwise from north; negative if unknown.
    pub heading_deg: f32,
}

const COLUMNS: &str =
    "tenant_id, region_id, courier_id, recorded_at, lat, lng, accuracy_m, speed_mps, heading_deg";

const TYPES: [Type; 9] = [
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::FLOAT8,
    Type::FLOAT8,
    Type::FLOAT4,
    Type::FLOAT4,
    Type::FLOAT4,
];

/// Stores a batch of fixes; returns how many were new (fixes already stored are skipped).
///
/// The batch is written in one transaction: either all new fixes are durable, or none.
pub async fn write_batch(client: &mut Client, rows: &[PositionRow]) -> Result<u64, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    match copy_direct(client, rows).await {
        Err(StoreError::Postgres(error)) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            tracing::debug!(
                rows = rows.len(),
                "position batch overlaps stored fixes; merging"
            );
            copy_merge(client, rows).await
        }
        other => other,
    }
}

async fn copy_direct(client: &mut Client, rows: &[PositionRow]) -> Result<u64, StoreError> {
    let tx = client.transaction().await?;
    let written = copy_into(&tx, "courier_positions", rows).await?;
    tx.commit().await?;
    Ok(written)
}

async fn copy_merge(client: &mut Client, rows: &[PositionRow]) -> Result<u64, StoreError> {
    let tx = client.transaction().await?;
    tx.batch_execute(
        "CREATE TEMP TABLE courier_positions_stage
             (LIKE courier_positions INCLUDING DEFAULTS) ON COMMIT DROP",
    )
    .await?;
    copy_into(&tx, "courier_positions_stage", rows).await?;
    let inserted = tx
        .execute(
            &format!(
                "INSERT INTO courier_positions ({COLUMNS})
                 SELECT {COLUMNS} FROM courier_positions_stage
                 ON CONFLICT DO NOTHING"
            ),
            &[],
        )
        .await?;
    tx.commit().await?;
    Ok(inserted)
}

async fn copy_into(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    rows: &[PositionRow],
) -> Result<u64, StoreError> {
    let sink = tx
        .copy_in(&format!(
            "COPY {table} ({COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &TYPES);
    pin_mut!(writer);
    for row in rows {
        let values: [&(dyn ToSql + Sync); 9] = [
            &row.tenant_id,
            &row.region_id,
            &row.courier_id,
            &row.recorded_at,
            &row.lat,
            &row.lng,
            &row.accuracy_m,
            &row.speed_mps,
            &row.heading_deg,
        ];
        writer.as_mut().write(&values).await?;
    }
    Ok(writer.finish().await?)
}

/// A courier's fixes with `from <= recorded_at < to`, oldest first, at most `limit` of them.
pub async fn track(
    client: &Client,
    tenant_id: &str,
    courier_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<PositionRow>, StoreError> {
    let rows = client
        .query(TRACK_QUERY, &[&tenant_id, &courier_id, &from, &to, &limit])
        .await?;
    Ok(rows
        .iter()
        .map(|row| PositionRow {
            tenant_id: row.get(0),
            region_id: row.get(1),
            courier_id: row.get(2),
            recorded_at: row.get(3),
            lat: row.get(4),
            lng: row.get(5),
            accuracy_m: row.get(6),
            speed_mps: row.get(7),
            heading_deg: row.get(8),
        })
        .collect())
}

/// The query behind [`track`], public so tests can EXPLAIN it.
pub const TRACK_QUERY: &str = "SELECT tenant_id, region_id, courier_id, recorded_at, lat, lng, \
     accuracy_m, speed_mps, heading_deg
     FROM courier_positions
     WHERE tenant_id = $1 AND courier_id = $2 AND recorded_at >= $3 AND recorded_at < $4
     ORDER BY recorded_at
     LIMIT $5";
