//! Prometheus metrics: requests, latency, pages, errors by code, jobs, in-flight work. Labels
//! are bounded (route templates, not paths; stable error codes).
//!
//! Exposition is `prometheus-client`'s OpenMetrics text. Each server owns its own registry
//! (not a process-wide recorder, as the `metrics` facade would have it), so that several
//! servers in one process, as in the tests, never mix their counts.

use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::error::ErrorInfo;
use crate::state::AppState;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// The media type of [`Metrics::render`]'s text.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// Gauges read at exposition time from their owners.
#[derive(Debug, Default)]
pub(crate) struct Gauges {
    pub extractions_running: usize,
    pub extractions_queued: usize,
    pub jobs_queued: u64,
    pub jobs_running: u64,
    pub ready: bool,
}

/// The service's metrics and the registry that exposes them.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    errors: Family<CodeLabels, Counter>,
    jobs: Family<EventLabels, Counter>,
    pages: Counter,
    http_in_flight: Gauge<i64, AtomicI64>,
    extractions_running: Gauge,
    extractions_queued: Gauge,
    jobs_queued: Gauge,
    jobs_running: Gauge,
    ready: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        // Counters are registered without `_total`: the exposition appends it.
        registry.register(
            "folio_http_requests",
            "HTTP requests answered, by route template, method and status.",
            requests.clone(),
        );
        let latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "folio_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            latency.clone(),
        );
        let pages = Counter::default();
        registry.register(
            "folio_pages_extracted",
            "Pages extracted (sync requests and jobs).",
            pages.clone(),
        );
        let errors = Family::<CodeLabels, Counter>::default();
        registry.register(
            "folio_errors",
            "Failed requests and jobs, by error code.",
            errors.clone(),
        );
        let jobs = Family::<EventLabels, Counter>::default();
        registry.register(
            "folio_jobs",
            "Async job events: created, succeeded, failed, cancelled, requeued.",
            jobs.clone(),
        );
        let mut gauge = |name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let http_in_flight = gauge(
            "folio_http_requests_in_flight",
            "HTTP requests being answered.",
        );
        let extractions_running = gauge(
            "folio_extractions_running",
            "Extractions running (sync and jobs).",
        );
        let extractions_queued = gauge(
            "folio_extractions_queued",
            "Sync requests waiting for an extraction slot.",
        );
        let jobs_queued = gauge("folio_jobs_queued", "Async jobs waiting to run.");
        let jobs_running = gauge("folio_jobs_running", "Async jobs running.");
        let ready = gauge(
            "folio_ready",
            "1 when the model store can serve what is required.",
        );
        Metrics {
            registry,
            requests,
            latency,
            errors,
            jobs,
            pages,
            http_in_flight,
            extractions_running,
            extractions_queued,
            jobs_queued,
            jobs_running,
            ready,
        }
    }
}

impl Metrics {
    pub fn pages(&self, n: u64) {
        self.pages.inc_by(n);
    }

    /// An extraction that failed with `code` (sync requests and jobs alike).
    pub fn error(&self, code: &'static str) {
        self.errors.get_or_create(&CodeLabels { code }).inc();
    }

    /// A job event: `created`, `succeeded`, `failed`, `cancelled`, `requeued`.
    pub fn job(&self, event: &'static str) {
        self.jobs.get_or_create(&EventLabels { event }).inc();
    }

    fn request(&self, route: String, method: String, status: u16, secs: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.clone(),
                method,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route })
            .observe(secs);
    }

    /// The exposition text, with the gauges that live elsewhere set from `g` first.
    pub fn render(&self, g: &Gauges) -> String {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.extractions_running
            .set(count(g.extractions_running as u64));
        self.extractions_queued
            .set(count(g.extractions_queued as u64));
        self.jobs_queued.set(count(g.jobs_queued));
        self.jobs_running.set(count(g.jobs_running));
        self.ready.set(i64::from(g.ready));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Counts a request in flight until dropped: a client that disconnects drops the handler's
/// future, and with it this guard, so the gauge does not drift.
struct InFlight<'a>(&'a Gauge<i64, AtomicI64>);

impl<'a> InFlight<'a> {
    fn new(gauge: &'a Gauge<i64, AtomicI64>) -> InFlight<'a> {
        gauge.inc();
        InFlight(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Middleware: counts every request by its route template, times it, tracks in-flight
/// requests, counts error codes, and logs the detail of internal errors.
pub(crate) async fn track(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = request.method().as_str().to_string();
    let metrics = &state.metrics;
    let in_flight = InFlight::new(&metrics.http_in_flight);
    let started = Instant::now();
    let response = next.run(request).await;
    drop(in_flight);
    if let Some(info) = response.extensions().get::<ErrorInfo>() {
        metrics.error(info.code);
        if let Some(detail) = &info.internal {
            tracing::error!(%route, error = %detail, "internal error");
        }
    }
    metrics.request(
        route,
        method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.request("/extract".into(), "POST".into(), 200, 0.2);
        m.request("/extract".into(), "POST".into(), 200, 3.0);
        m.error("unreadable");
        let text = m.render(&Gauges::default());
        assert!(
            text.contains(
                "folio_http_requests_total{route=\"/extract\",method=\"POST\",status=\"200\"} 2\n"
            ),
            "{text}"
        );
        assert!(text.contains("le=\"0.25\"} 1\n"), "{text}");
        assert!(text.contains("le=\"5.0\"} 2\n"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 2\n"), "{text}");
        assert!(
            text.contains("folio_errors_total{code=\"unreadable\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("folio_ready 0\n"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
