//! The job store: one SQLite file (WAL, synchronous=FULL), so jobs, their documents and their
//! results survive a crash or a restart.
//!
//! Tables: `jobs` (the record), `inputs` (the document and its options, password included,
//! deleted as soon as the job ends), `results` (the answer of a finished job, deleted with the
//! job when its time to live is over).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

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
    /// The database could not be opened, created or migrated.
    #[error("job database {path}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The data directory could not be created.
    #[error("cannot create the data directory")]
    DataDir(#[source] std::io::Error),
    /// A query failed.
    #[error("job database query failed")]
    Query(#[from] rusqlite::Error),
}

/// A job as stored.
#[derive(Debug, Clone)]
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
}

/// A job taken to run: its record, document and option fields.
#[derive(Debug)]
pub(crate) struct Claimed {
    pub row: JobRow,
    pub input: Vec<u8>,
    pub fields: Vec<(String, String)>,
}

/// How a job ended.
#[derive(Debug)]
pub(crate) enum Finish {
    Succeeded { result: Vec<u8>, pages: u32 },
    Failed { code: String, message: String },
    Cancelled,
}

/// What a cancel request did.
#[derive(Debug)]
pub(crate) enum CancelOutcome {
    /// It had not started: now cancelled.
    Cancelled(JobRow),
    /// It is running: the runner must stop it.
    Running(JobRow),
    /// It had ended: it is now deleted, with its result.
    Deleted(JobRow),
    /// No such job.
    Missing,
}

/// What start-up recovery did.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Recovery {
    /// Jobs interrupted while running, queued to run again.
    pub requeued: Vec<String>,
    /// Jobs interrupted too often, or cancelled before the interruption, now ended.
    pub ended: Vec<String>,
}

/// A new job's data.
#[derive(Debug)]
pub(crate) struct NewJob<'a> {
    pub id: &'a str,
    pub format: &'a str,
    pub filename: Option<&'a str>,
    pub webhook_url: Option<&'a str>,
    pub fields: &'a [(String, String)],
    pub input: &'a [u8],
    pub now_ms: i64,
}

/// The SQLite job store. Calls block: async callers use `spawn_blocking`.
#[derive(Debug)]
pub(crate) struct JobStore {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
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

const COLUMNS: &str = "id, status, format, filename, webhook_url, webhook_state, attempts, \
                       created_ms, started_ms, finished_ms, error_code, error_message, pages";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
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
    })
}

impl JobStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<JobStore, JobStoreError> {
        if let Some(dir) = path.parent() {
            fs_err::create_dir_all(dir).map_err(JobStoreError::DataDir)?;
        }
        let open_err = |source| JobStoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        // FULL: a job accepted with 202 is on disk, even if the machine loses power next.
        // journal_size_limit: large documents pass through the WAL; do not keep it that large.
        // auto_vacuum takes effect only on a new database, before its first table: deleted
        // documents and expired results then give their pages back to the file system.
        conn.execute_batch(
            "PRAGMA auto_vacuum = INCREMENTAL;
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;
             PRAGMA journal_size_limit = 67108864;",
        )
        .map_err(open_err)?;
        conn.execute_batch(SCHEMA).map_err(open_err)?;
        Ok(JobStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction rolls the transaction back: the connection stays usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// At start-up, before any job runs: a job left `running` was interrupted by a crash.
    /// It runs again, unless it was already tried `max_attempts` times (then it fails, so a
    /// document that kills the process cannot loop forever) or its cancellation was asked for.
    pub fn recover(&self, max_attempts: u32, now_ms: i64) -> Result<Recovery, JobStoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut recovery = Recovery::default();
        let stuck: Vec<(String, u32, bool)> = {
            let mut stmt =
                tx.prepare("SELECT id, attempts, cancel_requested FROM jobs WHERE status = ?1")?;
            let rows = stmt.query_map([RUNNING], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (id, attempts, cancel) in stuck {
            if cancel {
                end(&tx, &id, CANCELLED, None, now_ms)?;
                recovery.ended.push(id);
            } else if attempts >= max_attempts {
                let message = format!(
                    "the server stopped while running this job {attempts} times; giving up"
                );
                end(&tx, &id, FAILED, Some(("interrupted", &message)), now_ms)?;
                recovery.ended.push(id);
            } else {
                tx.execute(
                    "UPDATE jobs SET status = ?2, started_ms = NULL WHERE id = ?1",
                    params![id, QUEUED],
                )?;
                recovery.requeued.push(id);
            }
        }
        tx.commit()?;
        Ok(recovery)
    }

    pub fn create(&self, job: &NewJob<'_>) -> Result<JobRow, JobStoreError> {
        let fields = serde_json::to_string(job.fields).unwrap_or_else(|_| "[]".to_string());
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO jobs (id, status, format, filename, webhook_url, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                job.id,
                QUEUED,
                job.format,
                job.filename,
                job.webhook_url,
                job.now_ms
            ],
        )?;
        tx.execute(
            "INSERT INTO inputs (job_id, fields, bytes) VALUES (?1, ?2, ?3)",
            params![job.id, fields, job.input],
        )?;
        let created = tx.query_row(
            &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
            [job.id],
            row,
        )?;
        tx.commit()?;
        Ok(created)
    }

    pub fn get(&self, id: &str) -> Result<Option<JobRow>, JobStoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
                [id],
                row,
            )
            .optional()?)
    }

    /// `(queued, running)`.
    pub fn counts(&self) -> Result<(u64, u64), JobStoreError> {
        let (queued, running): (i64, i64) = self.conn().query_row(
            "SELECT COALESCE(SUM(status = 'queued'), 0), COALESCE(SUM(status = 'running'), 0) FROM jobs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((queued.max(0) as u64, running.max(0) as u64))
    }

    /// Takes the oldest queued job: marks it running and counts the attempt, in one
    /// transaction, so that a crash from here on is seen by [`JobStore::recover`].
    pub fn claim_next(&self, now_ms: i64) -> Result<Option<Claimed>, JobStoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
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
            "UPDATE jobs SET status = ?2, attempts = attempts + 1, started_ms = ?3 WHERE id = ?1",
            params![id, RUNNING, now_ms],
        )?;
        let input: Option<(String, Vec<u8>)> = tx
            .query_row(
                "SELECT fields, bytes FROM inputs WHERE job_id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let row = tx.query_row(
            &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
            [&id],
            row,
        )?;
        let Some((fields, input)) = input else {
            // Cannot happen while inputs live until the job ends; fail the job rather than
            // loop on it.
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
        Ok(Some(Claimed { row, input, fields }))
    }

    /// Records how a running job ended; its document is deleted. A webhook, if any, becomes
    /// pending.
    pub fn finish(
        &self,
        id: &str,
        outcome: Finish,
        now_ms: i64,
    ) -> Result<Option<JobRow>, JobStoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let cancel_requested: bool = tx
            .query_row(
                "SELECT cancel_requested FROM jobs WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false);
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
                end(&tx, id, SUCCEEDED, None, now_ms)?;
            }
            Finish::Failed { code, message } => {
                end(&tx, id, FAILED, Some((code, message)), now_ms)?;
            }
            Finish::Cancelled => end(&tx, id, CANCELLED, None, now_ms)?,
        }
        let done = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
                [id],
                row,
            )
            .optional()?;
        tx.commit()?;
        Ok(done)
    }

    /// Puts a job interrupted by a graceful shutdown back in the queue; the interrupted run
    /// does not count as an attempt.
    pub fn requeue(&self, id: &str) -> Result<(), JobStoreError> {
        self.conn().execute(
            "UPDATE jobs SET status = ?2, started_ms = NULL, attempts = MAX(attempts - 1, 0)
             WHERE id = ?1 AND status = ?3",
            params![id, QUEUED, RUNNING],
        )?;
        Ok(())
    }

    pub fn cancel(&self, id: &str, now_ms: i64) -> Result<CancelOutcome, JobStoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let Some(job) = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
                [id],
                row,
            )
            .optional()?
        else {
            return Ok(CancelOutcome::Missing);
        };
        let outcome = match job.status.as_str() {
            QUEUED => {
                end(&tx, id, CANCELLED, None, now_ms)?;
                let mut job = job;
                job.status = CANCELLED.to_string();
                job.finished_ms = Some(now_ms);
                CancelOutcome::Cancelled(job)
            }
            RUNNING => {
                tx.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?1", [id])?;
                CancelOutcome::Running(job)
            }
            _ => {
                tx.execute("DELETE FROM jobs WHERE id = ?1", [id])?;
                CancelOutcome::Deleted(job)
            }
        };
        tx.commit()?;
        Ok(outcome)
    }

    pub fn result(&self, id: &str) -> Result<Option<Vec<u8>>, JobStoreError> {
        Ok(self
            .conn()
            .query_row("SELECT body FROM results WHERE job_id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_webhook_state(&self, id: &str, state: &str) -> Result<(), JobStoreError> {
        self.conn().execute(
            "UPDATE jobs SET webhook_state = ?2 WHERE id = ?1",
            params![id, state],
        )?;
        Ok(())
    }

    /// Finished jobs whose webhook was not delivered yet (the process stopped before it was).
    pub fn pending_webhooks(&self) -> Result<Vec<JobRow>, JobStoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE webhook_state = 'pending'"
        ))?;
        let rows = stmt.query_map([], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes jobs that ended before `cutoff_ms`, with their results.
    pub fn purge(&self, cutoff_ms: i64) -> Result<usize, JobStoreError> {
        let conn = self.conn();
        let n = conn.execute(
            "DELETE FROM jobs WHERE finished_ms IS NOT NULL AND finished_ms < ?1",
            [cutoff_ms],
        )?;
        conn.execute_batch("PRAGMA incremental_vacuum;")?;
        Ok(n)
    }
}

/// Ends a job: its final status and error, and its document deleted.
fn end(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    status: &str,
    error: Option<(&str, &str)>,
    now_ms: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE jobs SET status = ?2, finished_ms = ?3, error_code = ?4, error_message = ?5,
             webhook_state = CASE WHEN webhook_url IS NULL THEN NULL ELSE 'pending' END
         WHERE id = ?1",
        params![id, status, now_ms, error.map(|e| e.0), error.map(|e| e.1)],
    )?;
    tx.execute("DELETE FROM inputs WHERE job_id = ?1", [id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_job<'a>(id: &'a str, fields: &'a [(String, String)]) -> NewJob<'a> {
        NewJob {
            id,
            format: "markdown",
            filename: Some("a.pdf"),
            webhook_url: None,
            fields,
            input: b"%PDF-1.4 test",
            now_ms: 1,
        }
    }

    #[test]
    fn a_job_interrupted_by_a_crash_is_requeued_then_failed_never_left_running() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.sqlite3");
        let fields = vec![("pages".to_string(), "1".to_string())];
        {
            let store = JobStore::open(&path).unwrap();
            store.create(&new_job("a", &fields)).unwrap();
            let claimed = store.claim_next(2).unwrap().unwrap();
            assert_eq!(claimed.fields, fields);
            assert_eq!(claimed.input, b"%PDF-1.4 test");
            assert_eq!(claimed.row.attempts, 1);
            // Dropped without finishing: the process "died".
        }
        for attempt in 2..=3 {
            let store = JobStore::open(&path).unwrap();
            let r = store.recover(3, 10).unwrap();
            assert_eq!(r.requeued, vec!["a".to_string()]);
            assert_eq!(store.get("a").unwrap().unwrap().status, QUEUED);
            assert_eq!(store.claim_next(11).unwrap().unwrap().row.attempts, attempt);
        }
        let store = JobStore::open(&path).unwrap();
        let r = store.recover(3, 20).unwrap();
        assert_eq!(r.ended, vec!["a".to_string()]);
        let job = store.get("a").unwrap().unwrap();
        assert_eq!(job.status, FAILED);
        assert_eq!(job.error_code.as_deref(), Some("interrupted"));
        assert!(store.claim_next(21).unwrap().is_none());
    }

    #[test]
    fn finishing_keeps_the_result_drops_the_input_and_purge_expires_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::open(&dir.path().join("j.sqlite3")).unwrap();
        store.create(&new_job("b", &[])).unwrap();
        store.claim_next(2).unwrap().unwrap();
        let done = store
            .finish(
                "b",
                Finish::Succeeded {
                    result: b"{}".to_vec(),
                    pages: 3,
                },
                5,
            )
            .unwrap()
            .unwrap();
        assert_eq!((done.status.as_str(), done.pages), (SUCCEEDED, Some(3)));
        assert_eq!(store.result("b").unwrap().unwrap(), b"{}");
        let inputs: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM inputs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(inputs, 0);
        assert_eq!(store.purge(5).unwrap(), 0);
        assert_eq!(store.purge(6).unwrap(), 1);
        assert!(store.get("b").unwrap().is_none() && store.result("b").unwrap().is_none());
    }

    #[test]
    fn cancel_depends_on_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::open(&dir.path().join("j.sqlite3")).unwrap();
        store.create(&new_job("q", &[])).unwrap();
        assert!(matches!(
            store.cancel("q", 3).unwrap(),
            CancelOutcome::Cancelled(_)
        ));
        assert!(store.claim_next(4).unwrap().is_none());
        assert!(matches!(
            store.cancel("q", 5).unwrap(),
            CancelOutcome::Deleted(_)
        ));
        assert!(matches!(
            store.cancel("q", 5).unwrap(),
            CancelOutcome::Missing
        ));
        store.create(&new_job("r", &[])).unwrap();
        store.claim_next(6).unwrap().unwrap();
        assert!(matches!(
            store.cancel("r", 7).unwrap(),
            CancelOutcome::Running(_)
        ));
        // A crash now: the cancellation asked for is honoured at start-up.
        let r = store.recover(3, 8).unwrap();
        assert_eq!(r.ended, vec!["r".to_string()]);
        assert_eq!(store.get("r").unwrap().unwrap().status, CANCELLED);
    }
}
