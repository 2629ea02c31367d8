//! The shared job store: one Postgres database for many `folio serve` replicas.
//!
//! Claiming is `SELECT ... FOR UPDATE SKIP LOCKED` inside the claiming `UPDATE`, so two
//! replicas never take the same job and never wait on each other's claims. A running job is
//! leased: its runner renews `lease_until_ms` by heartbeat; [`JobStore::recover`] (every
//! replica sweeps now and then) requeues or fails jobs whose lease ran out, skipping rows
//! another sweeper holds. Every statement runs on a pooled connection with a statement timeout;
//! a database that is down is [`JobStoreError::Unavailable`] (503 and `/ready` say so) until
//! it comes back, and nothing accepted is lost: a job is in the database before its 202.
//!
//! Times are the replicas' clocks (milliseconds since the epoch): keep them synchronised (NTP);
//! a skew well under the lease does no harm.
//!
//! Schema migrations (`migrations/postgres/NNNN_name.sql`) are applied at start-up in one
//! transaction under an advisory lock, so replicas starting together apply each exactly once;
//! `folio_schema_migrations` records them.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::{NoTls, Row};

use super::{
    interrupted_message, CancelOutcome, Claimed, Finish, Finished, JobRow, JobStore, JobStoreError,
    Lease, NewJob, Recovery, Stale, CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED,
};

/// The migrations, in order: version, name, SQL. Never edit one that shipped; add the next.
const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "jobs",
    include_str!("../../../migrations/postgres/0001_jobs.sql"),
)];

/// The advisory lock key that serialises migrations: "folio-mg" in ASCII.
const MIGRATION_LOCK: i64 = 0x666f_6c69_6f2d_6d67;

const COLUMNS: &str = "id, status, format, filename, webhook_url, webhook_state, attempts, \
                       created_ms, started_ms, finished_ms, error_code, error_message, pages, \
                       owner, progress_done, progress_total, output";

/// How to reach and use the database.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections kept per replica.
    pub pool_size: usize,
    /// Longest one statement may run; also how long to wait for a connection.
    pub statement_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 8,
            statement_timeout: Duration::from_secs(30),
        }
    }
}

fn row(r: &Row) -> JobRow {
    let u = |i: usize| r.get::<_, Option<i32>>(i).map(|v| v.max(0) as u32);
    JobRow {
        id: r.get(0),
        status: r.get(1),
        format: r.get(2),
        filename: r.get(3),
        webhook_url: r.get(4),
        webhook_state: r.get(5),
        attempts: r.get::<_, i32>(6).max(0) as u32,
        created_ms: r.get(7),
        started_ms: r.get(8),
        finished_ms: r.get(9),
        error_code: r.get(10),
        error_message: r.get(11),
        pages: u(12),
        owner: r.get(13),
        progress: u(14).zip(u(15)),
        output: r.get(16),
    }
}

/// The Postgres job store.
#[derive(Clone)]
pub(crate) struct PostgresStore {
    pool: Pool,
    describe: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.describe)
            .finish_non_exhaustive()
    }
}

/// `postgres:host:port/db`, without user or password, for logs.
fn describe(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_default();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres:{host}:{port}/{}",
        config.get_dbname().unwrap_or("")
    )
}

impl PostgresStore {
    /// The pool for `url` (`postgres://user:password@host:port/db?...`, or key=value form).
    /// Connects lazily: [`JobStore::migrate`] is the first use.
    pub fn new(url: &str, options: &PostgresOptions) -> Result<Self, JobStoreError> {
        let mut config: tokio_postgres::Config =
            url.parse().map_err(JobStoreError::PostgresConfig)?;
        let ms = options.statement_timeout.as_millis().max(1);
        // Statement and idle-transaction timeouts on every connection the pool opens: a
        // wedged query or a forgotten transaction cannot hold row locks for ever.
        let extra = format!(
            "-c statement_timeout={ms} -c idle_in_transaction_session_timeout={}",
            ms * 2
        );
        let joined = match config.get_options() {
            Some(o) if !o.is_empty() => format!("{o} {extra}"),
            _ => extra,
        };
        config.options(&joined);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        if config.get_application_name().is_none() {
            config.application_name("folio-serve");
        }
        let describe = describe(&config);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let wait = Some(options.statement_timeout.min(Duration::from_secs(10)));
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(2))
            .runtime(Runtime::Tokio1)
            .wait_timeout(wait)
            .create_timeout(wait)
            .recycle_timeout(wait)
            .build()
            .map_err(JobStoreError::PoolSetup)?;
        Ok(PostgresStore { pool, describe })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, JobStoreError> {
        self.pool.get().await.map_err(JobStoreError::Unavailable)
    }

    /// Applies the missing migrations, in one transaction under the advisory lock.
    async fn apply_migrations(&self) -> Result<(), JobStoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS folio_schema_migrations (
                 version INTEGER PRIMARY KEY,
                 name TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await?;
        let applied: Vec<i32> = tx
            .query("SELECT version FROM folio_schema_migrations", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for (version, name, sql) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO folio_schema_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )
            .await?;
            tracing::info!(version, name, "job database migrated");
        }
        tx.commit().await?;
        Ok(())
    }

    /// Versions recorded as applied, for tests.
    #[cfg(test)]
    pub async fn applied_migrations(&self) -> Result<Vec<i32>, JobStoreError> {
        let client = self.client().await?;
        Ok(client
            .query(
                "SELECT version FROM folio_schema_migrations ORDER BY version",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    #[cfg(test)]
    pub async fn count_inputs(&self) -> i64 {
        match self.client().await {
            Ok(c) => c
                .query_one("SELECT COUNT(*) FROM folio_job_inputs", &[])
                .await
                .map(|r| r.get(0))
                .unwrap_or(-1),
            Err(_) => -1,
        }
    }
}

/// Ends a job: its final status and error, its lease dropped and its input deleted.
async fn end(
    tx: &deadpool_postgres::Transaction<'_>,
    id: &str,
    status: &str,
    error: Option<(&str, &str)>,
    now_ms: i64,
) -> Result<(), tokio_postgres::Error> {
    let (code, message) = (error.map(|e| e.0), error.map(|e| e.1));
    tx.execute(
        "UPDATE folio_jobs SET status = $2, finished_ms = $3, error_code = $4, error_message = $5,
             worker = NULL, lease_until_ms = NULL,
             webhook_state = CASE WHEN webhook_url IS NULL THEN NULL ELSE 'pending' END
         WHERE id = $1",
        &[&id, &status, &now_ms, &code, &message],
    )
    .await?;
    tx.execute("DELETE FROM folio_job_inputs WHERE job_id = $1", &[&id])
        .await?;
    Ok(())
}

fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

#[async_trait::async_trait]
impl JobStore for PostgresStore {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn ping(&self) -> Result<(), JobStoreError> {
        self.client().await?.simple_query("SELECT 1").await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<(), JobStoreError> {
        self.apply_migrations().await
    }

    async fn recover(
        &self,
        stale: Stale,
        max_attempts: u32,
        now_ms: i64,
    ) -> Result<Recovery, JobStoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let all = stale == Stale::All;
        // SKIP LOCKED: a job another replica is finishing or sweeping right now is its.
        let stuck = tx
            .query(
                "SELECT id, attempts, cancel_requested FROM folio_jobs
                 WHERE status = 'running'
                   AND ($1 OR lease_until_ms IS NULL OR lease_until_ms < $2)
                 FOR UPDATE SKIP LOCKED",
                &[&all, &now_ms],
            )
            .await?;
        let mut recovery = Recovery::default();
        for r in stuck {
            let id: String = r.get(0);
            let attempts = r.get::<_, i32>(1).max(0) as u32;
            let cancel: bool = r.get(2);
            if cancel {
                end(&tx, &id, CANCELLED, None, now_ms).await?;
                recovery.ended.push(id);
            } else if attempts >= max_attempts {
                let message = interrupted_message(attempts);
                end(&tx, &id, FAILED, Some(("interrupted", &message)), now_ms).await?;
                recovery.ended.push(id);
            } else {
                tx.execute(
                    "UPDATE folio_jobs SET status = $2, started_ms = NULL, worker = NULL,
                         lease_until_ms = NULL, progress_done = NULL, progress_total = NULL
                     WHERE id = $1",
                    &[&id, &QUEUED],
                )
                .await?;
                recovery.requeued.push(id);
            }
        }
        tx.commit().await?;
        Ok(recovery)
    }

    async fn create(&self, job: NewJob) -> Result<JobRow, JobStoreError> {
        let fields = serde_json::to_string(&job.fields).unwrap_or_else(|_| "[]".to_string());
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let created = tx
            .query_one(
                &format!(
                    "INSERT INTO folio_jobs (id, status, format, filename, webhook_url, created_ms,
                                             owner, output)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     RETURNING {COLUMNS}"
                ),
                &[
                    &job.id,
                    &QUEUED,
                    &job.format,
                    &job.filename,
                    &job.webhook_url,
                    &job.now_ms,
                    &job.owner,
                    &job.output,
                ],
            )
            .await?;
        tx.execute(
            "INSERT INTO folio_job_inputs (job_id, fields, bytes, source) VALUES ($1, $2, $3, $4)",
            &[&job.id, &fields, &job.input, &job.source],
        )
        .await?;
        tx.commit().await?;
        Ok(row(&created))
    }

    async fn get(&self, id: &str) -> Result<Option<JobRow>, JobStoreError> {
        let client = self.client().await?;
        let r = client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM folio_jobs WHERE id = $1"),
                &[&id],
            )
            .await?;
        Ok(r.as_ref().map(row))
    }

    async fn counts(&self) -> Result<(u64, u64), JobStoreError> {
        let client = self.client().await?;
        let r = client
            .query_one(
                "SELECT COUNT(*) FILTER (WHERE status = 'queued'),
                        COUNT(*) FILTER (WHERE status = 'running')
                 FROM folio_jobs",
                &[],
            )
            .await?;
        let (q, run): (i64, i64) = (r.get(0), r.get(1));
        Ok((q.max(0) as u64, run.max(0) as u64))
    }

    async fn claim_next(
        &self,
        worker: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Option<Claimed>, JobStoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let claimed = tx
            .query_opt(
                &format!(
                    "UPDATE folio_jobs SET status = $1, attempts = attempts + 1, started_ms = $2,
                         worker = $3, lease_until_ms = $4, progress_done = NULL,
                         progress_total = NULL
                     WHERE id = (SELECT id FROM folio_jobs WHERE status = 'queued'
                                 ORDER BY created_ms, id
                                 FOR UPDATE SKIP LOCKED LIMIT 1)
                     RETURNING {COLUMNS}"
                ),
                &[&RUNNING, &now_ms, &worker, &lease_until_ms],
            )
            .await?;
        let Some(claimed) = claimed else {
            tx.commit().await?;
            return Ok(None);
        };
        let job = row(&claimed);
        let input = tx
            .query_opt(
                "SELECT fields, bytes, source FROM folio_job_inputs WHERE job_id = $1",
                &[&job.id],
            )
            .await?;
        let Some(input) = input else {
            end(
                &tx,
                &job.id,
                FAILED,
                Some(("internal", "the job's document was not found")),
                now_ms,
            )
            .await?;
            tx.commit().await?;
            return Ok(None);
        };
        tx.commit().await?;
        let fields: String = input.get(0);
        Ok(Some(Claimed {
            row: job,
            input: input.get(1),
            source: input.get(2),
            fields: serde_json::from_str(&fields).unwrap_or_default(),
        }))
    }

    async fn heartbeat(
        &self,
        id: &str,
        worker: &str,
        lease_until_ms: i64,
        progress: Option<(u32, u32)>,
    ) -> Result<Lease, JobStoreError> {
        let client = self.client().await?;
        let (done, total) = (progress.map(|p| to_i32(p.0)), progress.map(|p| to_i32(p.1)));
        let r = client
            .query_opt(
                "UPDATE folio_jobs SET lease_until_ms = $3,
                     progress_done = COALESCE($4, progress_done),
                     progress_total = COALESCE($5, progress_total)
                 WHERE id = $1 AND worker = $2 AND status = 'running'
                 RETURNING cancel_requested",
                &[&id, &worker, &lease_until_ms, &done, &total],
            )
            .await?;
        Ok(match r {
            Some(r) => Lease::Held { cancel: r.get(0) },
            None => Lease::Lost,
        })
    }

    async fn finish(
        &self,
        id: &str,
        worker: &str,
        outcome: Finish,
        now_ms: i64,
    ) -> Result<Finished, JobStoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let held = tx
            .query_opt(
                "SELECT cancel_requested FROM folio_jobs
                 WHERE id = $1 AND worker = $2 AND status = 'running' FOR UPDATE",
                &[&id, &worker],
            )
            .await?;
        let Some(held) = held else {
            tx.commit().await?;
            return Ok(Finished::NotOurs);
        };
        let outcome = if held.get::<_, bool>(0) {
            Finish::Cancelled
        } else {
            outcome
        };
        match &outcome {
            Finish::Succeeded { result, pages } => {
                tx.execute(
                    "INSERT INTO folio_job_results (job_id, body) VALUES ($1, $2)
                     ON CONFLICT (job_id) DO UPDATE SET body = EXCLUDED.body",
                    &[&id, result],
                )
                .await?;
                tx.execute(
                    "UPDATE folio_jobs SET pages = $2 WHERE id = $1",
                    &[&id, &to_i32(*pages)],
                )
                .await?;
                end(&tx, id, SUCCEEDED, None, now_ms).await?;
            }
            Finish::Failed { code, message } => {
                end(&tx, id, FAILED, Some((code, message)), now_ms).await?;
            }
            Finish::Cancelled => end(&tx, id, CANCELLED, None, now_ms).await?,
        }
        let done = tx
            .query_opt(
                &format!("SELECT {COLUMNS} FROM folio_jobs WHERE id = $1"),
                &[&id],
            )
            .await?;
        tx.commit().await?;
        Ok(done
            .as_ref()
            .map_or(Finished::NotOurs, |r| Finished::Ended(Box::new(row(r)))))
    }

    async fn requeue(&self, id: &str, worker: &str) -> Result<(), JobStoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE folio_jobs SET status = 'queued', started_ms = NULL,
                     attempts = GREATEST(attempts - 1, 0), worker = NULL, lease_until_ms = NULL
                 WHERE id = $1 AND status = 'running' AND worker = $2",
                &[&id, &worker],
            )
            .await?;
        Ok(())
    }

    async fn retry(&self, id: &str, worker: &str) -> Result<(), JobStoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE folio_jobs SET status = 'queued', started_ms = NULL, worker = NULL,
                     lease_until_ms = NULL
                 WHERE id = $1 AND status = 'running' AND worker = $2",
                &[&id, &worker],
            )
            .await?;
        Ok(())
    }

    async fn cancel(&self, id: &str, now_ms: i64) -> Result<CancelOutcome, JobStoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(r) = tx
            .query_opt(
                &format!("SELECT {COLUMNS} FROM folio_jobs WHERE id = $1 FOR UPDATE"),
                &[&id],
            )
            .await?
        else {
            tx.commit().await?;
            return Ok(CancelOutcome::Missing);
        };
        let job = row(&r);
        let outcome = match job.status.as_str() {
            QUEUED => {
                end(&tx, id, CANCELLED, None, now_ms).await?;
                let mut job = job;
                job.status = CANCELLED.to_string();
                job.finished_ms = Some(now_ms);
                CancelOutcome::Cancelled(job)
            }
            RUNNING => {
                tx.execute(
                    "UPDATE folio_jobs SET cancel_requested = TRUE WHERE id = $1",
                    &[&id],
                )
                .await?;
                CancelOutcome::Running(job)
            }
            _ => {
                tx.execute("DELETE FROM folio_jobs WHERE id = $1", &[&id])
                    .await?;
                CancelOutcome::Deleted(job)
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn result(&self, id: &str) -> Result<Option<Vec<u8>>, JobStoreError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(
                "SELECT body FROM folio_job_results WHERE job_id = $1",
                &[&id],
            )
            .await?
            .map(|r| r.get(0)))
    }

    async fn set_webhook_state(&self, id: &str, state: &str) -> Result<(), JobStoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE folio_jobs SET webhook_state = $2 WHERE id = $1",
                &[&id, &state],
            )
            .await?;
        Ok(())
    }

    async fn pending_webhooks(&self, before_ms: i64) -> Result<Vec<JobRow>, JobStoreError> {
        let client = self.client().await?;
        Ok(client
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM folio_jobs
                     WHERE webhook_state = 'pending' AND finished_ms < $1"
                ),
                &[&before_ms],
            )
            .await?
            .iter()
            .map(row)
            .collect())
    }

    async fn purge(&self, cutoff_ms: i64) -> Result<usize, JobStoreError> {
        let client = self.client().await?;
        let n = client
            .execute(
                "DELETE FROM folio_jobs WHERE finished_ms IS NOT NULL AND finished_ms < $1",
                &[&cutoff_ms],
            )
            .await?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}
