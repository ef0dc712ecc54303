//! `CourierService.Session`: one long-lived bidirectional stream per courier app.
//!
//! The first message up must be a Hello; the core answers it with a Welcome through the hub, which
//! numbers every message down, so this file never sends down directly: replies to later messages go
//! through [`crate::hub::Hub::send`] too. A task of its own reads the rest of the up-stream, so a
//! message being applied is never cut off when the app hangs up, and it closes the session in the
//! core however the stream ends.

use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use proto::dispatch::v1::{
    self as pb, courier_service_server::CourierService, courier_up::Body as UpBody,
};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use super::{
    InFlight, Stopping,
    limits::{MessageRate, StreamSlot, StreamSlots},
    scope::region_of,
};
use crate::{
    auth::caller_of,
    core::{Core, CourierCommand, Reply, Speaker},
    domain::ValidationError,
};

/// How long an app may take to send Hello after opening the stream.
const HELLO_TIMEOUT: Duration = Duration::from_secs(30);

/// The courier app's service.
#[derive(Debug, Clone)]
pub(crate) struct CourierApi {
    core: Arc<Core>,
    stopping: Stopping,
    in_flight: InFlight,
    slots: StreamSlots,
    messages_per_s: u32,
}

impl CourierApi {
    /// The service on `core`; sessions end when `stopping` fires and run on `in_flight`. Each
    /// session takes one of `slots` and may send `messages_per_s` messages per second.
    pub(crate) fn new(
        core: Arc<Core>,
        stopping: Stopping,
        in_flight: InFlight,
        slots: StreamSlots,
        messages_per_s: u32,
    ) -> Self {
        Self {
            core,
            stopping,
            in_flight,
            slots,
            messages_per_s,
        }
    }
}

#[tonic::async_trait]
impl CourierService for CourierApi {
    type SessionStream = SessionStream;

    async fn session(
        &self,
        request: Request<Streaming<pb::CourierUp>>,
    ) -> Result<Response<Self::SessionStream>, Status> {
        let caller = caller_of(&request)?;
        // Taken before waiting for Hello: an idle open stream holds a slot as much as a busy one.
        let slot = self.slots.take("courier session")?;
        let mut up = request.into_inner();
        let mut stopping = self.stopping.clone();
        let first = tokio::select! {
            first = tokio::time::timeout(HELLO_TIMEOUT, up.message()) => first,
            () = stopping.wait() => {
                return Err(Status::unavailable("the server is shutting down; reconnect"));
            }
        };
        let hello = match first {
            Err(_elapsed) => {
                return Err(Status::deadline_exceeded(format!(
                    "first message must be hello, and none came within {} s",
                    HELLO_TIMEOUT.as_secs()
                )));
            }
            Ok(Err(status)) => return Err(status),
            Ok(Ok(None)) => {
                return Err(Status::invalid_argument(
                    "first message must be hello; the stream ended before any message",
                ));
            }
            Ok(Ok(Some(pb::CourierUp {
                body: Some(UpBody::Hello(hello)),
                ..
            }))) => hello,
            Ok(Ok(Some(_))) => return Err(Status::invalid_argument("first message must be hello")),
        };
        // A courier streams only as itself: its offers and route go down this stream alone.
        let region = region_of(hello.scope.as_ref(), &self.core)?;
        caller.may_be_courier(&region.tenant_id, &hello.courier_id)?;
        // The session runs on its own task from Hello on, so that a Hello the core has applied is
        // always either handed to the caller or closed again.
        let (opened_tx, opened_rx) = oneshot::channel();
        self.in_flight.spawn(run_session(
            Session {
                core: self.core.clone(),
                stopping,
                rate: MessageRate::new(self.messages_per_s, Instant::now()),
                _slot: slot,
            },
            hello,
            up,
            opened_tx,
        ));
        match opened_rx.await {
            Ok(Ok(stream)) => Ok(Response::new(stream)),
            Ok(Err(status)) => Err(status),
            Err(_) => Err(Status::internal("the courier session failed to open")),
        }
    }
}

/// What one open session holds while it runs.
struct Session {
    core: Arc<Core>,
    stopping: Stopping,
    rate: MessageRate,
    /// Freed when the session ends.
    _slot: StreamSlot,
}

/// Opens the session in the core, hands the stream down to the caller, then applies every message
/// up until the stream ends, and closes the session.
async fn run_session(
    mut session: Session,
    hello: pb::Hello,
    mut up: Streaming<pb::CourierUp>,
    opened: oneshot::Sender<Result<SessionStream, Status>>,
) {
    let core = session.core.clone();
    let (speaker, welcome) = match core.courier_hello(&hello).await {
        Ok(opened) => opened,
        Err(error) => {
            tracing::info!(
                courier_id = %hello.courier_id,
                code = error.code(),
                %error,
                "courier hello refused"
            );
            let _ = opened.send(Err(super::status_of(error)));
            return;
        }
    };
    let session_id = welcome.session_id;
    let (ending_tx, ending_rx) = oneshot::channel();
    let (alive_tx, mut alive_rx) = oneshot::channel();
    let stream = SessionStream {
        down: welcome.down,
        ending: ending_rx,
        _alive: alive_tx,
        hub_closing: core.hub().closing(),
        finished: false,
    };
    if opened.send(Ok(stream)).is_err() {
        // The caller hung up while the session opened.
        core.courier_left(&speaker, session_id).await;
        return;
    }
    let ending = read_up(&mut session, &speaker, &mut up, &mut alive_rx).await;
    // Before closing: the down stream ends when the session closes, and then reads this.
    let _ = ending_tx.send(ending);
    core.courier_left(&speaker, session_id).await;
}

/// Applies messages up until the app stops sending, the caller goes away, the service stops or a
/// message cannot be made durable now. Returns how the server ends the stream down: `Ok` to end
/// it quietly, a status to end it with.
async fn read_up(
    session: &mut Session,
    speaker: &Speaker,
    up: &mut Streaming<pb::CourierUp>,
    alive: &mut oneshot::Receiver<()>,
) -> Result<(), Status> {
    let Session {
        core,
        stopping,
        rate,
        ..
    } = session;
    loop {
        // Only the waiting is raced; a message, once read, is applied to the end.
        let next = tokio::select! {
            next = up.message() => next,
            _ = &mut *alive => {
                tracing::debug!(courier_id = %speaker.courier_id, "courier stream down is gone");
                return Ok(());
            }
            () = stopping.wait() => {
                return Err(Status::unavailable("the server is shutting down; reconnect"));
            }
        };
        let message = match next {
            Ok(Some(message)) => message,
            Ok(None) => {
                tracing::debug!(courier_id = %speaker.courier_id, "courier app closed its stream");
                return Ok(());
            }
            Err(status) => {
                tracing::debug!(
                    courier_id = %speaker.courier_id,
                    code = ?status.code(),
                    message = status.message(),
                    "courier stream up failed"
                );
                // An app still listening learns why (an oversized or undecodable message); one
                // that hung up reads nothing.
                return Err(status);
            }
        };
        let seq = message.seq;
        if !rate.allow(Instant::now()) {
            // Unapplied and unacknowledged, so the app re-sends it after reconnecting: nothing
            // is lost, and a runaway app cannot crowd out the others.
            core.metrics().grpc_refused("courier_rate");
            tracing::warn!(
                courier_id = %speaker.courier_id,
                tenant = %speaker.region.tenant_id,
                seq,
                per_s = rate.per_s(),
                "courier over its message rate; ending the session"
            );
            return Err(Status::resource_exhausted(format!(
                "courier {} sent more than {} messages per second; reconnect with backoff and \
                 batch position fixes",
                speaker.courier_id,
                rate.per_s()
            )));
        }
        let reply = if seq == 0 {
            // Zero is Hello's; the core would take it for a repeat and drop it unapplied.
            Ok(Reply::Rejected {
                seq,
                code: "invalid_argument",
                message: "seq: must be at least 1 after hello".into(),
            })
        } else {
            let command = match &message.body {
                Some(body) => CourierCommand::from_proto(body, core.now()),
                None => Err(ValidationError::new("body", "is required")),
            };
            core.courier_message(speaker, seq, command).await
        };
        let reply = match reply {
            Ok(reply) => reply,
            Err(error) if error.is_transient() => {
                tracing::warn!(
                    courier_id = %speaker.courier_id,
                    seq,
                    code = error.code(),
                    %error,
                    "courier message not applied; closing the session so the app re-sends it"
                );
                return Err(Status::unavailable(format!(
                    "{error}; reconnect and re-send the messages not acknowledged"
                )));
            }
            // The core turns refusals into `Reply::Rejected`; anything else that will never
            // succeed is refused the same way, so the app stops re-sending it.
            Err(error) => Reply::Rejected {
                seq,
                code: error.code(),
                message: error.to_string(),
            },
        };
        for body in reply.into_bodies() {
            core.hub()
                .send(&speaker.region.tenant_id, &speaker.courier_id, body);
        }
    }
}

/// The stream down of one session: every message the hub sends to it, then, if the server ended
/// the session, the status saying why.
///
/// Dropping it (the app hung up, or the stream ended) tells the session's reader to stop.
#[derive(Debug)]
pub(crate) struct SessionStream {
    down: mpsc::Receiver<pb::CourierDown>,
    /// Set by the reader before it closes the session.
    ending: oneshot::Receiver<Result<(), Status>>,
    /// Held only to be dropped with the stream.
    _alive: oneshot::Sender<()>,
    /// True once the hub closed every stream for shutdown.
    hub_closing: Arc<AtomicBool>,
    finished: bool,
}

impl Stream for SessionStream {
    type Item = Result<pb::CourierDown, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        match this.down.poll_recv(cx) {
            Poll::Ready(Some(message)) => Poll::Ready(Some(Ok(message))),
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                this.finished = true;
                match this.ending.try_recv() {
                    Ok(Ok(())) => Poll::Ready(None),
                    Ok(Err(status)) => Poll::Ready(Some(Err(status))),
                    // The hub closed every stream before the reader could say why.
                    Err(_) if this.hub_closing.load(Ordering::SeqCst) => Poll::Ready(Some(Err(
                        Status::unavailable("the server is shutting down; reconnect"),
                    ))),
                    // The hub closed the stream by itself: a newer session of the same courier
                    // replaced it, or the app read too slowly.
                    Err(_) => Poll::Ready(Some(Err(Status::unavailable(
                        "the session was closed by the server (replaced by a newer session, or \
                         too far behind); reconnect to resume",
                    )))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio_stream::StreamExt;

    use super::*;

    /// A session stream and the ends the session's reader holds.
    struct Parts {
        down: mpsc::Sender<pb::CourierDown>,
        ending: oneshot::Sender<Result<(), Status>>,
        alive: oneshot::Receiver<()>,
        stream: SessionStream,
    }

    fn parts() -> Parts {
        let (down_tx, down) = mpsc::channel(4);
        let (ending_tx, ending) = oneshot::channel();
        let (alive, alive_rx) = oneshot::channel();
        Parts {
            down: down_tx,
            ending: ending_tx,
            alive: alive_rx,
            stream: SessionStream {
                down,
                ending,
                _alive: alive,
                hub_closing: Arc::new(AtomicBool::new(false)),
                finished: false,
            },
        }
    }

    fn message(seq: u64) -> pb::CourierDown {
        pb::CourierDown {
            seq,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_quiet_ending_ends_the_stream_without_a_status() {
        let Parts {
            down: tx,
            ending,
            mut stream,
            ..
        } = parts();
        tx.send(message(1)).await.unwrap();
        ending.send(Ok(())).unwrap();
        drop(tx);
        assert_eq!(stream.next().await.unwrap().unwrap().seq, 1);
        assert!(stream.next().await.is_none());
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn the_reason_the_server_ended_the_session_comes_last() {
        let Parts {
            down: tx,
            ending,
            mut stream,
            ..
        } = parts();
        tx.send(message(1)).await.unwrap();
        ending
            .send(Err(Status::unavailable("shutting down")))
            .unwrap();
        drop(tx);
        assert_eq!(stream.next().await.unwrap().unwrap().seq, 1);
        let status = stream.next().await.unwrap().unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn a_stream_closed_by_the_hub_asks_the_app_to_reconnect() {
        let Parts {
            down: tx,
            ending: _ending,
            mut stream,
            ..
        } = parts();
        drop(tx);
        let status = stream.next().await.unwrap().unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(
            status.message().contains("replaced"),
            "{}",
            status.message()
        );
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn a_stream_the_hub_closed_for_shutdown_says_so() {
        let Parts {
            down: tx,
            ending: _ending,
            mut stream,
            ..
        } = parts();
        stream.hub_closing.store(true, Ordering::SeqCst);
        drop(tx);
        let status = stream.next().await.unwrap().unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert_eq!(status.message(), "the server is shutting down; reconnect");
    }

    #[tokio::test]
    async fn dropping_the_stream_tells_the_reader() {
        let Parts { alive, stream, .. } = parts();
        drop(stream);
        assert!(alive.await.is_err());
    }
}
