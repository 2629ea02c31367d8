//! `folio serve` as a real process: a page that never ends is cancelled at its time limit and
//! its thread comes back (no thread keeps a core, nothing piles up, the next requests are
//! served), and OCR models installed while the server runs are used without a restart.

#[path = "../../folio-engine/tests/support/mod.rs"]
mod support;

mod serve_common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use folio_store::RequiredModels;
use serde_json::Value;
use serve_common::get;

struct Serve {
    child: Child,
    base: String,
}

impl Serve {
    /// Starts `folio serve` on a free port with its data in `data`, and reads the port from its
    /// first line on stderr.
    fn start(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Serve {
        let mut cmd = serve_common::serve_command();
        cmd.arg("--data-dir")
            .arg(data)
            .args(extra)
            .envs(env.iter().copied());
        let (child, base) = serve_common::spawn_serve(cmd);
        Serve { child, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post_file(url: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
    serve_common::post_form(url, (name, bytes), &[])
}

/// The value of an unlabelled metric.
fn metric(s: &Serve, name: &str) -> f64 {
    let (_, text) = get(&s.url("/metrics"));
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{text}"))
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_page_that_never_ends_is_cancelled_and_its_thread_comes_back() {
    let data = tempfile::tempdir().unwrap();
    // The server's own page pool is the subject: extraction in this process. (Extracting in
    // child processes, a child with an abandoned page is replaced instead: tests/isolation.rs.)
    let s = Serve::start(
        data.path(),
        &[
            "--page-timeout",
            "1",
            "--max-concurrent",
            "4",
            "--isolate",
            "off",
        ],
        &[],
    );
    let threads = metric(&s, "folio_page_threads");
    assert!(threads >= 1.0);
    assert_eq!(metric(&s, "folio_page_threads_busy"), 0.0);

    // Nested forms, each drawing the next ten times, ten levels: ten billion rectangles.
    let never = support::pdf_writer::never_ending_page();
    assert!(never.len() < 4096, "a few KB: {}", never.len());
    let started = Instant::now();
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let (url, never) = (s.url("/extract"), never.clone());
            std::thread::spawn(move || post_file(&url, "never.pdf", &never))
        })
        .collect();
    for client in clients {
        let (status, v) = client.join().unwrap();
        // The document's only page timed out: nothing could be extracted.
        assert_eq!(status, 422, "{v}");
        assert_eq!(v["error"]["code"], "unreadable", "{v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains("page time limit"), "{message}");
    }
    // Three pages of one second each on however many threads, plus the answers: a hang
    // would show as minutes.
    assert!(started.elapsed() < Duration::from_secs(30));

    // The cancelled pages stop: every page thread is free again, none is stuck.
    wait_until(
        "the page threads to come back",
        Duration::from_secs(10),
        || metric(&s, "folio_page_threads_busy") == 0.0,
    );
    assert_eq!(metric(&s, "folio_page_threads_stuck"), 0.0);
    assert_eq!(metric(&s, "folio_pages_timed_out_total"), 3.0);
    let (status, body) = get(&s.url("/ready"));
    assert_eq!(status, 200, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["page_pool"]["busy"], 0, "{ready}");
    assert_eq!(ready["page_pool"]["stuck"], 0, "{ready}");

    // The next requests are served, as fast as ever.
    for _ in 0..3 {
        let (status, v) = post_file(
            &s.url("/extract"),
            "t.pdf",
            &folio_worker::fake::text_pdf(2, 5),
        );
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["status"], "success", "{v}");
        assert_eq!(v["pages_extracted"], 2);
    }
}

fn wheels() -> PathBuf {
    let wheels = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/model-wheels");
    let count = std::fs::read_dir(&wheels)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "whl"))
                .count()
        })
        .unwrap_or(0);
    assert!(
        count >= 2,
        "no model wheels in {} (run `bash scripts/test.d/20-models.sh`)",
        wheels.display()
    );
    wheels
}

#[test]
fn models_installed_while_the_server_runs_heal_ocr_without_a_restart() {
    let wheels = wheels();
    let data = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let offline = [("FOLIO_OFFLINE", "1")];
    let s = Serve::start(data.path(), &["--cache-dir", cache_dir], &offline);
    let image = support::png(support::paper_crop());

    // An empty store: the image cannot be read, and the answer says why.
    let (status, v) = post_file(&s.url("/extract"), "crop.png", &image);
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["error"]["code"], "models_unavailable", "{v}");
    let (_, body) = get(&s.url("/ready"));
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["models"]["state"], "failed", "{ready}");
    assert!(ready["models"]["reason"].as_str().is_some(), "{ready}");

    let mut install = Command::new(env!("CARGO_BIN_EXE_folio"));
    install
        .args(["models", "install", "--cache-dir", cache_dir, "--from"])
        .arg(&wheels)
        // Every model, as `folio models install` installs them: with the OCR models alone a
        // scan that reads like a document is extracted with a `layout_unavailable` warning.
        .args(RequiredModels::All.ids().iter().map(|m| m.name()));
    for (k, _) in std::env::vars() {
        if k.starts_with("FOLIO_") {
            install.env_remove(k);
        }
    }
    let out = install
        .envs(offline)
        .output()
        .expect("run folio models install");
    assert!(
        out.status.success(),
        "install failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The same server, no restart: once the back-off after the failed load has passed, the next
    // image request loads the models and reads the image.
    std::thread::sleep(folio_engine::MODEL_RETRY_BACKOFF);
    let (status, v) = post_file(&s.url("/extract"), "crop.png", &image);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "success", "{v}");
    assert_eq!(v["pages"][0]["source"], "ocr", "{v}");
    let text = v["content"].as_str().unwrap();
    assert!(text.split_whitespace().count() >= 20, "{text}");
    let (_, body) = get(&s.url("/ready"));
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["models"]["state"], "loaded", "{ready}");
    assert_eq!(metric(&s, "folio_models_loaded"), 1.0);
}
