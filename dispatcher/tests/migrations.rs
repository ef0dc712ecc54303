//! The embedded schema against a real TimescaleDB: applies to an empty database, re-applies as a
//! no-op, serialises concurrent runs, refuses edited migrations and leaves nothing of a failed one.

mod common;

use common::TestDatabase;
use dispatcher::store::{
    StoreError,
    migrations::{self, Migration},
};

fn all_versions() -> Vec<u32> {
    migrations::embedded().iter().map(|m| m.version).collect()
}

/// Every table, column and index in the public schema, to compare before and after a re-run.
async fn schema_fingerprint(client: &tokio_postgres::Client) -> Vec<String> {
    let rows = client
        .query(
            "SELECT table_name || '.' || column_name || ':' || data_type
               FROM information_schema.columns WHERE table_schema = 'public'
             UNION ALL
             SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
             ORDER BY 1",
            &[],
        )
        .await
        .expect("read schema");
    rows.iter().map(|row| row.get(0)).collect()
}

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_again_as_a_no_op() {
    let db = TestDatabase::create("migrate").await;
    let mut client = db.connect().await;

    let first = migrations::apply(&mut client).await.expect("first run");
    assert_eq!(first.applied, all_versions());
    assert!(first.already_applied.is_empty());
    let schema = schema_fingerprint(&client).await;

    let second = migrations::apply(&mut client).await.expect("second run");
    assert!(
        second.applied.is_empty(),
        "re-run applied {:?}",
        second.applied
    );
    assert_eq!(second.already_applied, all_versions());
    assert_eq!(schema_fingerprint(&client).await, schema);

    let hypertables: Vec<String> = client
        .query(
            "SELECT hypertable_name::text FROM timescaledb_information.hypertables
              WHERE hypertable_schema = 'public' ORDER BY 1",
            &[],
        )
        .await
        .expect("list hypertables")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        hypertables,
        ["assignment_decisions", "courier_positions", "order_events"]
    );

    // The SQL itself is re-runnable even if its record were lost (a restored backup, say).
    for migration in migrations::embedded() {
        client
            .batch_execute(migration.sql)
            .await
            .unwrap_or_else(|e| panic!("re-running {} failed: {e}", migration.name));
    }
    assert_eq!(schema_fingerprint(&client).await, schema);
    db.drop().await;
}

#[tokio::test]
async fn concurrent_runs_apply_each_migration_exactly_once() {
    let db = TestDatabase::create("migrate_race").await;
    let (mut a, mut b) = (db.connect().await, db.connect().await);

    let (ra, rb) = tokio::join!(migrations::apply(&mut a), migrations::apply(&mut b));
    let (ra, rb) = (ra.expect("run a"), rb.expect("run b"));

    let mut applied = [ra.applied.clone(), rb.applied.clone()].concat();
    applied.sort_unstable();
    assert_eq!(applied, all_versions(), "a: {ra:?}, b: {rb:?}");
    let recorded: i64 = a
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(recorded, all_versions().len() as i64);
    db.drop().await;
}

#[tokio::test]
async fn a_migration_edited_after_it_was_applied_is_refused() {
    let db = TestDatabase::create("migrate_edit").await;
    let mut client = db.connect().await;
    migrations::apply(&mut client).await.expect("first run");

    let mut edited: Vec<Migration> = migrations::embedded().to_vec();
    edited[1].sql = "CREATE TABLE IF NOT EXISTS tenants (tenant_id text PRIMARY KEY);";
    match migrations::apply_these(&mut client, &edited).await {
        Err(StoreError::MigrationChanged { version, .. }) => assert_eq!(version, edited[1].version),
        other => panic!("expected MigrationChanged, got {other:?}"),
    }
    db.drop().await;
}

#[tokio::test]
async fn a_failing_migration_leaves_nothing_behind_and_releases_the_lock() {
    let db = TestDatabase::create("migrate_fail").await;
    let mut client = db.connect().await;

    let mut with_broken: Vec<Migration> = migrations::embedded().to_vec();
    let broken = Migration {
        version: 9_999,
        name: "broken",
        sql: "CREATE TABLE half_done (x int); SELECT no_such_function();",
    };
    with_broken.push(broken);
    match migrations::apply_these(&mut client, &with_broken).await {
        Err(StoreError::MigrationFailed { version, .. }) => assert_eq!(version, 9_999),
        other => panic!("expected MigrationFailed, got {other:?}"),
    }

    let leftovers: i64 = client
        .query_one(
            "SELECT (SELECT count(*) FROM pg_tables WHERE tablename = 'half_done')
                  + (SELECT count(*) FROM schema_migrations WHERE version = 9999)
                  + (SELECT count(*) FROM pg_locks
                      WHERE locktype = 'advisory'
                        AND database = (SELECT oid FROM pg_database
                                         WHERE datname = current_database()))",
            &[],
        )
        .await
        .expect("inspect")
        .get(0);
    // pg_locks spans the cluster; advisory locks are per database, and other tests hold their own.
    assert_eq!(leftovers, 0, "table, record or lock left behind");

    // The migrations before the broken one were kept, so a fixed build carries on from there.
    let report = migrations::apply(&mut client).await.expect("fixed run");
    assert!(report.applied.is_empty());
    db.drop().await;
}
