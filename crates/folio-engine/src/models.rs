//! Models the engine loads on first need: where they come from ([`ModelLocator`]), and the one
//! loader ([`LazyModels`]) that OCR and the layout models share: load once, share between
//! threads, and after a failure retry on a later need, after [`MODEL_RETRY_BACKOFF`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use folio_store::ModelId;

use crate::ModelError;

/// Finds a verified model file, or says why it cannot (naming the command that fixes it).
/// Usually [`folio_store::Store::model_path`]; called only when a page needs a model.
pub type ModelLocator =
    Arc<dyn Fn(ModelId) -> Result<PathBuf, Box<dyn std::error::Error + Send + Sync>> + Send + Sync>;

/// After a failed load, the next attempt waits at least this long: a missing model is fixed
/// by `folio models install` while the process runs, and the next request should see it, but
/// a burst of requests should not each retry a load that just failed.
pub const MODEL_RETRY_BACKOFF: Duration = Duration::from_secs(2);

/// The state of a set of the engine's models, for readiness checks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelState {
    /// The engine reads born-digital documents only: it has no models to load.
    NotNeeded,
    /// Not loaded yet: they are loaded on the first page that needs them.
    NotLoaded,
    /// Loaded and ready.
    Loaded,
    /// The last load failed; it is tried again on the next need after the back-off.
    Failed {
        /// Why, naming the command that fixes it where there is one.
        reason: String,
        /// How long until the next attempt is allowed.
        retry_in: Duration,
    },
}

enum Loaded<T> {
    NotYet,
    Ready(Arc<T>),
    Failed { error: ModelError, at: Instant },
}

/// The function that locates and loads a set of models.
type Loader<T> = Box<dyn Fn() -> Result<T, ModelError> + Send + Sync>;

/// A set of models (`T`) located and loaded on first use, then shared by every page and
/// thread. A document that never needs them never loads (or needs) them. A failed load is not
/// kept for good: it is retried on a later need, after [`MODEL_RETRY_BACKOFF`].
pub(crate) struct LazyModels<T> {
    /// What the models are, for logs ("OCR models", "layout models").
    what: &'static str,
    load: Loader<T>,
    loaded: Mutex<Loaded<T>>,
}

impl<T> std::fmt::Debug for LazyModels<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyModels")
            .field("what", &self.what)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl<T> LazyModels<T> {
    /// Models that `load` locates and loads when first asked for.
    pub(crate) fn new(
        what: &'static str,
        load: impl Fn() -> Result<T, ModelError> + Send + Sync + 'static,
    ) -> LazyModels<T> {
        LazyModels {
            what,
            load: Box::new(load),
            loaded: Mutex::new(Loaded::NotYet),
        }
    }

    /// The state of the models now (no load is attempted).
    pub(crate) fn state(&self) -> ModelState {
        match &*self.loaded.lock().unwrap_or_else(|e| e.into_inner()) {
            Loaded::NotYet => ModelState::NotLoaded,
            Loaded::Ready(_) => ModelState::Loaded,
            Loaded::Failed { error, at } => ModelState::Failed {
                reason: error.to_string(),
                retry_in: MODEL_RETRY_BACKOFF.saturating_sub(at.elapsed()),
            },
        }
    }

    /// The loaded models, or why they cannot be loaded (a missing or corrupt model names the
    /// command that installs it). Loads them on first need, and again after a failure once the
    /// back-off has passed; callers meanwhile wait on the one load in progress.
    pub(crate) fn get(&self) -> Result<Arc<T>, ModelError> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        match &*loaded {
            Loaded::Ready(models) => return Ok(Arc::clone(models)),
            Loaded::Failed { error, at } if at.elapsed() < MODEL_RETRY_BACKOFF => {
                return Err(error.clone());
            }
            _ => {}
        }
        let started = Instant::now();
        match (self.load)() {
            Ok(models) => {
                tracing::info!(
                    models = self.what,
                    ms = started.elapsed().as_millis() as u64,
                    "models loaded"
                );
                let models = Arc::new(models);
                *loaded = Loaded::Ready(Arc::clone(&models));
                Ok(models)
            }
            Err(error) => {
                tracing::debug!(models = self.what, %error, "models cannot be loaded (the caller reports it); retried on a later need");
                *loaded = Loaded::Failed {
                    error: error.clone(),
                    at: Instant::now(),
                };
                Err(error)
            }
        }
    }
}

/// The path of one model through `locate`, as a [`ModelError`] when it cannot be found.
pub(crate) fn locate(locate: &ModelLocator, id: ModelId) -> Result<PathBuf, ModelError> {
    locate(id).map_err(|e| ModelError::Locate(Arc::from(e)))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn loads_once_and_retries_a_failure_only_after_the_back_off() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let failing: LazyModels<u32> = LazyModels::new("test models", move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Err(ModelError::NoOcr)
        });
        assert_eq!(failing.state(), ModelState::NotLoaded);
        assert!(failing.get().is_err());
        // Within the back-off the failure is answered without a new attempt.
        assert!(failing.get().is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(matches!(failing.state(), ModelState::Failed { .. }));

        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let ok = LazyModels::new("test models", move || {
            Ok(counted.fetch_add(1, Ordering::SeqCst))
        });
        assert_eq!(*ok.get().unwrap(), 0);
        assert_eq!(*ok.get().unwrap(), 0);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(ok.state(), ModelState::Loaded);
    }
}
