//! One extraction, on the blocking pool: the async runtime (and `/health`) never waits on it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use folio_doc::Format;
use folio_engine::{Engine, ExtractError, ExtractOptions, ExtractResponse};
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

/// Runs the engine on `input` on the blocking pool. The extraction slot moves into the
/// blocking task, so it stays taken until the engine really returns, even when the caller
/// stops waiting. `progress`, when given, receives `done << 32 | total` after each page.
pub(crate) async fn extract(
    engine: Arc<Engine>,
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
        let result = engine.extract_with_progress(input.as_ref(), &opts, &|done, total| {
            if let Some(p) = &progress {
                p.store(
                    (u64::from(done) << 32) | u64::from(total),
                    Ordering::Relaxed,
                );
            }
        });
        let extract_ms = started.elapsed().as_millis() as u64;
        limiter.record(extract_ms);
        result.map(|doc| ExtractResponse::new(&doc, format, extract_ms))
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
