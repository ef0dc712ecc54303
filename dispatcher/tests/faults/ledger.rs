//! What the clients were told: the orders confirmed, the fixes and offers acknowledged, and every
//! failure they saw on the way. The counts afterwards hold the database to this.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

/// Shared by every client of one scenario.
#[derive(Clone, Default)]
pub(crate) struct Ledger(Arc<Mutex<Book>>);

/// The record itself.
#[derive(Debug, Default, Clone)]
pub(crate) struct Book {
    /// Orders whose creation was confirmed: gRPC OK, or the broker's publisher confirm.
    pub(crate) orders_confirmed: BTreeSet<String>,
    /// Of those, the ones that went through RabbitMQ.
    pub(crate) orders_via_amqp: BTreeSet<String>,
    /// Fixes the service acknowledged (by Ack, or as durable in a Welcome): (courier, time in µs).
    pub(crate) fixes_acked: BTreeSet<(String, i64)>,
    /// Fixes sent at least once.
    pub(crate) fixes_sent: u64,
    /// Offers accepted, as (order, courier): the Ack came and no Rejected for it.
    pub(crate) accepted: Vec<(String, String)>,
    /// Failures seen by clients, by where and code; with the first message of each kind.
    pub(crate) errors: BTreeMap<String, (u64, String)>,
    /// Messages the service refused (Rejected, or a permanent gRPC error), by code.
    pub(crate) rejected: BTreeMap<String, u64>,
    /// The longest a courier message waited for its Ack on one connection.
    pub(crate) slowest_ack: Duration,
    /// The longest one CreateOrder call took (success or failure).
    pub(crate) slowest_call: Duration,
}

impl Ledger {
    /// The book, to read or write.
    pub(crate) fn book(&self) -> MutexGuard<'_, Book> {
        // A client that panicked fails the test anyway; its partial record is still worth reading.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of the book as it is now.
    pub(crate) fn snapshot(&self) -> Book {
        self.book().clone()
    }

    /// Notes a failure seen by a client at `place` (e.g. "courier stream") with `code`.
    pub(crate) fn error(&self, place: &str, code: impl std::fmt::Display, message: &str) {
        let mut book = self.book();
        let entry = book
            .errors
            .entry(format!("{place}: {code}"))
            .or_insert_with(|| (0, message.chars().take(200).collect()));
        entry.0 += 1;
    }
}

impl Book {
    /// Failures as one short line: "place: code ×n; ...".
    pub(crate) fn errors_line(&self) -> String {
        if self.errors.is_empty() {
            return "none".into();
        }
        self.errors
            .iter()
            .map(|(kind, (n, _))| format!("{kind} ×{n}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}
