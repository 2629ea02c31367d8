//! The ONNX Runtime backend (feature `ort`), loading `libonnxruntime.so` at run time.
//!
//! The library comes from `ORT_DYLIB_PATH` (for instance the `onnxruntime` wheel's
//! `onnxruntime/capi/libonnxruntime.so.1.*`, or the `onnxruntime-gpu` wheel's for CUDA), else
//! the system's `libonnxruntime.so`. Nothing is downloaded at build time.

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use super::{BackendError, Session, Tensor};

/// An ONNX Runtime session. `ort` runs sessions through `&mut self`, so one run at a time per
/// model; pages still run in parallel on their own models' threads.
pub(crate) struct OrtSession {
    inner: Mutex<ort::session::Session>,
    character: Option<String>,
}

impl std::fmt::Debug for OrtSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtSession").finish_non_exhaustive()
    }
}

/// Loads the runtime library and creates its environment, once per process (ONNX Runtime
/// allows one environment per process).
fn environment() -> Result<ort::environment::Environment, BackendError> {
    static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let lib = std::env::var_os("ORT_DYLIB_PATH")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "libonnxruntime.so".into());
        ort::init_from(&lib)
            .map_err(|e| format!("cannot load {}: {e} (set ORT_DYLIB_PATH)", lib.display()))?
            .with_name("folio")
            .build()
            .map_err(|e| format!("cannot start ONNX Runtime: {e}"))
    })
    .clone()
    .map_err(|e| BackendError::Unavailable("ort", e))
}

fn load_err(path: &Path) -> impl Fn(String) -> BackendError + '_ {
    move |reason| BackendError::Load {
        path: path.display().to_string(),
        reason,
    }
}

impl OrtSession {
    pub(crate) fn load(
        path: &Path,
        threads: usize,
        cuda: bool,
    ) -> Result<OrtSession, BackendError> {
        let env = environment()?;
        let err = load_err(path);
        let mut builder = ort::session::Session::builder(&env)
            .map_err(|e| err(e.to_string()))?
            .with_intra_threads(threads.max(1))
            .map_err(|e| err(e.to_string()))?
            // Subnormals as zero on ONNX Runtime's threads too (see `subnormal`).
            .with_flush_to_zero()
            .map_err(|e| err(e.to_string()))?;
        if cuda {
            builder = cuda_provider(builder).map_err(&err)?;
        }
        let session = builder
            .commit_from_file(path)
            .map_err(|e| err(e.to_string()))?;
        let character = session.metadata().ok().and_then(|m| m.custom("character"));
        Ok(OrtSession {
            inner: Mutex::new(session),
            character,
        })
    }

    fn run_outputs(&self, input: Tensor, first_only: bool) -> Result<Vec<Tensor>, BackendError> {
        let run = |e: ort::Error| BackendError::Run(e.to_string());
        let value = ort::value::Tensor::from_array((input.shape, input.data)).map_err(run)?;
        let mut session = self
            .inner
            .lock()
            .map_err(|_| BackendError::Run("a previous run panicked".to_string()))?;
        let outputs = session.run(ort::inputs![value]).map_err(run)?;
        let mut out = Vec::new();
        for (_, value) in outputs.iter() {
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(run)?;
            out.push(Tensor {
                shape: shape.iter().map(|&d| d.max(0) as usize).collect(),
                data: data.to_vec(),
            });
            if first_only {
                break;
            }
        }
        Ok(out)
    }
}

#[cfg(feature = "cuda")]
fn cuda_provider(
    builder: ort::session::builder::SessionBuilder,
) -> Result<ort::session::builder::SessionBuilder, String> {
    builder
        .with_execution_providers([ort::ep::CUDA::default().build().error_on_failure()])
        .map_err(|e| format!("CUDA execution provider: {e}"))
}

#[cfg(not(feature = "cuda"))]
fn cuda_provider(
    _builder: ort::session::builder::SessionBuilder,
) -> Result<ort::session::builder::SessionBuilder, String> {
    Err("this build has no CUDA support (rebuild with `--features cuda`)".to_string())
}

impl Session for OrtSession {
    fn run(&self, input: Tensor) -> Result<Tensor, BackendError> {
        self.run_outputs(input, true)?
            .into_iter()
            .next()
            .ok_or_else(|| BackendError::Output("the model has no output".to_string()))
    }

    fn run_all(&self, input: Tensor) -> Result<Vec<Tensor>, BackendError> {
        self.run_outputs(input, false)
    }

    fn metadata(&self, key: &str) -> Option<String> {
        (key == "character")
            .then(|| self.character.clone())
            .flatten()
    }
}
