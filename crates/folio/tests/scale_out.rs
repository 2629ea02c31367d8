//! Three `folio serve` replicas, real processes, on one real PostgreSQL job queue: every job is
//! done exactly once, a replica killed with SIGKILL mid-job has its job finished by another,
//! a cancellation asked of one replica stops the run on another, and a database restart in
//! the middle loses nothing.

#[path = "../../folio-server/tests/support/pg.rs"]
#[allow(dead_code)]
mod pg;
mod serve_common;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use folio_worker::fake::text_pdf;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(240);
const NEEDS: &str = "PostgreSQL is not installed (.ci/setup.d/40-postgres.sh installs it)";

struct Replica {
    child: Option<Child>,
    base: String,
    _data: tempfile::TempDir,
}

impl Replica {
    fn start(db: &str, extra: &[&str]) -> Replica {
        let data = tempfile::tempdir().unwrap();
        let mut cmd = serve_common::serve_command();
        cmd.arg("--data-dir")
            .arg(data.path())
            .args([
                "--jobs-db",
                db,
                "--max-concurrent",
                "2",
                "--job-workers",
                "2",
            ])
            .args(extra);
        let (child, base) = serve_common::spawn_serve(cmd);
        let r = Replica {
            child: Some(child),
            base,
            _data: data,
        };
        wait_until("the replica to be ready", || {
            get(&r.url("/ready")).is_ok_and(|(s, _)| s == 200)
        });
        r
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let ok = Command::new("kill")
                .args(["-KILL", &c.id().to_string()])
                .status()
                .unwrap()
                .success();
            assert!(ok);
            let _ = c.wait();
        }
    }

    /// `folio_jobs_total{event="..."}` on this replica.
    fn jobs_total(&self, event: &str) -> u64 {
        let (_, text) = get(&self.url("/metrics")).unwrap();
        let prefix = format!("folio_jobs_total{{event=\"{event}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn get(url: &str) -> Result<(u16, String), ureq::Error> {
    let mut r = agent().get(url).call()?;
    let status = r.status().as_u16();
    Ok((status, r.body_mut().read_to_string().unwrap_or_default()))
}

fn delete(url: &str) -> (u16, String) {
    let mut r = agent().delete(url).call().unwrap();
    let status = r.status().as_u16();
    (status, r.body_mut().read_to_string().unwrap_or_default())
}

fn post_pdf(url: &str, pdf: &[u8]) -> Result<(u16, String), ureq::Error> {
    let boundary = "scale-out-test";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.pdf\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut r = agent()
        .post(url)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .send(&body[..])?;
    let status = r.status().as_u16();
    Ok((status, r.body_mut().read_to_string().unwrap_or_default()))
}

/// Submits a job, retrying while the replica answers 503 (its database is away): a job is
/// accepted (202) only once it is stored.
fn submit(r: &Replica, pdf: &[u8]) -> String {
    let start = Instant::now();
    loop {
        let (status, body) = post_pdf(&r.url("/v1/jobs"), pdf).unwrap();
        if status == 202 {
            let v: Value = serde_json::from_str(&body).unwrap();
            return v["id"].as_str().unwrap().to_string();
        }
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("job_store_unavailable"), "{body}");
        assert!(start.elapsed() < LIMIT, "the database did not come back");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn job(r: &Replica, id: &str) -> Option<Value> {
    let (status, body) = get(&r.url(&format!("/v1/jobs/{id}"))).ok()?;
    (status == 200).then(|| serde_json::from_str(&body).unwrap())
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < LIMIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

mod needs_postgres {
    use super::*;

    #[test]
    #[ignore = "needs PostgreSQL (initdb, pg_ctl); scripts/test.sh runs needs_postgres::"]
    fn three_replicas_do_each_of_200_jobs_exactly_once_through_a_database_restart() {
        let server = pg::PgServer::start().expect(NEEDS);
        server.create_db("queue");
        let db = server.url("queue");
        // A lease longer than the restart: no run is taken over while its replica lives.
        let replicas: Vec<Replica> = (0..3)
            .map(|_| Replica::start(&db, &["--job-lease", "20s"]))
            .collect();
        let pdf = text_pdf(1, 45);
        let mut ids = Vec::new();
        for i in 0..200 {
            if i == 100 {
                server.stop();
                // Submissions meanwhile get 503 and are retried; /ready says why.
                let (status, body) = get(&replicas[0].url("/ready")).unwrap();
                assert_eq!(status, 503, "{body}");
                assert!(body.contains("job_store_unavailable"), "{body}");
                std::thread::sleep(Duration::from_secs(1));
                server.start_again();
            }
            ids.push(submit(&replicas[i % 3], &pdf));
        }
        let mut pending: Vec<&String> = ids.iter().collect();
        let mut turn = 0;
        wait_until("all 200 jobs to succeed", || {
            pending.retain(|id| {
                turn += 1;
                let v = job(&replicas[turn % 3], id);
                v.is_none_or(|v| v["status"] != "succeeded")
            });
            pending.is_empty()
        });
        // Each ran once: one attempt each, and 200 successes counted across the replicas.
        let once = server.psql(
            "queue",
            "SELECT count(*) FROM folio_jobs WHERE status = 'succeeded' AND attempts = 1",
        );
        assert_eq!(once, "200");
        let succeeded: u64 = replicas.iter().map(|r| r.jobs_total("succeeded")).sum();
        assert_eq!(succeeded, 200);
        let ran_on: usize = replicas
            .iter()
            .filter(|r| r.jobs_total("succeeded") > 0)
            .count();
        assert!(
            ran_on >= 2,
            "the work was not shared: {ran_on} replica(s) ran it"
        );
        // Inputs are gone with their jobs' ends; results stay.
        assert_eq!(
            server.psql("queue", "SELECT count(*) FROM folio_job_inputs"),
            "0"
        );
        assert_eq!(
            server.psql("queue", "SELECT count(*) FROM folio_job_results"),
            "200"
        );
        assert_eq!(
            server.psql(
                "queue",
                "SELECT string_agg(version::text, ',') FROM folio_schema_migrations"
            ),
            "1"
        );
    }

    #[test]
    #[ignore = "needs PostgreSQL (initdb, pg_ctl); scripts/test.sh runs needs_postgres::"]
    fn a_replica_killed_mid_job_has_its_job_finished_by_another_and_cancel_works_across() {
        let server = pg::PgServer::start().expect(NEEDS);
        server.create_db("queue");
        let db = server.url("queue");
        let lease = ["--job-lease", "2s"];
        let mut a = Replica::start(&db, &lease);
        let slow = text_pdf(1500, 45);
        let id = submit(&a, &slow);
        wait_until("the job to run on the first replica", || {
            job(&a, &id).is_some_and(|v| v["progress"]["pages_done"].as_u64().unwrap_or(0) > 0)
        });
        let b = Replica::start(&db, &lease);
        let c = Replica::start(&db, &lease);
        // Another replica sees the run's progress through the heartbeat.
        wait_until("progress to show on another replica", || {
            job(&b, &id).is_some_and(|v| {
                v["status"] == "running" && v["progress"]["pages_done"].as_u64().unwrap_or(0) > 0
            })
        });
        a.kill9();
        let mut last = Value::Null;
        wait_until("another replica to finish the job", || {
            last = job(&c, &id).unwrap_or(Value::Null);
            last["status"] == "succeeded"
        });
        assert_eq!(last["attempts"], 2, "{last}");
        assert_eq!(last["pages_extracted"], 1500, "{last}");
        assert_eq!(b.jobs_total("succeeded") + c.jobs_total("succeeded"), 1);

        // A cancellation asked of one replica stops the run on whichever holds it.
        let other = submit(&b, &slow);
        wait_until("the second job to run", || {
            job(&c, &other).is_some_and(|v| v["progress"]["pages_done"].as_u64().unwrap_or(0) > 0)
        });
        let runs_on_b = b.jobs_total("cancelled");
        let (status, body) = delete(&c.url(&format!("/v1/jobs/{other}")));
        assert_eq!(status, 200, "{body}");
        wait_until("the run to stop", || {
            job(&b, &other).is_some_and(|v| v["status"] == "cancelled")
        });
        assert_eq!(
            b.jobs_total("cancelled") + c.jobs_total("cancelled"),
            runs_on_b + 1
        );
    }
}
