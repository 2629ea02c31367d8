//! Prometheus exposition (`prometheus-client`, OpenMetrics text): requests, latency, pages,
//! errors by code, jobs, in-flight work, and the gauges their owners hold (the page pool, the
//! limiter, the job store, the pool of extraction processes), read at scrape time. Labels are bounded (route templates, not paths;
//! stable error codes; job events).

use std::sync::atomic::{AtomicU64, Ordering};
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

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabel {
    event: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// Gauges whose owners hold the value (the pool, the limiter, the job store): set from a
/// [`Gauges`] at each scrape.
#[derive(Debug, Default)]
struct Owned {
    page_threads: Gauge,
    page_threads_busy: Gauge,
    page_threads_stuck: Gauge,
    page_threads_stuck_max: Gauge,
    models_loaded: Gauge,
    extractions_running: Gauge,
    extractions_queued: Gauge,
    jobs_queued: Gauge,
    jobs_running: Gauge,
    ready: Gauge,
    pages_timed_out: Counter<u64, AtomicU64>,
    children_started: Counter<u64, AtomicU64>,
    children_killed: Family<ReasonLabel, Counter<u64, AtomicU64>>,
    children_recycled: Family<ReasonLabel, Counter<u64, AtomicU64>>,
}

/// The service's metrics, registered once.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabel, Histogram, fn() -> Histogram>,
    pages: Counter,
    errors: Family<CodeLabel, Counter>,
    jobs: Family<EventLabel, Counter>,
    http_in_flight: Gauge,
    owned: Owned,
}

/// Gauges read at exposition time from their owners.
#[derive(Debug, Default)]
pub(crate) struct Gauges {
    pub page_threads: usize,
    pub page_threads_busy: usize,
    pub page_threads_stuck: usize,
    pub page_threads_max_stuck: usize,
    pub pages_timed_out: u64,
    pub models_loaded: bool,
    pub extractions_running: usize,
    pub extractions_queued: usize,
    pub jobs_queued: u64,
    pub jobs_running: u64,
    pub ready: bool,
    /// The extraction processes' counters, when documents are extracted in them.
    pub isolation: Option<folio_isolate::PoolStats>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("folio");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let latency: Family<RouteLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            latency.clone(),
        );
        let pages = Counter::default();
        registry.register(
            "pages_extracted",
            "Pages extracted (sync requests and jobs)",
            pages.clone(),
        );
        let errors = Family::<CodeLabel, Counter>::default();
        registry.register(
            "errors",
            "Failed requests and jobs, by error code",
            errors.clone(),
        );
        let jobs = Family::<EventLabel, Counter>::default();
        registry.register(
            "jobs",
            "Async job events: created, succeeded, failed, cancelled, requeued, retried, \
             lease_lost",
            jobs.clone(),
        );
        let http_in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being answered",
            http_in_flight.clone(),
        );
        let owned = Owned::default();
        let gauges: [(&str, &str, &Gauge); 10] = [
            (
                "page_threads",
                "Pages the process's page pool runs at once",
                &owned.page_threads,
            ),
            (
                "page_threads_busy",
                "Page threads running a page (cancelled ones still stopping included)",
                &owned.page_threads_busy,
            ),
            (
                "page_threads_stuck",
                "Page threads whose page did not stop after its time limit (replaced)",
                &owned.page_threads_stuck,
            ),
            (
                "page_threads_stuck_max",
                "Stuck page threads at which the server stops accepting work",
                &owned.page_threads_stuck_max,
            ),
            (
                "models_loaded",
                "1 when the engine's OCR models are loaded",
                &owned.models_loaded,
            ),
            (
                "extractions_running",
                "Extractions running (sync and jobs)",
                &owned.extractions_running,
            ),
            (
                "extractions_queued",
                "Sync requests waiting for an extraction slot",
                &owned.extractions_queued,
            ),
            (
                "jobs_queued",
                "Async jobs waiting to run",
                &owned.jobs_queued,
            ),
            ("jobs_running", "Async jobs running", &owned.jobs_running),
            (
                "ready",
                "1 when the model store can serve what is required",
                &owned.ready,
            ),
        ];
        for (name, help, gauge) in gauges {
            registry.register(name, help, gauge.clone());
        }
        registry.register(
            "pages_timed_out",
            "Pages cancelled after their time limit",
            owned.pages_timed_out.clone(),
        );
        registry.register(
            "isolate_children_started",
            "Extraction processes started (serve and worker extract in child processes)",
            owned.children_started.clone(),
        );
        registry.register(
            "isolate_children_killed",
            "Extraction processes that died on a document or were killed at its deadline, by \
             reason: deadline, memory, stack_overflow, crash, killed, exited",
            owned.children_killed.clone(),
        );
        registry.register(
            "isolate_children_recycled",
            "Extraction processes replaced after answering, by reason: documents, memory, \
             abandoned_pages, cancelled",
            owned.children_recycled.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            pages,
            errors,
            jobs,
            http_in_flight,
            owned,
        }
    }
}

impl Metrics {
    pub fn pages(&self, n: u64) {
        self.pages.inc_by(n);
    }

    /// An extraction that failed with `code` (sync requests and jobs alike).
    pub fn error(&self, code: &'static str) {
        self.errors
            .get_or_create(&CodeLabel {
                code: code.to_string(),
            })
            .inc();
    }

    /// A job event: `created`, `succeeded`, `failed`, `cancelled`, `requeued`, `retried`,
    /// `lease_lost`.
    pub fn job(&self, event: &'static str) {
        self.jobs
            .get_or_create(&EventLabel {
                event: event.to_string(),
            })
            .inc();
    }

    fn request(&self, route: String, method: String, status: u16, secs: f64) {
        self.latency
            .get_or_create(&RouteLabel {
                route: route.clone(),
            })
            .observe(secs);
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
    }

    /// The exposition text (OpenMetrics 1.0), with the owners' gauges as `g` gives them.
    pub fn render(&self, g: &Gauges) -> String {
        let o = &self.owned;
        let set = |gauge: &Gauge, v: u64| {
            gauge.set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        set(&o.page_threads, g.page_threads as u64);
        set(&o.page_threads_busy, g.page_threads_busy as u64);
        set(&o.page_threads_stuck, g.page_threads_stuck as u64);
        set(&o.page_threads_stuck_max, g.page_threads_max_stuck as u64);
        set(&o.models_loaded, u64::from(g.models_loaded));
        set(&o.extractions_running, g.extractions_running as u64);
        set(&o.extractions_queued, g.extractions_queued as u64);
        set(&o.jobs_queued, g.jobs_queued);
        set(&o.jobs_running, g.jobs_running);
        set(&o.ready, u64::from(g.ready));
        // The pool counts its own time-outs: the counter mirrors that total.
        o.pages_timed_out
            .inner()
            .store(g.pages_timed_out, Ordering::Relaxed);
        // The pool counts its children: the counters mirror its totals. Every reason is
        // written (zero included), so that a dashboard sees the series before the first death.
        if let Some(p) = &g.isolation {
            o.children_started
                .inner()
                .store(p.started, Ordering::Relaxed);
            for (death, n) in &p.killed {
                o.children_killed
                    .get_or_create(&ReasonLabel {
                        reason: death.name(),
                    })
                    .inner()
                    .store(*n, Ordering::Relaxed);
            }
            for (why, n) in &p.recycled {
                o.children_recycled
                    .get_or_create(&ReasonLabel { reason: why.name() })
                    .inner()
                    .store(*n, Ordering::Relaxed);
            }
        }
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

/// Counts a request in flight until dropped: a client that disconnects drops the handler's
/// future, and with it this guard, so the gauge does not drift.
struct InFlight<'a>(&'a Gauge);

impl<'a> InFlight<'a> {
    fn new(gauge: &'a Gauge) -> InFlight<'a> {
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
        assert!(text.contains(
            "folio_http_requests_total{route=\"/extract\",method=\"POST\",status=\"200\"} 2"
        ));
        let bucket = |le: &str| format!("_bucket{{le=\"{le}\",route=\"/extract\"}}");
        assert!(text.contains(&format!("{} 1\n", bucket("0.25"))), "{text}");
        assert!(text.contains(&format!("{} 2\n", bucket("5.0"))), "{text}");
        assert!(text.contains(&format!("{} 2\n", bucket("+Inf"))), "{text}");
        assert!(text.contains("folio_errors_total{code=\"unreadable\"} 1"));
        let g = Gauges {
            extractions_running: 2,
            pages_timed_out: 7,
            ready: true,
            ..Gauges::default()
        };
        let text = m.render(&g);
        assert!(text.contains("folio_extractions_running 2\n"), "{text}");
        assert!(text.contains("folio_pages_timed_out_total 7\n"), "{text}");
        assert!(text.contains("folio_ready 1\n"), "{text}");
        assert!(!text.contains("isolate_children_killed_total{"), "{text}");
        let g = Gauges {
            isolation: Some(folio_isolate::PoolStats {
                started: 5,
                idle: 2,
                killed: vec![(folio_isolate::Death::Memory, 3)],
                recycled: vec![(folio_isolate::Recycle::Documents, 1)],
            }),
            ..Gauges::default()
        };
        let text = m.render(&g);
        assert!(
            text.contains("folio_isolate_children_started_total 5\n"),
            "{text}"
        );
        assert!(
            text.contains("folio_isolate_children_killed_total{reason=\"memory\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("folio_isolate_children_recycled_total{reason=\"documents\"} 1\n"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
