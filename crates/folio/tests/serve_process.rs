//! `folio serve` as a real process on 127.0.0.1: start-up to ready, SIGTERM with work in
//! flight, and SIGKILL with a job running (the next start re-runs it, or fails it after the
//! attempts allowed, never leaves it `running`).

mod serve_common;

use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use folio_worker::fake::text_pdf;
use serde_json::Value;
use serve_common::agent;

const LIMIT: Duration = Duration::from_secs(180);

struct Serve {
    child: Option<Child>,
    base: String,
    started: Instant,
}

impl Serve {
    /// Starts `folio serve` on a free port with jobs in `data`, and reads the port from its
    /// first line on stderr.
    fn start(data: &Path, extra: &[&str]) -> Serve {
        Serve::start_with(data, extra, &[])
    }

    fn start_with(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Serve {
        let started = Instant::now();
        let mut cmd = serve_common::serve_command();
        cmd.arg("--data-dir")
            .arg(data)
            .args(["--max-concurrent", "2", "--shutdown-grace", "60s"])
            .args(extra)
            .envs(env.iter().copied());
        let (child, base) = serve_common::spawn_serve(cmd);
        Serve {
            child: Some(child),
            base,
            started,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        let child = self.child.as_mut().unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status;
            }
            assert!(start.elapsed() < limit, "folio serve did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill9(&mut self) {
        self.signal("-KILL");
        self.wait_exit(Duration::from_secs(30));
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn get(url: &str) -> Result<(u16, String), ureq::Error> {
    let mut r = agent().get(url).call()?;
    let status = r.status().as_u16();
    Ok((status, r.body_mut().read_to_string().unwrap_or_default()))
}

fn get_json(url: &str) -> Value {
    let (status, body) = get(url).unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn post_pdf(url: &str, pdf: &[u8]) -> Result<(u16, String), ureq::Error> {
    post_pdf_with(url, pdf, None)
}

fn post_pdf_with(url: &str, pdf: &[u8], key: Option<&str>) -> Result<(u16, String), ureq::Error> {
    let boundary = "serve-process-test";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.pdf\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut req = agent().post(url).header(
        "content-type",
        format!("multipart/form-data; boundary={boundary}"),
    );
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    let mut r = req.send(&body[..])?;
    let status = r.status().as_u16();
    Ok((status, r.body_mut().read_to_string().unwrap_or_default()))
}

fn create_job(s: &Serve, pdf: &[u8]) -> String {
    let (status, body) = post_pdf(&s.url("/v1/jobs"), pdf).unwrap();
    assert_eq!(status, 202, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["id"].as_str().unwrap().to_string()
}

fn job(s: &Serve, id: &str) -> Value {
    get_json(&s.url(&format!("/v1/jobs/{id}")))
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < LIMIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn wait_running(s: &Serve, id: &str) {
    wait_until("the job to make progress", || {
        job(s, id)["progress"]["pages_done"].as_u64().unwrap_or(0) > 0
    });
}

#[test]
fn starts_ready_quickly_and_sigterm_finishes_in_flight_work() {
    let data = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let mut s = Serve::start(data.path(), &["--cache-dir", cache_dir]);
    wait_until("/ready", || {
        get(&s.url("/ready")).is_ok_and(|(status, _)| status == 200)
    });
    let ready_after = s.started.elapsed();
    // A generous bound against a hang; the benchmark reports the real figure.
    assert!(ready_after < Duration::from_secs(10), "{ready_after:?}");

    let slow = text_pdf(1200, 45);
    let job_id = create_job(&s, &slow);
    wait_running(&s, &job_id);
    let url = s.url("/extract");
    let request = {
        let slow = slow.clone();
        std::thread::spawn(move || post_pdf(&url, &slow))
    };
    wait_until("the sync extraction to run", || {
        get(&s.url("/metrics"))
            .unwrap()
            .1
            .contains("folio_extractions_running 2")
    });
    s.signal("-TERM");
    // The request in flight is answered in full.
    let (status, body) = request.join().unwrap().unwrap();
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["pages_extracted"], 1200);
    let exit = s.wait_exit(LIMIT);
    assert!(exit.success(), "{exit:?}");
    // Nothing listens any more.
    assert!(get(&s.url("/health")).is_err());

    // The job the stop interrupted was put back; the next start runs it to the end.
    let s = Serve::start(data.path(), &["--cache-dir", cache_dir]);
    wait_until("the requeued job to succeed", || {
        job(&s, &job_id)["status"] == "succeeded"
    });
    let v = job(&s, &job_id);
    assert_eq!(v["attempts"], 1, "{v}");
    assert_eq!(v["pages_extracted"], 1200);
}

#[test]
fn sigkill_with_a_job_running_never_leaves_it_stuck() {
    let data = tempfile::tempdir().unwrap();
    let slow = text_pdf(1200, 45);

    // Killed once: the next start runs it again, to the end.
    let mut s = Serve::start(data.path(), &[]);
    let a = create_job(&s, &slow);
    wait_running(&s, &a);
    s.kill9();
    let mut s = Serve::start(data.path(), &[]);
    let v = job(&s, &a);
    assert!(
        v["status"] == "queued" || v["status"] == "running",
        "never left stuck: {v}"
    );
    wait_until("the re-run to succeed", || {
        job(&s, &a)["status"] == "succeeded"
    });
    let v = job(&s, &a);
    assert_eq!(v["attempts"], 2, "{v}");
    assert_eq!(v["pages_extracted"], 1200);

    // Killed with no attempts left: the next start fails it, saying why.
    let b = create_job(&s, &slow);
    wait_running(&s, &b);
    s.kill9();
    let s = Serve::start(data.path(), &["--job-max-attempts", "1"]);
    let v = job(&s, &b);
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["error"]["code"], "interrupted", "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("server stopped"));
    // The earlier job and its result are still there.
    let (status, body) = get(&s.url(&format!("/v1/jobs/{a}/result"))).unwrap();
    assert_eq!(status, 200);
    assert!(
        body.contains("Folio worker test page 1200"),
        "{}",
        &body[..200]
    );
}

#[test]
fn refuses_a_public_address_without_a_key() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["serve", "--addr", "0.0.0.0:0", "--data-dir"])
        .arg(data.path())
        .env_remove("FOLIO_API_KEY")
        .env_remove("FOLIO_API_KEY_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without an API key"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn keys_come_from_the_environment_and_a_key_file() {
    let data = tempfile::tempdir().unwrap();
    let keys = data.path().join("keys.txt");
    std::fs::write(&keys, "# operators\nfile-key-1\n\nfile-key-2\n").unwrap();
    let s = Serve::start_with(
        data.path(),
        &["--api-key-file", keys.to_str().unwrap()],
        &[("FOLIO_API_KEY", "env-key-1,env-key-2")],
    );
    let pdf = text_pdf(1, 5);
    let url = s.url("/extract");
    let (status, body) = post_pdf_with(&url, &pdf, None).unwrap();
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("\"unauthorized\""), "{body}");
    assert_eq!(
        post_pdf_with(&url, &pdf, Some("# operators")).unwrap().0,
        401
    );
    for key in ["file-key-1", "file-key-2", "env-key-1", "env-key-2"] {
        let (status, body) = post_pdf_with(&url, &pdf, Some(key)).unwrap();
        assert_eq!(status, 200, "{key}: {body}");
        assert!(body.contains("Folio worker test page 1"), "{body}");
    }
}
