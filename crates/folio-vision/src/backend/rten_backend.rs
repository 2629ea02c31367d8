//! The rten backend: pure Rust, reads `.onnx` files directly.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rten::{Model, ModelOptions, RunOptions, ThreadPool};
use rten_tensor::prelude::*;
use rten_tensor::Tensor as RtenTensor;

use super::{BackendError, Precision, Session, Tensor};

/// A model loaded by rten, with its own thread pool (rten's default pool counts physical cores,
/// which undercounts on virtual machines).
pub(crate) struct RtenSession {
    model: Model,
    pool: Arc<ThreadPool>,
    threads: usize,
    /// One single-thread pool per lane, made on first use (most sessions never run in lanes).
    lane_pools: OnceLock<Vec<Arc<ThreadPool>>>,
}

impl std::fmt::Debug for RtenSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtenSession").finish_non_exhaustive()
    }
}

impl RtenSession {
    pub(crate) fn load(
        path: &Path,
        threads: usize,
        precision: Precision,
    ) -> Result<RtenSession, BackendError> {
        // The smallest layer worth quantising: below 48 channels a 1x1 convolution is cheap
        // and the per-pixel scales cost more than the int8 products save.
        let min_channels = match precision {
            Precision::F32 => None,
            Precision::Int8Pointwise => Some(48),
        };
        let model = ModelOptions::with_all_ops()
            .quantize_pointwise_convs(min_channels)
            .load_file(path)
            .map_err(|e| BackendError::Load {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(RtenSession {
            model,
            pool: model_pool(threads.max(1)),
            threads: threads.max(1),
            lane_pools: OnceLock::new(),
        })
    }

    fn options(&self) -> RunOptions {
        self.options_with(&self.pool)
    }

    fn options_with(&self, pool: &Arc<ThreadPool>) -> RunOptions {
        let mut options = RunOptions::default();
        options.thread_pool = Some(Arc::clone(pool));
        options
    }
}

/// A pool of `threads` threads for model runs, each treating subnormal floats as zero (see
/// `subnormal`): rten runs every kernel of a run on the pool's threads, never the caller's.
fn model_pool(threads: usize) -> Arc<ThreadPool> {
    let pool = ThreadPool::with_num_threads(threads);
    pool.run(|| {
        rayon::broadcast(|_| crate::subnormal::flush_on_this_thread());
    });
    Arc::new(pool)
}

fn to_tensor(value: rten::Value) -> Result<Tensor, BackendError> {
    let t: RtenTensor<f32> = value
        .into_tensor()
        .ok_or_else(|| BackendError::Output("output is not a float tensor".to_string()))?;
    let shape = t.shape().to_vec();
    Ok(Tensor {
        shape,
        data: t.into_data(),
    })
}

impl Session for RtenSession {
    fn run(&self, input: Tensor) -> Result<Tensor, BackendError> {
        let t = RtenTensor::from_data(input.shape.as_slice(), input.data);
        let out = self
            .model
            .run_one(t.into(), Some(self.options()))
            .map_err(|e| BackendError::Run(e.to_string()))?;
        to_tensor(out)
    }

    fn run_all(&self, input: Tensor) -> Result<Vec<Tensor>, BackendError> {
        let &input_id = self
            .model
            .input_ids()
            .first()
            .ok_or_else(|| BackendError::Run("the model has no input".to_string()))?;
        let t = RtenTensor::from_data(input.shape.as_slice(), input.data);
        let outputs = self.model.output_ids().to_vec();
        self.model
            .run(vec![(input_id, t.into())], &outputs, Some(self.options()))
            .map_err(|e| BackendError::Run(e.to_string()))?
            .into_iter()
            .map(to_tensor)
            .collect()
    }

    fn metadata(&self, key: &str) -> Option<String> {
        self.model.metadata().get(key).map(str::to_string)
    }

    fn lanes(&self) -> usize {
        self.threads
    }

    fn run_in_lane(&self, lane: usize, input: Tensor) -> Result<Tensor, BackendError> {
        let pools = self
            .lane_pools
            .get_or_init(|| (0..self.threads).map(|_| model_pool(1)).collect());
        let pool = pools.get(lane).ok_or_else(|| {
            BackendError::Run(format!("lane {lane} of a session with {}", self.threads))
        })?;
        let t = RtenTensor::from_data(input.shape.as_slice(), input.data);
        let out = self
            .model
            .run_one(t.into(), Some(self.options_with(pool)))
            .map_err(|e| BackendError::Run(e.to_string()))?;
        to_tensor(out)
    }
}
