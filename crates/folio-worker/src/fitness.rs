//! The start-up fitness check: can the model store serve the models this worker needs?
//!
//! The system Folio replaces took jobs with a broken cache and failed every one of them. A worker
//! that fails here takes no job: RunPod is told (unhealthy ping) and replaces it.

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
    let mut problems: Vec<String> = health
        .problems
        .iter()
        .map(|p| match &p.fix {
            Some(fix) => format!("{} (fix: {fix})", p.message),
            None => p.message.clone(),
        })
        .collect();
    if problems.is_empty() {
        problems.push("the model store reports itself unhealthy".to_string());
    }
    Err(format!(
        "model store at {} cannot serve: {}",
        health.root.display(),
        problems.join("; ")
    ))
}
