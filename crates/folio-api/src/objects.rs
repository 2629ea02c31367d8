//! Object storage for the network front doors: a document read from `s3://bucket/key` (a job's
//! `source` in `folio serve`, a `file_url` in `folio worker`), and a job's result written to
//! `s3://bucket/prefix/<job id>.json` (its `output`), on S3 or any S3-compatible server.
//!
//! Requests are signed with SigV4 by `rusty-s3` and sent with `ureq`. Credentials come from the
//! usual environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), the
//! region from `AWS_REGION` or `AWS_DEFAULT_REGION`, and an S3-compatible endpoint from
//! `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (then path-style addressing). Which buckets a
//! caller may name is the operator's allow-list ([`ObjectStorage::buckets`]), empty (closed)
//! by default: a caller can never make the server read or write a bucket it was not given.

use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

/// Object-storage settings.
#[derive(Debug, Clone, Default)]
pub struct ObjectStorage {
    /// Buckets callers may name in `source` and `output`; empty: object storage is off.
    pub buckets: Vec<String>,
    /// The S3 endpoint (`http(s)://host:port`); `None`: AWS's regional endpoint.
    pub endpoint: Option<String>,
    /// The region requests are signed for.
    pub region: String,
    /// Longest one transfer may take.
    pub timeout: Duration,
    /// Access key, secret and session token; `None`: requests go unsigned.
    pub credentials: Option<S3Credentials>,
}

/// S3 credentials. `Debug` shows the key id only.
#[derive(Clone)]
pub struct S3Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub key: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret: String,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub token: Option<String>,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Credentials({}, ..)", self.key)
    }
}

impl ObjectStorage {
    /// Settings from the environment's AWS variables, with `buckets` allowed.
    pub fn from_env(buckets: Vec<String>) -> ObjectStorage {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        ObjectStorage {
            buckets,
            endpoint: var("AWS_ENDPOINT_URL_S3").or_else(|| var("AWS_ENDPOINT_URL")),
            region: var("AWS_REGION")
                .or_else(|| var("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".to_string()),
            timeout: Duration::from_secs(300),
            credentials: var("AWS_ACCESS_KEY_ID")
                .zip(var("AWS_SECRET_ACCESS_KEY"))
                .map(|(key, secret)| S3Credentials {
                    key,
                    secret,
                    token: var("AWS_SESSION_TOKEN"),
                }),
        }
    }

    fn signing(&self) -> Option<Credentials> {
        self.credentials.as_ref().map(|c| match &c.token {
            Some(t) => Credentials::new_with_token(c.key.clone(), c.secret.clone(), t.clone()),
            None => Credentials::new(c.key.clone(), c.secret.clone()),
        })
    }

    /// Checks an `s3://bucket/key` address a caller gave: its form, and its bucket against the
    /// allow-list. `prefix` addresses (outputs) may end with `/`.
    pub fn check(&self, url: &str, what: &str) -> Result<S3Address, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{what} {url:?} must be an s3://bucket/key address"))?;
        let (bucket, key) = rest
            .split_once('/')
            .ok_or_else(|| format!("{what} {url:?} has no key after the bucket"))?;
        if bucket.is_empty() || key.is_empty() || key.starts_with('/') {
            return Err(format!(
                "{what} {url:?} must be s3://bucket/key with neither empty"
            ));
        }
        if key.split('/').any(|part| part == "." || part == "..") {
            return Err(format!("{what} {url:?} has a . or .. path segment"));
        }
        if self.buckets.is_empty() {
            return Err(
                "object storage is turned off on this server (the operator allows no bucket)"
                    .to_string(),
            );
        }
        if !self.buckets.iter().any(|b| b == bucket) {
            return Err(format!(
                "bucket {bucket:?} is not one this server may use; ask its operator"
            ));
        }
        Ok(S3Address {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }

    fn bucket(&self, name: &str) -> Result<Bucket, String> {
        let (endpoint, style) = match &self.endpoint {
            Some(e) => (e.clone(), UrlStyle::Path),
            None => (
                format!("https://s3.{}.amazonaws.com", self.region),
                UrlStyle::VirtualHost,
            ),
        };
        let endpoint = endpoint
            .parse()
            .map_err(|e| format!("the S3 endpoint {endpoint:?} is not a URL: {e}"))?;
        Bucket::new(endpoint, style, name.to_string(), self.region.clone())
            .map_err(|e| format!("cannot address bucket {name:?}: {e:?}"))
    }

    fn agent(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into()
    }

    /// Reads an object, refusing one over `limit` bytes before reading it (and while reading,
    /// should the size not be announced or be false). The error is a front-door code
    /// (`input_unavailable`, `too_large`) and a message.
    pub fn get(&self, at: &S3Address, limit: u64) -> Result<Vec<u8>, (&'static str, String)> {
        let unavailable = |m: String| ("input_unavailable", m);
        let bucket = self.bucket(&at.bucket).map_err(unavailable)?;
        let credentials = self.signing();
        let url = bucket
            .get_object(credentials.as_ref(), &at.key)
            .sign(Duration::from_secs(300));
        let response =
            self.agent().get(url.as_str()).call().map_err(|e| {
                unavailable(format!("cannot read s3://{}/{}: {e}", at.bucket, at.key))
            })?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(unavailable(format!(
                "s3://{}/{} answered HTTP {status}",
                at.bucket, at.key
            )));
        }
        let announced = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(size) = announced.filter(|s| *s > limit) {
            return Err((
                "too_large",
                format!(
                    "s3://{}/{} is {size} bytes, over this server's limit of {limit}",
                    at.bucket, at.key
                ),
            ));
        }
        let mut body = response.into_body();
        body.with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => (
                    "too_large",
                    format!(
                        "s3://{}/{} is over this server's limit of {limit} bytes",
                        at.bucket, at.key
                    ),
                ),
                e => unavailable(format!("cannot read s3://{}/{}: {e}", at.bucket, at.key)),
            })
    }

    /// Writes an object.
    pub fn put(&self, at: &S3Address, body: &[u8], content_type: &str) -> Result<(), String> {
        let bucket = self.bucket(&at.bucket)?;
        let credentials = self.signing();
        let url = bucket
            .put_object(credentials.as_ref(), &at.key)
            .sign(Duration::from_secs(300));
        let response = self
            .agent()
            .put(url.as_str())
            .header("content-type", content_type)
            .send(body)
            .map_err(|e| format!("cannot write s3://{}/{}: {e}", at.bucket, at.key))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(format!(
                "writing s3://{}/{} answered HTTP {status}",
                at.bucket, at.key
            ));
        }
        Ok(())
    }
}

/// A checked `s3://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Address {
    /// The bucket, one of the allowed.
    pub bucket: String,
    /// The object's key (or, for an output, its prefix).
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_against_the_allow_list() {
        let closed = ObjectStorage::default();
        assert!(closed
            .check("s3://docs/a.pdf", "source")
            .unwrap_err()
            .contains("turned off"));
        let open = ObjectStorage {
            buckets: vec!["docs".to_string()],
            ..ObjectStorage::default()
        };
        assert_eq!(
            open.check("s3://docs/in/a.pdf", "source").unwrap(),
            S3Address {
                bucket: "docs".to_string(),
                key: "in/a.pdf".to_string()
            }
        );
        for bad in [
            "s3://other/a.pdf",
            "https://docs/a.pdf",
            "s3://docs",
            "s3://docs/",
            "s3:///a.pdf",
            "s3://docs/../x",
        ] {
            assert!(open.check(bad, "source").is_err(), "{bad}");
        }
    }
}
