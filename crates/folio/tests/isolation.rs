//! `folio serve` extracting in supervised child processes, as a real process on 127.0.0.1: a
//! decompression bomb that takes its child past a small memory cap, a child that stops
//! answering until its deadline, recycling after N documents, and a job whose child dies
//! retried and then failed. Each costs one request a JSON error and the server goes on serving.
//! The hostile files are built here.

#[path = "../../folio-pdf/tests/common/hostile.rs"]
mod hostile;
#[path = "../../folio-pdf/tests/common/pdf_writer.rs"]
mod pdf_writer;
mod serve_common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;
use serve_common::{children_of, get, post_form, ticks_of};

/// A child's address-space cap far below what the bomb decodes to (one 100 MiB stream, which
/// the reader's own limits allow), and far above what the child needs for ordinary PDFs.
const SMALL_CAP_MB: &str = "256";

struct Serve {
    child: Child,
    base: String,
}

impl Serve {
    fn start(data: &Path, extra: &[&str]) -> Serve {
        let mut cmd = serve_common::serve_command();
        cmd.arg("--data-dir").arg(data).args(extra);
        let (child, base) = serve_common::spawn_serve(cmd);
        Serve { child, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// The server's extraction processes now.
    fn children(&self) -> Vec<u32> {
        children_of(self.child.id())
    }

    /// CPU time (clock ticks) the server and its extraction processes have used so far.
    fn cpu_ticks(&self) -> u64 {
        let pid = self.child.id();
        std::iter::once(pid)
            .chain(children_of(pid))
            .map(ticks_of)
            .sum()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs `pdf` as a multipart `file` (with `ocr=never`) to `path`.
fn post(s: &Serve, path: &str, pdf: &[u8]) -> (u16, Value) {
    post_form(&s.url(path), ("x.pdf", pdf), &[("ocr", "never")])
}

/// A counter's value in `/metrics`, by its name with labels (`name{reason="memory"}`).
fn metric(s: &Serve, series: &str) -> f64 {
    let (_, text) = get(&s.url("/metrics"));
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{series} missing from /metrics:\n{text}"))
}

fn ordinary_pdf() -> Vec<u8> {
    folio_worker::fake::text_pdf(2, 5)
}

/// An ordinary document is served: 200 and its pages.
fn assert_serves(s: &Serve) {
    let (status, v) = post(s, "/extract", &ordinary_pdf());
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["pages_extracted"], 2, "{v}");
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_child_killed_by_its_memory_cap_costs_one_request() {
    let data = tempfile::tempdir().unwrap();
    let mut s = Serve::start(
        data.path(),
        &["--max-concurrent", "1", "--child-memory-mb", SMALL_CAP_MB],
    );
    assert_serves(&s);
    let before = s.children();
    assert_eq!(before.len(), 1, "one warm child per slot: {before:?}");

    // 100 KB that inflate to one 100 MiB content stream: within the reader's limits, beyond
    // what a 256 MiB address space leaves once the program and its threads are mapped.
    let bomb = hostile::flate_bomb_pdf(100, 1);
    assert!(bomb.len() < 200_000, "{} bytes", bomb.len());
    let (status, v) = post(&s, "/extract", &bomb);
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["error"]["code"], "document_too_costly", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("out of memory under its cap of 256 MiB"),
        "{message}"
    );

    assert!(s.alive(), "the server died with its child");
    assert_serves(&s);
    let after = s.children();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after, before, "the dead child was replaced");
    assert_eq!(
        metric(&s, "folio_isolate_children_killed_total{reason=\"memory\"}"),
        1.0
    );
    assert_eq!(
        metric(&s, "folio_errors_total{code=\"document_too_costly\"}"),
        1.0
    );
}

#[test]
fn the_same_bomb_in_process_is_not_capped() {
    // The comparison that shows the cap is what refused the bomb above: in the server's own
    // process (no cap of its own) the reader's limits allow the stream and the page is read.
    let data = tempfile::tempdir().unwrap();
    let s = Serve::start(data.path(), &["--isolate", "off", "--max-concurrent", "1"]);
    assert!(s.children().is_empty(), "--isolate off starts no child");
    let (status, v) = post(&s, "/extract", &hostile::flate_bomb_pdf(100, 1));
    assert_eq!(status, 200, "{v}");
    assert!(v.to_string().contains("Before the bomb"), "{v}");
    let (_, text) = get(&s.url("/metrics"));
    assert!(!text.contains("isolate_children_killed_total{"), "{text}");
}

#[test]
fn a_child_past_its_deadline_is_killed_and_its_core_comes_back() {
    let data = tempfile::tempdir().unwrap();
    // A two-second request time limit: the parent kills a child that has not answered three
    // seconds (its grace) after it.
    let mut s = Serve::start(data.path(), &["--max-concurrent", "1", "--timeout", "2"]);
    assert_serves(&s);
    let child = s.children();
    assert_eq!(child.len(), 1, "{child:?}");
    // A child that never answers, whatever the document: stopped, as one stuck in a loop that
    // checks no time limit would look from outside. The engine cannot stop it; only the
    // parent's deadline can.
    let stopped = Command::new("kill")
        .args(["-STOP", &child[0].to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let started = Instant::now();
    let (status, v) = post(&s, "/extract", &ordinary_pdf());
    let took = started.elapsed();
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["error"]["code"], "document_too_costly", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("time limit"), "{message}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(15),
        "answered after {took:?}"
    );
    // The stopped child is gone (killed and reaped), a fresh one took its place.
    assert!(
        !Path::new(&format!("/proc/{}", child[0])).exists(),
        "the child past its deadline is still there"
    );
    assert!(s.alive());
    assert_serves(&s);
    assert_eq!(
        metric(
            &s,
            "folio_isolate_children_killed_total{reason=\"deadline\"}"
        ),
        1.0
    );

    // The endless page: its page is abandoned at the page time limit, its child is replaced
    // rather than left with a page running, and within a second nothing uses a core.
    let (status, v) = post(&s, "/extract", &hostile::nested_forms_pdf(10, 10));
    assert!(
        status == 422 || status == 503 || status == 200,
        "{status}: {v}"
    );
    assert!(s.alive());
    std::thread::sleep(Duration::from_secs(1));
    let before = s.cpu_ticks();
    std::thread::sleep(Duration::from_secs(1));
    let used = s.cpu_ticks() - before;
    assert!(
        used < 20,
        "the server and its children used {used} ticks in an idle second"
    );
    assert_serves(&s);
}

#[test]
fn the_pool_recycles_a_child_after_n_documents() {
    let data = tempfile::tempdir().unwrap();
    let s = Serve::start(
        data.path(),
        &["--max-concurrent", "1", "--child-max-documents", "2"],
    );
    let mut seen = vec![s.children()];
    for _ in 0..5 {
        assert_serves(&s);
        seen.push(s.children());
    }
    // Replaced after documents 2 and 4: three children in all, each served two (the last one
    // one so far), one at a time.
    assert!(seen.iter().all(|c| c.len() == 1), "{seen:?}");
    let distinct: std::collections::BTreeSet<_> = seen.iter().map(|c| c[0]).collect();
    assert_eq!(distinct.len(), 3, "{seen:?}");
    assert_eq!(seen[0], seen[1]);
    assert_ne!(seen[1], seen[2]);
    assert_eq!(
        metric(
            &s,
            "folio_isolate_children_recycled_total{reason=\"documents\"}"
        ),
        2.0
    );
    assert_eq!(metric(&s, "folio_isolate_children_started_total"), 3.0);
}

#[test]
fn the_pool_recycles_a_child_above_its_resident_memory_threshold() {
    let data = tempfile::tempdir().unwrap();
    // 1 MiB: every child is above it after any document (the program alone is more).
    let s = Serve::start(
        data.path(),
        &["--max-concurrent", "1", "--child-max-rss-mb", "1"],
    );
    let first = s.children();
    assert_serves(&s);
    let second = s.children();
    assert_serves(&s);
    assert_ne!(first, second);
    assert_ne!(second, s.children());
    assert_eq!(
        metric(
            &s,
            "folio_isolate_children_recycled_total{reason=\"memory\"}"
        ),
        2.0
    );
    assert_eq!(
        metric(
            &s,
            "folio_isolate_children_recycled_total{reason=\"documents\"}"
        ),
        0.0
    );
}

#[test]
fn a_job_whose_child_dies_is_retried_then_failed() {
    let data = tempfile::tempdir().unwrap();
    let mut s = Serve::start(
        data.path(),
        &[
            "--max-concurrent",
            "1",
            "--child-memory-mb",
            SMALL_CAP_MB,
            "--job-max-attempts",
            "2",
        ],
    );
    let (status, v) = post(&s, "/v1/jobs", &hostile::flate_bomb_pdf(100, 1));
    assert_eq!(status, 202, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let mut job = Value::Null;
    wait_until("the job to end", Duration::from_secs(60), || {
        let (_, body) = get(&s.url(&format!("/v1/jobs/{id}")));
        job = serde_json::from_str(&body).unwrap();
        job["status"] == "failed" || job["status"] == "succeeded"
    });
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["attempts"], 2, "{job}");
    assert_eq!(job["error"]["code"], "document_too_costly", "{job}");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(message.contains("tried 2 times"), "{message}");
    assert!(s.alive(), "the server died with the job's child");
    assert_eq!(
        metric(&s, "folio_isolate_children_killed_total{reason=\"memory\"}"),
        2.0
    );
    assert_eq!(metric(&s, "folio_jobs_total{event=\"retried\"}"), 1.0);
    // Served in between and after: sync requests and the next job.
    assert_serves(&s);
    let (status, v) = post(&s, "/v1/jobs", &ordinary_pdf());
    assert_eq!(status, 202, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    wait_until("the next job to succeed", Duration::from_secs(30), || {
        let (_, body) = get(&s.url(&format!("/v1/jobs/{id}")));
        serde_json::from_str::<Value>(&body).unwrap()["status"] == "succeeded"
    });
}
