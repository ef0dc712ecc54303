//! The statements [`super::PgStore`] prepares (once per pooled connection, through the statement
//! cache). Lists that follow the domain (columns, open and final states) are generated from it, so a
//! new column or state cannot be forgotten in one statement and remembered in another.

use std::sync::LazyLock;

use super::rows::{COURIER_COLUMNS, ORDER_COLUMNS};
use crate::domain::OrderState;

/// `'a', 'b', ...` of the states that are (or are not) final, in life order. The open list must read
/// exactly like the predicate of the partial indexes on `orders`, so that the planner can use them.
fn states(is_final: bool) -> String {
    OrderState::ALL
        .into_iter()
        .filter(|s| s.is_final() == is_final)
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn placeholders(count: usize) -> String {
    (1..=count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records an inbound message id; no row means it was applied before.
pub(super) const MARK_MESSAGE: &str = "INSERT INTO processed_messages (tenant_id, message_id)
     VALUES ($1, $2) ON CONFLICT DO NOTHING";

/// Inserts or replaces one order, whole.
pub(super) static UPSERT_ORDER: LazyLock<String> = LazyLock::new(|| {
    let set = ORDER_COLUMNS
        .iter()
        .filter(|c| !matches!(**c, "tenant_id" | "order_id"))
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO orders ({}) VALUES ({})
         ON CONFLICT (tenant_id, order_id) DO UPDATE SET {set}, updated_at = now()",
        ORDER_COLUMNS.join(", "),
        placeholders(ORDER_COLUMNS.len()),
    )
});

/// Inserts or replaces one courier; the stored fix is kept if it is newer, the durable seq only
/// rises.
pub(super) static UPSERT_COURIER: LazyLock<String> = LazyLock::new(|| {
    // Every SET expression sees the row as it was, so the three fix columns decide alike.
    const NEW_FIX_WINS: &str =
        "couriers.last_fix_at IS NULL OR EXCLUDED.last_fix_at > couriers.last_fix_at";
    let set = COURIER_COLUMNS
        .iter()
        .filter(|c| !matches!(**c, "tenant_id" | "courier_id"))
        .map(|c| match *c {
            "last_lat" | "last_lng" | "last_fix_at" => {
                format!("{c} = CASE WHEN {NEW_FIX_WINS} THEN EXCLUDED.{c} ELSE couriers.{c} END")
            }
            "last_durable_seq" => format!("{c} = GREATEST(couriers.{c}, EXCLUDED.{c})"),
            _ => format!("{c} = EXCLUDED.{c}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO couriers ({}) VALUES ({})
         ON CONFLICT (tenant_id, courier_id) DO UPDATE SET {set}, updated_at = now()",
        COURIER_COLUMNS.join(", "),
        placeholders(COURIER_COLUMNS.len()),
    )
});

/// Raises one courier's durable seq; a courier without a row is left alone.
pub(super) const RAISE_SEQ: &str = "UPDATE couriers SET last_durable_seq = $3, updated_at = now()
     WHERE tenant_id = $1 AND courier_id = $2 AND last_durable_seq < $3";

/// Raises many couriers' durable seqs (one entry per courier).
pub(super) const RAISE_SEQS: &str = "UPDATE couriers AS c
     SET last_durable_seq = u.seq, updated_at = now()
     FROM UNNEST($1::text[], $2::text[], $3::bigint[]) AS u (tenant_id, courier_id, seq)
     WHERE c.tenant_id = u.tenant_id AND c.courier_id = u.courier_id AND c.last_durable_seq < u.seq";

/// Moves many couriers' last fix forward (one entry per courier); an older fix changes nothing.
pub(super) const RAISE_FIXES: &str = "UPDATE couriers AS c
     SET last_lat = u.lat, last_lng = u.lng, last_fix_at = u.fix_at, updated_at = now()
     FROM UNNEST($1::text[], $2::text[], $3::float8[], $4::float8[], $5::timestamptz[])
          AS u (tenant_id, courier_id, lat, lng, fix_at)
     WHERE c.tenant_id = u.tenant_id AND c.courier_id = u.courier_id
       AND (c.last_fix_at IS NULL OR c.last_fix_at < u.fix_at)";

const EVENT_COLUMNS: &str = "tenant_id, region_id, order_id, event_id, occurred_at, kind, \
     from_state, to_state, courier_id, actor, reason, ready_at";

/// Appends events; one already stored (same order, time and id) is skipped.
pub(super) static INSERT_EVENTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO order_events ({EVENT_COLUMNS})
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                              $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                              $11::text[], $12::timestamptz[])
         ON CONFLICT DO NOTHING"
    )
});

const DECISION_COLUMNS: &str = "tenant_id, region_id, decision_id, order_id, decided_at, \
     plan_version, courier_id, previous_courier_id, unassigned_reason, reason_code, pickup_eta, \
     dropoff_eta, expected_lateness_s, cost_delta, detail";

/// Appends decisions; one already stored (same order, time and id) is skipped.
pub(super) static INSERT_DECISIONS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO assignment_decisions ({DECISION_COLUMNS})
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                              $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[],
                              $11::timestamptz[], $12::timestamptz[], $13::integer[],
                              $14::float8[], $15::text[])
         ON CONFLICT DO NOTHING"
    )
});

/// Queues envelopes, ids in array order.
pub(super) const INSERT_OUTBOX: &str = "INSERT INTO outbox (tenant_id, envelope)
     SELECT tenant_id, envelope
     FROM UNNEST($1::text[], $2::bytea[]) WITH ORDINALITY AS u (tenant_id, envelope, n)
     ORDER BY n";

/// The open orders of one region (served by `orders_open_idx`).
pub(super) static LOAD_ORDERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM orders
         WHERE tenant_id = $1 AND region_id = $2 AND state IN ({})",
        ORDER_COLUMNS.join(", "),
        states(false),
    )
});

/// The working couriers of one region (served by `couriers_working_idx`).
pub(super) static LOAD_COURIERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM couriers
         WHERE tenant_id = $1 AND region_id = $2 AND status <> 'off_shift'",
        COURIER_COLUMNS.join(", "),
    )
});

/// One order.
pub(super) static ORDER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM orders WHERE tenant_id = $1 AND order_id = $2",
        ORDER_COLUMNS.join(", "),
    )
});

/// One courier.
pub(super) static COURIER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM couriers WHERE tenant_id = $1 AND courier_id = $2",
        COURIER_COLUMNS.join(", "),
    )
});

/// An order's events, oldest first (served by `order_events_order_idx`).
pub(super) static ORDER_HISTORY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {EVENT_COLUMNS} FROM order_events
         WHERE tenant_id = $1 AND order_id = $2
         ORDER BY occurred_at, event_id"
    )
});

/// An order's newest decision (served by `assignment_decisions_order_idx`).
pub(super) static LAST_DECISION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {DECISION_COLUMNS} FROM assignment_decisions
         WHERE tenant_id = $1 AND order_id = $2
         ORDER BY decided_at DESC, decision_id
         LIMIT 1"
    )
});

/// Creates tenants, if missing.
pub(super) const ENSURE_TENANTS: &str = "INSERT INTO tenants (tenant_id)
     SELECT DISTINCT tenant_id FROM UNNEST($1::text[]) AS u (tenant_id)
     ON CONFLICT DO NOTHING";

/// Creates regions, if missing.
pub(super) const ENSURE_REGIONS: &str = "INSERT INTO regions (tenant_id, region_id)
     SELECT DISTINCT tenant_id, region_id FROM UNNEST($1::text[], $2::text[]) AS u (tenant_id, region_id)
     ON CONFLICT DO NOTHING";

/// The oldest queued envelopes.
pub(super) const OUTBOX_PEEK: &str = "SELECT id, envelope FROM outbox ORDER BY id LIMIT $1";

/// Removes published envelopes.
pub(super) const OUTBOX_REMOVE: &str = "DELETE FROM outbox WHERE id = ANY($1)";

/// Drops whole chunks older than `$1` from each hypertable, counting them.
pub(super) const DROP_CHUNKS: [&str; 3] = [
    "SELECT count(*) FROM drop_chunks('courier_positions', older_than => $1::timestamptz)",
    "SELECT count(*) FROM drop_chunks('order_events', older_than => $1::timestamptz)",
    "SELECT count(*) FROM drop_chunks('assignment_decisions', older_than => $1::timestamptz)",
];

/// Deletes finished orders last changed before `$1` (served by `orders_finished_idx`).
pub(super) static DELETE_FINISHED_ORDERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "DELETE FROM orders WHERE state IN ({}) AND state_changed_at < $1",
        states(true),
    )
});

/// Deletes processed-message ids older than `$1`.
pub(super) const DELETE_PROCESSED: &str = "DELETE FROM processed_messages WHERE processed_at < $1";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_states_read_like_the_partial_index_predicates() {
        let migration = include_str!("../../../../migrations/0004_orders.sql");
        let predicate = format!("state IN ({})", states(false));
        assert_eq!(
            predicate,
            "state IN ('placed', 'offered', 'accepted', 'picked_up')"
        );
        let flat: String = migration.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&format!("WHERE {predicate}")), "{flat}");
    }

    #[test]
    fn the_finished_states_read_like_the_retention_index_predicate() {
        let migration = include_str!("../../../../migrations/0008_store_support.sql");
        let flat: String = migration.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&format!("WHERE state IN ({})", states(true))));
    }

    #[test]
    fn upserts_name_every_column_once() {
        for (sql, columns) in [
            (&*UPSERT_ORDER, &ORDER_COLUMNS[..]),
            (&*UPSERT_COURIER, &COURIER_COLUMNS[..]),
        ] {
            assert!(sql.contains(&format!("${}", columns.len())));
            assert!(!sql.contains(&format!("${}", columns.len() + 1)));
            for column in &columns[2..] {
                assert_eq!(sql.matches(&format!(" {column} = ")).count(), 1, "{column}");
            }
        }
    }

    #[test]
    fn every_statement_on_tenant_data_is_scoped_by_tenant() {
        // Reads and writes of a tenant's rows name the tenant, so no request can reach another
        // tenant's data whatever ids it carries.
        let scoped: [(&str, &str); 15] = [
            ("MARK_MESSAGE", MARK_MESSAGE),
            ("UPSERT_ORDER", &UPSERT_ORDER),
            ("UPSERT_COURIER", &UPSERT_COURIER),
            ("RAISE_SEQ", RAISE_SEQ),
            ("RAISE_SEQS", RAISE_SEQS),
            ("RAISE_FIXES", RAISE_FIXES),
            ("INSERT_EVENTS", &INSERT_EVENTS),
            ("INSERT_DECISIONS", &INSERT_DECISIONS),
            ("INSERT_OUTBOX", INSERT_OUTBOX),
            ("LOAD_ORDERS", &LOAD_ORDERS),
            ("LOAD_COURIERS", &LOAD_COURIERS),
            ("ORDER", &ORDER),
            ("COURIER", &COURIER),
            ("ORDER_HISTORY", &ORDER_HISTORY),
            ("LAST_DECISION", &LAST_DECISION),
        ];
        for (name, sql) in scoped {
            assert!(sql.contains("tenant_id"), "{name} does not name the tenant");
            let filtered = sql.split_once("WHERE").map(|(_, rest)| rest);
            if let Some(filter) = filtered {
                assert!(
                    filter.contains("tenant_id ="),
                    "{name} filters without the tenant"
                );
            }
        }
        assert!(crate::store::positions::TRACK_QUERY.contains("WHERE tenant_id = $1"));
        // The rest work across tenants on purpose: the instance's own outbox relay, and
        // retention by age, which knows no tenant.
        for housekeeping in [OUTBOX_PEEK, OUTBOX_REMOVE, DELETE_PROCESSED] {
            assert!(!housekeeping.contains("tenant_id"), "{housekeeping}");
        }
    }
}
