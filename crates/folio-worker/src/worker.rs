//! The worker proper: job loops, the heartbeat thread, the stop channel, shutdown.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use folio_engine::Engine;
use folio_isolate::Extractor;
use serde_json::Value;

use crate::client::{Client, StopPoll, TakeError};
use crate::config::WorkerConfig;
use crate::handler::{self, Outcome};
use crate::protocol::{self, Job, JobFailure, Take};
use folio_api::PageProgress;

/// Why the worker could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// The start-up fitness check failed; RunPod was told (unhealthy ping) and no job was taken.
    #[error("worker is not fit to take jobs ({check} check failed): {reason}")]
    Unfit {
        /// Which check failed (`models`, `config`).
        check: String,
        /// Why, with the fix where one is known.
        reason: String,
    },
    /// The worker was started without a job queue (`RUNPOD_WEBHOOK_GET_JOB` unset).
    #[error("RUNPOD_WEBHOOK_GET_JOB is not set: not running on RunPod (use local mode)")]
    NoQueue,
    /// A worker thread could not be started.
    #[error("cannot start a worker thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// What a finished worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Jobs answered with an output.
    pub succeeded: u64,
    /// Jobs answered with an error.
    pub failed: u64,
    /// Jobs stopped on RunPod's request (not answered, as the SDK does).
    pub stopped: u64,
    /// Results that could not be delivered after all retries.
    pub undelivered: u64,
}

/// Ends a running worker from another thread or a signal handler.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    shared: Arc<Shared>,
}

impl ShutdownHandle {
    /// Stop taking jobs; finish and answer the jobs in progress, then return (SIGTERM).
    pub fn request(&self) {
        tracing::info!("shutdown requested: finishing the jobs in progress, taking no more");
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.wake_all();
    }

    /// Also stop the jobs in progress and answer them with a `cancelled` error (a second
    /// SIGTERM: the platform is about to kill the worker).
    pub fn force(&self) {
        tracing::warn!("second shutdown request: stopping the jobs in progress");
        self.shared.force.store(true, Ordering::SeqCst);
        self.request();
        for job in self.shared.running().iter() {
            job.cancel.store(true, Ordering::SeqCst);
        }
    }

    /// Whether a shutdown was requested.
    pub fn requested(&self) -> bool {
        self.shared.shutdown.load(Ordering::SeqCst)
    }
}

/// Listens for SIGTERM and SIGINT: the first asks for a graceful shutdown, the second also
/// stops the jobs in progress. The listener thread lives as long as the process.
pub fn handle_signals(handle: ShutdownHandle) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new()
        .name("folio-signals".to_string())
        .spawn(move || {
            let mut count = 0;
            for signal in signals.forever() {
                count += 1;
                tracing::info!(signal, "signal received");
                if count == 1 {
                    handle.request();
                } else {
                    handle.force();
                }
            }
        })?;
    Ok(())
}

/// A job in progress.
#[derive(Debug)]
struct Running {
    id: String,
    /// Read by the engine between pages and by the download loop.
    cancel: Arc<AtomicBool>,
    /// RunPod asked to stop it (then nothing is posted).
    stopped_by_server: AtomicBool,
    /// Pages done, for progress updates.
    progress: PageProgress,
    /// Held while a progress update is posted, so none can land after the final result.
    posting: Mutex<PostState>,
}

#[derive(Debug, Default)]
struct PostState {
    /// The final result is being posted: no more progress updates.
    finished: bool,
    /// The progress last posted.
    sent: (u32, u32),
}

#[derive(Debug)]
struct Shared {
    cfg: WorkerConfig,
    client: Client,
    extractor: Extractor,
    running: Mutex<Vec<Arc<Running>>>,
    shutdown: AtomicBool,
    force: AtomicBool,
    /// Set when every job loop has ended: the heartbeat stops then.
    finished: AtomicBool,
    /// Sleepers wait here so a shutdown wakes them at once.
    wake: (Mutex<()>, Condvar),
    succeeded: AtomicU64,
    failed: AtomicU64,
    stopped: AtomicU64,
    undelivered: AtomicU64,
}

impl Shared {
    fn running(&self) -> MutexGuard<'_, Vec<Arc<Running>>> {
        // A panic while holding this lock cannot leave the list inconsistent (push/retain).
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn job_ids(&self) -> Vec<String> {
        self.running().iter().map(|j| j.id.clone()).collect()
    }

    fn wake_all(&self) {
        let _guard = self.wake.0.lock().unwrap_or_else(|p| p.into_inner());
        self.wake.1.notify_all();
    }

    /// Sleeps up to `d`, returning early when `until` becomes true.
    fn nap(&self, d: Duration, until: &AtomicBool) {
        let deadline = Instant::now() + d;
        let mut guard = self.wake.0.lock().unwrap_or_else(|p| p.into_inner());
        while !until.load(Ordering::SeqCst) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            guard = match self.wake.1.wait_timeout(guard, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

/// The threads a running worker joins: the job loops first, then the rest.
struct Threads {
    loops: Vec<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
}

/// One start-up check: `Err` carries the reason.
type Check<'a> = dyn FnOnce() -> Result<(), String> + 'a;

/// A RunPod serverless worker around one [`Engine`].
#[derive(Debug)]
pub struct Worker {
    shared: Arc<Shared>,
}

impl Worker {
    /// A worker with the given settings and engine, extracting in this process.
    pub fn new(cfg: WorkerConfig, engine: Arc<Engine>) -> Worker {
        Worker::with_extractor(cfg, Extractor::InProcess(engine))
    }

    /// A worker that extracts with `extractor`: in this process, or in supervised child
    /// processes (`folio worker`'s default), so that a document that kills its process fails
    /// that one job.
    pub fn with_extractor(cfg: WorkerConfig, extractor: Extractor) -> Worker {
        let client = Client::new(&cfg);
        Worker {
            shared: Arc::new(Shared {
                cfg,
                client,
                extractor,
                running: Mutex::new(Vec::new()),
                shutdown: AtomicBool::new(false),
                force: AtomicBool::new(false),
                finished: AtomicBool::new(false),
                wake: (Mutex::new(()), Condvar::new()),
                succeeded: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                stopped: AtomicU64::new(0),
                undelivered: AtomicU64::new(0),
            }),
        }
    }

    /// A handle that ends [`Worker::run`] from elsewhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Runs the fitness check, then takes and answers jobs until a shutdown is requested (or,
    /// with `refresh_worker`, after one job). A failed fitness check is reported to RunPod as
    /// an unhealthy ping and returned as [`WorkerError::Unfit`] before any job is taken.
    pub fn run(
        &self,
        fitness: impl FnOnce() -> Result<(), String> + Send + 'static,
    ) -> Result<RunSummary, WorkerError> {
        let shared = &self.shared;
        let cfg = &shared.cfg;
        let Some(take_base) = cfg.job_take_url.clone() else {
            return Err(WorkerError::NoQueue);
        };
        let checks: [(&str, Box<Check<'_>>); 2] = [
            (
                "config",
                Box::new(|| {
                    if cfg.job_done_url.is_none() {
                        return Err(
                            "RUNPOD_WEBHOOK_POST_OUTPUT is not set: results could not be \
                                    delivered"
                                .to_string(),
                        );
                    }
                    if cfg.api_key.is_empty() {
                        return Err("RUNPOD_AI_API_KEY is not set: RunPod would refuse every \
                                    job take"
                            .to_string());
                    }
                    Ok(())
                }),
            ),
            (
                "models",
                Box::new(|| with_deadline(fitness, cfg.fitness_timeout)),
            ),
        ];
        for (check, run) in checks {
            let started = Instant::now();
            if let Err(reason) = run() {
                // The caller reports the returned error; logging it here too would say it twice.
                tracing::debug!(check, %reason, "fitness check failed; taking no jobs");
                self.report_unhealthy(check, &reason);
                return Err(WorkerError::Unfit {
                    check: check.to_string(),
                    reason,
                });
            }
            tracing::info!(
                check,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "fitness check passed"
            );
        }

        let started = self.start_threads(&take_base);
        // Whatever happened, the background threads end once the job loops have.
        let stop_background = || {
            shared.shutdown.store(true, Ordering::SeqCst);
            shared.finished.store(true, Ordering::SeqCst);
            shared.wake_all();
        };
        let Threads { loops, background } = match started {
            Ok(threads) => threads,
            Err(e) => {
                stop_background();
                return Err(e);
            }
        };
        for handle in loops {
            let _ = handle.join();
        }
        stop_background();
        for handle in background {
            let _ = handle.join();
        }
        let summary = RunSummary {
            succeeded: shared.succeeded.load(Ordering::SeqCst),
            failed: shared.failed.load(Ordering::SeqCst),
            stopped: shared.stopped.load(Ordering::SeqCst),
            undelivered: shared.undelivered.load(Ordering::SeqCst),
        };
        tracing::info!(?summary, "worker stopped");
        Ok(summary)
    }

    /// Starts the heartbeat, progress, stop-poll and job threads.
    fn start_threads(&self, take_base: &str) -> Result<Threads, WorkerError> {
        let shared = &self.shared;
        let cfg = &shared.cfg;
        let mut background = Vec::new();
        if cfg.pings_enabled() {
            background.push(self.spawn("folio-heartbeat", heartbeat)?);
        } else {
            tracing::info!(
                "not pinging: RUNPOD_AI_API_KEY, RUNPOD_POD_ID or RUNPOD_WEBHOOK_PING is unset"
            );
        }
        if let Some(every) = cfg.progress_interval {
            background.push(self.spawn("folio-progress", move |s| progress_reporter(s, every))?);
        }
        match protocol::stop_url(take_base) {
            // Not joined: it may sit in a long poll when the worker ends.
            Some(url) => {
                self.spawn("folio-stop-poll", move |s| stop_poller(s, &url))?;
            }
            None => tracing::warn!(
                "the job-take URL has no /job-take/ segment: per-job stop is disabled"
            ),
        }
        let mut loops = Vec::new();
        for n in 0..cfg.concurrency.max(1) {
            let base = take_base.to_string();
            loops.push(self.spawn(&format!("folio-job-{n}"), move |s| job_loop(s, &base))?);
        }
        tracing::info!(worker_id = %cfg.worker_id, concurrency = cfg.concurrency.max(1), "worker ready");
        Ok(Threads { loops, background })
    }

    fn spawn(
        &self,
        name: &str,
        body: impl FnOnce(&Shared) + Send + 'static,
    ) -> Result<JoinHandle<()>, WorkerError> {
        let shared = Arc::clone(&self.shared);
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || body(&shared))
            .map_err(WorkerError::Thread)
    }

    fn report_unhealthy(&self, check: &str, reason: &str) {
        let cfg = &self.shared.cfg;
        // As the SDK: only with a ping URL and an API key; best effort, bounded to 2 s.
        let (Some(url), false) = (&cfg.ping_url, cfg.api_key.is_empty()) else {
            return;
        };
        if let Err(e) = self.shared.client.report_unhealthy(url, check, reason) {
            tracing::warn!(error = %e, "could not report the failed fitness check");
        }
    }
}

/// Runs `check` on its own thread and gives up after `limit`: a store on a network volume that
/// hangs (a dead NFS mount blocks in the kernel) must not hang the worker without a report.
fn with_deadline(
    check: impl FnOnce() -> Result<(), String> + Send + 'static,
    limit: Duration,
) -> Result<(), String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("folio-fitness".to_string())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(check))
                .unwrap_or_else(|_| Err("the check itself failed (internal error)".to_string()));
            let _ = tx.send(outcome);
        });
    if let Err(e) = spawned {
        return Err(format!("cannot start the check: {e}"));
    }
    match rx.recv_timeout(limit) {
        Ok(outcome) => outcome,
        // The thread is left behind; the worker exits right after.
        Err(_) => Err(format!(
            "the model store did not answer within {limit:?} (is the volume's file system hung?)"
        )),
    }
}

/// Pings every interval with the jobs in progress. Its own thread, sleeping between pings, so a
/// long extraction on the job threads cannot delay it.
fn heartbeat(shared: &Shared) {
    let cfg = &shared.cfg;
    let Some(url) = cfg.ping_url.as_deref() else {
        return;
    };
    while !shared.finished.load(Ordering::SeqCst) {
        let ids = shared.job_ids();
        match shared.client.ping(url, &ids, cfg.ping_interval * 2) {
            Ok(()) => tracing::debug!(jobs = ids.len(), "heartbeat sent"),
            Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
        }
        shared.nap(cfg.ping_interval, &shared.finished);
    }
}

/// Posts each running job's page progress when it changed, as the SDK's `progress_update` does
/// (`{"status": "IN_PROGRESS", "output": ...}` to the result URL), so `/status` shows it.
fn progress_reporter(shared: &Shared, every: Duration) {
    let Some(template) = shared.cfg.job_done_url.as_deref() else {
        return;
    };
    loop {
        shared.nap(every, &shared.finished);
        if shared.finished.load(Ordering::SeqCst) {
            return;
        }
        let jobs: Vec<Arc<Running>> = shared.running().iter().cloned().collect();
        for job in jobs {
            let (done, total) = job.progress.get();
            let mut state = job.posting.lock().unwrap_or_else(|p| p.into_inner());
            if total == 0 || state.finished || state.sent == (done, total) {
                continue;
            }
            let body = protocol::progress_result(done, total);
            // One attempt: a lost update is superseded by the next one or by the result.
            match shared.client.post_result(
                template,
                &job.id,
                &body,
                Duration::from_secs(10),
                &[],
                &|| true,
            ) {
                Ok(()) => state.sent = (done, total),
                Err(e) => tracing::debug!(job = %job.id, error = %e, "progress update failed"),
            }
        }
    }
}

/// Long-polls the stop channel and stops the named jobs in progress.
fn stop_poller(shared: &Shared, url: &str) {
    let cfg = &shared.cfg;
    while !shared.finished.load(Ordering::SeqCst) {
        match shared.client.poll_stop(url, cfg.take_timeout) {
            Ok(StopPoll::Ids(ids)) => {
                for id in &ids {
                    let running = shared.running();
                    match running.iter().find(|j| &j.id == id) {
                        Some(job) => {
                            tracing::info!(job = %id, "stopping job on RunPod's request");
                            job.stopped_by_server.store(true, Ordering::SeqCst);
                            job.cancel.store(true, Ordering::SeqCst);
                        }
                        None => tracing::debug!(job = %id, "stop for a job not in progress"),
                    }
                }
                if ids.is_empty() {
                    // A server that answers at once instead of holding the poll must not
                    // make this a busy loop.
                    shared.nap(Duration::from_secs(1), &shared.finished);
                }
            }
            Ok(StopPoll::TooManyRequests) => {
                shared.nap(cfg.too_many_requests_wait, &shared.finished)
            }
            Err(e) => {
                tracing::debug!(error = %e, "stop poll failed");
                shared.nap(Duration::from_secs(1), &shared.finished);
            }
        }
    }
}

/// Takes jobs and runs them one at a time until shutdown.
fn job_loop(shared: &Shared, take_base: &str) {
    let cfg = &shared.cfg;
    while !shared.shutdown.load(Ordering::SeqCst) {
        let asked = Instant::now();
        let in_progress = !shared.running().is_empty();
        match shared.client.take(take_base, in_progress, cfg.take_timeout) {
            // Jobs taken are run even when a shutdown arrived meanwhile: RunPod handed them to
            // this worker and would otherwise wait for them until they time out.
            Ok(Take::Jobs(jobs)) => {
                for job in jobs {
                    run_one(shared, job);
                }
            }
            Ok(Take::Empty) => {
                tracing::debug!("no job");
                // The real endpoint holds the take open; one that answers at once must not
                // turn this into a busy loop.
                let floor = Duration::from_millis(100);
                if asked.elapsed() < floor {
                    shared.nap(floor - asked.elapsed(), &shared.shutdown);
                }
            }
            Ok(Take::TooManyRequests) => {
                tracing::debug!("job take: too many requests, waiting");
                shared.nap(cfg.too_many_requests_wait, &shared.shutdown);
            }
            Err(TakeError::TooLarge {
                id: Some(id),
                limit,
            }) => {
                let failure = JobFailure::new(
                    "too_large",
                    format!("the job is over the worker's limit of {limit} bytes; send large documents with file_url"),
                );
                answer(shared, &id, protocol::error_result(&failure, cfg), false);
            }
            Err(e) => {
                tracing::error!(error = %e, "failed to get a job");
                shared.nap(cfg.error_wait, &shared.shutdown);
            }
        }
    }
}

/// Runs one job and posts its answer.
fn run_one(shared: &Shared, job: Job) {
    let cfg = &shared.cfg;
    let running = Arc::new(Running {
        id: job.id.clone(),
        cancel: Arc::new(AtomicBool::new(shared.force.load(Ordering::SeqCst))),
        stopped_by_server: AtomicBool::new(false),
        progress: PageProgress::default(),
        posting: Mutex::new(PostState::default()),
    });
    shared.running().push(Arc::clone(&running));
    tracing::info!(job = %job.id, "started");
    let started = Instant::now();

    let outcome = if job.input.is_null() {
        Outcome::Failed(JobFailure::new(
            "bad_input",
            "Job has missing field(s): id or input.",
        ))
    } else {
        // The engine isolates pages; this catches anything outside them, so a bad document
        // can never take the worker down.
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            handler::run_job(
                &shared.extractor,
                cfg,
                job.input,
                &running.cancel,
                &running.progress,
            )
        }))
        .unwrap_or_else(|_| {
            Outcome::Failed(JobFailure::new(
                "internal",
                "internal error while extracting (logged on the worker)",
            ))
        })
    };
    let elapsed_ms = started.elapsed().as_millis() as u64;
    running
        .posting
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .finished = true;
    let result: Option<Value> = match outcome {
        Outcome::Done(output) => {
            shared.succeeded.fetch_add(1, Ordering::SeqCst);
            tracing::info!(job = %job.id, elapsed_ms, "finished");
            Some(protocol::success_result(output))
        }
        Outcome::Cancelled if running.stopped_by_server.load(Ordering::SeqCst) => {
            shared.stopped.fetch_add(1, Ordering::SeqCst);
            tracing::info!(job = %job.id, elapsed_ms, "stopped");
            None
        }
        Outcome::Cancelled => {
            shared.failed.fetch_add(1, Ordering::SeqCst);
            Some(protocol::error_result(
                &JobFailure::new("cancelled", "the worker is shutting down"),
                cfg,
            ))
        }
        Outcome::Failed(failure) => {
            shared.failed.fetch_add(1, Ordering::SeqCst);
            tracing::warn!(job = %job.id, error_type = %failure.error_type, message = %failure.message, "job failed");
            Some(protocol::error_result(&failure, cfg))
        }
    };
    if let Some(result) = result {
        answer(shared, &job.id, result, cfg.refresh_worker);
    }
    // As the SDK: the job stays "in progress" (in pings) until its result is posted.
    shared.running().retain(|j| !Arc::ptr_eq(j, &running));
    if cfg.refresh_worker {
        tracing::info!("refresh_worker set: stopping after this job");
        shared.shutdown.store(true, Ordering::SeqCst);
        shared.wake_all();
    }
}

fn answer(shared: &Shared, job_id: &str, mut result: Value, stop_pod: bool) {
    let cfg = &shared.cfg;
    if stop_pod {
        protocol::add_stop_pod(&mut result);
    }
    let Some(template) = cfg.job_done_url.as_deref() else {
        return;
    };
    let force = || shared.force.load(Ordering::SeqCst);
    if let Err(e) = shared.client.post_result(
        template,
        job_id,
        &result,
        Duration::from_secs(120),
        &cfg.post_retry_delays,
        &force,
    ) {
        shared.undelivered.fetch_add(1, Ordering::SeqCst);
        tracing::error!(job = job_id, error = %e, "failed to return the job's result");
    } else {
        tracing::debug!(job = job_id, "result sent");
    }
}

/// The answer to a local test job: the result body the worker would post, and why it failed.
#[derive(Debug, Clone)]
pub struct LocalRun {
    /// `{"output": ...}` or `{"error": "<json>"}`.
    pub result: Value,
    /// Why the job failed; `None` when it succeeded.
    pub failure: Option<JobFailure>,
}

/// Runs one test job locally (the SDK's `rp_local.run_local`): no queue, no pings.
/// `job_text` is the content of `test_input.json` or `--test-input`.
pub fn run_local(
    extractor: &Extractor,
    cfg: &WorkerConfig,
    job_text: &str,
) -> Result<LocalRun, String> {
    let job = protocol::parse_local_job(job_text)?;
    tracing::info!(job = %job.id, "running the local test job");
    let cancel = Arc::new(AtomicBool::new(false));
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        handler::run_job(extractor, cfg, job.input, &cancel, &PageProgress::default())
    }))
    .unwrap_or_else(|_| Outcome::Failed(JobFailure::new("internal", "internal error")));
    Ok(match outcome {
        Outcome::Done(output) => LocalRun {
            result: protocol::success_result(output),
            failure: None,
        },
        Outcome::Failed(f) => LocalRun {
            result: protocol::error_result(&f, cfg),
            failure: Some(f),
        },
        Outcome::Cancelled => {
            let f = JobFailure::new("cancelled", "cancelled");
            LocalRun {
                result: protocol::error_result(&f, cfg),
                failure: Some(f),
            }
        }
    })
}
