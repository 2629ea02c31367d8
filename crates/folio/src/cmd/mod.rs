//! One module per subcommand, each with its `Args` and `run`.

pub mod child;
pub mod doctor;
pub mod extract;
pub mod models;
pub mod serve;
pub mod worker;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use folio_engine::{BackendKind, Engine, OcrSettings};
use folio_store::Store;

/// The engine every front door uses: born-digital documents need nothing else, and the model
/// store is opened only when a page first needs OCR (so a broken cache never stands in the way
/// of a PDF with a text layer).
pub(crate) fn engine(cache_dir: Option<PathBuf>, backend: BackendKind) -> Engine {
    let store: OnceLock<Store> = OnceLock::new();
    Engine::with_ocr(
        Arc::new(move |id| {
            store
                .get_or_init(|| models::open_store(cache_dir.clone()))
                .load_path(id)
                .map_err(|e| e.to_string())
        }),
        OcrSettings {
            backend,
            ..OcrSettings::default()
        },
    )
}

/// Parses `--ocr-backend`.
pub(crate) fn parse_backend(s: &str) -> Result<BackendKind, String> {
    BackendKind::from_name(s)
        .ok_or_else(|| format!("unknown OCR backend {s:?} (expected rten, ort or ort-cuda)"))
}
