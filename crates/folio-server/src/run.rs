//! One extraction, on the blocking pool: the async runtime (and `/health`) never waits on it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_doc::Format;
use folio_engine::{Engine, ExtractError, ExtractOptions, ExtractResponse};
use folio_isolate::{Failure, Pool};
use tokio::sync::OwnedSemaphorePermit;

use crate::limiter::Limiter;

/// Why an extraction gave no response.
#[derive(Debug)]
pub(crate) enum RunError {
    /// The engine's own error.
    Extract(ExtractError),
    /// The blocking task panicked outside the engine's per-page isolation.
    Crashed(String),
}

/// How long past its own time limit an isolated extraction may run before its process is
/// killed (the engine normally stops itself at the limit).
const KILL_GRACE: Duration = Duration::from_secs(3);

/// Runs the engine on `input` on the blocking pool, in a child process of `pool` when there is
/// one (a document that kills it costs this request a `document_too_costly` error, never the
/// server). The extraction slot moves into the blocking task, so it stays taken until the
/// engine really returns, even when the caller stops waiting. `progress`, when given, receives
/// `done << 32 | total` after each page.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn extract(
    engine: Arc<Engine>,
    pool: Option<Arc<Pool>>,
    limiter: Arc<Limiter>,
    slot: OwnedSemaphorePermit,
    input: impl AsRef<[u8]> + Send + 'static,
    opts: ExtractOptions,
    format: Format,
    progress: Option<Arc<AtomicU64>>,
) -> Result<ExtractResponse, RunError> {
    let task = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let started = Instant::now();
        let report = |done: u32, total: u32| {
            if let Some(p) = &progress {
                p.store(
                    (u64::from(done) << 32) | u64::from(total),
                    Ordering::Relaxed,
                );
            }
        };
        let result = match &pool {
            Some(pool) => {
                let deadline = started + opts.limits.total_timeout + KILL_GRACE;
                pool.extract(input.as_ref(), &opts, format, deadline, &report)
                    .map_err(|f| match f {
                        Failure::Extract(e) => ExtractError::reported(&e.code, e.message),
                        Failure::TooCostly(why) => ExtractError::TooCostly(why),
                        Failure::Cancelled => ExtractError::Cancelled,
                        other => ExtractError::reported("internal", other.to_string()),
                    })
            }
            None => engine
                .extract_with_progress(input.as_ref(), &opts, &report)
                .map(|doc| {
                    ExtractResponse::new(&doc, format, started.elapsed().as_millis() as u64)
                }),
        };
        let extract_ms = started.elapsed().as_millis() as u64;
        limiter.record(extract_ms);
        result
    });
    match task.await {
        Ok(r) => r.map_err(RunError::Extract),
        Err(e) => Err(RunError::Crashed(e.to_string())),
    }
}

/// The engine's cancel flag, raised when dropped: a request whose client went away (its
/// handler future is dropped) stops its extraction at the next page.
#[derive(Debug, Default)]
pub(crate) struct CancelOnDrop(pub Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
