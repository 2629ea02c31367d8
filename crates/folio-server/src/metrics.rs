//! Prometheus text exposition over plain counters: requests, latency, pages, errors by code,
//! jobs, in-flight work. Labels are bounded (route templates, not paths; stable error codes).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::ErrorInfo;
use crate::state::AppState;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }
}

#[derive(Debug, Default)]
struct Tables {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    errors: BTreeMap<&'static str, u64>,
    jobs: BTreeMap<&'static str, u64>,
}

/// The service's counters.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    tables: Mutex<Tables>,
    pages: AtomicU64,
    http_in_flight: AtomicI64,
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
}

impl Metrics {
    fn tables(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock leaves plain counters behind: still usable.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn pages(&self, n: u64) {
        self.pages.fetch_add(n, Ordering::Relaxed);
    }

    /// An extraction that failed with `code` (sync requests and jobs alike).
    pub fn error(&self, code: &'static str) {
        *self.tables().errors.entry(code).or_default() += 1;
    }

    /// A job event: `created`, `succeeded`, `failed`, `cancelled`, `requeued`.
    pub fn job(&self, event: &'static str) {
        *self.tables().jobs.entry(event).or_default() += 1;
    }

    fn request(&self, route: String, method: String, status: u16, secs: f64) {
        let mut t = self.tables();
        *t.requests
            .entry((route.clone(), method, status))
            .or_default() += 1;
        t.latency.entry(route).or_default().observe(secs);
    }

    /// The exposition text (format 0.0.4).
    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::new();
        let t = self.tables();
        family(
            &mut out,
            "folio_http_requests_total",
            "counter",
            "HTTP requests answered, by route template, method and status.",
        );
        for ((route, method, status), n) in &t.requests {
            let _ = writeln!(
                out,
                "folio_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                escape(route),
                escape(method)
            );
        }
        family(
            &mut out,
            "folio_http_request_duration_seconds",
            "histogram",
            "Time to answer an HTTP request, by route template.",
        );
        for (route, h) in &t.latency {
            let route = escape(route);
            for (le, c) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "folio_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {c}"
                );
            }
            let _ = writeln!(
                out,
                "folio_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "folio_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "folio_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        family(
            &mut out,
            "folio_pages_extracted_total",
            "counter",
            "Pages extracted (sync requests and jobs).",
        );
        let _ = writeln!(
            out,
            "folio_pages_extracted_total {}",
            self.pages.load(Ordering::Relaxed)
        );
        family(
            &mut out,
            "folio_errors_total",
            "counter",
            "Failed requests and jobs, by error code.",
        );
        for (code, n) in &t.errors {
            let _ = writeln!(out, "folio_errors_total{{code=\"{code}\"}} {n}");
        }
        family(
            &mut out,
            "folio_jobs_total",
            "counter",
            "Async job events: created, succeeded, failed, cancelled, requeued.",
        );
        for (event, n) in &t.jobs {
            let _ = writeln!(out, "folio_jobs_total{{event=\"{event}\"}} {n}");
        }
        drop(t);
        family(
            &mut out,
            "folio_pages_timed_out_total",
            "counter",
            "Pages cancelled after their time limit.",
        );
        let _ = writeln!(out, "folio_pages_timed_out_total {}", g.pages_timed_out);
        let gauges: [(&str, &str, f64); 11] = [
            (
                "folio_page_threads",
                "Pages the process's page pool runs at once.",
                g.page_threads as f64,
            ),
            (
                "folio_page_threads_busy",
                "Page threads running a page (cancelled ones still stopping included).",
                g.page_threads_busy as f64,
            ),
            (
                "folio_page_threads_stuck",
                "Page threads whose page did not stop after its time limit (replaced).",
                g.page_threads_stuck as f64,
            ),
            (
                "folio_page_threads_stuck_max",
                "Stuck page threads at which the server stops accepting work.",
                g.page_threads_max_stuck as f64,
            ),
            (
                "folio_models_loaded",
                "1 when the engine's OCR models are loaded.",
                if g.models_loaded { 1.0 } else { 0.0 },
            ),
            (
                "folio_http_requests_in_flight",
                "HTTP requests being answered.",
                self.http_in_flight.load(Ordering::Relaxed) as f64,
            ),
            (
                "folio_extractions_running",
                "Extractions running (sync and jobs).",
                g.extractions_running as f64,
            ),
            (
                "folio_extractions_queued",
                "Sync requests waiting for an extraction slot.",
                g.extractions_queued as f64,
            ),
            (
                "folio_jobs_queued",
                "Async jobs waiting to run.",
                g.jobs_queued as f64,
            ),
            (
                "folio_jobs_running",
                "Async jobs running.",
                g.jobs_running as f64,
            ),
            (
                "folio_ready",
                "1 when the model store can serve what is required.",
                if g.ready { 1.0 } else { 0.0 },
            ),
        ];
        for (name, help, v) in gauges {
            family(&mut out, name, "gauge", help);
            let _ = writeln!(out, "{name} {v}");
        }
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Counts a request in flight until dropped: a client that disconnects drops the handler's
/// future, and with it this guard, so the gauge does not drift.
struct InFlight<'a>(&'a AtomicI64);

impl<'a> InFlight<'a> {
    fn new(gauge: &'a AtomicI64) -> InFlight<'a> {
        gauge.fetch_add(1, Ordering::Relaxed);
        InFlight(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
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
        assert!(text.contains("le=\"0.25\"} 1\n"), "{text}");
        assert!(text.contains("le=\"5\"} 2\n"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 2\n"));
        assert!(text.contains("folio_errors_total{code=\"unreadable\"} 1"));
    }
}
