//! Counting the calls the server answers with an error before any message: bad or missing tokens,
//! requests a caller may not make, invalid arguments, unknown ids, limits. A rise in one code is
//! what an operator alerts on (a wave of `unauthenticated` after a key change, `permission_denied`
//! from a misbehaving client), so each is counted apart.
//!
//! Such an answer carries its `grpc-status` in the response headers ("trailers-only"); an error
//! that ends a stream after messages went down comes in the trailers and is not counted here (the
//! limits that end courier sessions count themselves in `grpc_refused`).

use std::task::{Context, Poll};

use tonic::Code;

use super::BoxFuture;

use crate::metrics::Metrics;

/// A tower layer that counts error answers by code in `dispatch_grpc_errors{code}`.
#[derive(Debug, Clone)]
pub(crate) struct RefusalsLayer {
    metrics: Metrics,
}

impl RefusalsLayer {
    /// Counts in `metrics`.
    pub(crate) fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }
}

impl<S> tower::Layer<S> for RefusalsLayer {
    type Service = Refusals<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Refusals {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service [`RefusalsLayer`] wraps.
#[derive(Debug, Clone)]
pub(crate) struct Refusals<S> {
    inner: S,
    metrics: Metrics,
}

impl<S, B, R> tower::Service<http::Request<B>> for Refusals<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let metrics = self.metrics.clone();
        let call = self.inner.call(request);
        Box::pin(async move {
            let answer = call.await;
            if let Ok(response) = &answer
                && let Some(status) = response.headers().get("grpc-status")
            {
                let code = Code::from_bytes(status.as_bytes());
                if code != Code::Ok {
                    metrics.grpc_error(code_name(code));
                }
            }
            answer
        })
    }
}

/// The code as the gRPC spec spells it, in lower case: a label value of bounded cardinality.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "cancelled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tonic::Status;
    use tower::{Layer as _, ServiceExt as _};

    use super::*;

    fn count(metrics: &Metrics, code: &'static str) -> u64 {
        metrics.grpc_errors.get_or_create(&[("code", code)]).get()
    }

    #[tokio::test]
    async fn error_answers_are_counted_by_code_and_successes_are_not() {
        let (metrics, _registry) = Metrics::new();
        let answers = [
            Some(Code::Unauthenticated),
            Some(Code::PermissionDenied),
            Some(Code::PermissionDenied),
            None,
        ];
        for answer in answers {
            let service = tower::service_fn(move |_: http::Request<()>| async move {
                Ok::<_, Infallible>(match answer {
                    Some(code) => Status::new(code, "refused").into_http::<()>(),
                    None => http::Response::new(()),
                })
            });
            let counted = RefusalsLayer::new(metrics.clone()).layer(service);
            counted.oneshot(http::Request::new(())).await.unwrap();
        }
        assert_eq!(count(&metrics, "unauthenticated"), 1);
        assert_eq!(count(&metrics, "permission_denied"), 2);
        assert_eq!(count(&metrics, "ok"), 0);
    }
}
