//! The dispatcher: takes queued jobs from the store under a lease, runs them in the shared
//! extraction slots, renews the lease while they run, records how they end, and announces them
//! by webhook. Also the sweeps every replica runs: expired leases, stale webhooks, retention.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use folio_api::RequestOptions;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::store::{Claimed, Finish, Finished, JobRow, Lease, Stale};
use super::webhook;
use crate::run::{self, RunError};
use crate::state::{chain, now_ms, AppState};

/// Runs jobs until shutdown, then waits for the running ones to be requeued or finished.
pub(crate) async fn dispatch(state: Arc<AppState>) {
    let workers = Arc::new(Semaphore::new(state.config.job_workers.max(1)));
    let mut tasks = JoinSet::new();
    let mut store_down = false;
    loop {
        while tasks.try_join_next().is_some() {}
        let worker = tokio::select! {
            w = Arc::clone(&workers).acquire_owned() => w,
            _ = state.until_shutdown() => break,
        };
        let Ok(worker) = worker else { break };
        if state.shutting_down() {
            break;
        }
        let now = now_ms();
        let lease_until = now + state.config.job_lease.as_millis() as i64;
        let claimed = state
            .jobs
            .store
            .claim_next(&state.jobs.worker, now, lease_until)
            .await;
        match claimed {
            Ok(Some(job)) => {
                if std::mem::take(&mut store_down) {
                    tracing::info!("job store reachable again");
                }
                let state = Arc::clone(&state);
                tasks.spawn(async move {
                    run_one(&state, job).await;
                    drop(worker);
                });
            }
            Ok(None) => {
                if std::mem::take(&mut store_down) {
                    tracing::info!("job store reachable again");
                }
                drop(worker);
                // Woken by a job created here; the timer finds jobs created on other replicas
                // (and is a safety net for a missed wake-up).
                tokio::select! {
                    _ = state.jobs.wake.notified() => {}
                    _ = tokio::time::sleep(state.config.job_poll) => {}
                    _ = state.until_shutdown() => break,
                }
            }
            Err(e) => {
                // Logged once per outage, not once a second.
                if !store_down || !e.is_unavailable() {
                    tracing::error!(error = %chain(&e), "cannot take a job from the store");
                }
                store_down = e.is_unavailable();
                drop(worker);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = state.until_shutdown() => break,
                }
            }
        }
    }
    state.jobs.cancel_all();
    while tasks.join_next().await.is_some() {}
}

/// Renews the job's lease every third of it, with its progress, until `stop`. A cancellation
/// asked for on any replica, or a lost lease, stops the run.
async fn keep_lease(
    state: Arc<AppState>,
    id: String,
    running: Arc<super::RunningJob>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let every = (state.config.job_lease / 3).max(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = &mut stop => return,
        }
        let lease_until = now_ms() + state.config.job_lease.as_millis() as i64;
        let beat = state
            .jobs
            .store
            .heartbeat(&id, &state.jobs.worker, lease_until, running.progress())
            .await;
        match beat {
            Ok(Lease::Held { cancel: false }) => {}
            Ok(Lease::Held { cancel: true }) => {
                running.by_client.store(true, Ordering::Relaxed);
                running.cancel.store(true, Ordering::Relaxed);
            }
            Ok(Lease::Lost) => {
                tracing::warn!(job = %id, "lease on the job lost (another runner has it now); stopping this run");
                running.lease_lost.store(true, Ordering::Relaxed);
                running.cancel.store(true, Ordering::Relaxed);
                return;
            }
            // The database is away: keep running; the end is recorded once it is back.
            Err(e) => tracing::warn!(job = %id, error = %chain(&e), "cannot renew the job's lease"),
        }
    }
}

async fn run_one(state: &Arc<AppState>, job: Claimed) {
    let id = job.row.id.clone();
    let running = state.jobs.start(&id);
    tracing::info!(job = %id, attempt = job.row.attempts, worker = %state.jobs.worker, "job started");
    let (stop_lease, stop) = tokio::sync::oneshot::channel();
    let lease = tokio::spawn(keep_lease(
        Arc::clone(state),
        id.clone(),
        Arc::clone(&running),
        stop,
    ));
    let output = job.row.output.clone();
    let outcome = run_claimed(state, job, &running).await;
    let _ = stop_lease.send(());
    let _ = lease.await;
    state.jobs.stop(&id);
    if running.lease_lost.load(Ordering::Relaxed) {
        state.metrics.job("lease_lost");
        return;
    }
    let mut finish = match outcome {
        Outcome::Finished(f) => f,
        Outcome::Retry => {
            match state.jobs.store.retry(&id, &state.jobs.worker).await {
                Ok(()) => {
                    state.metrics.job("retried");
                    state.jobs.wake.notify_one();
                }
                // Left `running`: its lease runs out and a sweep requeues or fails it.
                Err(e) => tracing::warn!(job = %id, error = %chain(&e), "cannot retry the job"),
            }
            return;
        }
        Outcome::Requeue => {
            match state.jobs.store.requeue(&id, &state.jobs.worker).await {
                Ok(()) => {
                    state.metrics.job("requeued");
                    tracing::info!(job = %id, "job interrupted by shutdown; requeued");
                }
                // Left `running`: its lease runs out and a sweep (or the next start) requeues it.
                Err(e) => {
                    tracing::warn!(job = %id, error = %chain(&e), "cannot requeue the job")
                }
            }
            return;
        }
    };
    if let (Some(target), Finish::Succeeded { result, .. }) = (&output, &finish) {
        if let Err(e) = super::objects::put_result(state, target, &id, result).await {
            finish = Finish::Failed {
                code: "output_failed".to_string(),
                message: e,
            };
        }
    }
    let event = match &finish {
        Finish::Succeeded { .. } => "succeeded",
        Finish::Failed { .. } => "failed",
        Finish::Cancelled => "cancelled",
    };
    // The database may be away for a while: the end is retried until it is recorded (or the
    // process stops; then the lease runs out and another runner runs the job again).
    let mut delay = Duration::from_millis(200);
    loop {
        let done = state
            .jobs
            .store
            .finish(&id, &state.jobs.worker, finish.clone(), now_ms())
            .await;
        match done {
            Ok(Finished::Ended(row)) => {
                state.metrics.job(event);
                tracing::info!(job = %id, status = %row.status, "job ended");
                announce(state, *row);
                return;
            }
            Ok(Finished::NotOurs) => {
                state.metrics.job("lease_lost");
                tracing::warn!(job = %id, "the job was taken over or deleted before its end was recorded");
                return;
            }
            Err(e) => {
                tracing::error!(job = %id, error = %chain(&e), "cannot record the job's end; retrying");
                if !e.is_unavailable() && delay > Duration::from_secs(5) {
                    return;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = state.until_shutdown() => return,
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

enum Outcome {
    Finished(Finish),
    /// Interrupted by shutdown: run it again after the restart.
    Requeue,
    /// Its extraction process died: run it again (counted as an attempt).
    Retry,
}

async fn run_claimed(
    state: &Arc<AppState>,
    job: Claimed,
    running: &Arc<super::RunningJob>,
) -> Outcome {
    let input = match &job.source {
        Some(source) => match super::objects::get_input(state, source).await {
            Ok(bytes) => bytes,
            Err((code, message)) => return failed(state, code, message),
        },
        None => job.input,
    };
    let mut options = RequestOptions::default();
    for (name, value) in &job.fields {
        if let Err(e) = options.set(name, value) {
            return failed(state, e.code(), e.message);
        }
    }
    // Shutdown first: a job that gets here while the server stops goes back to the queue.
    let slot = tokio::select! {
        biased;
        _ = state.until_shutdown() => None,
        s = state.limiter.slot() => s,
    };
    let Some(slot) = slot else {
        return Outcome::Requeue;
    };
    if state.shutting_down() {
        // Registered after the shutdown's cancel-all: stop at the first page.
        running.cancel.store(true, Ordering::Relaxed);
    }
    let attempts = job.row.attempts;
    let id = job.row.id.clone();
    let result = run::extract(
        state.extractor.clone(),
        Arc::clone(&state.limiter),
        slot,
        input,
        run::Job {
            options,
            limits: state.config.limits.clone(),
            cancel: Arc::clone(&running.cancel),
            progress: Some(Arc::clone(&running.progress)),
        },
    )
    .await;
    match result {
        Ok(response) => {
            state.metrics.pages(u64::from(response.pages_extracted));
            match serde_json::to_vec(&response) {
                Ok(result) => Outcome::Finished(Finish::Succeeded {
                    result,
                    pages: response.pages_extracted,
                }),
                Err(e) => failed(state, "internal", format!("cannot store the result: {e}")),
            }
        }
        Err(RunError::Extract(e)) if e.is_cancelled() => {
            if running.by_client.load(Ordering::Relaxed) {
                Outcome::Finished(Finish::Cancelled)
            } else {
                Outcome::Requeue
            }
        }
        // The document killed its extraction process (memory, a crash, its deadline): the
        // server is fine. Another run may fare better (a machine short of memory for a
        // while), up to the attempts allowed, as for a crash of the whole server.
        Err(RunError::Extract(e @ folio_isolate::Error::TooCostly { .. })) => {
            let f = e.failure();
            if attempts < state.config.job_max_attempts {
                tracing::warn!(job = %id, attempt = attempts, error = %f.message, "the job's extraction process died; the job runs again");
                Outcome::Retry
            } else {
                let message = format!("{} (tried {attempts} times)", f.message);
                failed(state, f.code, message)
            }
        }
        Err(RunError::Extract(e)) => {
            let f = e.failure();
            failed(state, f.code, f.message)
        }
        Err(RunError::Crashed(e)) => failed(state, "internal", e),
    }
}

fn failed(state: &AppState, code: &'static str, message: String) -> Outcome {
    state.metrics.error(code);
    Outcome::Finished(Finish::Failed {
        code: code.to_string(),
        message,
    })
}

/// Sends the job's webhook, if it has one, from the blocking pool.
pub(crate) fn announce(state: &Arc<AppState>, row: JobRow) {
    let Some(url) = row.webhook_url.clone() else {
        return;
    };
    let policy = state.config.webhooks.clone();
    let store = Arc::clone(&state.jobs.store);
    let body = serde_json::to_vec(&super::api::view(&row, None)).unwrap_or_default();
    tokio::spawn(async move {
        let id = row.id.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            policy
                .check_url(&url)
                .and_then(|target| webhook::deliver(&policy, &target, &row.id, &body))
        })
        .await
        .unwrap_or_else(|e| Err(format!("delivery task failed: {e}")));
        let state_text = match &outcome {
            Ok(()) => "delivered".to_string(),
            Err(e) => {
                tracing::warn!(job = %id, error = %e, "webhook not delivered");
                format!("failed: {e}")
            }
        };
        if let Err(e) = store.set_webhook_state(&id, &state_text).await {
            tracing::error!(job = %id, error = %chain(&e), "cannot record the webhook's delivery");
        }
    });
}

/// Webhooks of jobs that ended more than `age` ago and were not delivered: their runner
/// stopped before it could (delivery is at least once).
pub(crate) async fn deliver_pending_webhooks(state: Arc<AppState>, age: Duration) {
    let before = now_ms() - age.as_millis() as i64;
    match state.jobs.store.pending_webhooks(before).await {
        Ok(rows) => {
            for row in rows {
                announce(&state, row);
            }
        }
        Err(e) => tracing::error!(error = %chain(&e), "cannot read pending webhooks"),
    }
}

/// Now and then, until shutdown: requeues (or fails) jobs whose lease ran out, sends webhooks
/// left pending, and deletes finished jobs older than the time to live.
pub(crate) async fn purge_loop(state: Arc<AppState>) {
    let ttl = state.config.job_ttl;
    let every = (ttl / 4).clamp(Duration::from_millis(200), Duration::from_secs(60));
    let sweep_every = (state.config.job_lease / 2).max(Duration::from_millis(100));
    let mut last_purge: Option<tokio::time::Instant> = None;
    loop {
        let store = &state.jobs.store;
        match store
            .recover(Stale::Expired, state.config.job_max_attempts, now_ms())
            .await
        {
            Ok(r) if !r.requeued.is_empty() || !r.ended.is_empty() => {
                for _ in &r.requeued {
                    state.metrics.job("requeued");
                }
                tracing::warn!(requeued = ?r.requeued, ended = ?r.ended, "jobs whose lease ran out recovered");
                if !r.requeued.is_empty() {
                    state.jobs.wake.notify_one();
                }
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %chain(&e), "lease sweep failed"),
        }
        if last_purge.is_none_or(|t| t.elapsed() >= every) {
            last_purge = Some(tokio::time::Instant::now());
            let cutoff = now_ms() - ttl.as_millis() as i64;
            match store.purge(cutoff).await {
                Ok(n) if n > 0 => tracing::info!(jobs = n, "expired jobs deleted"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %chain(&e), "cannot delete expired jobs"),
            }
            // A minute is long past any delivery's time limit and retries.
            deliver_pending_webhooks(Arc::clone(&state), Duration::from_secs(120)).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(sweep_every.min(every)) => {}
            _ = state.until_shutdown() => return,
        }
    }
}
