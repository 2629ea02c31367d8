//! The real server on 127.0.0.1 (port 0), in-process, and a small HTTP client for it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_engine::Engine;
use folio_server::{Route, Server, ServerConfig};

pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub routes: Vec<Route>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A configuration for tests: data in `dir`, no key, small limits where a test needs them.
pub fn config(dir: &Path) -> ServerConfig {
    let mut c = ServerConfig::new(dir.to_path_buf());
    c.max_concurrent = 2;
    c.max_queue = 8;
    c.job_workers = 1;
    c.shutdown_grace = Duration::from_secs(10);
    c
}

impl TestServer {
    pub fn start(config: ServerConfig) -> TestServer {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let server = Server::new(Arc::new(Engine::new()), config).unwrap();
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send((listener.local_addr().unwrap(), server.routes().to_vec()))
                    .unwrap();
                server
                    .serve(listener, async {
                        let _ = stop_rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let (addr, routes) = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        TestServer {
            addr,
            base: format!("http://{addr}"),
            routes,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Graceful shutdown, as SIGTERM does; returns once the server has stopped.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("tests/fixtures/pdf").join(name)).unwrap()
}

/// A test document under `tests/fixtures/` (`rel` is relative to it), e.g. [`PAPER`].
pub fn doc(rel: &str) -> Vec<u8> {
    let path = repo().join("tests/fixtures").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A born-digital paper page with a ruled table.
pub const PAPER: &str = "pdf/table-paper-page.pdf";
/// A PDF encrypted with a user password (which is `openpassword`).
pub const ENCRYPTED: &str =
    "robust/py-pdf__005-libreoffice-writer-password__libreoffice-writer-password.pdf";
/// A fuzzed file that is not a readable PDF.
pub const DAMAGED: &str = "robust/qpdf__fuzz__qpdf_extra__15316.fuzz.pdf";
/// A scanned receipt (JPEG).
pub const RECEIPT: &str = "receipts/sroie_005.jpg";

/// A long born-digital PDF: slow enough to keep an extraction busy for a while.
pub fn long_pdf(pages: usize) -> Vec<u8> {
    folio_worker::fake::text_pdf(pages, 45)
}

/// One multipart part.
pub enum Part<'a> {
    File(&'a str, &'a [u8]),
    Field(&'a str, &'a str),
}

/// A multipart/form-data body and its content type.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "folio-test-boundary-7d1c";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part {
            Part::File(name, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
            Part::Field(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}")
                        .as_bytes(),
                );
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts an error answer: this status, JSON `{"error": {"code", "message"}}`, this code.
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        let v = self.json();
        assert_eq!(v["error"]["code"], code, "{v}");
        let message = v["error"]["message"].as_str().unwrap().to_string();
        assert!(!message.is_empty());
        message
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

fn read(mut r: ureq::http::Response<ureq::Body>) -> Reply {
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let body = r
        .body_mut()
        .with_config()
        .limit(512 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

pub fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    read(req.call().unwrap())
}

pub fn delete(url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent().delete(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    read(req.call().unwrap())
}

pub fn post(url: &str, headers: &[(&str, &str)], content_type: &str, body: &[u8]) -> Reply {
    let mut req = agent().post(url).header("content-type", content_type);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    read(req.send(body).unwrap())
}

pub fn post_form(url: &str, headers: &[(&str, &str)], parts: &[Part<'_>]) -> Reply {
    let (ct, body) = multipart(parts);
    post(url, headers, &ct, &body)
}

/// Polls until `done` holds, or panics after `limit` (a bound against hangs, not a timing).
pub fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Submits `parts` as a job to `s`, waits (two minutes at most) until it has succeeded, and
/// returns its result, checked to be a 200.
pub fn job_result(s: &TestServer, parts: &[Part<'_>]) -> Reply {
    let r = post_form(&s.url("/v1/jobs"), &[], parts);
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["id"].as_str().expect("a job id").to_string();
    wait_until(Duration::from_secs(120), "the job to succeed", || {
        get(&s.url(&format!("/v1/jobs/{id}")), &[]).json()["status"] == "succeeded"
    });
    let result = get(&s.url(&format!("/v1/jobs/{id}/result")), &[]);
    assert_eq!(result.status, 200, "{}", result.text());
    result
}
