//! The dispatcher: takes queued jobs from the store, runs them in the shared extraction slots,
//! records how they end, and announces them by webhook. Also the retention sweep.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use folio_engine::{ExtractError, RequestOptions};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::store::{Claimed, Finish, JobRow};
use super::webhook;
use crate::run::{self, RunError};
use crate::state::{chain, now_ms, AppState};

/// Runs jobs until shutdown, then waits for the running ones to be requeued or finished.
pub(crate) async fn dispatch(state: Arc<AppState>) {
    let workers = Arc::new(Semaphore::new(state.config.job_workers.max(1)));
    let mut tasks = JoinSet::new();
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
        let store = Arc::clone(&state.jobs.store);
        let claimed = tokio::task::spawn_blocking(move || store.claim_next(now_ms())).await;
        match claimed {
            Ok(Ok(Some(job))) => {
                let state = Arc::clone(&state);
                tasks.spawn(async move {
                    run_one(&state, job).await;
                    drop(worker);
                });
            }
            Ok(Ok(None)) => {
                drop(worker);
                // Woken by a new job; the timer is a safety net for a missed wake-up.
                tokio::select! {
                    _ = state.jobs.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = state.until_shutdown() => break,
                }
            }
            Ok(Err(e)) => {
                tracing::error!(error = %chain(&e), "cannot take a job from the store");
                drop(worker);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "job store task failed");
                drop(worker);
            }
        }
    }
    state.jobs.cancel_all();
    while tasks.join_next().await.is_some() {}
}

async fn run_one(state: &Arc<AppState>, job: Claimed) {
    let id = job.row.id.clone();
    let running = state.jobs.start(&id);
    tracing::info!(job = %id, attempt = job.row.attempts, "job started");
    let outcome = run_claimed(state, job, &running).await;
    state.jobs.stop(&id);
    let finish = match outcome {
        Outcome::Finished(f) => f,
        Outcome::Requeue => {
            let store = Arc::clone(&state.jobs.store);
            let jid = id.clone();
            match tokio::task::spawn_blocking(move || store.requeue(&jid)).await {
                Ok(Ok(())) => {
                    state.metrics.job("requeued");
                    tracing::info!(job = %id, "job interrupted by shutdown; requeued");
                }
                // Left `running`: start-up recovery requeues it.
                _ => tracing::warn!(job = %id, "cannot requeue the job"),
            }
            return;
        }
    };
    let event = match &finish {
        Finish::Succeeded { .. } => "succeeded",
        Finish::Failed { .. } => "failed",
        Finish::Cancelled => "cancelled",
    };
    let store = Arc::clone(&state.jobs.store);
    let jid = id.clone();
    let done = tokio::task::spawn_blocking(move || store.finish(&jid, finish, now_ms())).await;
    match done {
        Ok(Ok(Some(row))) => {
            state.metrics.job(event);
            tracing::info!(job = %id, status = %row.status, "job ended");
            announce(state, row);
        }
        Ok(Ok(None)) => tracing::warn!(job = %id, "job vanished before it ended"),
        Ok(Err(e)) => tracing::error!(job = %id, error = %chain(&e), "cannot record the job's end"),
        Err(e) => tracing::error!(job = %id, error = %e, "job store task failed"),
    }
}

enum Outcome {
    Finished(Finish),
    /// Interrupted by shutdown: run it again after the restart.
    Requeue,
}

async fn run_claimed(
    state: &Arc<AppState>,
    job: Claimed,
    running: &Arc<super::RunningJob>,
) -> Outcome {
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
    let opts = options.extract_options(
        state.config.limits.clone(),
        Some(Arc::clone(&running.cancel)),
    );
    let result = run::extract(
        Arc::clone(&state.engine),
        state.pool.clone(),
        Arc::clone(&state.limiter),
        slot,
        job.input,
        opts,
        options.format,
        Some(Arc::clone(&running.progress)),
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
        Err(RunError::Extract(ExtractError::Cancelled)) => {
            if running.by_client.load(Ordering::Relaxed) {
                Outcome::Finished(Finish::Cancelled)
            } else {
                Outcome::Requeue
            }
        }
        Err(RunError::Extract(e)) => failed(state, e.code(), e.to_string()),
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
    tokio::task::spawn_blocking(move || {
        let outcome = policy
            .check_url(&url)
            .and_then(|target| webhook::deliver(&policy, &target, &row.id, &body));
        let state_text = match &outcome {
            Ok(()) => "delivered".to_string(),
            Err(e) => {
                tracing::warn!(job = %row.id, error = %e, "webhook not delivered");
                format!("failed: {e}")
            }
        };
        if let Err(e) = store.set_webhook_state(&row.id, &state_text) {
            tracing::error!(job = %row.id, error = %chain(&e), "cannot record the webhook's delivery");
        }
    });
}

/// At start-up: webhooks of jobs that ended just before the process stopped.
pub(crate) async fn deliver_pending_webhooks(state: Arc<AppState>) {
    let store = Arc::clone(&state.jobs.store);
    match tokio::task::spawn_blocking(move || store.pending_webhooks()).await {
        Ok(Ok(rows)) => {
            for row in rows {
                announce(&state, row);
            }
        }
        Ok(Err(e)) => tracing::error!(error = %chain(&e), "cannot read pending webhooks"),
        Err(e) => tracing::error!(error = %e, "job store task failed"),
    }
}

/// Deletes finished jobs older than the time to live, now and then, until shutdown.
pub(crate) async fn purge_loop(state: Arc<AppState>) {
    let ttl = state.config.job_ttl;
    let every = (ttl / 4).clamp(Duration::from_millis(200), Duration::from_secs(60));
    loop {
        let store = Arc::clone(&state.jobs.store);
        let cutoff = now_ms() - ttl.as_millis() as i64;
        match tokio::task::spawn_blocking(move || store.purge(cutoff)).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(jobs = n, "expired jobs deleted"),
            Ok(Err(e)) => tracing::error!(error = %chain(&e), "cannot delete expired jobs"),
            _ => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = state.until_shutdown() => return,
        }
    }
}
