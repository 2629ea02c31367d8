//! The job store: one trait, [`JobStore`], and two implementations: [`SqliteStore`] (one file,
//! the embedded default for one process) and [`PostgresStore`] (one database shared by many
//! `folio serve` replicas).
//!
//! Both keep the same three kinds of data: the job's record, its input (the document or the
//! object-storage address it comes from, and its options, password included), deleted as soon
//! as the job ends, and the result of a finished job, deleted with the job when its time to
//! live is over.
//!
//! A running job is held under a lease: the runner that claimed it (`worker`) renews
//! `lease_until` while it runs. A job whose lease ran out (its replica died, or lost the
//! database for longer than the lease) is put back in the queue by whichever replica sweeps
//! first, or failed once it was tried `max_attempts` times; a runner that lost its lease can no
//! longer record the job's end, so no job is recorded twice.

mod postgres;
mod sqlite;

use serde::Serialize;

pub use postgres::PostgresOptions;
pub(crate) use postgres::PostgresStore;
pub(crate) use sqlite::SqliteStore;

/// Job states, as stored and as the API shows them.
pub(crate) const QUEUED: &str = "queued";
pub(crate) const RUNNING: &str = "running";
pub(crate) const SUCCEEDED: &str = "succeeded";
pub(crate) const FAILED: &str = "failed";
pub(crate) const CANCELLED: &str = "cancelled";

/// Why the job store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobStoreError {
    /// The SQLite database could not be opened, created or migrated.
    #[error("job database {path}")]
    Open {
        /// The database file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The data directory could not be created or made private.
    #[error("cannot prepare the data directory {path}")]
    DataDir {
        /// The directory or file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A SQLite query failed.
    #[error("job database query failed")]
    Query(#[from] rusqlite::Error),
    /// The Postgres address does not parse.
    #[error("the Postgres address (--jobs-db) is not valid")]
    PostgresConfig(#[source] tokio_postgres::Error),
    /// The Postgres pool could not be built.
    #[error("cannot set up the Postgres connection pool")]
    PoolSetup(#[source] deadpool_postgres::BuildError),
    /// No connection to Postgres could be had (down, unreachable, pool exhausted).
    #[error("the Postgres job database is unavailable")]
    Unavailable(#[source] deadpool_postgres::PoolError),
    /// A Postgres query failed.
    #[error("Postgres job database query failed")]
    Postgres(#[from] tokio_postgres::Error),
    /// A store task stopped before it answered.
    #[error("job store task failed")]
    Task(#[source] tokio::task::JoinError),
}

impl JobStoreError {
    /// Whether the database cannot be reached at all (as opposed to a query it refused): the
    /// API answers 503 and `/ready` says so, until it comes back.
    pub(crate) fn is_unavailable(&self) -> bool {
        match self {
            JobStoreError::Unavailable(_) => true,
            // No server error code: the connection failed or closed under the query.
            JobStoreError::Postgres(e) => e.is_closed() || e.code().is_none_or(is_down),
            _ => false,
        }
    }
}

/// Postgres error codes that mean "the server is going away or not there yet", not "the query
/// was wrong" (class 08 connection exceptions, 57P0x operator intervention).
fn is_down(code: &tokio_postgres::error::SqlState) -> bool {
    let c = code.code();
    c.starts_with("08") || c.starts_with("57P")
}

/// A job as stored.
#[derive(Debug, Clone, Default)]
pub(crate) struct JobRow {
    pub id: String,
    pub status: String,
    pub format: String,
    pub filename: Option<String>,
    pub webhook_url: Option<String>,
    pub webhook_state: Option<String>,
    pub attempts: u32,
    pub created_ms: i64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub pages: Option<u32>,
    /// Who created it: a digest of its API key (`None` when the server has no keys).
    pub owner: Option<String>,
    /// Pages done and in all, as the runner last reported them.
    pub progress: Option<(u32, u32)>,
    /// Where the result is also written (`s3://bucket/prefix/`).
    pub output: Option<String>,
}

/// A job taken to run: its record, document (or where to fetch it) and option fields.
#[derive(Debug)]
pub(crate) struct Claimed {
    pub row: JobRow,
    pub input: Vec<u8>,
    /// `s3://bucket/key` when the document is fetched at run time instead.
    pub source: Option<String>,
    pub fields: Vec<(String, String)>,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub(crate) enum Finish {
    Succeeded { result: Vec<u8>, pages: u32 },
    Failed { code: String, message: String },
    Cancelled,
}

/// What recording a job's end did.
#[derive(Debug)]
pub(crate) enum Finished {
    /// Recorded; the job as it now is.
    Ended(Box<JobRow>),
    /// This runner no longer holds the job (its lease ran out and another replica took it,
    /// or it was deleted): nothing recorded.
    NotOurs,
}

/// What a heartbeat learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lease {
    /// Renewed; `cancel` when a client asked (on any replica) for the job to stop.
    Held { cancel: bool },
    /// Lost: stop running the job, its end belongs to another runner now.
    Lost,
}

/// What a cancel request did.
#[derive(Debug)]
pub(crate) enum CancelOutcome {
    /// It had not started: now cancelled.
    Cancelled(JobRow),
    /// It is running: its runner stops it at its next heartbeat (or at once, if local).
    Running(JobRow),
    /// It had ended: it is now deleted, with its result.
    Deleted(JobRow),
    /// No such job.
    Missing,
}

/// Which running jobs [`JobStore::recover`] considers interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stale {
    /// Every running job: at the start of the only process that uses the store.
    All,
    /// Those whose lease ran out: replicas share the store.
    Expired,
}

/// What recovery did.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Recovery {
    /// Jobs interrupted while running, queued to run again.
    pub requeued: Vec<String>,
    /// Jobs interrupted too often, or cancelled before the interruption, now ended.
    pub ended: Vec<String>,
}

/// A new job's data.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewJob {
    pub id: String,
    pub format: String,
    pub filename: Option<String>,
    pub webhook_url: Option<String>,
    pub owner: Option<String>,
    pub fields: Vec<(String, String)>,
    pub input: Vec<u8>,
    pub source: Option<String>,
    pub output: Option<String>,
    pub now_ms: i64,
}

/// The durable job queue behind `/v1/jobs`. Every method is one transaction.
#[async_trait::async_trait]
pub(crate) trait JobStore: Send + Sync + std::fmt::Debug {
    /// Which store this is, for logs and `/ready`: `sqlite:PATH` or `postgres:HOST/DB`.
    fn describe(&self) -> String;

    /// Whether the database answers now.
    async fn ping(&self) -> Result<(), JobStoreError>;

    /// Brings the schema to this version's, before first use (SQLite: done when opened).
    async fn migrate(&self) -> Result<(), JobStoreError> {
        Ok(())
    }

    /// Running jobs that were interrupted ([`Stale`]) run again, unless they were tried
    /// `max_attempts` times (then they fail, so a document that kills the process cannot loop
    /// forever) or their cancellation was asked for.
    async fn recover(
        &self,
        stale: Stale,
        max_attempts: u32,
        now_ms: i64,
    ) -> Result<Recovery, JobStoreError>;

    async fn create(&self, job: NewJob) -> Result<JobRow, JobStoreError>;

    async fn get(&self, id: &str) -> Result<Option<JobRow>, JobStoreError>;

    /// `(queued, running)`.
    async fn counts(&self) -> Result<(u64, u64), JobStoreError>;

    /// Takes the oldest queued job for `worker`: marks it running under a lease until
    /// `lease_until_ms` and counts the attempt, in one transaction. Two runners never take
    /// the same job.
    async fn claim_next(
        &self,
        worker: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Option<Claimed>, JobStoreError>;

    /// Renews `worker`'s lease on a running job and records its progress.
    async fn heartbeat(
        &self,
        id: &str,
        worker: &str,
        lease_until_ms: i64,
        progress: Option<(u32, u32)>,
    ) -> Result<Lease, JobStoreError>;

    /// Records how `worker`'s run of a job ended; its input is deleted. A webhook, if any,
    /// becomes pending. A cancellation asked for meanwhile wins over the outcome.
    async fn finish(
        &self,
        id: &str,
        worker: &str,
        outcome: Finish,
        now_ms: i64,
    ) -> Result<Finished, JobStoreError>;

    /// Puts a job interrupted by a graceful shutdown back in the queue; the interrupted run
    /// does not count as an attempt.
    async fn requeue(&self, id: &str, worker: &str) -> Result<(), JobStoreError>;

    /// Puts a job whose run failed in a way another run may not (its extraction process died)
    /// back in the queue; the run counts as an attempt, so that a document that kills every
    /// process it runs in fails after `max_attempts`.
    async fn retry(&self, id: &str, worker: &str) -> Result<(), JobStoreError>;

    async fn cancel(&self, id: &str, now_ms: i64) -> Result<CancelOutcome, JobStoreError>;

    async fn result(&self, id: &str) -> Result<Option<Vec<u8>>, JobStoreError>;

    async fn set_webhook_state(&self, id: &str, state: &str) -> Result<(), JobStoreError>;

    /// Ended jobs whose webhook is still pending and that ended before `before_ms` (their
    /// runner stopped before delivering).
    async fn pending_webhooks(&self, before_ms: i64) -> Result<Vec<JobRow>, JobStoreError>;

    /// Deletes jobs that ended before `cutoff_ms`, with their results.
    async fn purge(&self, cutoff_ms: i64) -> Result<usize, JobStoreError>;
}

/// The interrupted job's end: why it failed after too many tries.
pub(crate) fn interrupted_message(attempts: u32) -> String {
    format!("the job was interrupted (its server stopped or lost its lease) {attempts} times; giving up")
}

#[cfg(test)]
pub(crate) mod suite;
