//! `folio worker` against a fake RunPod queue on 127.0.0.1 that speaks the SDK's protocol:
//! job take, result post (and its retry), heartbeats during a long job, stop, SIGTERM, the
//! error shape.

#[path = "../../folio-pdf/tests/common/hostile.rs"]
mod hostile;
#[path = "../../folio-pdf/tests/common/pdf_writer.rs"]
mod pdf_writer;
mod worker_common;

use std::path::Path;
use std::time::{Duration, Instant};

use folio_worker::fake::{FakeRunPod, Recorded};
use serde_json::{json, Value};
use worker_common::{base64, text_pdf, worker_command, Running};

const KEY: &str = "rpa_TESTKEY123";
const POD: &str = "pod-abc123";

/// A worker on `fake`, needing no models (born-digital PDFs), with its own cache and logs. It
/// may fetch `file_url`s from private addresses: the fake serves files on 127.0.0.1.
fn start_worker(fake: &FakeRunPod, dir: &Path, ping_ms: u64, args: &[&str]) -> Running {
    start_worker_with(
        fake,
        dir,
        ping_ms,
        args,
        &[("FOLIO_WORKER_ALLOW_PRIVATE_URLS", "1")],
    )
}

/// [`start_worker`] with exactly these extra environment variables.
fn start_worker_with(
    fake: &FakeRunPod,
    dir: &Path,
    ping_ms: u64,
    args: &[&str],
    env: &[(&str, &str)],
) -> Running {
    let mut all = vec!["--require-models", "none"];
    all.extend_from_slice(args);
    let mut cmd = worker_command(&fake.env(POD, ping_ms), &dir.join("cache"), &all);
    cmd.env("RUST_LOG", "folio_worker=debug,warn");
    cmd.envs(env.iter().copied());
    Running::spawn(cmd, dir)
}

/// A job long enough to watch: many pages of dense text.
fn long_pdf() -> Vec<u8> {
    text_pdf(600, 45)
}

fn error_info(result: &Value) -> Value {
    let text = result["error"]
        .as_str()
        .unwrap_or_else(|| panic!("error must be a JSON string, as the SDK sends it: {result}"));
    serde_json::from_str(text).expect("error string holds JSON")
}

fn wait(what: &str, fake: &FakeRunPod, timeout: Duration, done: impl Fn(&[Recorded]) -> bool) {
    assert!(fake.wait_for(timeout, done), "timed out waiting for {what}");
}

#[test]
fn takes_jobs_posts_results_and_pings_as_the_sdk_does() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.serve_file("report.pdf", text_pdf(3, 4), None);
    fake.push_job(
        "job-b64",
        json!({"file_base64": base64(&text_pdf(2, 5)), "filename": "two.pdf", "format": "markdown"}),
    );
    fake.push_job(
        "job-url",
        json!({"file_url": fake.file_url("report.pdf"), "format": "json", "pages": "2-3"}),
    );
    let worker = start_worker(&fake, dir.path(), 300, &[]);
    assert!(
        fake.wait_for_results(2, Duration::from_secs(60)),
        "stderr: {}",
        worker.stderr_now()
    );
    wait("a ping", &fake, Duration::from_secs(5), |r| {
        r.iter().any(|r| r.endpoint() == "ping")
    });
    // Two jobs and at least one empty take after them, before asking it to stop.
    wait("a third job take", &fake, Duration::from_secs(10), |r| {
        r.iter().filter(|r| r.endpoint() == "job-take").count() >= 3
    });
    worker.sigterm();
    let exited = worker.wait(Duration::from_secs(30));
    assert!(exited.status.success(), "stderr: {}", exited.stderr);

    let results = fake.results();
    let b64 = &results.iter().find(|r| r.job_id == "job-b64").unwrap().body;
    let out = &b64["output"];
    assert_eq!(out["format"], "markdown");
    assert_eq!(out["page_count"], 2);
    assert_eq!(out["status"], "success");
    let md = out["content"].as_str().unwrap();
    assert!(md.contains("Folio worker test page 2"), "{md}");
    assert!(out["timings"]["extract_ms"].is_u64());
    assert!(b64.get("error").is_none() && b64.get("stopPod").is_none());

    let url = &results.iter().find(|r| r.job_id == "job-url").unwrap().body["output"];
    assert_eq!(url["format"], "json");
    assert_eq!(url["page_count"], 3);
    assert_eq!(url["pages_extracted"], 2);
    // The document model itself, with the file name taken from the URL.
    assert_eq!(url["content"]["metadata"]["filename"], "report.pdf");
    assert_eq!(url["content"]["pages"][0]["number"], 2);

    // Job take: worker id in the path, the endpoint's query kept, job_in_progress added.
    let takes = fake.requests_to("job-take");
    assert!(takes.len() >= 3);
    for t in &takes {
        assert_eq!(t.method, "GET");
        assert_eq!(t.path, "/v2/fake-endpoint/job-take/pod-abc123");
        assert_eq!(t.param("gpu"), Some("cpu"));
        assert_eq!(t.param("job_in_progress"), Some("0"), "one job at a time");
        assert_eq!(
            t.header("authorization"),
            Some(KEY),
            "the raw key, no Bearer"
        );
    }
    // Result posts: the SDK's URL, headers and body.
    let posts = fake.requests_to("job-done");
    assert_eq!(posts.len(), 2);
    for p in &posts {
        assert_eq!(p.method, "POST");
        let job = p.path.rsplit('/').next().unwrap();
        assert_eq!(
            p.path,
            format!("/v2/fake-endpoint/job-done/pod-abc123/{job}")
        );
        assert_eq!(p.param("isStream"), Some("false"));
        assert_eq!(p.param("gpu"), Some("cpu"));
        assert_eq!(p.header("x-request-id"), Some(job));
        assert_eq!(p.header("authorization"), Some(KEY));
        assert_eq!(
            p.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(p.header("charset"), Some("utf-8"));
        let body: Value = serde_json::from_slice(&p.body).unwrap();
        assert!(body.get("output").is_some());
    }
    // Pings: to the worker's URL, with the SDK's version parameter.
    let pings = fake.requests_to("ping");
    assert!(!pings.is_empty());
    for p in &pings {
        assert_eq!(p.path, "/v2/fake-endpoint/ping/pod-abc123");
        assert_eq!(
            p.param("runpod_version"),
            Some(folio_worker::RUNPOD_PROTOCOL_VERSION)
        );
        assert_eq!(p.header("authorization"), Some(KEY));
    }
    // The stop channel is polled, derived from the take URL.
    let stops = fake.requests_to("job-stop");
    assert!(stops
        .iter()
        .all(|s| s.path == "/v2/fake-endpoint/job-stop/pod-abc123"));
}

#[test]
fn a_result_post_that_gets_a_5xx_is_retried() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.fail_posts(&[503]);
    fake.push_job("job-retry", json!({"file_base64": base64(&text_pdf(1, 2))}));
    let worker = start_worker(&fake, dir.path(), 1000, &[]);
    assert!(
        fake.wait_for_results(1, Duration::from_secs(60)),
        "stderr: {}",
        worker.stderr_now()
    );
    worker.sigterm();
    let exited = worker.wait(Duration::from_secs(30));
    assert!(exited.status.success());
    let posts = fake.requests_to("job-done");
    assert_eq!(posts.len(), 2, "one failed attempt, one retry");
    assert_eq!(
        posts[0].body, posts[1].body,
        "the same result is sent again"
    );
    // FibonacciRetry's first wait is 2 s.
    let gap = posts[1].at - posts[0].at;
    assert!(gap >= Duration::from_millis(1900), "retried after {gap:?}");
    assert_eq!(fake.results().len(), 1);
    assert!(fake.results()[0].body["output"]["content"].is_string());
}

#[test]
fn a_result_post_is_not_retried_after_a_4xx_and_the_worker_goes_on() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.fail_posts(&[404]);
    fake.push_job("gone", json!({"file_base64": base64(&text_pdf(1, 1))}));
    fake.push_job("next", json!({"file_base64": base64(&text_pdf(1, 1))}));
    let worker = start_worker(&fake, dir.path(), 1000, &[]);
    assert!(
        fake.wait_for_results(1, Duration::from_secs(60)),
        "stderr: {}",
        worker.stderr_now()
    );
    worker.sigterm();
    assert!(worker.wait(Duration::from_secs(30)).status.success());
    let posts = fake.requests_to("job-done");
    assert_eq!(posts.len(), 2, "no retry after 404");
    assert_eq!(fake.results()[0].job_id, "next");
}

#[test]
fn heartbeats_list_the_job_while_a_long_extraction_runs() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.push_job(
        "long-job",
        json!({"file_base64": base64(&long_pdf()), "format": "text"}),
    );
    let worker = start_worker(&fake, dir.path(), 200, &[]);
    assert!(
        fake.wait_for_results(1, Duration::from_secs(240)),
        "stderr: {}",
        worker.stderr_now()
    );
    worker.sigterm();
    assert!(worker.wait(Duration::from_secs(30)).status.success());

    let result = &fake.results()[0];
    assert_eq!(result.body["output"]["pages_extracted"], 600);
    let requests = fake.requests();
    let taken_at = requests
        .iter()
        .filter(|r| r.endpoint() == "job-take")
        .map(|r| r.at)
        .find(|_| true)
        .expect("a take");
    let posted_at = requests
        .iter()
        // The result, not a progress update.
        .find(|r| {
            r.endpoint() == "job-done" && !String::from_utf8_lossy(&r.body).contains("IN_PROGRESS")
        })
        .map(|r| r.at)
        .expect("a post");
    let busy = posted_at - taken_at;
    assert!(
        busy >= Duration::from_millis(600),
        "the job took only {busy:?}: not long enough to test"
    );
    let pings: Vec<&Recorded> = requests
        .iter()
        .filter(|r| r.endpoint() == "ping" && r.at > taken_at && r.at < posted_at)
        .collect();
    let with_job = pings
        .iter()
        .filter(|p| p.param("job_id") == Some("long-job"))
        .count();
    // Every 200 ms; allow for scheduling on a loaded machine, but not for starvation.
    let expected = (busy.as_millis() / 200) as usize;
    assert!(
        with_job * 2 >= expected && with_job >= 3,
        "{with_job} pings listed the job in {busy:?} (expected about {expected})"
    );
    let mut last = taken_at;
    for p in &pings {
        assert!(
            p.at - last < Duration::from_millis(1500),
            "a gap of {:?} between pings",
            p.at - last
        );
        last = p.at;
    }
    // Before and after the job, pings carry no job id.
    let idle = requests
        .iter()
        .filter(|r| r.endpoint() == "ping" && r.at > posted_at + Duration::from_millis(100))
        .all(|p| p.param("job_id").is_none());
    assert!(idle);
}

#[test]
fn a_stop_request_cancels_the_job_without_a_result_and_the_worker_goes_on() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.push_job("to-stop", json!({"file_base64": base64(&long_pdf())}));
    fake.push_job("after", json!({"file_base64": base64(&text_pdf(1, 2))}));
    let worker = start_worker(&fake, dir.path(), 200, &[]);
    // Once a ping shows the job running, ask for the stop.
    wait("the job to run", &fake, Duration::from_secs(60), |r| {
        r.iter()
            .any(|r| r.endpoint() == "ping" && r.param("job_id") == Some("to-stop"))
    });
    let stop_sent = Instant::now();
    fake.stop("to-stop");
    assert!(
        fake.wait_for_results(1, Duration::from_secs(60)),
        "stderr: {}",
        worker.stderr_now()
    );
    let answered = stop_sent.elapsed();
    worker.sigterm();
    let exited = worker.wait(Duration::from_secs(30));
    assert!(exited.status.success());
    let results = fake.results();
    assert_eq!(
        results.len(),
        1,
        "no result for the stopped job: {results:?}"
    );
    assert_eq!(results[0].job_id, "after");
    assert!(
        answered < Duration::from_secs(10),
        "the next job came {answered:?} after the stop"
    );
    assert!(
        exited.stderr.contains("stopping job on RunPod's request"),
        "{}",
        exited.stderr
    );
}

#[test]
fn bad_jobs_are_answered_in_the_sdk_error_shape_and_the_worker_survives() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let robust = worker_common::fixture("robust");
    let mut expected = vec![
        (
            "not-a-doc",
            json!({"file_base64": base64(b"\x00\x01\x02 binary, not a document")}),
            "unsupported_type",
        ),
        (
            "bad-b64",
            json!({"file_base64": "%%% not base64 %%%"}),
            "bad_input",
        ),
        ("no-file", json!({"format": "markdown"}), "bad_input"),
        (
            "typo",
            json!({"file_base64": "QUJD", "fromat": "json"}),
            "bad_option",
        ),
        (
            "bad-pages",
            json!({"file_base64": base64(&text_pdf(2, 1)), "pages": "5"}),
            "no_such_page",
        ),
        (
            "bad-format",
            json!({"file_base64": "QUJD", "format": "docx"}),
            "bad_option",
        ),
        (
            "bad-url",
            json!({"file_url": "file:///etc/passwd"}),
            "bad_input",
        ),
        (
            "missing-url",
            json!({"file_url": fake.file_url("nothing-here.pdf")}),
            "download_failed",
        ),
        ("empty", json!({"file_base64": ""}), "empty_input"),
    ];
    // Real malformed PDFs (tests/fixtures/robust): each must get an answer, whatever it is.
    let mut robust_ids = vec!["truncated".to_string()];
    fake.push_job(
        "truncated",
        json!({"file_base64": base64(&text_pdf(3, 3)[..300])}),
    );
    let mut paths: Vec<_> = std::fs::read_dir(&robust)
        .unwrap_or_else(|e| panic!("{}: {e}", robust.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 6,
        "too few robust fixtures in {}",
        robust.display()
    );
    for (i, p) in paths.iter().take(6).enumerate() {
        let id = format!("robust-{i}");
        fake.push_job(
            &id,
            json!({"file_base64": base64(&std::fs::read(p).unwrap())}),
        );
        robust_ids.push(id);
    }
    for (id, input, _) in &expected {
        fake.push_job(id, input.clone());
    }
    fake.push_raw(json!({"id": "no-input"}));
    expected.push(("no-input", Value::Null, "bad_input"));
    fake.push_job("good", json!({"file_base64": base64(&text_pdf(1, 1))}));
    let worker = start_worker(&fake, dir.path(), 1000, &[]);
    let total = expected.len() + robust_ids.len() + 1;
    assert!(
        fake.wait_for_results(total, Duration::from_secs(120)),
        "stderr: {}",
        worker.stderr_now()
    );
    worker.sigterm();
    assert!(worker.wait(Duration::from_secs(30)).status.success());
    let results = fake.results();
    for (id, _, code) in &expected {
        let r = &results.iter().find(|r| r.job_id == *id).unwrap().body;
        assert!(r.get("output").is_none(), "{id}: {r}");
        let info = error_info(r);
        assert_eq!(info["error_type"], *code, "{id}: {info}");
        assert!(!info["error_message"].as_str().unwrap().is_empty());
        assert!(info["error_traceback"].is_string());
        assert_eq!(info["hostname"], "pod-abc123-host");
        assert_eq!(info["worker_id"], POD);
        assert_eq!(
            info["runpod_version"],
            folio_worker::RUNPOD_PROTOCOL_VERSION
        );
    }
    for id in &robust_ids {
        let r = &results.iter().find(|r| &r.job_id == id).unwrap().body;
        assert!(
            r.get("output").is_some() || r.get("error").is_some(),
            "{id}: {r}"
        );
    }
    let good = &results.iter().find(|r| r.job_id == "good").unwrap().body;
    assert!(good["output"]["content"]
        .as_str()
        .unwrap()
        .contains("Folio worker test page 1"));
}

#[test]
fn a_document_that_kills_its_extraction_process_fails_its_job_and_the_worker_goes_on() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // 100 KB that inflate to a 100 MiB content stream (within the reader's limits), in a child
    // whose address space is capped at 256 MiB.
    fake.push_job(
        "bomb",
        json!({"file_base64": base64(&hostile::flate_bomb_pdf(100, 1)), "ocr": "never"}),
    );
    fake.push_job("after", json!({"file_base64": base64(&text_pdf(1, 1))}));
    let worker = start_worker(&fake, dir.path(), 1000, &["--child-memory-mb", "256"]);
    assert!(
        fake.wait_for_results(2, Duration::from_secs(60)),
        "stderr: {}",
        worker.stderr_now()
    );
    let results = fake.results();
    let bomb = &results.iter().find(|r| r.job_id == "bomb").unwrap().body;
    let info = error_info(bomb);
    assert_eq!(info["error_type"], "document_too_costly", "{info}");
    let message = info["error_message"].as_str().unwrap();
    assert!(
        message.contains("out of memory under its cap of 256 MiB"),
        "{message}"
    );
    let after = &results.iter().find(|r| r.job_id == "after").unwrap().body;
    assert!(
        after["output"]["content"]
            .as_str()
            .unwrap()
            .contains("Folio worker test page 1"),
        "{after}"
    );
    worker.sigterm();
    assert!(worker.wait(Duration::from_secs(30)).status.success());
}

#[test]
fn sigterm_lets_the_running_job_finish_and_takes_no_more() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.push_job("in-flight", json!({"file_base64": base64(&long_pdf())}));
    let worker = start_worker(&fake, dir.path(), 200, &[]);
    wait("the job to run", &fake, Duration::from_secs(60), |r| {
        r.iter()
            .any(|r| r.endpoint() == "ping" && r.param("job_id") == Some("in-flight"))
    });
    let signalled = Instant::now();
    worker.sigterm();
    fake.push_job("not-taken", json!({"file_base64": base64(&text_pdf(1, 1))}));
    let exited = worker.wait(Duration::from_secs(240));
    assert!(exited.status.success(), "stderr: {}", exited.stderr);
    let results = fake.results();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0].job_id, "in-flight");
    assert_eq!(results[0].body["output"]["pages_extracted"], 600);
    assert_eq!(fake.taken(), vec!["in-flight"]);
    let late_takes = fake
        .requests_to("job-take")
        .iter()
        .filter(|r| r.at > signalled)
        .count();
    assert_eq!(late_takes, 0, "no job take after SIGTERM");
}

#[test]
fn refresh_worker_marks_stop_pod_and_ends_after_one_job() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.push_job("only", json!({"file_base64": base64(&text_pdf(1, 1))}));
    fake.push_job("left", json!({"file_base64": base64(&text_pdf(1, 1))}));
    let worker = start_worker(&fake, dir.path(), 1000, &["--refresh-worker"]);
    let exited = worker.wait(Duration::from_secs(60));
    assert!(exited.status.success(), "stderr: {}", exited.stderr);
    let results = fake.results();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].body["stopPod"], true);
    assert!(results[0].body["output"].is_object());
    assert_eq!(fake.taken(), vec!["only"]);
}

#[test]
fn takes_wait_after_429_and_shrug_off_400_and_5xx() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.script_takes(&[400, 500, 429]);
    fake.push_job(
        "eventually",
        json!({"file_base64": base64(&text_pdf(1, 1))}),
    );
    let worker = start_worker(&fake, dir.path(), 1000, &[]);
    assert!(
        fake.wait_for_results(1, Duration::from_secs(60)),
        "stderr: {}",
        worker.stderr_now()
    );
    worker.sigterm();
    assert!(worker.wait(Duration::from_secs(30)).status.success());
    let takes = fake.requests_to("job-take");
    assert!(takes.len() >= 4);
    // The SDK debounces 5 s after a 429.
    let after_429 = takes[3].at - takes[2].at;
    assert!(
        after_429 >= Duration::from_millis(4900),
        "asked again {after_429:?} after a 429"
    );
    assert!(after_429 < Duration::from_secs(8));
}

#[test]
fn an_oversized_job_is_answered_too_large_by_id() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Over 1 MiB of document with a 1 MiB limit: the body is over the take limit too.
    let big = vec![b'x'; 3 * 1024 * 1024];
    fake.push_raw(json!({"id": "huge", "input": {"file_base64": base64(&big)}}));
    fake.push_job("small", json!({"file_base64": base64(&text_pdf(1, 1))}));
    let worker = start_worker(&fake, dir.path(), 1000, &["--max-size-mb", "1"]);
    assert!(
        fake.wait_for_results(2, Duration::from_secs(60)),
        "stderr: {}",
        worker.stderr_now()
    );
    worker.sigterm();
    assert!(worker.wait(Duration::from_secs(30)).status.success());
    let results = fake.results();
    let huge = &results.iter().find(|r| r.job_id == "huge").unwrap().body;
    assert_eq!(error_info(huge)["error_type"], "too_large");
    assert!(results
        .iter()
        .any(|r| r.job_id == "small" && r.body["output"].is_object()));
}

#[test]
fn file_urls_at_private_addresses_are_refused_by_default_and_the_worker_goes_on() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.serve_file("report.pdf", text_pdf(1, 1), None);
    let refused = [
        ("loopback", fake.file_url("report.pdf")),
        ("private", "http://10.20.30.40:8080/doc.pdf".to_string()),
        (
            "metadata",
            "http://169.254.169.254/latest/meta-data/".to_string(),
        ),
        ("mapped", "http://[::ffff:127.0.0.1]/doc.pdf".to_string()),
    ];
    for (id, url) in &refused {
        fake.push_job(id, json!({"file_url": url}));
    }
    fake.push_job("after", json!({"file_base64": base64(&text_pdf(1, 1))}));
    // No FOLIO_WORKER_ALLOW_PRIVATE_URLS: the default policy.
    let worker = start_worker_with(&fake, dir.path(), 1000, &[], &[]);
    assert!(
        fake.wait_for_results(refused.len() + 1, Duration::from_secs(60)),
        "stderr: {}",
        worker.stderr_now()
    );
    worker.sigterm();
    assert!(worker.wait(Duration::from_secs(30)).status.success());
    let results = fake.results();
    for (id, url) in &refused {
        let r = &results.iter().find(|r| r.job_id == *id).unwrap().body;
        assert!(r.get("output").is_none(), "{id}: {r}");
        let info = error_info(r);
        assert_eq!(info["error_type"], "url_not_allowed", "{id}: {info}");
        let message = info["error_message"].as_str().unwrap();
        assert!(
            message.contains("not a public address")
                && message.contains("FOLIO_WORKER_ALLOW_PRIVATE_URLS"),
            "{id} ({url}): {message}"
        );
        assert_eq!(info["worker_id"], POD);
    }
    assert!(
        fake.requests_to("files").is_empty(),
        "the worker must not fetch from 127.0.0.1"
    );
    let after = &results.iter().find(|r| r.job_id == "after").unwrap().body;
    assert!(after["output"]["content"]
        .as_str()
        .unwrap()
        .contains("Folio worker test page 1"));
}

#[test]
fn s3_file_urls_are_refused_unless_the_operator_allows_their_bucket() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.push_job("closed", json!({"file_url": "s3://docs/report.pdf"}));
    let worker = start_worker(&fake, dir.path(), 1000, &[]);
    assert!(fake.wait_for_results(1, Duration::from_secs(60)));
    worker.sigterm();
    assert!(worker.wait(Duration::from_secs(30)).status.success());
    let info = error_info(&fake.results()[0].body);
    assert_eq!(info["error_type"], "download_failed", "{info}");
    assert!(
        info["error_message"]
            .as_str()
            .unwrap()
            .contains("object storage is turned off"),
        "{info}"
    );
}

// Shared with folio-server's tests, of which this file uses part.
#[allow(dead_code)]
#[path = "../../folio-server/tests/support/s3.rs"]
mod s3;

mod needs_s3 {
    use super::*;

    /// A `file_url` of `s3://bucket/key` is read from a real S3-compatible server (moto) with
    /// the usual AWS_* settings, when the bucket is allowed; another bucket is refused.
    #[test]
    #[ignore = "needs moto_server (pip install 'moto[server]'); scripts/test.sh runs needs_s3::"]
    fn a_job_reads_its_document_from_an_allowed_s3_bucket() {
        let server = s3::S3Server::start().expect("moto_server is not installed");
        server.create_bucket("inbox");
        server.create_bucket("other");
        server.put("inbox", "in/report.pdf", &text_pdf(1, 1));
        server.put("other", "report.pdf", &text_pdf(1, 1));
        let fake = FakeRunPod::start(KEY).unwrap();
        let dir = tempfile::tempdir().unwrap();
        fake.push_job("allowed", json!({"file_url": "s3://inbox/in/report.pdf"}));
        fake.push_job("missing", json!({"file_url": "s3://inbox/in/none.pdf"}));
        fake.push_job("refused", json!({"file_url": "s3://other/report.pdf"}));
        let worker = start_worker_with(
            &fake,
            dir.path(),
            1000,
            &["--s3-buckets", "inbox"],
            &[
                ("AWS_ENDPOINT_URL_S3", server.endpoint.as_str()),
                ("AWS_ACCESS_KEY_ID", s3::KEY),
                ("AWS_SECRET_ACCESS_KEY", s3::SECRET),
                ("AWS_REGION", s3::REGION),
            ],
        );
        assert!(
            fake.wait_for_results(3, Duration::from_secs(60)),
            "stderr: {}",
            worker.stderr_now()
        );
        worker.sigterm();
        assert!(worker.wait(Duration::from_secs(30)).status.success());
        let results = fake.results();
        let body = |id: &str| {
            results
                .iter()
                .find(|r| r.job_id == id)
                .unwrap()
                .body
                .clone()
        };
        let allowed = body("allowed");
        assert!(
            allowed["output"]["content"]
                .as_str()
                .unwrap()
                .contains("Folio worker test page 1"),
            "{allowed}"
        );
        let missing = error_info(&body("missing"));
        assert_eq!(missing["error_type"], "download_failed", "{missing}");
        assert!(missing["error_message"]
            .as_str()
            .unwrap()
            .contains("HTTP 404"));
        let refused = error_info(&body("refused"));
        assert!(
            refused["error_message"]
                .as_str()
                .unwrap()
                .contains("not one this server may use"),
            "{refused}"
        );
    }
}

#[test]
fn file_url_downloads_are_bounded_in_size_and_time() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.serve_file("big.pdf", vec![b'%'; 2 * 1024 * 1024], None);
    // 64 bytes every 100 ms: far slower than the 2 s download limit allows.
    fake.serve_file(
        "slow.pdf",
        text_pdf(20, 20),
        Some((64, Duration::from_millis(100))),
    );
    fake.push_job("big", json!({"file_url": fake.file_url("big.pdf")}));
    fake.push_job("slow", json!({"file_url": fake.file_url("slow.pdf")}));
    let worker = start_worker(
        &fake,
        dir.path(),
        1000,
        &["--max-size-mb", "1", "--download-timeout", "2"],
    );
    assert!(
        fake.wait_for_results(2, Duration::from_secs(60)),
        "stderr: {}",
        worker.stderr_now()
    );
    worker.sigterm();
    assert!(worker.wait(Duration::from_secs(30)).status.success());
    let results = fake.results();
    let big = error_info(&results.iter().find(|r| r.job_id == "big").unwrap().body);
    assert_eq!(big["error_type"], "too_large", "{big}");
    let slow = error_info(&results.iter().find(|r| r.job_id == "slow").unwrap().body);
    assert_eq!(slow["error_type"], "download_failed", "{slow}");
}

#[test]
fn with_concurrency_takes_say_a_job_is_in_progress() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.push_job("first", json!({"file_base64": base64(&long_pdf())}));
    let worker = start_worker(&fake, dir.path(), 200, &["--concurrency", "2"]);
    wait("the job to run", &fake, Duration::from_secs(60), |r| {
        r.iter()
            .any(|r| r.endpoint() == "ping" && r.param("job_id") == Some("first"))
    });
    fake.push_job("second", json!({"file_base64": base64(&text_pdf(120, 45))}));
    assert!(
        fake.wait_for_results(2, Duration::from_secs(240)),
        "stderr: {}",
        worker.stderr_now()
    );
    worker.sigterm();
    assert!(worker.wait(Duration::from_secs(60)).status.success());
    let results = fake.results();
    // The short job overtook the long one: they ran side by side.
    assert_eq!(results[0].job_id, "second");
    assert!(fake
        .requests_to("job-take")
        .iter()
        .any(|t| t.param("job_in_progress") == Some("1")));
    // While both ran, a ping listed both.
    assert!(fake.requests_to("ping").iter().any(|p| {
        let ids = p.param("job_id").unwrap_or_default();
        ids.split(',').count() == 2 && ids.contains("first") && ids.contains("second")
    }));
}

#[test]
fn a_long_job_posts_progress_updates_before_its_result() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Twice the usual long job, so that several one-second updates fit in it.
    fake.push_job(
        "progressing",
        json!({"file_base64": base64(&text_pdf(1200, 45)), "format": "text"}),
    );
    let worker = start_worker(&fake, dir.path(), 1000, &["--progress-interval", "1"]);
    assert!(
        fake.wait_for_results(1, Duration::from_secs(240)),
        "stderr: {}",
        worker.stderr_now()
    );
    worker.sigterm();
    assert!(worker.wait(Duration::from_secs(30)).status.success());
    let updates = fake.progress();
    assert!(!updates.is_empty(), "no progress update during the job");
    let mut last = 0;
    for u in &updates {
        assert_eq!(u.job_id, "progressing");
        assert_eq!(u.body["status"], "IN_PROGRESS");
        let done = u.body["output"]["pages_done"].as_u64().unwrap();
        assert_eq!(u.body["output"]["pages_total"], 1200);
        assert!(done > last && done <= 1200, "{done} after {last}");
        last = done;
    }
    // Every update went out before the result, on the result URL.
    let posts = fake.requests_to("job-done");
    let final_at = posts
        .iter()
        .find(|p| !String::from_utf8_lossy(&p.body).contains("IN_PROGRESS"))
        .map(|p| p.at)
        .unwrap();
    assert!(posts.iter().all(|p| p.at <= final_at));
    assert!(posts.iter().all(|p| p.param("isStream") == Some("false")));
    assert_eq!(fake.results()[0].body["output"]["pages_extracted"], 1200);
}

#[test]
fn a_second_sigterm_cancels_the_running_job_and_answers_it() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.push_job(
        "cut-short",
        json!({"file_base64": base64(&text_pdf(3000, 45))}),
    );
    let worker = start_worker(&fake, dir.path(), 200, &[]);
    wait("the job to run", &fake, Duration::from_secs(60), |r| {
        r.iter()
            .any(|r| r.endpoint() == "ping" && r.param("job_id") == Some("cut-short"))
    });
    worker.sigterm();
    std::thread::sleep(Duration::from_millis(300));
    let second = Instant::now();
    worker.sigterm();
    let exited = worker.wait(Duration::from_secs(60));
    assert!(exited.status.success(), "stderr: {}", exited.stderr);
    assert!(
        second.elapsed() < Duration::from_secs(5),
        "took {:?} to stop",
        second.elapsed()
    );
    let results = fake.results();
    assert_eq!(results.len(), 1);
    assert_eq!(error_info(&results[0].body)["error_type"], "cancelled");
}
