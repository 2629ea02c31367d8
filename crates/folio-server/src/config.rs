//! What the service is configured with, and where its data lives.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use folio_engine::Limits;
use folio_store::StoreConfig;

/// Which models `/ready` requires the store to serve: the set the worker's fitness check uses too.
pub use folio_store::RequiredModels;

use crate::auth::ApiKeys;
use crate::jobs::{ObjectStorage, PostgresOptions, WebhookPolicy};

/// A Postgres address for the job store (`postgres://user:password@host:port/db`). Its
/// `Debug` hides it: it usually carries a password.
#[derive(Clone, PartialEq, Eq)]
pub struct JobsDatabase(pub String);

impl std::fmt::Debug for JobsDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobsDatabase(..)")
    }
}

/// The inputs of the readiness check: how to open the model store, and what it must serve.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    /// How `/ready` opens the store (as `folio doctor` does).
    pub store: StoreConfig,
    /// The models it must be able to serve.
    pub required: RequiredModels,
}

/// Everything the service needs besides the engine. Start from [`ServerConfig::new`] and set
/// what differs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Accepted API keys; empty means no authentication.
    pub api_keys: ApiKeys,
    /// Engine limits; `max_input_bytes` is also the request body limit, and `total_timeout` the
    /// time limit of an async job.
    pub limits: Limits,
    /// Time limit of one synchronous `/extract` request, queueing included.
    pub request_timeout: Duration,
    /// Extractions running at once (sync requests and jobs together).
    pub max_concurrent: usize,
    /// Sync requests allowed to wait for a free slot; beyond them, 429.
    pub max_queue: usize,
    /// Async jobs waiting to run; beyond them, creating a job answers 429.
    pub max_queued_jobs: usize,
    /// Async jobs run at once (each also takes an extraction slot).
    pub job_workers: usize,
    /// How long a finished job and its result are kept.
    pub job_ttl: Duration,
    /// Runs of one job interrupted by a crash before it is marked failed.
    pub job_max_attempts: u32,
    /// Where the SQLite job database lives (unless `jobs_db` names a Postgres database).
    pub data_dir: PathBuf,
    /// A Postgres database shared by replicas; `None`: SQLite under `data_dir`.
    pub jobs_db: Option<JobsDatabase>,
    /// Pool size and statement timeout for `jobs_db`.
    pub postgres: PostgresOptions,
    /// How long a running job's lease lasts without a heartbeat (renewed every third of it):
    /// how soon another replica runs the job of one that died.
    pub job_lease: Duration,
    /// How often an idle dispatcher looks for jobs (created on other replicas).
    pub job_poll: Duration,
    /// Object storage (`s3://` job inputs and outputs) and its bucket allow-list.
    pub objects: ObjectStorage,
    /// Which webhook targets are allowed.
    pub webhooks: WebhookPolicy,
    /// What `/ready` checks.
    pub readiness: Readiness,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// Time allowed to receive a request's head; it also closes a kept-alive connection left
    /// idle that long between requests.
    pub header_timeout: Duration,
    /// Open connections served at once (lowered to fit the process's descriptor limit); one
    /// more is answered 503 and closed.
    pub max_connections: usize,
    /// Extract in supervised child processes (a warm pool of them, sized to
    /// `max_concurrent`), so that a document that kills its process costs one request a 422
    /// `document_too_costly`; `None`: in this process, with the server's engine.
    pub isolation: Option<folio_isolate::PoolConfig>,
}

impl ServerConfig {
    /// Defaults sized to this machine, with jobs under `data_dir`.
    pub fn new(data_dir: PathBuf) -> ServerConfig {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        ServerConfig {
            api_keys: ApiKeys::default(),
            limits: Limits::default(),
            request_timeout: Duration::from_secs(120),
            max_concurrent: cores,
            max_queue: 64,
            max_queued_jobs: 1000,
            job_workers: cores.div_ceil(2).max(1),
            job_ttl: Duration::from_secs(24 * 3600),
            job_max_attempts: 3,
            data_dir,
            jobs_db: None,
            postgres: PostgresOptions::default(),
            job_lease: Duration::from_secs(30),
            job_poll: Duration::from_secs(1),
            objects: ObjectStorage::default(),
            webhooks: WebhookPolicy::default(),
            readiness: Readiness::default(),
            shutdown_grace: Duration::from_secs(30),
            header_timeout: Duration::from_secs(30),
            max_connections: 1024,
            isolation: None,
        }
    }

    /// The job database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("jobs-v1.sqlite3")
    }
}

/// Refuses to serve without authentication on an address other machines can reach, unless
/// `allow_unauthenticated` says so explicitly.
pub fn check_bind(
    addr: SocketAddr,
    keys: &ApiKeys,
    allow_unauthenticated: bool,
) -> Result<(), crate::ServerError> {
    if keys.is_empty() && !addr.ip().is_loopback() && !allow_unauthenticated {
        return Err(crate::ServerError::Unauthenticated(addr));
    }
    Ok(())
}

/// The default data directory: `FOLIO_DATA_DIR`, else `$XDG_STATE_HOME/folio-server` (absolute
/// only), else `~/.local/state/folio-server`, else `folio-server` in the temp dir (which may not
/// survive a reboot; logged).
pub fn default_data_dir(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> PathBuf {
    if let Some(dir) = env("FOLIO_DATA_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(state) = env("XDG_STATE_HOME").map(PathBuf::from) {
        if state.is_absolute() {
            return state.join("folio-server");
        }
    }
    if let Some(home) = env("HOME").map(PathBuf::from).filter(|h| h.is_absolute()) {
        return home.join(".local/state/folio-server");
    }
    let fallback = std::env::temp_dir().join("folio-server");
    tracing::warn!(dir = %fallback.display(), "no HOME or XDG_STATE_HOME: jobs are kept in the temp dir");
    fallback
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn data_dir_resolution_order() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(
            default_data_dir(&env(&[("FOLIO_DATA_DIR", "/d"), ("HOME", "/h")])),
            PathBuf::from("/d")
        );
        assert_eq!(
            default_data_dir(&env(&[("XDG_STATE_HOME", "/s"), ("HOME", "/h")])),
            PathBuf::from("/s/folio-server")
        );
        assert_eq!(
            default_data_dir(&env(&[("XDG_STATE_HOME", "rel"), ("HOME", "/h")])),
            PathBuf::from("/h/.local/state/folio-server")
        );
    }

    #[test]
    fn no_key_on_a_public_address_is_refused_unless_allowed() {
        let none = ApiKeys::default();
        let public: SocketAddr = "0.0.0.0:8000".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8000".parse().unwrap();
        assert!(check_bind(public, &none, false).is_err());
        assert!(check_bind(public, &none, true).is_ok());
        assert!(check_bind(local, &none, false).is_ok());
        assert!(check_bind("[::1]:8000".parse().unwrap(), &none, false).is_ok());
        assert!(check_bind(public, &ApiKeys::new(["k".to_string()]), false).is_ok());
    }
}
