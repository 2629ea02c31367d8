//! One extraction, on the blocking pool: the async runtime (and `/health`) never waits on it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use folio_api::{ExtractResponse, PageProgress, RequestOptions};
use folio_engine::Limits;
use folio_isolate::Extractor;
use tokio::sync::OwnedSemaphorePermit;

use crate::limiter::Limiter;

/// Why an extraction gave no response.
#[derive(Debug)]
pub(crate) enum RunError {
    /// The engine's error (in this process or a child's), or a child that died on the
    /// document.
    Extract(folio_isolate::Error),
    /// The blocking task panicked outside the engine's per-page isolation.
    Crashed(String),
}

/// What one extraction is asked to do: the request's options, the limits, the cancel flag and
/// where to report pages done.
pub(crate) struct Job {
    pub options: RequestOptions,
    pub limits: Limits,
    pub cancel: Arc<AtomicBool>,
    pub progress: Option<Arc<PageProgress>>,
}

/// Runs [`folio_api::extract`] on `input` on the blocking pool, in this process or in a child
/// (`extractor`). The extraction slot moves into the blocking task, so it stays taken until the
/// extraction really ends, even when the caller stops waiting.
pub(crate) async fn extract(
    extractor: Extractor,
    limiter: Arc<Limiter>,
    slot: OwnedSemaphorePermit,
    input: impl AsRef<[u8]> + Send + 'static,
    job: Job,
) -> Result<ExtractResponse, RunError> {
    let task = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let result = extractor.extract(
            input.as_ref(),
            &job.options,
            job.limits,
            Some(job.cancel),
            job.progress.as_deref(),
        );
        if let Ok(r) = &result {
            limiter.record(r.timings.extract_ms);
        }
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
