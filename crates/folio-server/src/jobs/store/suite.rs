//! One test suite for every [`JobStore`]: each case runs against SQLite and against a real
//! PostgreSQL server started for the test (`tests/support/pg.rs`).

use std::sync::Arc;

use super::*;

#[path = "../../../tests/support/pg.rs"]
#[allow(dead_code)]
mod pg;

fn new_job(id: &str, fields: &[(String, String)]) -> NewJob {
    NewJob {
        id: id.to_string(),
        format: "markdown".to_string(),
        filename: Some("a.pdf".to_string()),
        fields: fields.to_vec(),
        input: b"%PDF-1.4 test".to_vec(),
        owner: Some("k1".to_string()),
        now_ms: 1,
        ..NewJob::default()
    }
}

fn ended(f: Finished) -> JobRow {
    match f {
        Finished::Ended(row) => *row,
        Finished::NotOurs => panic!("the end was not recorded"),
    }
}

/// A job whose runner died is requeued when its lease runs out, then failed after the last
/// attempt; never left running.
async fn interrupted_jobs_are_requeued_then_failed(store: &dyn JobStore) {
    let fields = vec![("pages".to_string(), "1".to_string())];
    store.create(new_job("a", &fields)).await.unwrap();
    let claimed = store.claim_next("w1", 2, 5).await.unwrap().unwrap();
    assert_eq!(claimed.fields, fields);
    assert_eq!(claimed.input, b"%PDF-1.4 test");
    assert_eq!(claimed.row.attempts, 1);
    // Its lease (until 5) still holds at 4: nothing to recover.
    let r = store.recover(Stale::Expired, 3, 4).await.unwrap();
    assert!(r.requeued.is_empty() && r.ended.is_empty());
    for attempt in 2..=3 {
        let now = 10 * i64::from(attempt);
        let r = store.recover(Stale::Expired, 3, now).await.unwrap();
        assert_eq!(r.requeued, vec!["a".to_string()]);
        assert_eq!(store.get("a").await.unwrap().unwrap().status, QUEUED);
        let again = store
            .claim_next("w2", now + 1, now + 2)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.row.attempts, attempt);
    }
    let r = store.recover(Stale::Expired, 3, 40).await.unwrap();
    assert_eq!(r.ended, vec!["a".to_string()]);
    let job = store.get("a").await.unwrap().unwrap();
    assert_eq!(job.status, FAILED);
    assert_eq!(job.error_code.as_deref(), Some("interrupted"));
    assert!(store.claim_next("w1", 41, 50).await.unwrap().is_none());
}

/// The result stays, the input (document and password) goes; purge expires the rest.
/// (The caller checks that no input row is left.)
async fn finishing_keeps_the_result_and_drops_the_input(store: &dyn JobStore) {
    let password = vec![("password".to_string(), "s3cret".to_string())];
    store.create(new_job("b", &password)).await.unwrap();
    store.claim_next("w1", 2, 100).await.unwrap().unwrap();
    let done = ended(
        store
            .finish(
                "b",
                "w1",
                Finish::Succeeded {
                    result: b"{}".to_vec(),
                    pages: 3,
                },
                5,
            )
            .await
            .unwrap(),
    );
    assert_eq!((done.status.as_str(), done.pages), (SUCCEEDED, Some(3)));
    assert_eq!(done.owner.as_deref(), Some("k1"));
    assert_eq!(store.result("b").await.unwrap().unwrap(), b"{}");
    assert_eq!(store.purge(5).await.unwrap(), 0);
    assert_eq!(store.purge(6).await.unwrap(), 1);
    assert!(store.get("b").await.unwrap().is_none());
    assert!(store.result("b").await.unwrap().is_none());
}

async fn cancel_depends_on_the_state(store: &dyn JobStore) {
    store.create(new_job("q", &[])).await.unwrap();
    assert!(matches!(
        store.cancel("q", 3).await.unwrap(),
        CancelOutcome::Cancelled(_)
    ));
    assert!(store.claim_next("w1", 4, 100).await.unwrap().is_none());
    assert!(matches!(
        store.cancel("q", 5).await.unwrap(),
        CancelOutcome::Deleted(_)
    ));
    assert!(matches!(
        store.cancel("q", 5).await.unwrap(),
        CancelOutcome::Missing
    ));
    store.create(new_job("r", &[])).await.unwrap();
    store.claim_next("w1", 6, 100).await.unwrap().unwrap();
    assert_eq!(
        store.heartbeat("r", "w1", 100, None).await.unwrap(),
        Lease::Held { cancel: false }
    );
    assert!(matches!(
        store.cancel("r", 7).await.unwrap(),
        CancelOutcome::Running(_)
    ));
    // The runner, wherever it is, learns it at its next heartbeat.
    assert_eq!(
        store.heartbeat("r", "w1", 100, Some((1, 4))).await.unwrap(),
        Lease::Held { cancel: true }
    );
    assert_eq!(
        store.get("r").await.unwrap().unwrap().progress,
        Some((1, 4))
    );
    // A result that raced the cancellation loses to it.
    let row = ended(
        store
            .finish(
                "r",
                "w1",
                Finish::Succeeded {
                    result: b"{}".to_vec(),
                    pages: 1,
                },
                8,
            )
            .await
            .unwrap(),
    );
    assert_eq!(row.status, CANCELLED);
    assert!(store.result("r").await.unwrap().is_none());
}

/// A runner whose lease ran out can neither renew it nor record the end once another runner
/// took the job.
async fn a_lost_lease_records_nothing(store: &dyn JobStore) {
    store.create(new_job("s", &[])).await.unwrap();
    store.claim_next("w1", 2, 5).await.unwrap().unwrap();
    assert_eq!(
        store.heartbeat("s", "w2", 50, None).await.unwrap(),
        Lease::Lost,
        "another runner's heartbeat must not renew the lease"
    );
    store.recover(Stale::Expired, 3, 10).await.unwrap();
    let taken = store.claim_next("w2", 11, 50).await.unwrap().unwrap();
    assert_eq!(taken.row.attempts, 2);
    assert_eq!(
        store.heartbeat("s", "w1", 60, None).await.unwrap(),
        Lease::Lost
    );
    let late = store
        .finish(
            "s",
            "w1",
            Finish::Failed {
                code: "x".to_string(),
                message: "late".to_string(),
            },
            12,
        )
        .await
        .unwrap();
    assert!(matches!(late, Finished::NotOurs));
    // A graceful requeue by the old runner does nothing either.
    store.requeue("s", "w1").await.unwrap();
    assert_eq!(store.get("s").await.unwrap().unwrap().status, RUNNING);
    let row = ended(
        store
            .finish(
                "s",
                "w2",
                Finish::Succeeded {
                    result: b"ok".to_vec(),
                    pages: 1,
                },
                13,
            )
            .await
            .unwrap(),
    );
    assert_eq!((row.status.as_str(), row.attempts), (SUCCEEDED, 2));
    // A graceful requeue gives the attempt back.
    store.create(new_job("t", &[])).await.unwrap();
    store.claim_next("w1", 14, 100).await.unwrap().unwrap();
    store.requeue("t", "w1").await.unwrap();
    let t = store.get("t").await.unwrap().unwrap();
    assert_eq!((t.status.as_str(), t.attempts), (QUEUED, 0));
    // A retry (the run's process died) keeps the attempt, and the input for the next run; a
    // runner that does not hold the job cannot retry it.
    let again = store.claim_next("w1", 15, 100).await.unwrap().unwrap();
    assert_eq!(again.row.attempts, 1);
    store.retry("t", "w2").await.unwrap();
    assert_eq!(store.get("t").await.unwrap().unwrap().status, RUNNING);
    store.retry("t", "w1").await.unwrap();
    let t = store.get("t").await.unwrap().unwrap();
    assert_eq!((t.status.as_str(), t.attempts), (QUEUED, 1));
    let third = store.claim_next("w1", 16, 100).await.unwrap().unwrap();
    assert_eq!((third.row.attempts, third.input), (2, again.input));
}

/// Many runners claiming at once: every job is taken exactly once.
async fn concurrent_claims_take_each_job_once(store: Arc<dyn JobStore>) {
    let n = 60;
    for i in 0..n {
        let mut job = new_job(&format!("c{i:03}"), &[]);
        job.now_ms = i;
        store.create(job).await.unwrap();
    }
    assert_eq!(store.counts().await.unwrap(), (n as u64, 0));
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..8 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            let mut mine = Vec::new();
            while let Some(c) = store
                .claim_next(&format!("w{w}"), 100, 10_000)
                .await
                .unwrap()
            {
                mine.push(c.row.id);
            }
            mine
        });
    }
    let mut all = Vec::new();
    while let Some(mine) = tasks.join_next().await {
        all.extend(mine.unwrap());
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, n as usize, "a job was claimed twice");
    assert_eq!(all.len(), n as usize);
    assert_eq!(store.counts().await.unwrap(), (0, n as u64));
}

async fn pending_webhooks_are_found_after_their_runner_stopped(store: &dyn JobStore) {
    let mut job = new_job("h", &[]);
    job.webhook_url = Some("https://example.org/hook".to_string());
    store.create(job).await.unwrap();
    store.claim_next("w1", 2, 100).await.unwrap().unwrap();
    let row = ended(
        store
            .finish(
                "h",
                "w1",
                Finish::Failed {
                    code: "x".to_string(),
                    message: "m".to_string(),
                },
                5,
            )
            .await
            .unwrap(),
    );
    assert_eq!(row.webhook_state.as_deref(), Some("pending"));
    assert!(store.pending_webhooks(5).await.unwrap().is_empty());
    assert_eq!(store.pending_webhooks(6).await.unwrap().len(), 1);
    store.set_webhook_state("h", "delivered").await.unwrap();
    assert!(store.pending_webhooks(6).await.unwrap().is_empty());
}

mod sqlite {
    use super::*;

    fn open() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("data/jobs.sqlite3")).unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn interrupted() {
        let (_d, s) = open();
        interrupted_jobs_are_requeued_then_failed(&s).await;
    }

    #[tokio::test]
    async fn finishing() {
        let (_d, s) = open();
        finishing_keeps_the_result_and_drops_the_input(&s).await;
        assert_eq!(s.count_inputs(), 0, "the input outlived its job");
    }

    #[tokio::test]
    async fn cancel() {
        let (_d, s) = open();
        cancel_depends_on_the_state(&s).await;
    }

    #[tokio::test]
    async fn lease() {
        let (_d, s) = open();
        a_lost_lease_records_nothing(&s).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent() {
        let (_d, s) = open();
        concurrent_claims_take_each_job_once(Arc::new(s)).await;
    }

    #[tokio::test]
    async fn webhooks() {
        let (_d, s) = open();
        pending_webhooks_are_found_after_their_runner_stopped(&s).await;
    }

    /// At start-up the one process using the file requeues everything it left running,
    /// whatever the leases say.
    #[tokio::test]
    async fn start_up_recovers_every_running_job() {
        let (_d, s) = open();
        s.create(new_job("u", &[])).await.unwrap();
        s.claim_next("w1", 2, i64::MAX).await.unwrap().unwrap();
        let r = s.recover_now(Stale::All, 3, 3).unwrap();
        assert_eq!(r.requeued, vec!["u".to_string()]);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_data_directory_and_database_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("new/data");
        let path = data.join("jobs.sqlite3");
        let s = SqliteStore::open(&path).unwrap();
        s.create(new_job("p", &[])).await.unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        for entry in std::fs::read_dir(&data).unwrap() {
            let p = entry.unwrap().path();
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
        assert_eq!(s.secure_delete(), 1);
    }

    /// A database of the first schema gains the new columns and keeps its jobs.
    #[tokio::test]
    async fn a_version_1_database_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.sqlite3");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(super::super::sqlite::SCHEMA_V1).unwrap();
            c.execute(
                "INSERT INTO jobs (id, status, format, created_ms) VALUES ('old', 'queued', 'markdown', 1)",
                [],
            )
            .unwrap();
            c.execute(
                "INSERT INTO inputs (job_id, fields, bytes) VALUES ('old', '[]', x'25')",
                [],
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        let claimed = s.claim_next("w", 2, 10).await.unwrap().unwrap();
        assert_eq!((claimed.row.id.as_str(), claimed.row.owner), ("old", None));
        drop(s);
        SqliteStore::open(&path).unwrap();
    }

    use rusqlite::Connection;
}

mod needs_postgres {
    use super::*;

    const NEEDS: &str = "needs PostgreSQL (initdb, pg_ctl): .ci/setup.d/40-postgres.sh installs it";

    async fn store(server: &pg::PgServer, db: &str) -> PostgresStore {
        server.create_db(db);
        let s = PostgresStore::new(&server.url(db), &PostgresOptions::default()).unwrap();
        s.migrate().await.unwrap();
        s
    }

    /// Every case of the suite, on one server (one database per case).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    #[ignore = "needs PostgreSQL (initdb, pg_ctl); scripts/test.sh runs needs_postgres::"]
    async fn the_shared_suite_passes_on_postgres() {
        let server = pg::PgServer::start().expect(NEEDS);
        interrupted_jobs_are_requeued_then_failed(&store(&server, "t1").await).await;
        let s = store(&server, "t2").await;
        finishing_keeps_the_result_and_drops_the_input(&s).await;
        assert_eq!(s.count_inputs().await, 0, "the input outlived its job");
        cancel_depends_on_the_state(&store(&server, "t3").await).await;
        a_lost_lease_records_nothing(&store(&server, "t4").await).await;
        concurrent_claims_take_each_job_once(Arc::new(store(&server, "t5").await)).await;
        pending_webhooks_are_found_after_their_runner_stopped(&store(&server, "t6").await).await;
    }

    /// Replicas starting together apply each migration once; a restarted database is
    /// unavailable meanwhile and usable again by itself, with nothing lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    #[ignore = "needs PostgreSQL (initdb, pg_ctl); scripts/test.sh runs needs_postgres::"]
    async fn migrations_race_safely_and_the_pool_survives_a_restart() {
        let server = pg::PgServer::start().expect(NEEDS);
        server.create_db("m");
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let url = server.url("m");
            tasks.spawn(async move {
                let s = PostgresStore::new(&url, &PostgresOptions::default()).unwrap();
                s.migrate().await.map(|()| s)
            });
        }
        let mut stores = Vec::new();
        while let Some(r) = tasks.join_next().await {
            stores.push(r.unwrap().expect("a concurrent migration failed"));
        }
        let s = stores.pop().unwrap();
        assert_eq!(s.applied_migrations().await.unwrap(), vec![1]);
        s.create(new_job("kept", &[])).await.unwrap();

        server.stop();
        let down = s.ping().await.unwrap_err();
        assert!(down.is_unavailable(), "{down:?}");
        let create = s.create(new_job("refused", &[])).await.unwrap_err();
        assert!(create.is_unavailable(), "{create:?}");
        server.start_again();
        let mut back = false;
        for _ in 0..50 {
            if s.ping().await.is_ok() {
                back = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert!(back, "the pool did not reconnect by itself");
        assert_eq!(s.get("kept").await.unwrap().unwrap().status, QUEUED);
        assert!(s.claim_next("w", 1, 100).await.unwrap().is_some());
    }
}
