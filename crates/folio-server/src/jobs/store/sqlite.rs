//! The embedded job store: one SQLite file (WAL, synchronous=FULL), so jobs, their documents and
//! their results survive a crash or a restart of the one process that uses it.
//!
//! Privacy: the data directory is created 0700 and the database 0600 (SQLite gives its WAL and
//! shared-memory files the database's mode); `secure_delete` overwrites what a delete frees,
//! and the WAL is truncated after a job ends, so a finished job's document and password are
//! gone from the disk, not only from the tables.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::{
    interrupted_message, CancelOutcome, Claimed, Finish, Finished, JobRow, JobStore, JobStoreError,
    Lease, NewJob, Recovery, Stale, CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED,
};

/// The SQLite job store. Its calls run on the blocking pool.
#[derive(Debug, Clone)]
pub(crate) struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

/// Version 1: the first schema (jobs, inputs, results). Version 2: owner, lease, progress,
/// object-storage source and output.
pub(super) const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    format TEXT NOT NULL,
    filename TEXT,
    webhook_url TEXT,
    webhook_state TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    started_ms INTEGER,
    finished_ms INTEGER,
    error_code TEXT,
    error_message TEXT,
    pages INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, created_ms);
CREATE TABLE IF NOT EXISTS inputs (
    job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    fields TEXT NOT NULL,
    bytes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    body BLOB NOT NULL
);
";

const SCHEMA_V2: &str = "
ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN worker TEXT;
ALTER TABLE jobs ADD COLUMN lease_until_ms INTEGER;
ALTER TABLE jobs ADD COLUMN progress_done INTEGER;
ALTER TABLE jobs ADD COLUMN progress_total INTEGER;
ALTER TABLE jobs ADD COLUMN output TEXT;
ALTER TABLE inputs ADD COLUMN source TEXT;
";

const COLUMNS: &str = "id, status, format, filename, webhook_url, webhook_state, attempts, \
                       created_ms, started_ms, finished_ms, error_code, error_message, pages, \
                       owner, progress_done, progress_total, output";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
    let done: Option<u32> = r.get(14)?;
    let total: Option<u32> = r.get(15)?;
    Ok(JobRow {
        id: r.get(0)?,
        status: r.get(1)?,
        format: r.get(2)?,
        filename: r.get(3)?,
        webhook_url: r.get(4)?,
        webhook_state: r.get(5)?,
        attempts: r.get(6)?,
        created_ms: r.get(7)?,
        started_ms: r.get(8)?,
        finished_ms: r.get(9)?,
        error_code: r.get(10)?,
        error_message: r.get(11)?,
        pages: r.get(12)?,
        owner: r.get(13)?,
        progress: done.zip(total),
        output: r.get(16)?,
    })
}

/// Creates `dir` (and its parents) readable by its owner only; an existing directory is left
/// as it is, with a warning when others can read it.
fn private_dir(dir: &Path) -> Result<(), JobStoreError> {
    let err = |source| JobStoreError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(err)?;
            // The umask may have narrowed the mode, never widened it; set it exactly.
            fs_err::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
        } else if let Ok(meta) = fs_err::metadata(dir) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    dir = %dir.display(),
                    mode = format!("{:o}", meta.permissions().mode() & 0o777),
                    "the data directory is readable by other users; job documents are private to this one (chmod 700)"
                );
            }
        }
    }
    #[cfg(not(unix))]
    fs_err::create_dir_all(dir).map_err(err)?;
    Ok(())
}

/// Makes the database file (created empty if new) readable and writable by its owner only.
fn private_file(path: &Path) -> Result<(), JobStoreError> {
    let err = |source| JobStoreError::DataDir {
        path: path.to_path_buf(),
        source,
    };
    #[cfg(unix)]
    {
        use fs_err::os::unix::fs::OpenOptionsExt;
        use std::os::unix::fs::PermissionsExt;
        fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(err)?;
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    }
    #[cfg(not(unix))]
    let _ = (path, err);
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, private to this user, and brings its
    /// schema to the current version.
    pub fn open(path: &Path) -> Result<SqliteStore, JobStoreError> {
        if let Some(dir) = path.parent() {
            private_dir(dir)?;
        }
        private_file(path)?;
        let open_err = |source| JobStoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        // FULL: a job accepted with 202 is on disk, even if the machine loses power next.
        // journal_size_limit: large documents pass through the WAL; do not keep it that large.
        // auto_vacuum takes effect only on a new database, before its first table: deleted
        // documents and expired results then give their pages back to the file system.
        // secure_delete: what a delete frees is overwritten with zeros, not left in free pages.
        conn.execute_batch(
            "PRAGMA auto_vacuum = INCREMENTAL;
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA secure_delete = ON;
             PRAGMA busy_timeout = 5000;
             PRAGMA journal_size_limit = 67108864;",
        )
        .map_err(open_err)?;
        migrate(&conn).map_err(open_err)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            path: path.to_path_buf(),
        })
    }

    fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction rolls the transaction back: the connection stays usable.
        conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, JobStoreError> + Send + 'static,
    ) -> Result<T, JobStoreError> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || f(&mut SqliteStore::lock(&conn)))
            .await
            .map_err(JobStoreError::Task)?
    }

    /// [`JobStore::recover`] on the calling thread: at start-up, before any runtime work.
    pub fn recover_now(
        &self,
        stale: Stale,
        max_attempts: u32,
        now_ms: i64,
    ) -> Result<Recovery, JobStoreError> {
        recover_in(
            &mut SqliteStore::lock(&self.conn),
            stale,
            max_attempts,
            now_ms,
        )
    }

    #[cfg(test)]
    pub fn secure_delete(&self) -> i64 {
        SqliteStore::lock(&self.conn)
            .query_row("PRAGMA secure_delete", [], |r| r.get(0))
            .unwrap_or(-1)
    }

    #[cfg(test)]
    pub fn count_inputs(&self) -> i64 {
        SqliteStore::lock(&self.conn)
            .query_row("SELECT COUNT(*) FROM inputs", [], |r| r.get(0))
            .unwrap_or(-1)
    }
}

/// Brings the schema to the current version (`PRAGMA user_version`), in one transaction.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version >= 2 {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE;")?;
    let applied = (|| {
        conn.execute_batch(SCHEMA_V1)?;
        // A version-1 file kept user_version 0: its new columns may or may not exist yet.
        let has_owner = conn
            .prepare("SELECT owner FROM jobs LIMIT 0")
            .map(|_| true)
            .unwrap_or(false);
        if !has_owner {
            conn.execute_batch(SCHEMA_V2)?;
        }
        conn.execute_batch("PRAGMA user_version = 2;")
    })();
    match applied {
        Ok(()) => conn.execute_batch("COMMIT;"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK;");
            Err(e)
        }
    }
}

fn get_row(tx: &Connection, id: &str) -> rusqlite::Result<Option<JobRow>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
        [id],
        row,
    )
    .optional()
}

/// Ends a job: its final status and error, its lease dropped and its input deleted.
fn end(
    tx: &Transaction<'_>,
    id: &str,
    status: &str,
    error: Option<(&str, &str)>,
    now_ms: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE jobs SET status = ?2, finished_ms = ?3, error_code = ?4, error_message = ?5,
             worker = NULL, lease_until_ms = NULL,
             webhook_state = CASE WHEN webhook_url IS NULL THEN NULL ELSE 'pending' END
         WHERE id = ?1",
        params![id, status, now_ms, error.map(|e| e.0), error.map(|e| e.1)],
    )?;
    tx.execute("DELETE FROM inputs WHERE job_id = ?1", [id])?;
    Ok(())
}

/// After a job's input was deleted: copies the WAL into the database (where `secure_delete`
/// zeroed the freed pages) and truncates it, so the document's bytes leave the WAL file too.
/// Best effort: a reader holding the WAL makes it a no-op until the next end.
fn scrub_wal(conn: &Connection) {
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "cannot truncate the job database's WAL");
    }
}

/// Requeues or ends the running jobs `stale` selects, in one transaction.
fn recover_in(
    conn: &mut Connection,
    stale: Stale,
    max_attempts: u32,
    now_ms: i64,
) -> Result<Recovery, JobStoreError> {
    let tx = conn.transaction()?;
    let mut recovery = Recovery::default();
    let stuck: Vec<(String, u32, bool)> = {
        let mut stmt = tx.prepare(
            "SELECT id, attempts, cancel_requested FROM jobs WHERE status = ?1
             AND (?2 OR lease_until_ms IS NULL OR lease_until_ms < ?3)",
        )?;
        let rows = stmt.query_map(params![RUNNING, stale == Stale::All, now_ms], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    for (id, attempts, cancel) in stuck {
        if cancel {
            end(&tx, &id, CANCELLED, None, now_ms)?;
            recovery.ended.push(id);
        } else if attempts >= max_attempts {
            let message = interrupted_message(attempts);
            end(&tx, &id, FAILED, Some(("interrupted", &message)), now_ms)?;
            recovery.ended.push(id);
        } else {
            tx.execute(
                "UPDATE jobs SET status = ?2, started_ms = NULL, worker = NULL,
                     lease_until_ms = NULL, progress_done = NULL, progress_total = NULL
                 WHERE id = ?1",
                params![id, QUEUED],
            )?;
            recovery.requeued.push(id);
        }
    }
    tx.commit()?;
    if !recovery.ended.is_empty() {
        scrub_wal(conn);
    }
    Ok(recovery)
}

#[async_trait::async_trait]
impl JobStore for SqliteStore {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    async fn ping(&self) -> Result<(), JobStoreError> {
        self.with(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn recover(
        &self,
        stale: Stale,
        max_attempts: u32,
        now_ms: i64,
    ) -> Result<Recovery, JobStoreError> {
        self.with(move |conn| recover_in(conn, stale, max_attempts, now_ms))
            .await
    }

    async fn create(&self, job: NewJob) -> Result<JobRow, JobStoreError> {
        self.with(move |conn| {
            let fields = serde_json::to_string(&job.fields).unwrap_or_else(|_| "[]".to_string());
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO jobs (id, status, format, filename, webhook_url, created_ms, owner,
                                   output)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    job.id,
                    QUEUED,
                    job.format,
                    job.filename,
                    job.webhook_url,
                    job.now_ms,
                    job.owner,
                    job.output
                ],
            )?;
            tx.execute(
                "INSERT INTO inputs (job_id, fields, bytes, source) VALUES (?1, ?2, ?3, ?4)",
                params![job.id, fields, job.input, job.source],
            )?;
            let created = get_row(&tx, &job.id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            tx.commit()?;
            Ok(created)
        })
        .await
    }

    async fn get(&self, id: &str) -> Result<Option<JobRow>, JobStoreError> {
        let id = id.to_string();
        self.with(move |c| Ok(get_row(c, &id)?)).await
    }

    async fn counts(&self) -> Result<(u64, u64), JobStoreError> {
        self.with(|c| {
            let (queued, running): (i64, i64) = c.query_row(
                "SELECT COALESCE(SUM(status = 'queued'), 0), COALESCE(SUM(status = 'running'), 0)
                 FROM jobs",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok((queued.max(0) as u64, running.max(0) as u64))
        })
        .await
    }

    async fn claim_next(
        &self,
        worker: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Option<Claimed>, JobStoreError> {
        let worker = worker.to_string();
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let id: Option<String> = tx
                .query_row(
                    "SELECT id FROM jobs WHERE status = ?1 ORDER BY created_ms, id LIMIT 1",
                    [QUEUED],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(id) = id else {
                return Ok(None);
            };
            tx.execute(
                "UPDATE jobs SET status = ?2, attempts = attempts + 1, started_ms = ?3,
                     worker = ?4, lease_until_ms = ?5, progress_done = NULL, progress_total = NULL
                 WHERE id = ?1",
                params![id, RUNNING, now_ms, worker, lease_until_ms],
            )?;
            let input: Option<(String, Vec<u8>, Option<String>)> = tx
                .query_row(
                    "SELECT fields, bytes, source FROM inputs WHERE job_id = ?1",
                    [&id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let row = get_row(&tx, &id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            let Some((fields, input, source)) = input else {
                // Cannot happen while inputs live until the job ends; fail the job rather
                // than loop on it.
                end(
                    &tx,
                    &id,
                    FAILED,
                    Some(("internal", "the job's document was not found")),
                    now_ms,
                )?;
                tx.commit()?;
                return Ok(None);
            };
            tx.commit()?;
            let fields = serde_json::from_str(&fields).unwrap_or_default();
            Ok(Some(Claimed {
                row,
                input,
                source,
                fields,
            }))
        })
        .await
    }

    async fn heartbeat(
        &self,
        id: &str,
        worker: &str,
        lease_until_ms: i64,
        progress: Option<(u32, u32)>,
    ) -> Result<Lease, JobStoreError> {
        let (id, worker) = (id.to_string(), worker.to_string());
        self.with(move |c| {
            let cancel: Option<bool> = c
                .query_row(
                    "UPDATE jobs SET lease_until_ms = ?3,
                         progress_done = COALESCE(?4, progress_done),
                         progress_total = COALESCE(?5, progress_total)
                     WHERE id = ?1 AND worker = ?2 AND status = 'running'
                     RETURNING cancel_requested",
                    params![
                        id,
                        worker,
                        lease_until_ms,
                        progress.map(|p| p.0),
                        progress.map(|p| p.1)
                    ],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(match cancel {
                Some(cancel) => Lease::Held { cancel },
                None => Lease::Lost,
            })
        })
        .await
    }

    async fn finish(
        &self,
        id: &str,
        worker: &str,
        outcome: Finish,
        now_ms: i64,
    ) -> Result<Finished, JobStoreError> {
        let (id, worker) = (id.to_string(), worker.to_string());
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let held: Option<bool> = tx
                .query_row(
                    "SELECT cancel_requested FROM jobs
                     WHERE id = ?1 AND worker = ?2 AND status = 'running'",
                    params![id, worker],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(cancel_requested) = held else {
                return Ok(Finished::NotOurs);
            };
            // A cancellation asked for while the job ran wins over a result that raced it.
            let outcome = if cancel_requested {
                Finish::Cancelled
            } else {
                outcome
            };
            match &outcome {
                Finish::Succeeded { result, pages } => {
                    tx.execute(
                        "INSERT OR REPLACE INTO results (job_id, body) VALUES (?1, ?2)",
                        params![id, result],
                    )?;
                    tx.execute(
                        "UPDATE jobs SET pages = ?2 WHERE id = ?1",
                        params![id, pages],
                    )?;
                    end(&tx, &id, SUCCEEDED, None, now_ms)?;
                }
                Finish::Failed { code, message } => {
                    end(&tx, &id, FAILED, Some((code, message)), now_ms)?;
                }
                Finish::Cancelled => end(&tx, &id, CANCELLED, None, now_ms)?,
            }
            let done = get_row(&tx, &id)?;
            tx.commit()?;
            scrub_wal(conn);
            Ok(done.map_or(Finished::NotOurs, |row| Finished::Ended(Box::new(row))))
        })
        .await
    }

    async fn requeue(&self, id: &str, worker: &str) -> Result<(), JobStoreError> {
        let (id, worker) = (id.to_string(), worker.to_string());
        self.with(move |c| {
            c.execute(
                "UPDATE jobs SET status = ?2, started_ms = NULL, attempts = MAX(attempts - 1, 0),
                     worker = NULL, lease_until_ms = NULL
                 WHERE id = ?1 AND status = ?3 AND worker = ?4",
                params![id, QUEUED, RUNNING, worker],
            )?;
            Ok(())
        })
        .await
    }

    async fn retry(&self, id: &str, worker: &str) -> Result<(), JobStoreError> {
        let (id, worker) = (id.to_string(), worker.to_string());
        self.with(move |c| {
            c.execute(
                "UPDATE jobs SET status = ?2, started_ms = NULL, worker = NULL,
                     lease_until_ms = NULL
                 WHERE id = ?1 AND status = ?3 AND worker = ?4",
                params![id, QUEUED, RUNNING, worker],
            )?;
            Ok(())
        })
        .await
    }

    async fn cancel(&self, id: &str, now_ms: i64) -> Result<CancelOutcome, JobStoreError> {
        let id = id.to_string();
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let Some(job) = get_row(&tx, &id)? else {
                return Ok(CancelOutcome::Missing);
            };
            let outcome = match job.status.as_str() {
                QUEUED => {
                    end(&tx, &id, CANCELLED, None, now_ms)?;
                    let mut job = job;
                    job.status = CANCELLED.to_string();
                    job.finished_ms = Some(now_ms);
                    CancelOutcome::Cancelled(job)
                }
                RUNNING => {
                    tx.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?1", [&id])?;
                    CancelOutcome::Running(job)
                }
                _ => {
                    tx.execute("DELETE FROM jobs WHERE id = ?1", [&id])?;
                    CancelOutcome::Deleted(job)
                }
            };
            tx.commit()?;
            if !matches!(outcome, CancelOutcome::Running(_)) {
                scrub_wal(conn);
            }
            Ok(outcome)
        })
        .await
    }

    async fn result(&self, id: &str) -> Result<Option<Vec<u8>>, JobStoreError> {
        let id = id.to_string();
        self.with(move |c| {
            Ok(
                c.query_row("SELECT body FROM results WHERE job_id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?,
            )
        })
        .await
    }

    async fn set_webhook_state(&self, id: &str, state: &str) -> Result<(), JobStoreError> {
        let (id, state) = (id.to_string(), state.to_string());
        self.with(move |c| {
            c.execute(
                "UPDATE jobs SET webhook_state = ?2 WHERE id = ?1",
                params![id, state],
            )?;
            Ok(())
        })
        .await
    }

    async fn pending_webhooks(&self, before_ms: i64) -> Result<Vec<JobRow>, JobStoreError> {
        self.with(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM jobs WHERE webhook_state = 'pending' AND finished_ms < ?1"
            ))?;
            let rows = stmt.query_map([before_ms], row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn purge(&self, cutoff_ms: i64) -> Result<usize, JobStoreError> {
        self.with(move |c| {
            let n = c.execute(
                "DELETE FROM jobs WHERE finished_ms IS NOT NULL AND finished_ms < ?1",
                [cutoff_ms],
            )?;
            if n > 0 {
                c.execute_batch("PRAGMA incremental_vacuum;")?;
                scrub_wal(c);
            }
            Ok(n)
        })
        .await
    }
}
