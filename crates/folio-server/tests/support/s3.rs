//! A real S3-compatible server for tests: moto in server mode (`moto_server`, from PyPI's
//! `moto[server]`; `.ci/setup.d/40-postgres.sh` installs it), on a free loopback port, stopped
//! when dropped; and a small signed client for the test's own puts and gets.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

pub const KEY: &str = "folio-test-key";
pub const SECRET: &str = "folio-test-secret";
pub const REGION: &str = "us-east-1";

pub struct S3Server {
    child: Child,
    pub endpoint: String,
}

impl S3Server {
    /// Starts moto, or `None` when `moto_server` is not installed.
    pub fn start() -> Option<S3Server> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .ok()?
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if ureq::get(&server.endpoint).call().is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "moto_server did not answer on {} within 60 s",
            server.endpoint
        );
    }

    fn bucket(&self, name: &str) -> Bucket {
        Bucket::new(
            self.endpoint.parse().unwrap(),
            UrlStyle::Path,
            name.to_string(),
            REGION,
        )
        .unwrap()
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    pub fn create_bucket(&self, name: &str) {
        let creds = Credentials::new(KEY, SECRET);
        let url = self
            .bucket(name)
            .create_bucket(&creds)
            .sign(Duration::from_secs(60));
        let r = Self::agent().put(url.as_str()).send_empty().unwrap();
        assert_eq!(r.status().as_u16(), 200, "create bucket {name}");
    }

    pub fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        let creds = Credentials::new(KEY, SECRET);
        let b = self.bucket(bucket);
        let url = b
            .put_object(Some(&creds), key)
            .sign(Duration::from_secs(60));
        let r = Self::agent().put(url.as_str()).send(body).unwrap();
        assert_eq!(r.status().as_u16(), 200, "put {bucket}/{key}");
    }

    /// The object, or `None` if it is not there.
    pub fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let creds = Credentials::new(KEY, SECRET);
        let b = self.bucket(bucket);
        let url = b
            .get_object(Some(&creds), key)
            .sign(Duration::from_secs(60));
        let r = Self::agent().get(url.as_str()).call().unwrap();
        if r.status().as_u16() != 200 {
            return None;
        }
        Some(r.into_body().read_to_vec().unwrap())
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
