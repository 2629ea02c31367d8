//! `/v1/jobs` against the real server on 127.0.0.1: create, status, result, cancel, webhooks,
//! retention, and a restart with a job in flight.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use folio_server::WebhookPolicy;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(120);

fn create(s: &TestServer, parts: &[Part<'_>]) -> Value {
    let r = post_form(&s.url("/v1/jobs"), &[], parts);
    assert_eq!(r.status, 202, "{}", r.text());
    let v = r.json();
    let id = v["id"].as_str().unwrap();
    assert_eq!(r.header("location").unwrap(), format!("/v1/jobs/{id}"));
    v
}

fn status(s: &TestServer, id: &str) -> Value {
    let r = get(&s.url(&format!("/v1/jobs/{id}")), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn wait_for(s: &TestServer, id: &str, wanted: &str) -> Value {
    let mut last = Value::Null;
    wait_until(LIMIT, &format!("job {id} to be {wanted}"), || {
        last = status(s, id);
        last["status"] == wanted
    });
    last
}

#[test]
fn a_job_runs_and_its_result_matches_the_sync_answer() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(config(dir.path()));
    let pdf = doc(PAPER);
    let job = create(
        &s,
        &[Part::File("paper.pdf", &pdf), Part::Field("format", "html")],
    );
    assert_eq!(job["status"], "queued");
    assert_eq!(job["filename"], "paper.pdf");
    let id = job["id"].as_str().unwrap().to_string();
    let done = wait_for(&s, &id, "succeeded");
    assert_eq!(done["attempts"], 1);
    assert_eq!(done["pages_extracted"], 1);
    assert!(done["finished_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(done["links"]["result"], format!("/v1/jobs/{id}/result"));

    let result = get(&s.url(&format!("/v1/jobs/{id}/result")), &[]);
    assert_eq!(result.status, 200);
    let v = result.json();
    let sync = post_form(
        &s.url("/extract"),
        &[],
        &[Part::File("paper.pdf", &pdf), Part::Field("format", "html")],
    )
    .json();
    assert_eq!(v["content"], sync["content"]);
    assert_eq!(v["format"], "html");
    assert!(v["content"]
        .as_str()
        .unwrap()
        .contains("<h2>5.1 Hyper Parameter Optimization</h2>"));

    let raw = get(
        &s.url(&format!("/v1/jobs/{id}/result")),
        &[("accept", "text/html")],
    );
    assert_eq!(raw.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(raw.text(), v["content"].as_str().unwrap());
    get(
        &s.url(&format!("/v1/jobs/{id}/result")),
        &[("accept", "text/markdown")],
    )
    .assert_error(406, "not_acceptable");

    // DELETE of a finished job removes it and its result.
    let gone = delete(&s.url(&format!("/v1/jobs/{id}")), &[]);
    assert_eq!(gone.json()["deleted"], true);
    get(&s.url(&format!("/v1/jobs/{id}")), &[]).assert_error(404, "not_found");
    get(&s.url(&format!("/v1/jobs/{id}/result")), &[]).assert_error(404, "not_found");
    get(&s.url("/v1/jobs/not-a-job"), &[]).assert_error(404, "not_found");
}

#[test]
fn failures_bad_input_and_a_full_queue() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.max_queued_jobs = 1;
    let s = TestServer::start(c);
    let damaged = doc(DAMAGED);
    let id = create(&s, &[Part::File("d.pdf", &damaged)])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let failed = wait_for(&s, &id, "failed");
    assert_eq!(failed["error"]["code"], "unreadable");
    let m = get(&s.url(&format!("/v1/jobs/{id}/result")), &[]).assert_error(409, "no_result");
    assert!(m.contains("failed") && m.contains("unreadable"), "{m}");

    // Binary data that is no format Folio reads (a text file is one: plain text).
    let noise: Vec<u8> = (0..512u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let m = post_form(&s.url("/v1/jobs"), &[], &[Part::File("n.bin", &noise)])
        .assert_error(415, "unsupported_media_type");
    assert!(m.contains("DOCX"), "{m}");
    post_form(&s.url("/v1/jobs"), &[], &[Part::File("e.pdf", b"")])
        .assert_error(422, "empty_input");
    let pdf = fixture("two-columns.pdf");
    post_form(
        &s.url("/v1/jobs"),
        &[],
        &[Part::File("a.pdf", &pdf), Part::Field("pages", "x")],
    )
    .assert_error(400, "bad_option");
    // The default policy refuses a webhook to an internal address.
    post_form(
        &s.url("/v1/jobs"),
        &[],
        &[
            Part::File("a.pdf", &pdf),
            Part::Field("webhook_url", "http://169.254.169.254/latest"),
        ],
    )
    .assert_error(400, "bad_webhook");

    // One slow job runs, one waits: the queue (of 1) is full.
    let slow = long_pdf(1500);
    let running = create(&s, &[Part::File("slow.pdf", &slow)])["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for(&s, &running, "running");
    let queued = create(&s, &[Part::File("a.pdf", &pdf)])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = post_form(&s.url("/v1/jobs"), &[], &[Part::File("a.pdf", &pdf)]);
    r.assert_error(429, "busy");
    assert!(r.header("retry-after").is_some());
    let m = get(&s.url(&format!("/v1/jobs/{queued}/result")), &[]).assert_error(409, "no_result");
    assert!(m.contains("queued"), "{m}");
}

#[test]
fn cancel_a_queued_and_a_running_job() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(config(dir.path()));
    let slow = long_pdf(3000);
    let running = create(&s, &[Part::File("slow.pdf", &slow)])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let queued = create(&s, &[Part::File("slow2.pdf", &slow)])["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Progress shows while it runs.
    wait_until(LIMIT, "page progress", || {
        let v = status(&s, &running);
        v["status"] == "running" && v["progress"]["pages_done"].as_u64().unwrap_or(0) > 0
    });
    assert_eq!(status(&s, &running)["progress"]["pages_total"], 3000);

    let v = delete(&s.url(&format!("/v1/jobs/{queued}")), &[]).json();
    assert_eq!(v["status"], "cancelled");
    let v = delete(&s.url(&format!("/v1/jobs/{running}")), &[]).json();
    assert_eq!(v["status"], "cancelling");
    let v = wait_for(&s, &running, "cancelled");
    assert!(v["pages_extracted"].is_null());
    assert_eq!(status(&s, &queued)["status"], "cancelled");
    get(&s.url(&format!("/v1/jobs/{running}/result")), &[]).assert_error(409, "no_result");
}

/// A loopback webhook receiver: answers each request with `status` and hands over
/// `(head, body)`.
fn receiver(statuses: Vec<u16>) -> (String, mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut statuses = statuses.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let status = statuses.next().unwrap_or(200);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            if tx.send((head, body)).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

#[test]
fn the_webhook_gets_the_final_status_after_a_retry() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.webhooks = WebhookPolicy::AllowList(vec!["127.0.0.1".to_string()]);
    let s = TestServer::start(c);
    // The first delivery meets a 503; the retry succeeds.
    let (url, rx) = receiver(vec![503, 200]);
    let pdf = fixture("two-columns.pdf");
    let id = create(
        &s,
        &[Part::File("a.pdf", &pdf), Part::Field("webhook_url", &url)],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut deliveries = Vec::new();
    for _ in 0..2 {
        deliveries.push(rx.recv_timeout(Duration::from_secs(60)).unwrap());
    }
    let (head, body) = &deliveries[1];
    assert!(head.starts_with("POST /hook "), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("x-folio-job: {id}")),
        "{head}"
    );
    let v: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["status"], "succeeded");
    assert_eq!(v["links"]["result"], format!("/v1/jobs/{id}/result"));
    wait_until(LIMIT, "the delivery to be recorded", || {
        status(&s, &id)["webhook"]["state"] == "delivered"
    });
    // Hosts outside the allowed list are refused when the job is created.
    post_form(
        &s.url("/v1/jobs"),
        &[],
        &[
            Part::File("a.pdf", &pdf),
            Part::Field("webhook_url", "http://localhost:9/x"),
        ],
    )
    .assert_error(400, "bad_webhook");
}

#[test]
fn finished_jobs_expire_after_their_time_to_live() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.job_ttl = Duration::from_millis(500);
    let s = TestServer::start(c);
    let pdf = fixture("two-columns.pdf");
    let id = create(&s, &[Part::File("a.pdf", &pdf)])["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until(LIMIT, "the job to end and expire", || {
        get(&s.url(&format!("/v1/jobs/{id}")), &[]).status == 404
    });
    get(&s.url(&format!("/v1/jobs/{id}/result")), &[]).assert_error(404, "not_found");
}

#[test]
fn a_graceful_stop_requeues_the_running_job_and_the_next_start_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let slow = long_pdf(1200);
    let s = TestServer::start(config(dir.path()));
    let id = create(&s, &[Part::File("slow.pdf", &slow)])["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until(LIMIT, "the job to make progress", || {
        status(&s, &id)["progress"]["pages_done"]
            .as_u64()
            .unwrap_or(0)
            > 0
    });
    s.stop();

    let s = TestServer::start(config(dir.path()));
    let v = status(&s, &id);
    assert!(
        v["status"] == "queued" || v["status"] == "running",
        "after a restart the job waits or runs again: {v}"
    );
    let v = wait_for(&s, &id, "succeeded");
    // The run that the shutdown interrupted does not count as an attempt.
    assert_eq!(v["attempts"], 1, "{v}");
    assert_eq!(v["pages_extracted"], 1200);
    // Counted right after the store records the end.
    wait_until(LIMIT, "the job to be counted", || {
        let m = get(&s.url("/metrics"), &[]).text();
        m.contains("folio_jobs_total{event=\"succeeded\"} 1")
    });
}

/// Every file under `dir`, concatenated: what an attacker who reads the disk would see.
fn disk_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(unix)]
#[test]
fn job_data_is_private_and_the_document_and_password_are_gone_when_it_ends() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("state/folio");
    let s = TestServer::start(config(&data));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    let pdf = fixture("two-columns.pdf");
    let password = "pw-7f3a9c-never-on-disk";
    // A slice of the document's own bytes, away from the header the result may quote.
    let mark = &pdf[pdf.len() / 2..pdf.len() / 2 + 48];
    let id = create(
        &s,
        &[Part::File("a.pdf", &pdf), Part::Field("password", password)],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for(&s, &id, "succeeded");
    for entry in std::fs::read_dir(&data).unwrap() {
        let p = entry.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{} is not private", p.display());
    }
    let disk = disk_bytes(&data);
    assert!(
        !contains(&disk, password.as_bytes()),
        "the password is still on disk"
    );
    assert!(!contains(&disk, mark), "the document is still on disk");
    // The result stays until the time to live.
    assert_eq!(
        get(&s.url(&format!("/v1/jobs/{id}/result")), &[]).status,
        200
    );
}

#[test]
fn a_job_belongs_to_the_key_that_created_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.api_keys = folio_server::ApiKeys::new(["key-one".to_string(), "key-two".to_string()]);
    let s = TestServer::start(c);
    let pdf = fixture("two-columns.pdf");
    let one = [("x-api-key", "key-one")];
    let two = [("authorization", "Bearer key-two")];
    let r = post_form(&s.url("/v1/jobs"), &one, &[Part::File("a.pdf", &pdf)]);
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    wait_until(LIMIT, "the job to succeed", || {
        get(&s.url(&format!("/v1/jobs/{id}")), &one).json()["status"] == "succeeded"
    });
    // The other key cannot see, read or delete it: to it, there is no such job.
    get(&s.url(&format!("/v1/jobs/{id}")), &two).assert_error(404, "not_found");
    get(&s.url(&format!("/v1/jobs/{id}/result")), &two).assert_error(404, "not_found");
    delete(&s.url(&format!("/v1/jobs/{id}")), &two).assert_error(404, "not_found");
    assert_eq!(
        get(&s.url(&format!("/v1/jobs/{id}/result")), &one).status,
        200
    );
    assert_eq!(
        delete(&s.url(&format!("/v1/jobs/{id}")), &one).json()["deleted"],
        true
    );
}
