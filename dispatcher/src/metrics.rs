//! Prometheus metrics, served over HTTP in the OpenMetrics text format.
//!
//! Each service instance owns its [`Registry`] (no global recorder), so tests can run several
//! instances in one process. [`Metrics`] holds typed handles that are cheap to clone; every metric is
//! named `dispatch_<field>` (counters get the `_total` suffix OpenMetrics asks for).
//!
//! Label values are `&'static str`: they come from the code (a source, a message kind, a reason),
//! never from input, so a sender cannot create an unbounded number of series.
//!
//! ```
//! use dispatcher::metrics::{Metrics, encode};
//!
//! let (metrics, registry) = Metrics::new();
//! metrics.offers_sent.inc();
//! metrics.message_received("amqp", "order_placed");
//! let text = encode(&registry);
//! assert!(text.contains("dispatch_offers_sent_total 1"));
//! assert!(text.contains(r#"dispatch_messages_received_total{source="amqp",kind="order_placed"} 1"#));
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use tokio::task::JoinHandle;

/// The content type of [`encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The prefix of every metric name.
const PREFIX: &str = "dispatch";

/// One label, e.g. `[("source", "amqp")]`.
pub type Label1 = [(&'static str, &'static str); 1];
/// Two labels, e.g. `[("source", "amqp"), ("kind", "order_placed")]`.
pub type Label2 = [(&'static str, &'static str); 2];

/// A floating-point gauge.
pub type GaugeF64 = Gauge<f64, AtomicU64>;

/// Buckets for durations in seconds: 1 ms doubling to about 35 minutes (22 buckets).
fn seconds_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.001, 2.0, 22)
}

/// The service's metrics. Cloning is cheap: every field is a handle to shared atomics.
#[derive(Debug, Clone)]
pub struct Metrics {
    // Ingest.
    /// Courier positions received, by `source` (`grpc`, `amqp`).
    pub positions_received: Family<Label1, Counter>,
    /// Courier positions written to the store.
    pub positions_stored: Counter,
    /// Inbound messages, by `source` and `kind`.
    pub messages_received: Family<Label2, Counter>,
    /// Inbound messages recognised as redeliveries and applied no second time, by `source`.
    pub messages_duplicate: Family<Label1, Counter>,
    /// Inbound messages sent to the dead-letter exchange, by `reason`.
    pub messages_dead_lettered: Family<Label1, Counter>,
    /// For AMQP messages: now minus the message's `occurred_at`, seconds.
    pub queue_lag_seconds: Histogram,
    /// Rows per position batch written.
    pub position_batch_rows: Histogram,
    /// Time to write one position batch, seconds.
    pub position_batch_seconds: Histogram,

    // Planner.
    /// Planning rounds run.
    pub planner_rounds: Counter,
    /// Wall time of a planning round, seconds.
    pub planner_seconds: Histogram,
    /// Time inside the solver per round, seconds.
    pub planner_solve_seconds: Histogram,
    /// Objective value of the last round's plan.
    pub planner_objective: GaugeF64,
    /// Wall time of the last planning round, seconds (for status lines; the histogram has them all).
    pub planner_last_seconds: GaugeF64,
    /// Solver iterations, summed over rounds.
    pub planner_iterations: Counter,

    // Offers.
    /// Offers sent to couriers.
    pub offers_sent: Counter,
    /// Offers accepted.
    pub offers_accepted: Counter,
    /// Offers declined.
    pub offers_declined: Counter,
    /// Offers that expired unanswered.
    pub offers_expired: Counter,
    /// Offers withdrawn by the service before an answer.
    pub offers_withdrawn: Counter,

    // State.
    /// Orders not yet delivered, cancelled or failed.
    pub open_orders: Gauge,
    /// Open orders whose planned drop-off is after the promised window's end.
    pub late_orders: Gauge,
    /// Couriers with an open stream.
    pub couriers_connected: Gauge,
    /// Couriers on shift.
    pub couriers_on_shift: Gauge,
    /// From an order being placed to its first offer, seconds.
    pub order_to_offer_seconds: Histogram,

    // gRPC limits.
    /// Courier sessions and pickup-ETA watches open.
    pub grpc_streams: Gauge,
    /// gRPC calls refused for a limit, by `limit` (`too_many_streams`, `courier_rate`).
    pub grpc_refused: Family<Label1, Counter>,
    /// gRPC calls answered with an error before any message, by `code` (`unauthenticated`,
    /// `permission_denied`, `invalid_argument`, ...).
    pub grpc_errors: Family<Label1, Counter>,

    // Bus.
    /// Reconnections to RabbitMQ.
    pub amqp_reconnects: Counter,
    /// Events in the outbox not yet confirmed by the broker.
    pub outbox_pending: Gauge,
    /// Events published and confirmed.
    pub events_published: Counter,
}

impl Metrics {
    /// New metrics, all zero, and the registry that exposes them.
    pub fn new() -> (Metrics, Registry) {
        let mut root = Registry::default();
        let r = root.sub_registry_with_prefix(PREFIX);
        let seconds = || Histogram::new(seconds_buckets());

        let metrics = Metrics {
            positions_received: Family::default(),
            positions_stored: Counter::default(),
            messages_received: Family::default(),
            messages_duplicate: Family::default(),
            messages_dead_lettered: Family::default(),
            queue_lag_seconds: seconds(),
            // 1 to 131072 rows.
            position_batch_rows: Histogram::new(exponential_buckets(1.0, 2.0, 18)),
            position_batch_seconds: seconds(),
            planner_rounds: Counter::default(),
            planner_seconds: seconds(),
            planner_solve_seconds: seconds(),
            planner_objective: GaugeF64::default(),
            planner_last_seconds: GaugeF64::default(),
            planner_iterations: Counter::default(),
            offers_sent: Counter::default(),
            offers_accepted: Counter::default(),
            offers_declined: Counter::default(),
            offers_expired: Counter::default(),
            offers_withdrawn: Counter::default(),
            open_orders: Gauge::default(),
            late_orders: Gauge::default(),
            couriers_connected: Gauge::default(),
            couriers_on_shift: Gauge::default(),
            order_to_offer_seconds: seconds(),
            grpc_streams: Gauge::default(),
            grpc_refused: Family::default(),
            grpc_errors: Family::default(),
            amqp_reconnects: Counter::default(),
            outbox_pending: Gauge::default(),
            events_published: Counter::default(),
        };
        let m = metrics.clone();

        // Counters: OpenMetrics appends `_total`. Units: appended as `_seconds`.
        r.register(
            "positions_received",
            "Courier positions received, by source (grpc, amqp)",
            m.positions_received,
        );
        r.register(
            "positions_stored",
            "Courier positions written to the store",
            m.positions_stored,
        );
        r.register(
            "messages_received",
            "Inbound messages, by source and kind",
            m.messages_received,
        );
        r.register(
            "messages_duplicate",
            "Inbound messages recognised as redeliveries, by source",
            m.messages_duplicate,
        );
        r.register(
            "messages_dead_lettered",
            "Inbound messages dead-lettered, by reason",
            m.messages_dead_lettered,
        );
        r.register_with_unit(
            "queue_lag",
            "Age of AMQP messages on receipt: now minus occurred_at",
            Unit::Seconds,
            m.queue_lag_seconds,
        );
        r.register(
            "position_batch_rows",
            "Rows per position batch written",
            m.position_batch_rows,
        );
        r.register_with_unit(
            "position_batch",
            "Time to write one position batch",
            Unit::Seconds,
            m.position_batch_seconds,
        );
        r.register("planner_rounds", "Planning rounds run", m.planner_rounds);
        r.register_with_unit(
            "planner",
            "Wall time of a planning round",
            Unit::Seconds,
            m.planner_seconds,
        );
        r.register_with_unit(
            "planner_last",
            "Wall time of the last planning round",
            Unit::Seconds,
            m.planner_last_seconds,
        );
        r.register_with_unit(
            "planner_solve",
            "Time inside the solver per planning round",
            Unit::Seconds,
            m.planner_solve_seconds,
        );
        r.register(
            "planner_objective",
            "Objective value of the last round's plan",
            m.planner_objective,
        );
        r.register(
            "planner_iterations",
            "Solver iterations, summed over rounds",
            m.planner_iterations,
        );
        r.register("offers_sent", "Offers sent to couriers", m.offers_sent);
        r.register("offers_accepted", "Offers accepted", m.offers_accepted);
        r.register("offers_declined", "Offers declined", m.offers_declined);
        r.register(
            "offers_expired",
            "Offers that expired unanswered",
            m.offers_expired,
        );
        r.register(
            "offers_withdrawn",
            "Offers withdrawn before an answer",
            m.offers_withdrawn,
        );
        r.register(
            "open_orders",
            "Orders not yet delivered, cancelled or failed",
            m.open_orders,
        );
        r.register(
            "late_orders",
            "Open orders whose planned drop-off is after the promised end",
            m.late_orders,
        );
        r.register(
            "couriers_connected",
            "Couriers with an open stream",
            m.couriers_connected,
        );
        r.register(
            "couriers_on_shift",
            "Couriers on shift",
            m.couriers_on_shift,
        );
        r.register_with_unit(
            "order_to_offer",
            "Time from an order being placed to its first offer",
            Unit::Seconds,
            m.order_to_offer_seconds,
        );
        r.register(
            "grpc_streams",
            "Courier sessions and pickup-ETA watches open",
            m.grpc_streams,
        );
        r.register(
            "grpc_refused",
            "gRPC calls refused for a limit, by limit",
            m.grpc_refused,
        );
        r.register(
            "grpc_errors",
            "gRPC calls answered with an error before any message, by code",
            m.grpc_errors,
        );
        r.register(
            "amqp_reconnects",
            "Reconnections to RabbitMQ",
            m.amqp_reconnects,
        );
        r.register(
            "outbox_pending",
            "Events in the outbox not yet confirmed by the broker",
            m.outbox_pending,
        );
        r.register(
            "events_published",
            "Events published and confirmed",
            m.events_published,
        );

        (metrics, root)
    }

    /// Counts `n` positions received from `source` (`grpc` or `amqp`).
    pub fn positions_received_from(&self, source: &'static str, n: u64) {
        self.positions_received
            .get_or_create(&[("source", source)])
            .inc_by(n);
    }

    /// Counts `n` positions received over gRPC.
    pub fn positions_received_grpc(&self, n: u64) {
        self.positions_received_from("grpc", n);
    }

    /// Counts `n` positions received over AMQP.
    pub fn positions_received_amqp(&self, n: u64) {
        self.positions_received_from("amqp", n);
    }

    /// Counts one inbound message of `kind` (e.g. `order_placed`) from `source` (`grpc`, `amqp`).
    pub fn message_received(&self, source: &'static str, kind: &'static str) {
        self.messages_received
            .get_or_create(&[("source", source), ("kind", kind)])
            .inc();
    }

    /// Counts one gRPC call refused for `limit`.
    pub fn grpc_refused(&self, limit: &'static str) {
        self.grpc_refused.get_or_create(&[("limit", limit)]).inc();
    }

    /// Counts one gRPC call answered with the error `code` (lower-case gRPC code name).
    pub fn grpc_error(&self, code: &'static str) {
        self.grpc_errors.get_or_create(&[("code", code)]).inc();
    }

    /// Counts one redelivered message from `source`.
    pub fn message_duplicate(&self, source: &'static str) {
        self.messages_duplicate
            .get_or_create(&[("source", source)])
            .inc();
    }

    /// Counts one message dead-lettered for `reason` (a kind, e.g. `decode`, not a free text).
    pub fn message_dead_lettered(&self, reason: &'static str) {
        self.messages_dead_lettered
            .get_or_create(&[("reason", reason)])
            .inc();
    }

    /// Records an AMQP message's lag, seconds; negative lags (clock skew) count as zero.
    pub fn observe_queue_lag(&self, seconds: f64) {
        self.queue_lag_seconds.observe(non_negative(seconds));
    }

    /// Records the time from an order being placed to its first offer, seconds; negative counts as
    /// zero.
    pub fn observe_order_to_offer(&self, seconds: f64) {
        self.order_to_offer_seconds.observe(non_negative(seconds));
    }
}

fn non_negative(x: f64) -> f64 {
    if x > 0.0 { x } else { 0.0 }
}

/// The registry's metrics in the OpenMetrics text format (ends with `# EOF`).
pub fn encode(registry: &Registry) -> String {
    let mut text = String::new();
    if let Err(error) = prometheus_client::encoding::text::encode(&mut text, registry) {
        // Writing to a String does not fail; a metric that cannot encode itself leaves the text
        // without `# EOF`, which a scraper rejects, so the failure is visible there too.
        tracing::error!(%error, "encoding metrics failed");
    }
    text
}

/// Serves `GET /metrics` (OpenMetrics text) and `GET /healthz` (200 `ok`) on `addr` until `shutdown`
/// completes. Returns the bound address (useful with port 0) and the server task.
pub async fn serve(
    addr: SocketAddr,
    registry: Arc<Registry>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, JoinHandle<()>), std::io::Error> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/metrics", get(metrics_page))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(registry);
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(%error, %bound, "metrics server stopped");
        }
    });
    Ok((bound, task))
}

async fn metrics_page(State(registry): State<Arc<Registry>>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        encode(&registry),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    async fn get(addr: SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn serves_metrics_and_health_on_an_ephemeral_port() {
        let (metrics, registry) = Metrics::new();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (addr, task) = serve(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(registry),
            async move {
                let _ = stopped.await;
            },
        )
        .await
        .unwrap();
        assert_ne!(addr.port(), 0);

        metrics.offers_sent.inc();
        metrics.offers_sent.inc();
        metrics.positions_received_grpc(7);
        metrics.planner_objective.set(12.5);
        metrics.planner_seconds.observe(0.003);

        let response = get(addr, "/metrics").await;
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("content-type: {CONTENT_TYPE}")),
            "{head}"
        );
        assert!(body.contains("dispatch_offers_sent_total 2\n"), "{body}");
        assert!(
            body.contains("dispatch_positions_received_total{source=\"grpc\"} 7\n"),
            "{body}"
        );
        assert!(body.contains("dispatch_planner_objective 12.5\n"), "{body}");
        assert!(
            body.contains("dispatch_planner_seconds_bucket{le=\"0.004\"} 1\n"),
            "{body}"
        );
        assert!(body.trim_end().ends_with("# EOF"), "{body}");

        let health = get(addr, "/healthz").await;
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        assert!(health.ends_with("\r\n\r\nok"), "{health}");

        assert!(get(addr, "/nope").await.starts_with("HTTP/1.1 404"));

        stop.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
    }

    #[test]
    fn instances_are_independent() {
        let (a, ra) = Metrics::new();
        let (_b, rb) = Metrics::new();
        a.offers_accepted.inc();
        assert!(encode(&ra).contains("dispatch_offers_accepted_total 1\n"));
        assert!(encode(&rb).contains("dispatch_offers_accepted_total 0\n"));
    }
}
