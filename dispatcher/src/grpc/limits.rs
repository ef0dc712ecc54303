//! Limits that keep one client from taking what the others need: open streams per instance,
//! messages per second per courier, and a deadline on every call. A client over a limit is told
//! so (`RESOURCE_EXHAUSTED`, or `DEADLINE_EXCEEDED`) and nobody else notices.

use std::{
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;

use super::BoxFuture;
use crate::metrics::Metrics;

/// How the gRPC server limits its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Courier sessions and pickup-ETA watches open at once on this instance.
    pub max_streams: usize,
    /// Messages per second one courier session may send up, sustained.
    pub courier_messages_per_s: u32,
    /// The longest a call may take until its answer (for a stream: until it opens).
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_streams: 20_000,
            courier_messages_per_s: 20,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Seconds of sustained rate a courier may send at once: an app that was offline re-sends what it
/// holds in one go, and that is no abuse.
const BURST_SECONDS: u32 = 5;

/// The instance's slots for long-lived streams, shared by every service that opens one.
#[derive(Debug, Clone)]
pub(crate) struct StreamSlots {
    free: Arc<Semaphore>,
    max: usize,
    metrics: Metrics,
}

impl StreamSlots {
    /// `max` slots.
    pub(crate) fn new(max: usize, metrics: Metrics) -> Self {
        Self {
            free: Arc::new(Semaphore::new(max)),
            max,
            metrics,
        }
    }

    /// A slot for one stream, held until the stream ends; `RESOURCE_EXHAUSTED` if none is free.
    pub(crate) fn take(&self, what: &'static str) -> Result<StreamSlot, Status> {
        match self.free.clone().try_acquire_owned() {
            Ok(permit) => {
                self.metrics.grpc_streams.inc();
                Ok(StreamSlot {
                    _permit: permit,
                    metrics: self.metrics.clone(),
                })
            }
            Err(_) => {
                self.metrics.grpc_refused("too_many_streams");
                tracing::warn!(
                    max = self.max,
                    stream = what,
                    "grpc stream refused: the instance is at its stream limit"
                );
                Err(Status::resource_exhausted(format!(
                    "this instance already serves {} streams, its limit; retry with backoff or \
                     connect to another instance",
                    self.max
                )))
            }
        }
    }
}

/// One open stream's slot; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct StreamSlot {
    _permit: OwnedSemaphorePermit,
    metrics: Metrics,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.metrics.grpc_streams.dec();
    }
}

/// A token bucket: a sustained rate, and a burst of [`BURST_SECONDS`] of it.
#[derive(Debug, Clone)]
pub(crate) struct MessageRate {
    per_s: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl MessageRate {
    /// A full bucket for `per_s` messages per second.
    pub(crate) fn new(per_s: u32, now: Instant) -> Self {
        let capacity = f64::from(per_s.max(1)) * f64::from(BURST_SECONDS);
        Self {
            per_s: f64::from(per_s.max(1)),
            capacity,
            tokens: capacity,
            last: now,
        }
    }

    /// The sustained rate, messages per second.
    pub(crate) fn per_s(&self) -> f64 {
        self.per_s
    }

    /// Takes one message's token at `now`; false if the bucket is empty.
    pub(crate) fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_s).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A tower layer that answers `DEADLINE_EXCEEDED` when a call takes longer than its limit.
///
/// tonic's own server timeout answers `CANCELLED`, which tells a client its own side gave up; a
/// deadline the server enforces is `DEADLINE_EXCEEDED`. A change a handler started still
/// completes on its own task (see [`super::InFlight::run_to_completion`]), so a retry finds it applied.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeadlineLayer {
    limit: Duration,
}

impl DeadlineLayer {
    /// Calls end after `limit`.
    pub(crate) fn new(limit: Duration) -> Self {
        Self { limit }
    }
}

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline {
            inner,
            limit: self.limit,
        }
    }
}

/// The service [`DeadlineLayer`] wraps.
#[derive(Debug, Clone)]
pub(crate) struct Deadline<S> {
    inner: S,
    limit: Duration,
}

impl<S, B, R> tower::Service<http::Request<B>> for Deadline<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let limit = self.limit;
        let path = request.uri().path().to_owned();
        let call = self.inner.call(request);
        Box::pin(async move {
            match tokio::time::timeout(limit, call).await {
                Ok(answer) => answer,
                Err(_elapsed) => {
                    tracing::warn!(
                        %path,
                        limit_ms = limit.as_millis(),
                        "grpc call ran past its deadline"
                    );
                    Ok(Status::deadline_exceeded(format!(
                        "no answer within the service's deadline of {} ms; retry: changes are \
                         idempotent",
                        limit.as_millis()
                    ))
                    .into_http())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tower::{Layer as _, Service as _, ServiceExt as _};

    use super::*;

    #[test]
    fn a_courier_may_burst_then_keeps_to_its_rate() {
        let start = Instant::now();
        let mut rate = MessageRate::new(10, start);
        let burst = (0..100).take_while(|_| rate.allow(start)).count();
        assert_eq!(burst, 50, "five seconds' worth at once");
        assert!(!rate.allow(start));
        // A tenth of a second later, one more.
        let later = start + Duration::from_millis(100);
        assert!(rate.allow(later));
        assert!(!rate.allow(later));
        // A long pause refills the bucket, no further than the burst.
        let much_later = later + Duration::from_secs(3600);
        assert_eq!((0..100).take_while(|_| rate.allow(much_later)).count(), 50);
    }

    #[tokio::test]
    async fn streams_beyond_the_limit_are_refused_until_one_ends() {
        let (metrics, _registry) = Metrics::new();
        let slots = StreamSlots::new(2, metrics.clone());
        let first = slots.take("courier session").unwrap();
        let _second = slots.take("courier session").unwrap();
        let refused = slots.take("pickup eta watch").unwrap_err();
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert!(
            refused.message().contains("2 streams"),
            "{}",
            refused.message()
        );
        assert_eq!(metrics.grpc_streams.get(), 2);
        drop(first);
        assert_eq!(metrics.grpc_streams.get(), 1);
        assert!(slots.take("courier session").is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_past_its_deadline_is_deadline_exceeded() {
        let slow = tower::service_fn(|request: http::Request<()>| async move {
            if request.uri().path() == "/slow" {
                std::future::pending::<()>().await;
            }
            Ok::<_, Infallible>(http::Response::new(String::from("answer")))
        });
        let mut service = DeadlineLayer::new(Duration::from_secs(2)).layer(slow);

        let fast = http::Request::builder().uri("/fast").body(()).unwrap();
        let answer = service.ready().await.unwrap().call(fast).await.unwrap();
        assert_eq!(answer.body(), "answer");

        let slow = http::Request::builder().uri("/slow").body(()).unwrap();
        let answer = service.ready().await.unwrap().call(slow).await.unwrap();
        let status = Status::from_header_map(answer.headers()).expect("a grpc status");
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
        assert!(status.message().contains("2000 ms"), "{}", status.message());
    }
}
