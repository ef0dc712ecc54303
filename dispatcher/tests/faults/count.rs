//! The counts afterwards, read from the database directly: what the clients were told holds, once.

use std::collections::{BTreeMap, BTreeSet};

use crate::ledger::Book;

/// What the database holds against what the clients were told.
#[derive(Debug, Default, Clone)]
pub(crate) struct Counts {
    pub(crate) orders_confirmed: usize,
    pub(crate) orders_in_db: usize,
    pub(crate) fixes_acked: usize,
    pub(crate) fixes_in_db: usize,
    pub(crate) accepted: usize,
    /// Accepted and still with the courier who accepted (or delivered by them).
    pub(crate) accepted_kept: usize,
    /// Accepted, then moved by the planner's re-planning (a `reassigned` event after the accept).
    pub(crate) accepted_moved: usize,
    /// Confirmed or acknowledged, and not in the database (or moved without a recorded reason).
    pub(crate) lost: Vec<String>,
    /// Stored more than once, or one transition recorded more than once.
    pub(crate) duplicated: Vec<String>,
}

/// Counts `tenant`'s rows in the database at `url` against `book`.
pub(crate) async fn count(url: &str, tenant: &str, book: &Book) -> Counts {
    let db = dispatcher::store::connect(url)
        .await
        .expect("connect to count");
    let mut counts = Counts {
        orders_confirmed: book.orders_confirmed.len(),
        fixes_acked: book.fixes_acked.len(),
        accepted: book.accepted.len(),
        ..Counts::default()
    };

    let orders: BTreeMap<String, Option<String>> = db
        .query(
            "SELECT order_id, courier_id FROM orders WHERE tenant_id = $1",
            &[&tenant],
        )
        .await
        .expect("read orders")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for id in &book.orders_confirmed {
        if orders.contains_key(id) {
            counts.orders_in_db += 1;
        } else {
            counts.lost.push(format!("order {id}"));
        }
    }

    // Every fix kept once: (courier, time) is unique in the table, so a second copy would be a
    // second row only if that index were gone; count rather than trust it.
    let mut fixes: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for row in db
        .query(
            "SELECT courier_id, (extract(epoch FROM recorded_at) * 1000000)::bigint, count(*) \
             FROM courier_positions WHERE tenant_id = $1 GROUP BY 1, 2",
            &[&tenant],
        )
        .await
        .expect("read positions")
    {
        fixes.insert((row.get(0), row.get(1)), row.get(2));
    }
    for key in &book.fixes_acked {
        match fixes.get(key) {
            Some(1) => counts.fixes_in_db += 1,
            Some(n) => {
                counts.fixes_in_db += 1;
                counts.duplicated.push(format!("fix {key:?} ×{n}"));
            }
            None => counts.lost.push(format!("fix {key:?}")),
        }
    }

    // One event per transition: an order is placed once, and accepted, picked up and delivered by
    // one courier once each.
    for row in db
        .query(
            "SELECT order_id, kind, coalesce(courier_id, ''), count(*) FROM order_events \
             WHERE tenant_id = $1 AND kind IN ('placed', 'accepted', 'picked_up', 'delivered') \
             GROUP BY 1, 2, 3 HAVING count(*) > 1",
            &[&tenant],
        )
        .await
        .expect("read duplicate events")
    {
        let (order, kind, courier, n): (String, String, String, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        counts
            .duplicated
            .push(format!("event {kind} of {order} by {courier:?} ×{n}"));
    }
    let placed: BTreeSet<String> = db
        .query(
            "SELECT DISTINCT order_id FROM order_events WHERE tenant_id = $1 AND kind = 'placed'",
            &[&tenant],
        )
        .await
        .expect("read placed events")
        .iter()
        .map(|r| r.get(0))
        .collect();
    for id in book
        .orders_confirmed
        .iter()
        .filter(|id| orders.contains_key(*id))
    {
        if !placed.contains(id) {
            counts.lost.push(format!("placed event of {id}"));
        }
    }

    // An accepted order stays with its courier unless a later event moved it: the order's courier
    // now is the one of its last accept or reassignment.
    for (order, courier) in &book.accepted {
        let events = db
            .query(
                "SELECT kind, coalesce(courier_id, '') FROM order_events \
                 WHERE tenant_id = $1 AND order_id = $2 AND kind IN ('accepted', 'reassigned') \
                 ORDER BY occurred_at, recorded_at",
                &[&tenant, order],
            )
            .await
            .expect("read an order's assignments");
        let events: Vec<(String, String)> = events.iter().map(|r| (r.get(0), r.get(1))).collect();
        let Some(accept) = events
            .iter()
            .position(|(kind, by)| kind == "accepted" && by == courier)
        else {
            counts
                .lost
                .push(format!("accept of {order} by {courier} (no event)"));
            continue;
        };
        let now = orders.get(order).cloned().flatten();
        let last = events.last().map(|(_, by)| by.clone());
        if now.as_deref() == Some(courier.as_str()) && last.as_deref() == Some(courier.as_str()) {
            counts.accepted_kept += 1;
        } else if events[accept + 1..]
            .iter()
            .any(|(kind, _)| kind == "reassigned")
            && now == last
        {
            counts.accepted_moved += 1;
        } else {
            counts.lost.push(format!(
                "accept of {order} by {courier}: now with {now:?}, events {events:?}"
            ));
        }
    }
    counts
}

/// Rows left in the transactional outbox (events not yet published).
pub(crate) async fn outbox(url: &str) -> i64 {
    let db = dispatcher::store::connect(url)
        .await
        .expect("connect to count");
    db.query_one("SELECT count(*) FROM outbox", &[])
        .await
        .expect("count the outbox")
        .get(0)
}

/// True once every confirmed order is in the database: RabbitMQ orders are applied some time after
/// the broker confirmed them.
pub(crate) async fn orders_all_in(url: &str, tenant: &str, book: &Book) -> bool {
    let Ok(db) = dispatcher::store::connect(url).await else {
        return false;
    };
    let Ok(rows) = db
        .query(
            "SELECT order_id FROM orders WHERE tenant_id = $1",
            &[&tenant],
        )
        .await
    else {
        return false;
    };
    let stored: BTreeSet<String> = rows.iter().map(|r| r.get(0)).collect();
    book.orders_confirmed.is_subset(&stored)
}
