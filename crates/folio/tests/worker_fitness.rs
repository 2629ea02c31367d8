//! The start-up fitness check of `folio worker`: a worker whose model store cannot serve says so
//! with the SDK's unhealthy ping and exits non-zero without taking a job.

mod worker_common;

use std::path::Path;
use std::time::{Duration, Instant};

use folio_worker::fake::FakeRunPod;
use serde_json::json;
use worker_common::{base64, text_pdf, worker_command, Running};

const KEY: &str = "rpa_FITNESS";
const POD: &str = "pod-fit";

/// Starts a worker whose model cache is `cache`, requiring the OCR models, offline; waits for
/// its exit.
fn run_unfit(
    fake: &FakeRunPod,
    dir: &Path,
    cache: &Path,
    env: &[(&str, &str)],
) -> worker_common::Exited {
    fake.push_job(
        "must-not-run",
        json!({"file_base64": base64(&text_pdf(1, 1))}),
    );
    let mut vars = fake.env(POD, 200);
    for (k, v) in env {
        vars.retain(|(name, _)| name != k);
        if !v.is_empty() {
            vars.push((k.to_string(), v.to_string()));
        }
    }
    let cmd = worker_command(&vars, cache, &["--require-models", "ocr"]);
    let started = Instant::now();
    let exited = Running::spawn(cmd, dir).wait(Duration::from_secs(60));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?} to give up",
        started.elapsed()
    );
    exited
}

fn assert_unfit(fake: &FakeRunPod, exited: &worker_common::Exited, check: &str) -> String {
    assert_eq!(exited.status.code(), Some(1), "stderr: {}", exited.stderr);
    assert_eq!(
        exited.stderr.trim().lines().count(),
        1,
        "one line: {}",
        exited.stderr
    );
    assert!(exited.stderr.contains("not fit"), "{}", exited.stderr);
    assert!(
        fake.requests_to("job-take").is_empty(),
        "an unfit worker must take no job"
    );
    assert!(fake.results().is_empty());
    let pings = fake.requests_to("ping");
    assert_eq!(pings.len(), 1, "exactly one report: {pings:?}");
    let p = &pings[0];
    assert_eq!(p.path, "/v2/fake-endpoint/ping/pod-fit");
    assert_eq!(p.header("authorization"), Some(KEY));
    assert_eq!(p.param("status"), Some("unhealthy"));
    assert_eq!(p.param("check"), Some(check));
    assert_eq!(
        p.param("runpod_version"),
        Some(folio_worker::RUNPOD_PROTOCOL_VERSION)
    );
    let reason = p.param("reason").expect("a reason").to_string();
    assert!(
        !reason.is_empty() && reason.chars().count() <= 256,
        "{reason}"
    );
    reason
}

#[test]
fn missing_models_offline_report_unhealthy_and_take_no_job() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("empty-cache");
    std::fs::create_dir(&cache).unwrap();
    let exited = run_unfit(&fake, dir.path(), &cache, &[]);
    let reason = assert_unfit(&fake, &exited, "models");
    // The reason names the way out.
    assert!(reason.contains("folio models install"), "{reason}");
}

#[test]
fn a_dangling_cache_link_reports_unhealthy_and_takes_no_job() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The original incident: the cache path is not a usable directory. Here it is a link to a
    // volume that is not mounted.
    let cache = dir.path().join("cache-link");
    std::os::unix::fs::symlink(dir.path().join("no-such-volume/folio"), &cache).unwrap();
    let exited = run_unfit(&fake, dir.path(), &cache, &[]);
    assert_unfit(&fake, &exited, "models");
}

#[test]
fn a_file_in_place_of_the_cache_reports_unhealthy_and_takes_no_job() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache-file");
    std::fs::write(&cache, b"not a directory").unwrap();
    let exited = run_unfit(&fake, dir.path(), &cache, &[]);
    assert_unfit(&fake, &exited, "models");
    // Whatever the store does about it, the file's content is not lost.
    let kept = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .any(|c| c == b"not a directory");
    assert!(kept);
}

#[test]
fn a_volume_that_is_not_mounted_reports_unhealthy_and_takes_no_job() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let volume = dir.path().join("runpod-volume");
    let exited = run_unfit(
        &fake,
        dir.path(),
        &cache,
        &[("FOLIO_VOLUME", volume.to_str().unwrap())],
    );
    let reason = assert_unfit(&fake, &exited, "models");
    assert!(reason.contains("FOLIO_VOLUME"), "{reason}");
    // A volume that is not there is never created on the worker's own disk.
    assert!(!volume.exists());
}

#[test]
fn a_missing_result_url_is_a_config_failure() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let exited = run_unfit(
        &fake,
        dir.path(),
        &cache,
        &[("RUNPOD_WEBHOOK_POST_OUTPUT", "")],
    );
    let reason = assert_unfit(&fake, &exited, "config");
    assert!(reason.contains("RUNPOD_WEBHOOK_POST_OUTPUT"), "{reason}");
}

#[test]
fn without_an_api_key_the_worker_exits_unfit_and_sends_nothing() {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("empty");
    std::fs::create_dir(&cache).unwrap();
    let exited = run_unfit(&fake, dir.path(), &cache, &[("RUNPOD_AI_API_KEY", "")]);
    assert_eq!(exited.status.code(), Some(1));
    assert!(
        exited.stderr.contains("RUNPOD_AI_API_KEY"),
        "{}",
        exited.stderr
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}
