//! The start-up fitness check: can the model store serve the models this worker needs?
//!
//! The system Folio replaces took jobs with a broken cache and failed every one of them. A worker
//! that fails here takes no job: RunPod is told (unhealthy ping) and replaces it.

use tmp_store::{ModelId, Store, StoreConfig};

// TEMP-STORE-STUB: folio-store (issue 3) had not landed when this was written. This module
// mirrors its agreed contract (ModelId::{OCR, ALL}, StoreConfig::from_env, Store::open,
// Store::health -> Health { ok, root, problems: [Problem { message, fix }] }) with a crude check
// (a `models-v1` directory under FOLIO_CACHE_DIR). To switch: delete this module and write
// `use folio_store::{ModelId, Store, StoreConfig};` above. Not fit for production as it is.
mod tmp_store {
    use std::path::PathBuf;
    #[derive(Clone, Copy, Debug)]
    pub enum ModelId {
        TextDetection,
        TextRecognition,
        TextLineClassifier,
        PageOrientation,
        Layout,
        TableStructure,
    }
    impl ModelId {
        pub const ALL: [ModelId; 6] = [
            ModelId::TextDetection,
            ModelId::TextRecognition,
            ModelId::TextLineClassifier,
            ModelId::PageOrientation,
            ModelId::Layout,
            ModelId::TableStructure,
        ];
        pub const OCR: [ModelId; 3] = [
            ModelId::TextDetection,
            ModelId::TextRecognition,
            ModelId::TextLineClassifier,
        ];
    }
    pub struct StoreConfig {
        pub cache_dir: Option<PathBuf>,
    }
    impl StoreConfig {
        pub fn from_env() -> Self {
            StoreConfig {
                cache_dir: std::env::var_os("FOLIO_CACHE_DIR").map(PathBuf::from),
            }
        }
    }
    pub struct Store {
        root: PathBuf,
    }
    pub struct Problem {
        pub message: String,
        pub fix: Option<String>,
    }
    pub struct Health {
        pub ok: bool,
        pub root: PathBuf,
        pub problems: Vec<Problem>,
    }
    impl Store {
        pub fn open(c: StoreConfig) -> Result<Store, String> {
            Ok(Store {
                root: c.cache_dir.unwrap_or_default(),
            })
        }
        pub fn health(&self, m: &[ModelId]) -> Health {
            let ok = m.is_empty() || self.root.join("models-v1").is_dir();
            Health {
                ok,
                root: self.root.clone(),
                problems: if ok {
                    vec![]
                } else {
                    vec![Problem {
                        message: "models missing".into(),
                        fix: Some("folio models install".into()),
                    }]
                },
            }
        }
    }
}

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
    let store = Store::open(StoreConfig::from_env())
        .map_err(|e| format!("cannot open the model store: {e}"))?;
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
