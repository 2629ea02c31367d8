//! One module per subcommand, each with its `Args` and `run`.

pub mod doctor;
pub mod extract;
mod images;
pub mod isolate;
pub mod limits;
pub mod models;
pub mod serve;
pub mod worker;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use folio_engine::{BackendKind, Engine, OcrSettings};
use folio_store::{RequiredModels, Store};

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
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })
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
#[command(next_help_heading = "Fields model")]
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
    /// Time the model may take, retries included (e.g. 90s, 2m; a bare number is seconds).
    #[arg(
        long,
        env = "FOLIO_LLM_TIMEOUT",
        default_value = "120s",
        value_name = "DURATION",
        value_parser = limits::parse_duration
    )]
    pub llm_timeout: std::time::Duration,
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
        config.timeout = self.llm_timeout.max(std::time::Duration::from_secs(1));
        Ok(engine.with_llm(folio_fields::LlmClient::new(config)?))
    }
}

/// A flag that takes one of `all`, by their names: `--help` lists the names, and anything
/// else is refused with the list.
fn choice<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    name: fn(T) -> &'static str,
) -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(all.iter().map(|v| name(*v))).try_map(move |s| {
        all.iter()
            .copied()
            .find(|v| name(*v) == s)
            .ok_or_else(|| format!("unknown value {s:?}"))
    })
}

/// `--format`.
pub(crate) fn format_parser() -> impl clap::builder::TypedValueParser<Value = folio_doc::Format> {
    choice(&folio_doc::Format::ALL, folio_doc::Format::name)
}

/// `--ocr`.
pub(crate) fn ocr_parser() -> impl clap::builder::TypedValueParser<Value = folio_engine::OcrMode> {
    choice(&folio_engine::OcrMode::ALL, folio_engine::OcrMode::name)
}

/// `--layout`: auto, model or fast.
pub(crate) fn layout_parser(
) -> impl clap::builder::TypedValueParser<Value = folio_engine::LayoutMode> {
    choice(
        &folio_engine::LayoutMode::ALL,
        folio_engine::LayoutMode::name,
    )
}

const BACKENDS: [BackendKind; 3] = [BackendKind::Rten, BackendKind::Ort, BackendKind::OrtCuda];

/// `--ocr-backend`: rten, ort or ort-cuda (also `cuda`, an older name).
pub(crate) fn backend_parser() -> impl clap::builder::TypedValueParser<Value = BackendKind> {
    use clap::builder::{PossibleValue, TypedValueParser as _};
    let values = BACKENDS.map(|b| {
        let v = PossibleValue::new(b.name());
        if b == BackendKind::OrtCuda {
            v.alias("cuda")
        } else {
            v
        }
    });
    clap::builder::PossibleValuesParser::new(values)
        .try_map(|s| BackendKind::from_name(&s).ok_or_else(|| format!("unknown OCR backend {s:?}")))
}

const REQUIRED: [RequiredModels; 3] = [
    RequiredModels::None,
    RequiredModels::Ocr,
    RequiredModels::All,
];

/// `--require-models`.
pub(crate) fn required_parser() -> impl clap::builder::TypedValueParser<Value = RequiredModels> {
    choice(&REQUIRED, RequiredModels::name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_choice_reads_back() {
        for b in BACKENDS {
            assert_eq!(BackendKind::from_name(b.name()), Some(b));
        }
        for r in REQUIRED {
            assert_eq!(r.name().parse::<RequiredModels>().ok(), Some(r));
        }
        for m in folio_engine::OcrMode::ALL {
            assert_eq!(m.name().parse::<folio_engine::OcrMode>().ok(), Some(m));
        }
    }
}
