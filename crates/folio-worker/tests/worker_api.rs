//! The library's API in-process, against the fake queue: what the binary tests cannot reach
//! (a hanging fitness check, a shutdown requested from code).

use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_engine::Engine;
use folio_worker::fake::FakeRunPod;
use folio_worker::{Worker, WorkerConfig, WorkerError};

fn config(fake: &FakeRunPod) -> WorkerConfig {
    WorkerConfig::from_vars(&fake.env("api-pod", 100).into_iter().collect())
}

#[test]
fn a_hanging_fitness_check_is_given_up_and_reported() {
    let fake = FakeRunPod::start("k").unwrap();
    let mut cfg = config(&fake);
    cfg.fitness_timeout = Duration::from_millis(300);
    let worker = Worker::new(cfg, Arc::new(Engine::new()));
    let started = Instant::now();
    let err = worker
        .run(|| {
            // A store on a dead network mount: stat() blocks.
            std::thread::sleep(Duration::from_secs(30));
            Ok(())
        })
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    match err {
        WorkerError::Unfit { check, reason } => {
            assert_eq!(check, "models");
            assert!(reason.contains("did not answer"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let pings = fake.requests_to("ping");
    assert_eq!(pings.len(), 1);
    assert_eq!(pings[0].param("status"), Some("unhealthy"));
    assert!(fake.requests_to("job-take").is_empty());
}

#[test]
fn a_panicking_fitness_check_is_a_failed_check() {
    let fake = FakeRunPod::start("k").unwrap();
    let worker = Worker::new(config(&fake), Arc::new(Engine::new()));
    let err = worker.run(|| panic!("boom")).unwrap_err();
    assert!(matches!(err, WorkerError::Unfit { .. }), "{err:?}");
    assert!(fake.requests_to("job-take").is_empty());
}

#[test]
fn a_shutdown_from_code_ends_an_idle_worker_promptly() {
    let fake = FakeRunPod::start("k").unwrap();
    let worker = Worker::new(config(&fake), Arc::new(Engine::new()));
    let handle = worker.shutdown_handle();
    let thread = std::thread::spawn(move || worker.run(|| Ok(())));
    assert!(fake.wait_for(Duration::from_secs(10), |r| r
        .iter()
        .any(|r| r.endpoint() == "job-take")));
    let asked = Instant::now();
    handle.request();
    assert!(handle.requested());
    let summary = thread.join().unwrap().unwrap();
    // Bounded by the fake's long poll (200 ms), not by the 90 s take timeout.
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(summary, folio_worker::RunSummary::default());
}

#[test]
fn local_mode_without_a_queue_is_refused_by_run() {
    let cfg = WorkerConfig::from_vars(&Default::default());
    let worker = Worker::new(cfg, Arc::new(Engine::new()));
    assert!(matches!(worker.run(|| Ok(())), Err(WorkerError::NoQueue)));
}
