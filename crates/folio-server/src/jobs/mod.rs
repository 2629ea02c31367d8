//! Async jobs: accepted into the durable store, run by a dispatcher that shares the
//! extraction slots with sync requests, observable, cancellable, announced by webhook.

mod api;
mod objects;
mod runner;
mod store;
mod webhook;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

pub(crate) use api::{cancel_job, create_job, get_job, get_result};
pub use folio_api::objects::{ObjectStorage, S3Credentials};
pub(crate) use runner::{deliver_pending_webhooks, dispatch, purge_loop};
pub(crate) use store::{JobStore, PostgresStore, Recovery, SqliteStore, Stale};
pub use store::{JobStoreError, PostgresOptions};
pub use webhook::WebhookPolicy;

/// A job being run: how to stop it and how far it got.
#[derive(Debug, Default)]
pub(crate) struct RunningJob {
    /// The engine's cancel flag.
    pub cancel: Arc<AtomicBool>,
    /// Set when a client cancelled it (as opposed to a shutdown, which requeues it).
    pub by_client: AtomicBool,
    /// Pages done and selected.
    pub progress: Arc<folio_api::PageProgress>,
    /// Set when the heartbeat found the lease gone: the run's end is no longer this
    /// runner's to record.
    pub lease_lost: AtomicBool,
}

impl RunningJob {
    pub fn progress(&self) -> Option<(u32, u32)> {
        self.progress.started()
    }
}

/// The job side of the shared state.
pub(crate) struct Jobs {
    pub store: Arc<dyn JobStore>,
    /// This process's name as a job runner (host, pid and a random part): the holder of the
    /// leases it takes.
    pub worker: String,
    running: Mutex<HashMap<String, Arc<RunningJob>>>,
    /// Wakes the dispatcher when a job is queued.
    pub wake: Notify,
}

impl Jobs {
    pub fn new(store: Arc<dyn JobStore>) -> Jobs {
        Jobs {
            store,
            worker: worker_name(),
            running: Mutex::new(HashMap::new()),
            wake: Notify::new(),
        }
    }

    fn running(&self) -> MutexGuard<'_, HashMap<String, Arc<RunningJob>>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get_running(&self, id: &str) -> Option<Arc<RunningJob>> {
        self.running().get(id).cloned()
    }

    fn start(&self, id: &str) -> Arc<RunningJob> {
        let job = Arc::new(RunningJob::default());
        self.running().insert(id.to_string(), Arc::clone(&job));
        job
    }

    fn stop(&self, id: &str) {
        self.running().remove(id);
    }

    /// Shutdown: stops every running job; each is requeued by its runner.
    pub fn cancel_all(&self) {
        for job in self.running().values() {
            job.cancel.store(true, Ordering::Relaxed);
        }
    }
}

/// `host:pid:random`: unique among replicas, and readable in the database.
fn worker_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            fs_err::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "host".to_string());
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("{host}:{}:{:08x}", std::process::id(), h.finish() as u32)
}
