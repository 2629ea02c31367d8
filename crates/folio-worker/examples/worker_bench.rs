//! Measures the worker against the fake RunPod queue on 127.0.0.1: start-up to first job take,
//! round trip of small jobs (take → extract → post), heartbeat regularity during a long job, and
//! how fast a stop request ends a running job.
//!
//! ```text
//! cargo run --release -p folio-worker --features fake-server --example worker_bench -- [JOBS]
//! ```
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_engine::Engine;
use folio_worker::fake::{text_pdf, FakeRunPod};
use folio_worker::{Worker, WorkerConfig};
use serde_json::json;

fn main() {
    let jobs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let fake = FakeRunPod::start("bench-key").expect("fake server");
    let small = b64(&text_pdf(1, 20));
    let long = b64(&text_pdf(1500, 45));

    let vars = fake.env("bench-pod", 100).into_iter().collect();
    let mut cfg = WorkerConfig::from_vars(&vars);
    cfg.concurrency = 1;
    let worker = Worker::new(cfg, Arc::new(Engine::new()));
    let handle = worker.shutdown_handle();
    let started = Instant::now();
    let thread = std::thread::spawn(move || worker.run(|| Ok(())));

    assert!(fake.wait_for(Duration::from_secs(30), |r| r
        .iter()
        .any(|r| r.endpoint() == "job-take")));
    // When the first take arrived, not when the fake answered it (it holds empty takes open).
    let ready = fake.requests_to("job-take")[0].at - started;

    // Small jobs, queued all at once: the worker's own overhead per job shows here.
    let t = Instant::now();
    for i in 0..jobs {
        fake.push_job(
            &format!("small-{i}"),
            json!({"file_base64": small, "format": "markdown"}),
        );
    }
    assert!(fake.wait_for_results(jobs, Duration::from_secs(600)));
    let small_elapsed = t.elapsed();
    let extract_ms: u64 = fake
        .results()
        .iter()
        .filter_map(|r| r.body["output"]["timings"]["extract_ms"].as_u64())
        .sum();

    // A long job: heartbeat gaps while the CPU is busy.
    let t = Instant::now();
    fake.push_job("long", json!({"file_base64": long, "format": "text"}));
    assert!(fake.wait_for_results(jobs + 1, Duration::from_secs(600)));
    let long_elapsed = t.elapsed();
    let pings: Vec<Instant> = fake
        .requests_to("ping")
        .iter()
        .filter(|p| p.param("job_id") == Some("long"))
        .map(|p| p.at)
        .collect();
    let max_gap = pings
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();

    // Stop latency: from the stop signal to the job leaving the pings.
    fake.push_job("to-stop", json!({"file_base64": long, "format": "text"}));
    assert!(fake.wait_for(Duration::from_secs(60), |r| r
        .iter()
        .any(|p| p.endpoint() == "ping" && p.param("job_id") == Some("to-stop"))));
    let stop_at = Instant::now();
    fake.stop("to-stop");
    fake.push_job("after-stop", json!({"file_base64": small}));
    assert!(fake.wait_for_results(jobs + 2, Duration::from_secs(600)));
    let stop_latency = stop_at.elapsed();

    handle.request();
    let summary = thread.join().expect("worker thread").expect("worker run");

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("cores: {cores}");
    println!(
        "start to first job take: {:.1} ms",
        ready.as_secs_f64() * 1e3
    );
    println!(
        "{jobs} one-page jobs: {:.2} s, {:.1} jobs/s, {:.1} ms/job round trip, of which extraction {:.1} ms/job",
        small_elapsed.as_secs_f64(),
        jobs as f64 / small_elapsed.as_secs_f64(),
        small_elapsed.as_secs_f64() * 1e3 / jobs as f64,
        extract_ms as f64 / jobs as f64
    );
    println!(
        "1500-page job: {:.2} s; {} pings listed it (interval 100 ms), largest gap {:.0} ms",
        long_elapsed.as_secs_f64(),
        pings.len(),
        max_gap.as_secs_f64() * 1e3
    );
    println!(
        "stop request to next job answered: {:.0} ms",
        stop_latency.as_secs_f64() * 1e3
    );
    println!("summary: {summary:?}");
}

fn b64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}
