//! Operations endpoints on the real server: metrics, OpenAPI against the router, readiness,
//! and `/health` staying quick while every extraction slot is busy.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::*;
use folio_server::{Readiness, RequiredModels};
use folio_store::StoreConfig;

/// Parses the text exposition strictly enough to catch malformed output: every sample line is
/// `name{labels} value` with a float value, every family has HELP and TYPE before its samples.
fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    let mut declared = BTreeSet::new();
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let name = it.next().unwrap();
            let kind = it.next().unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            declared.insert(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") || line.starts_with("# UNIT ") || line.is_empty() {
            continue;
        }
        // OpenMetrics ends the exposition with `# EOF`.
        if line == "# EOF" {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let name = series.split('{').next().unwrap();
        // OpenMetrics names a counter's family without its `_total`.
        let family = ["_bucket", "_sum", "_count", "_total"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|f| declared.contains(*f))
            .unwrap_or(name);
        assert!(declared.contains(family), "no TYPE for {line}");
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
                for pair in labels[1..labels.len() - 1].split("\",") {
                    let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
                    assert!(k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
                    assert!(!v.is_empty() || k == "route");
                }
            }
        }
        samples.insert(series.to_string(), value);
    }
    samples
}

#[test]
fn metrics_parse_and_count_requests_pages_errors_and_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(config(dir.path()));
    let pdf = fixture("two-columns.pdf");
    for _ in 0..2 {
        assert_eq!(
            post_form(&s.url("/extract"), &[], &[Part::File("a.pdf", &pdf)]).status,
            200
        );
    }
    let damaged = doc(DAMAGED);
    post_form(&s.url("/extract"), &[], &[Part::File("d.pdf", &damaged)])
        .assert_error(422, "unreadable");
    let job = post_form(&s.url("/v1/jobs"), &[], &[Part::File("a.pdf", &pdf)]).json();
    let id = job["id"].as_str().unwrap().to_string();
    wait_until(Duration::from_secs(60), "the job", || {
        get(&s.url(&format!("/v1/jobs/{id}")), &[]).json()["status"] == "succeeded"
    });

    let r = get(&s.url("/metrics"), &[]);
    assert_eq!(
        r.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let m = parse_metrics(&r.text());
    let at = |k: &str| *m.get(k).unwrap_or_else(|| panic!("missing {k}: {m:#?}"));
    assert_eq!(
        at(r#"folio_http_requests_total{route="/extract",method="POST",status="200"}"#),
        2.0
    );
    assert_eq!(
        at(r#"folio_http_requests_total{route="/extract",method="POST",status="422"}"#),
        1.0
    );
    assert_eq!(at(r#"folio_errors_total{code="unreadable"}"#), 1.0);
    // Three pages per request, twice, plus the job's three.
    assert_eq!(at("folio_pages_extracted_total"), 9.0);
    assert_eq!(at(r#"folio_jobs_total{event="created"}"#), 1.0);
    assert_eq!(
        at(r#"folio_http_request_duration_seconds_count{route="/extract"}"#),
        3.0
    );
    assert_eq!(
        at(r#"folio_http_request_duration_seconds_bucket{le="+Inf",route="/extract"}"#),
        3.0
    );
    assert_eq!(at("folio_extractions_running"), 0.0);
    assert_eq!(at("folio_jobs_queued"), 0.0);
    assert_eq!(at("folio_ready"), 1.0);
    // This request itself is in flight.
    assert_eq!(at("folio_http_requests_in_flight"), 1.0);
}

#[test]
fn openapi_lists_exactly_the_routes_the_router_serves() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(config(dir.path()));
    let doc = get(&s.url("/openapi.json"), &[]).json();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let served: BTreeSet<(String, String)> = s
        .routes
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(documented, served);
    assert_eq!(doc, folio_server::openapi());

    // And every documented operation is really routed: never 404 (no route) or 405.
    let id = "0123456789abcdef0123456789abcdef";
    for (method, path) in &documented {
        let url = s.url(&path.replace("{id}", id));
        let r = match method.as_str() {
            "GET" => get(&url, &[]),
            "DELETE" => delete(&url, &[]),
            "POST" => post(&url, &[], "text/plain", b"x"),
            other => panic!("undocumented method {other}"),
        };
        assert_ne!(r.status, 405, "{method} {path}");
        if r.status == 404 {
            // A job route may say "no such job", never "no such route".
            assert_ne!(
                r.json()["error"]["message"],
                "no such route; see GET /openapi.json",
                "{method} {path}"
            );
        }
    }
    let r = get(&s.url("/v2/nothing"), &[]);
    r.assert_error(404, "not_found");
    delete(&s.url("/extract"), &[]).assert_error(405, "method_not_allowed");
}

/// The properties a schema of the OpenAPI document declares (through `$ref` and `allOf`).
fn schema_properties(doc: &serde_json::Value, schema: &serde_json::Value) -> BTreeSet<String> {
    if let Some(name) = schema["$ref"].as_str() {
        let name = name.trim_start_matches("#/components/schemas/");
        return schema_properties(doc, &doc["components"]["schemas"][name]);
    }
    let mut out: BTreeSet<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(schema_properties(doc, part));
    }
    out
}

#[test]
fn openapi_schemas_name_every_field_of_real_answers() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(config(dir.path()));
    let doc = get(&s.url("/openapi.json"), &[]).json();
    let schema = |path: &str, method: &str, status: &str| {
        let op = &doc["paths"][path][method];
        let content = &op["responses"][status]["content"]["application/json"]["schema"];
        assert!(
            !content.is_null(),
            "{method} {path} {status}: no JSON schema"
        );
        schema_properties(&doc, content)
    };
    let keys = |v: &serde_json::Value| -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    };

    let pdf = fixture("two-columns.pdf");
    let answer = post_form(&s.url("/extract"), &[], &[Part::File("a.pdf", &pdf)]).json();
    let declared = schema("/extract", "post", "200");
    assert_eq!(keys(&answer), declared);
    let page = schema_properties(&doc, &doc["components"]["schemas"]["PageSummary"]);
    assert!(keys(&answer["pages"][0]).is_subset(&page), "{page:?}");

    let job = post_form(&s.url("/v1/jobs"), &[], &[Part::File("a.pdf", &pdf)]).json();
    assert_eq!(keys(&job), schema("/v1/jobs", "post", "202"));
    let id = job["id"].as_str().unwrap();
    let status = get(&s.url(&format!("/v1/jobs/{id}")), &[]).json();
    assert_eq!(keys(&status), schema("/v1/jobs/{id}", "get", "200"));

    let error = post_form(&s.url("/extract"), &[], &[Part::Field("format", "docx")]).json();
    assert_eq!(keys(&error), schema("/extract", "post", "400"));
    assert_eq!(
        keys(&error["error"]),
        schema_properties(&doc, &doc["components"]["schemas"]["ErrorDetail"])
    );
}

#[test]
fn ready_is_503_with_the_fix_when_required_models_are_missing() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.readiness = Readiness {
        store: StoreConfig {
            cache_dir: Some(cache.path().to_path_buf()),
            offline: true,
            ..StoreConfig::default()
        },
        required: RequiredModels::Ocr,
    };
    let s = TestServer::start(c);
    let r = get(&s.url("/ready"), &[]);
    let m = r.assert_error(503, "not_ready");
    assert!(
        m.contains("ocr-det") && m.contains("folio models install"),
        "{m}"
    );
    assert!(r.header("retry-after").is_some());
    assert_eq!(r.json()["store"]["models"][0]["state"], "missing");
    // Alive all the same, and born-digital PDFs still extract.
    assert_eq!(get(&s.url("/health"), &[]).status, 200);
    let pdf = fixture("two-columns.pdf");
    assert_eq!(
        post_form(&s.url("/extract"), &[], &[Part::File("a.pdf", &pdf)]).status,
        200
    );

    // With nothing required, the same empty cache is ready.
    let dir2 = tempfile::tempdir().unwrap();
    let mut c = config(dir2.path());
    c.readiness.store.cache_dir = Some(cache.path().to_path_buf());
    let s2 = TestServer::start(c);
    let v = get(&s2.url("/ready"), &[]).json();
    assert_eq!(v["status"], "ready", "{v}");
}

#[test]
fn health_stays_quick_while_every_slot_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.max_concurrent = 2;
    c.max_queue = 4;
    let s = TestServer::start(c);
    let slow = long_pdf(800);
    let url = s.url("/extract");
    let load: Vec<_> = (0..3)
        .map(|_| {
            let (url, slow) = (url.clone(), slow.clone());
            std::thread::spawn(move || post_form(&url, &[], &[Part::File("s.pdf", &slow)]))
        })
        .collect();
    wait_until(Duration::from_secs(60), "both slots busy", || {
        get(&s.url("/metrics"), &[])
            .text()
            .contains("folio_extractions_running 2")
    });
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        let r = get(&s.url("/health"), &[]);
        worst = worst.max(t.elapsed());
        assert_eq!(r.status, 200);
        std::thread::sleep(Duration::from_millis(50));
    }
    // A generous bound: the extractions take seconds each; /health must not wait for them.
    assert!(worst < Duration::from_secs(2), "slowest /health: {worst:?}");
    for t in load {
        assert_eq!(t.join().unwrap().status, 200);
    }
}
