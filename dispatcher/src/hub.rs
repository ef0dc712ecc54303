//! The open courier streams: who is connected, and a non-blocking way to send to them.
//!
//! Sending never waits: the world lock may be held while sending, and one slow phone must not stall
//! the service. A stream whose buffer is full is closed instead; the app reconnects and its Welcome
//! carries the full current route and open offers, so nothing it needs is lost.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use proto::dispatch::v1::{CourierDown, courier_down::Body};
use tokio::sync::mpsc;

use crate::domain::convert::time_to_proto;

/// Messages buffered per stream before it counts as stuck.
pub const STREAM_BUFFER: usize = 256;

#[derive(Debug)]
struct Session {
    id: u64,
    tx: mpsc::Sender<CourierDown>,
    seq: u64,
}

/// The registry of open courier streams, keyed by (tenant, courier).
#[derive(Debug, Default)]
pub struct Hub {
    sessions: Mutex<HashMap<(String, String), Session>>,
    next_id: Mutex<u64>,
    /// Set by [`Hub::close_all`], so a stream it ends can say why.
    closing: Arc<AtomicBool>,
}

impl Hub {
    /// Registers a new stream for a courier, replacing (and so closing) any older one. Returns the
    /// session id and the receiving end.
    pub fn open(&self, tenant_id: &str, courier_id: &str) -> (u64, mpsc::Receiver<CourierDown>) {
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(PoisonError::into_inner);
            *next += 1;
            *next
        };
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let replaced = self
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                (tenant_id.to_owned(), courier_id.to_owned()),
                Session { id, tx, seq: 0 },
            );
        if replaced.is_some() {
            tracing::info!(
                tenant_id,
                courier_id,
                "courier reconnected; older stream closed"
            );
        }
        (id, rx)
    }

    /// Removes a stream if it is still the courier's current one; true if it was.
    pub fn close(&self, tenant_id: &str, courier_id: &str, session_id: u64) -> bool {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (tenant_id.to_owned(), courier_id.to_owned());
        if sessions.get(&key).is_some_and(|s| s.id == session_id) {
            sessions.remove(&key);
            true
        } else {
            false
        }
    }

    /// Ends every stream (at shutdown): apps see the stream close and reconnect elsewhere or later.
    pub fn close_all(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// A flag that turns true once [`Hub::close_all`] has run: a stream that finds itself closed
    /// reads it to tell "the server is stopping" from "a newer session replaced this one".
    pub fn closing(&self) -> Arc<AtomicBool> {
        self.closing.clone()
    }

    /// True if the courier has a stream open.
    pub fn is_connected(&self, tenant_id: &str, courier_id: &str) -> bool {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&(tenant_id.to_owned(), courier_id.to_owned()))
    }

    /// Number of open streams.
    pub fn len(&self) -> usize {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// True if no stream is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sends to a courier if connected; false if not connected or the stream was closed as stuck.
    pub fn send(&self, tenant_id: &str, courier_id: &str, body: Body) -> bool {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (tenant_id.to_owned(), courier_id.to_owned());
        let Some(session) = sessions.get_mut(&key) else {
            return false;
        };
        session.seq += 1;
        let message = CourierDown {
            seq: session.seq,
            sent_at: Some(time_to_proto(chrono::Utc::now())),
            body: Some(body),
        };
        match session.tx.try_send(message) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    tenant_id,
                    courier_id,
                    buffered = STREAM_BUFFER,
                    "courier stream cannot take more messages; closing it so the app resyncs"
                );
                sessions.remove(&key);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                // The app hung up a moment before its session was closed: nothing is wrong.
                tracing::debug!(tenant_id, courier_id, "courier stream already gone");
                sessions.remove(&key);
                false
            }
        }
    }
}
