//! The start-up fitness check: can the model store serve the models this worker needs?
//!
//! The system Folio replaces took jobs with a broken cache and failed every one of them. A worker
//! that fails here takes no job: RunPod is told (unhealthy ping) and replaces it.

use folio_engine::Engine;
use folio_store::{RequiredModels, Store, StoreConfig};

/// Opens the store as every Folio front door does (`StoreConfig::from_env`: `FOLIO_CACHE_DIR`,
/// `FOLIO_VOLUME`, `FOLIO_OFFLINE`, ...) and checks its health for `required`. The error is one
/// line naming each problem and its fix.
pub fn check_models(required: RequiredModels) -> Result<(), String> {
    let store = Store::open(StoreConfig::from_env());
    let health = store.health(required.ids());
    if health.ok {
        tracing::info!(root = %health.root.display(), "model store healthy");
        return Ok(());
    }
    Err(folio_api::store_problems(&health))
}

/// Loads the engine's OCR models with its backend, as the first scanned page would. The store's
/// check only sizes the files; this one catches what only a load shows (a file of the right size
/// with the wrong bytes, an ONNX Runtime library that is missing, a CUDA provider that cannot
/// start), and leaves the models loaded, so the first OCR job does not pay for it.
pub fn check_ocr(engine: &Engine) -> Result<(), String> {
    engine.load_ocr().map_err(|e| e.to_string())
}
