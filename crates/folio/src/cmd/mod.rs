//! One module per subcommand, each with its `Args` and `run`.

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
                .model_path(id)
                .map_err(|e| e.to_string())
        }),
        OcrSettings {
            backend,
            ..OcrSettings::default()
        },
    )
}

/// The model endpoint for fields: the operator's setting (flags or environment), shared by
/// `extract`, `serve` and `worker`. Requests ask for fields; they never name an endpoint.
#[derive(Debug, Clone, clap::Args)]
pub struct LlmArgs {
    /// OpenAI-compatible chat completions endpoint for fields, e.g. http://127.0.0.1:8080/v1
    /// (vLLM, llama.cpp's server, Ollama). The key comes from FOLIO_LLM_API_KEY.
    #[arg(long, env = "FOLIO_LLM_URL", value_name = "URL")]
    pub llm_url: Option<String>,
    /// The model name the endpoint serves.
    #[arg(
        long,
        env = "FOLIO_LLM_MODEL",
        default_value = "default",
        value_name = "NAME"
    )]
    pub llm_model: String,
    /// Seconds the model may take, retries included.
    #[arg(
        long,
        env = "FOLIO_LLM_TIMEOUT",
        default_value_t = 120,
        value_name = "SECS"
    )]
    pub llm_timeout: u64,
}

impl LlmArgs {
    /// The engine, asking the endpoint for fields when one is configured.
    pub fn apply(&self, engine: Engine) -> anyhow::Result<Engine> {
        let Some(url) = &self.llm_url else {
            return Ok(engine);
        };
        let mut config = folio_fields::LlmConfig::new(url.clone(), self.llm_model.clone());
        config.api_key = std::env::var("FOLIO_LLM_API_KEY")
            .ok()
            .filter(|k| !k.is_empty());
        config.timeout = std::time::Duration::from_secs(self.llm_timeout.max(1));
        Ok(engine.with_llm(folio_fields::LlmClient::new(config)?))
    }
}

/// Parses `--ocr-backend`.
pub(crate) fn parse_backend(s: &str) -> Result<BackendKind, String> {
    BackendKind::from_name(s)
        .ok_or_else(|| format!("unknown OCR backend {s:?} (expected rten, ort or ort-cuda)"))
}
