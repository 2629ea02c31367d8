//! Inference backends behind one trait, so that the OCR stages never name a runtime.
//!
//! `rten` is the default: pure Rust, it loads the `.onnx` files
//! directly and builds from the Cargo registry alone. ONNX Runtime (`ort`, loaded at run time
//! from a `libonnxruntime.so` the user provides) is the `ort` feature; `cuda` adds its CUDA
//! execution provider. CPU builds and tests never need either.

use std::path::Path;

#[cfg(feature = "ort")]
mod ort_backend;
mod rten_backend;

/// A dense `f32` tensor in row-major order: what every model here takes and gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor {
            shape: shape.to_vec(),
            data: vec![0.0; shape.iter().product()],
        }
    }
}

/// Why a model cannot be loaded or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The model file cannot be loaded.
    #[error("cannot load model {path}: {reason}")]
    Load {
        /// The model file.
        path: String,
        /// The runtime's reason.
        reason: String,
    },
    /// Inference failed.
    #[error("inference failed: {0}")]
    Run(String),
    /// The model's output is not what this stage expects (a wrong or changed model).
    #[error("unexpected model output: {0}")]
    Output(String),
    /// The backend was not compiled in or cannot start.
    #[error("backend {0} is not available: {1}")]
    Unavailable(&'static str, String),
    /// The caller's cancellation token was set; the work stopped between model runs.
    #[error("cancelled")]
    Cancelled,
}

impl From<folio_content::Cancelled> for BackendError {
    fn from(_: folio_content::Cancelled) -> Self {
        BackendError::Cancelled
    }
}

/// A loaded model, ready to run from many threads.
pub trait Session: Send + Sync + std::fmt::Debug {
    /// Runs the model on its one input and returns its first output.
    fn run(&self, input: Tensor) -> Result<Tensor, BackendError>;

    /// Runs the model and returns every output, in the model's order.
    fn run_all(&self, input: Tensor) -> Result<Vec<Tensor>, BackendError>;

    /// A custom metadata value of the model (PP-OCR keeps its dictionary under `character`).
    fn metadata(&self, key: &str) -> Option<String>;

    /// How many runs may go side by side through [`Session::run_in_lane`], each on a thread of
    /// its own; 1 when runs should share the session's threads instead.
    fn lanes(&self) -> usize {
        1
    }

    /// Runs the model like [`Session::run`], but on the one thread of `lane` (below
    /// [`Session::lanes`]), so that several small runs use the cores without the
    /// synchronisation that splitting each operator between threads costs.
    fn run_in_lane(&self, lane: usize, input: Tensor) -> Result<Tensor, BackendError> {
        let _ = lane;
        self.run(input)
    }
}

/// Which runtime runs the models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendKind {
    /// rten, pure Rust (the default).
    #[default]
    Rten,
    /// ONNX Runtime on the CPU (feature `ort`).
    Ort,
    /// ONNX Runtime with its CUDA execution provider (feature `cuda`).
    OrtCuda,
}

/// The arithmetic a model runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// As the model file has it.
    #[default]
    F32,
    /// 1x1 convolutions with 48 or more input and output channels in int8 (weights per output
    /// channel, inputs per pixel; see rten's `Int8PointwiseConv`), everything else in f32. For
    /// models measured to tolerate it: the text recogniser.
    Int8Pointwise,
}

impl Precision {
    /// Short name, for `folio doctor` and logs.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Int8Pointwise => "int8-pointwise",
        }
    }
}

impl BackendKind {
    /// Short name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Rten => "rten",
            BackendKind::Ort => "ort",
            BackendKind::OrtCuda => "ort-cuda",
        }
    }

    /// The backend with this name, whether or not it is compiled in.
    pub fn from_name(name: &str) -> Option<BackendKind> {
        match name {
            "rten" => Some(BackendKind::Rten),
            "ort" => Some(BackendKind::Ort),
            "ort-cuda" | "cuda" => Some(BackendKind::OrtCuda),
            _ => None,
        }
    }

    /// Loads the model at `path` with this backend, running on `threads` threads, in f32.
    pub fn load(self, path: &Path, threads: usize) -> Result<Box<dyn Session>, BackendError> {
        self.load_with(path, threads, Precision::F32)
    }

    /// As [`BackendKind::load`], in `precision` where the backend supports it (rten); ONNX
    /// Runtime runs the model as the file has it (f32).
    pub fn load_with(
        self,
        path: &Path,
        threads: usize,
        precision: Precision,
    ) -> Result<Box<dyn Session>, BackendError> {
        match self {
            BackendKind::Rten => Ok(Box::new(rten_backend::RtenSession::load(
                path, threads, precision,
            )?)),
            #[cfg(feature = "ort")]
            BackendKind::Ort => Ok(Box::new(ort_backend::OrtSession::load(
                path, threads, false,
            )?)),
            #[cfg(feature = "cuda")]
            BackendKind::OrtCuda => Ok(Box::new(ort_backend::OrtSession::load(
                path, threads, true,
            )?)),
            #[allow(unreachable_patterns)]
            other => Err(BackendError::Unavailable(
                other.name(),
                format!(
                    "this build does not include it (rebuild with `--features {}`)",
                    if other == BackendKind::Ort {
                        "ort"
                    } else {
                        "cuda"
                    }
                ),
            )),
        }
    }
}
