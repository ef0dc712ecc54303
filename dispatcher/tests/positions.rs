//! Position ingest against a real TimescaleDB: binary COPY of a large batch into the hypertable, track
//! queries served by the index, and redelivered fixes stored once.

mod common;

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::TestDatabase;
use dispatcher::store::{
    migrations,
    positions::{self, PositionRow},
};

const COURIERS: usize = 100;
const FIXES_PER_COURIER: usize = 1_000;
const FIX_INTERVAL_S: i64 = 30;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0)
        .single()
        .expect("valid time")
}

/// 100 couriers, each with a fix every 30 s for a bit over 8 hours (so the rows span two chunks).
fn fleet_rows() -> Vec<PositionRow> {
    let mut rows = Vec::with_capacity(COURIERS * FIXES_PER_COURIER);
    for i in 0..FIXES_PER_COURIER {
        for c in 0..COURIERS {
            rows.push(PositionRow {
                tenant_id: "acme".into(),
                region_id: "berlin".into(),
                courier_id: format!("courier-{c:03}"),
                recorded_at: start() + Duration::seconds(i as i64 * FIX_INTERVAL_S),
                lat: 52.5 + c as f64 * 1e-3 + i as f64 * 1e-5,
                lng: 13.4 + i as f64 * 1e-5,
                accuracy_m: 5.0,
                speed_mps: 4.2,
                heading_deg: 90.0,
            });
        }
    }
    rows
}

async fn count(client: &tokio_postgres::Client) -> i64 {
    client
        .query_one("SELECT count(*) FROM courier_positions", &[])
        .await
        .expect("count")
        .get(0)
}

#[tokio::test]
async fn a_binary_copy_of_100k_fixes_lands_and_the_track_query_uses_the_index() {
    let db = TestDatabase::create("positions").await;
    let mut client = db.connect().await;
    migrations::apply(&mut client).await.expect("migrate");
    let rows = fleet_rows();

    let started = Instant::now();
    let written = positions::write_batch(&mut client, &rows)
        .await
        .expect("copy");
    let elapsed = started.elapsed();
    println!(
        "copied {written} fixes in {:.3} s: {:.0} rows/s",
        elapsed.as_secs_f64(),
        written as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(written, rows.len() as u64);
    assert_eq!(count(&client).await, rows.len() as i64);
    let chunks: i64 = client
        .query_one("SELECT count(*) FROM show_chunks('courier_positions')", &[])
        .await
        .expect("chunks")
        .get(0);
    assert!(
        chunks >= 2,
        "expected the rows to span chunks, got {chunks}"
    );

    client
        .batch_execute("ANALYZE courier_positions")
        .await
        .expect("analyze");
    let (from, to) = (start() + Duration::hours(1), start() + Duration::hours(2));
    let plan: Vec<String> = client
        .query(
            &format!("EXPLAIN {}", positions::TRACK_QUERY),
            &[&"acme", &"courier-042", &from, &to, &10_000_i64],
        )
        .await
        .expect("explain")
        .iter()
        .map(|row| row.get(0))
        .collect();
    let plan = plan.join("\n");
    assert!(
        plan.contains("courier_positions_track_idx") && !plan.contains("Seq Scan"),
        "track query does not use the index:\n{plan}"
    );

    let track = positions::track(&client, "acme", "courier-042", from, to, 10_000)
        .await
        .expect("track");
    assert_eq!(track.len(), (3600 / FIX_INTERVAL_S) as usize);
    assert!(track.iter().all(|p| p.courier_id == "courier-042"));
    assert!(
        track
            .windows(2)
            .all(|w| w[0].recorded_at < w[1].recorded_at)
    );
    assert_eq!(track[0].recorded_at, from);
    db.drop().await;
}

#[tokio::test]
async fn redelivered_fixes_are_stored_once() {
    let db = TestDatabase::create("positions_dedup").await;
    let mut client = db.connect().await;
    migrations::apply(&mut client).await.expect("migrate");
    let rows: Vec<PositionRow> = fleet_rows().into_iter().take(2_000).collect();

    let first = positions::write_batch(&mut client, &rows[..1_000])
        .await
        .expect("first batch");
    assert_eq!(first, 1_000);

    // The same batch again, as after a redelivery: nothing new.
    let again = positions::write_batch(&mut client, &rows[..1_000])
        .await
        .expect("redelivered batch");
    assert_eq!(again, 0);

    // A batch overlapping stored fixes keeps only the new half.
    let overlap = positions::write_batch(&mut client, &rows[500..1_500])
        .await
        .expect("overlapping batch");
    assert_eq!(overlap, 500);
    assert_eq!(count(&client).await, 1_500);

    // Duplicates inside one batch are also stored once.
    let doubled = [&rows[1_500..], &rows[1_500..]].concat();
    let inside = positions::write_batch(&mut client, &doubled)
        .await
        .expect("batch with duplicates");
    assert_eq!(inside, 500);
    assert_eq!(count(&client).await, 2_000);
    db.drop().await;
}
