//! `folio worker` with the real OCR models: a scanned receipt answered through the queue, and a
//! cold worker on a warm network volume ready in seconds. The models come from the store that
//! `scripts/test.d/20-models.sh` fills (and its wheels in `target/model-wheels`); these tests
//! fail, saying so, when they are missing.

mod worker_common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use folio_store::{RequiredModels, Store, StoreConfig};
use folio_worker::fake::FakeRunPod;
use serde_json::json;
use worker_common::{base64, text_pdf, worker_command, Running};

const KEY: &str = "rpa_MODELS";
const POD: &str = "pod-models";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The model store the test run was given (`FOLIO_CACHE_DIR`, else `~/.cache/folio`, as
/// `folio models install` resolves it), checked to serve the OCR models.
fn installed_store() -> PathBuf {
    let store = Store::open(StoreConfig::from_env());
    let health = store.health(RequiredModels::Ocr.ids());
    assert!(
        health.ok,
        "the OCR models are not installed in {} (run `bash scripts/test.d/20-models.sh`): {:?}",
        store.root().display(),
        health.problems
    );
    store.root().to_path_buf()
}

fn error_or_output(body: &serde_json::Value) -> String {
    match body.get("error") {
        Some(e) => format!("error: {e}"),
        None => body["output"].to_string(),
    }
}

#[test]
fn a_scanned_receipt_is_read_by_ocr_through_the_queue() {
    let models = installed_store();
    let bytes = worker_common::fixture_bytes("receipts/sroie_005.jpg");
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.push_job(
        "receipt",
        json!({"file_base64": base64(&bytes), "filename": "sroie_005.jpg", "ocr": "auto", "format": "text"}),
    );
    let cmd = worker_command(&fake.env(POD, 1000), &models, &["--require-models", "ocr"]);
    let worker = Running::spawn(cmd, dir.path());
    assert!(
        fake.wait_for_results(1, Duration::from_secs(300)),
        "no answer; stderr: {}",
        worker.stderr_now()
    );
    worker.sigterm();
    let exited = worker.wait(Duration::from_secs(60));
    assert!(exited.status.success(), "stderr: {}", exited.stderr);

    let result = &fake.results()[0];
    assert_eq!(result.job_id, "receipt");
    let out = &result.body["output"];
    assert!(out.is_object(), "{}", error_or_output(&result.body));
    assert_eq!(out["status"], "success", "{out}");
    assert_eq!(out["page_count"], 1);
    assert_eq!(out["pages"][0]["source"], "ocr", "{}", out["pages"]);
    let text = out["content"]
        .as_str()
        .expect("text content")
        .to_uppercase();
    // Words of the receipt's ground truth (tests/fixtures/receipts/sroie_005.txt): the shop, its
    // town, the cashier's label.
    for words in ["TAN CHAY YEE", "JOHOR", "CASH BILL"] {
        assert!(text.contains(words), "{words:?} missing from:\n{text}");
    }
}

#[test]
#[allow(clippy::print_stderr)] // the measured times are the point: shown with --nocapture
fn a_cold_worker_on_a_warm_volume_is_ready_in_seconds() {
    let wheels = workspace().join("target/model-wheels");
    let has_wheels = std::fs::read_dir(&wheels)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "whl"))
                .count()
                >= 2
        })
        .unwrap_or(false);
    assert!(
        has_wheels,
        "no model wheels in {} (run `bash scripts/test.d/20-models.sh`)",
        wheels.display()
    );
    let dir = tempfile::tempdir().unwrap();
    // The network volume, warmed once (as from a pod that mounts it) through the store.
    let volume = dir.path().join("runpod-volume");
    std::fs::create_dir(&volume).unwrap();
    let mut install = Command::new(env!("CARGO_BIN_EXE_folio"));
    install
        .args(["models", "install", "--from"])
        .arg(&wheels)
        .args(RequiredModels::Ocr.ids().iter().map(|m| m.name()));
    for (k, _) in std::env::vars() {
        if k.starts_with("FOLIO_") {
            install.env_remove(k);
        }
    }
    let installed = install
        .env("FOLIO_VOLUME", &volume)
        // A directory of the test's, not a mount point: accepted on purpose.
        .env("FOLIO_VOLUME_ALLOW_UNMOUNTED", "1")
        .env("FOLIO_OFFLINE", "1")
        .output()
        .expect("run folio models install");
    assert!(
        installed.status.success(),
        "install onto the volume failed: {}",
        String::from_utf8_lossy(&installed.stderr)
    );
    assert!(volume.join("folio/models-v1/ocr-det").is_dir());

    // A cold worker: a container cache of its own that is empty, the volume mounted.
    let fake = FakeRunPod::start(KEY).unwrap();
    let container_cache = dir.path().join("container-cache");
    fake.push_job(
        "first",
        json!({"file_base64": base64(&text_pdf(1, 2)), "format": "text"}),
    );
    let receipt = worker_common::fixture_bytes("receipts/sroie_005.jpg");
    fake.push_job(
        "scan",
        json!({"file_base64": base64(&receipt), "format": "text"}),
    );
    let mut cmd = worker_command(
        &fake.env(POD, 1000),
        &container_cache,
        &["--require-models", "ocr"],
    );
    cmd.env("FOLIO_VOLUME", &volume);
    cmd.env("FOLIO_VOLUME_ALLOW_UNMOUNTED", "1");
    let started = Instant::now();
    let worker = Running::spawn(cmd, dir.path());
    assert!(
        fake.wait_for(Duration::from_secs(60), |r| r
            .iter()
            .any(|r| r.endpoint() == "job-take")),
        "no job take; stderr: {}",
        worker.stderr_now()
    );
    let first_take = fake.requests_to("job-take")[0].at - started;
    assert!(
        fake.wait_for_results(2, Duration::from_secs(300)),
        "stderr: {}",
        worker.stderr_now()
    );
    let done = fake.requests_to("job-done");
    let first_answer = done[0].at - started;
    let ocr_answer = done[1].at - started;
    worker.sigterm();
    let exited = worker.wait(Duration::from_secs(60));
    assert!(exited.status.success(), "stderr: {}", exited.stderr);
    eprintln!(
        "cold worker on a warm volume: first job take {first_take:?}, first answer \
         {first_answer:?}, OCR job answered {ocr_answer:?} after start"
    );

    // Fit (it took jobs), ready in seconds (the bound is generous: 2 shared cores, debug build).
    assert!(
        first_take < Duration::from_secs(10),
        "first job take {first_take:?} after start"
    );
    let results = fake.results();
    let first = &results.iter().find(|r| r.job_id == "first").unwrap().body;
    assert_eq!(first["output"]["status"], "success", "{first}");
    // The OCR models were loaded from the volume: nothing was put in the container's cache.
    let scan = &results.iter().find(|r| r.job_id == "scan").unwrap().body;
    assert_eq!(
        scan["output"]["pages"][0]["source"],
        "ocr",
        "{}",
        error_or_output(scan)
    );
    assert!(scan["output"]["content"]
        .as_str()
        .unwrap()
        .to_uppercase()
        .contains("TAN CHAY YEE"));
    assert!(
        !container_cache.join("models-v1").exists(),
        "models must come from the volume"
    );
}

/// Copies the OCR models of the installed store into `to` (same layout).
fn copy_ocr_models(from: &Path, to: &Path) {
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap().flatten() {
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_tree(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    for id in RequiredModels::Ocr.ids() {
        let dir = Path::new("models-v1").join(id.name());
        copy_tree(&from.join(&dir), &to.join(&dir));
    }
}

/// Runs a worker that must fail its fitness check on `cache`; returns the reason it reported.
fn unfit_reason(cache: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let fake = FakeRunPod::start(KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fake.push_job(
        "must-not-run",
        json!({"file_base64": base64(&text_pdf(1, 1))}),
    );
    let mut cmd = worker_command(&fake.env(POD, 1000), cache, args);
    cmd.envs(env.iter().copied());
    let exited = Running::spawn(cmd, dir.path()).wait(Duration::from_secs(120));
    assert_eq!(exited.status.code(), Some(1), "stderr: {}", exited.stderr);
    assert!(exited.stderr.contains("not fit"), "{}", exited.stderr);
    assert!(
        fake.requests_to("job-take").is_empty(),
        "no job may be taken"
    );
    let pings = fake.requests_to("ping");
    assert_eq!(pings.len(), 1, "one unhealthy report: {pings:?}");
    assert_eq!(pings[0].param("status"), Some("unhealthy"));
    assert_eq!(pings[0].param("check"), Some("models"));
    pings[0].param("reason").unwrap_or_default().to_string()
}

#[test]
fn models_of_the_right_size_with_the_wrong_bytes_fail_the_fitness_check() {
    let installed = installed_store();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    copy_ocr_models(&installed, &cache);
    // The store checks sizes on every load; only loading the model shows this.
    let rec = Store::open(StoreConfig {
        cache_dir: Some(cache.clone()),
        offline: true,
        ..StoreConfig::default()
    })
    .model_path(folio_store::ModelId::TextRecognition)
    .expect("the copy serves ocr-rec");
    let size = std::fs::metadata(&rec).unwrap().len();
    std::fs::write(&rec, vec![0u8; size as usize]).unwrap();
    let reason = unfit_reason(&cache, &["--require-models", "ocr"], &[]);
    assert!(reason.contains("models unavailable"), "{reason}");
}

#[test]
fn an_ocr_backend_that_cannot_start_fails_the_fitness_check() {
    // The CUDA image's failure mode (no ONNX Runtime library, or no CUDA provider), here on a
    // build without the `cuda` feature or with a library path that does not exist.
    let models = installed_store();
    let reason = unfit_reason(
        &models,
        &["--require-models", "ocr", "--ocr-backend", "ort-cuda"],
        &[("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")],
    );
    assert!(reason.contains("models unavailable"), "{reason}");
}
