//! The start-up fitness check: can the model store serve the models this worker needs?
//!
//! The system Folio replaces took jobs with a broken cache and failed every one of them. A worker
//! that fails here takes no job: RunPod is told (unhealthy ping) and replaces it.

use folio_store::{ModelId, Store, StoreConfig};

/// Which models the worker must be able to load before it takes a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Required {
    /// The OCR models (detection, recognition, line classifier): scans and images work.
    #[default]
    Ocr,
    /// Every model Folio knows.
    All,
    /// None: only the store's root must be usable (born-digital documents need no model).
    None,
}

impl std::str::FromStr for Required {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ocr" => Ok(Required::Ocr),
            "all" => Ok(Required::All),
            "none" => Ok(Required::None),
            _ => Err(format!(
                "unknown model set {s:?} (expected ocr, all or none)"
            )),
        }
    }
}

impl Required {
    fn models(self) -> &'static [ModelId] {
        match self {
            Required::Ocr => &ModelId::OCR,
            Required::All => &ModelId::ALL,
            Required::None => &[],
        }
    }
}

/// Opens the store as every Folio front door does (`StoreConfig::from_env`: `FOLIO_CACHE_DIR`,
/// `FOLIO_VOLUME`, `FOLIO_OFFLINE`, ...) and checks its health for `required`. The error is one
/// line naming each problem and its fix.
pub fn check_models(required: Required) -> Result<(), String> {
    let store = Store::open(StoreConfig::from_env());
    let health = store.health(required.models());
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
