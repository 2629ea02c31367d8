//! The worker's side of RunPod's HTTP calls: job take, result post, heartbeat, stop poll and the
//! unhealthy report, with the SDK's headers, status handling and retries.

use std::time::Duration;

use serde_json::Value;

use crate::config::{WorkerConfig, RUNPOD_PROTOCOL_VERSION};
use crate::protocol::{self, Take};

/// Why a call to RunPod failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The request did not get an answer (connection, timeout, protocol).
    #[error("{url}: {source}")]
    Transport {
        /// The URL called, without its query.
        url: String,
        /// What went wrong.
        #[source]
        source: ureq::Error,
    },
    /// The server answered with an error status.
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL called, without its query.
        url: String,
        /// The status.
        status: u16,
    },
}

impl ClientError {
    /// Whether trying again may help (the SDK's retry client retries transport errors and 5xx).
    fn retryable(&self) -> bool {
        match self {
            ClientError::Transport { .. } => true,
            ClientError::Status { status, .. } => *status >= 500,
        }
    }
}

/// Strips the query (it may carry routing tokens) for logs and errors.
fn bare(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

/// A blocking HTTP client for RunPod's worker endpoints.
#[derive(Debug)]
pub(crate) struct Client {
    agent: ureq::Agent,
    api_key: String,
    user_agent: String,
    /// Most bytes a job-take body may have before the job is refused as too large.
    max_take_body: u64,
}

impl Client {
    pub(crate) fn new(cfg: &WorkerConfig) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // RunPod's own URLs never redirect; a redirect would drop the Authorization header.
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(10)))
            .build()
            .into();
        // A base64 body is 4/3 of the document, plus the JSON around it.
        let max_take_body = cfg.limits.max_input_bytes / 3 * 4 + 1024 * 1024;
        Client {
            agent,
            api_key: cfg.api_key.clone(),
            user_agent: format!(
                "folio-worker/{} (runpod-protocol/{RUNPOD_PROTOCOL_VERSION})",
                env!("CARGO_PKG_VERSION")
            ),
            max_take_body,
        }
    }

    fn get(
        &self,
        url: &str,
        timeout: Duration,
    ) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        self.agent
            .get(url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Authorization", &self.api_key)
            .header("User-Agent", &self.user_agent)
            .header("Content-Type", "application/json")
    }

    /// Asks for a job (`rp_job.get_job`). 204 and 400 mean none (400 is what FlashBoot answers),
    /// 429 means wait, other errors are errors.
    pub(crate) fn take(
        &self,
        base: &str,
        job_in_progress: bool,
        timeout: Duration,
    ) -> Result<Take, TakeError> {
        let url = protocol::take_url(base, job_in_progress);
        let mut response = self.get(&url, timeout).call().map_err(|source| {
            TakeError::Client(ClientError::Transport {
                url: bare(&url),
                source,
            })
        })?;
        let status = response.status().as_u16();
        match status {
            204 | 400 => return Ok(Take::Empty),
            429 => return Ok(Take::TooManyRequests),
            s if !(200..300).contains(&s) => {
                return Err(TakeError::Client(ClientError::Status {
                    url: bare(&url),
                    status,
                }))
            }
            _ => {}
        }
        let is_json = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if !is_json {
            tracing::debug!("job take answered without a JSON body: no job");
            return Ok(Take::Empty);
        }
        let mut reader = response.body_mut().as_reader();
        let mut body = Vec::new();
        use std::io::Read;
        let read = (&mut reader)
            .take(self.max_take_body + 1)
            .read_to_end(&mut body);
        if let Err(e) = read {
            return Err(TakeError::Body(format!("cannot read the job: {e}")));
        }
        if body.len() as u64 > self.max_take_body {
            return Err(TakeError::TooLarge {
                id: protocol::sniff_job_id(&body),
                limit: self.max_take_body,
            });
        }
        if body.is_empty() {
            return Ok(Take::Empty);
        }
        match protocol::parse_take_body(&body) {
            Ok(jobs) if jobs.is_empty() => Ok(Take::Empty),
            Ok(jobs) => Ok(Take::Jobs(jobs)),
            Err(e) => Err(TakeError::Body(e)),
        }
    }

    /// Posts a job's result (`rp_http.send_result`): the JSON text as the body, with the same
    /// headers the SDK sends, retried after transport errors and 5xx (not after 4xx).
    pub(crate) fn post_result(
        &self,
        template: &str,
        job_id: &str,
        result: &Value,
        timeout: Duration,
        retry_delays: &[Duration],
        should_stop: &dyn Fn() -> bool,
    ) -> Result<(), ClientError> {
        let url = protocol::done_url(template, job_id);
        let body = result.to_string();
        let mut attempt = 0;
        loop {
            let outcome = self
                .agent
                .post(&url)
                .config()
                .timeout_global(Some(timeout))
                .build()
                .header("Authorization", &self.api_key)
                .header("User-Agent", &self.user_agent)
                // The SDK posts `json.dumps(result)` as `data=` with these exact headers; the
                // body is JSON whatever the content type says.
                .header("charset", "utf-8")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("X-Request-ID", job_id)
                .send(body.as_bytes());
            let err = match outcome {
                Ok(mut r) if r.status().is_success() => {
                    let _ = r.body_mut().read_to_vec();
                    return Ok(());
                }
                Ok(r) => ClientError::Status {
                    url: bare(&url),
                    status: r.status().as_u16(),
                },
                Err(source) => ClientError::Transport {
                    url: bare(&url),
                    source,
                },
            };
            if !err.retryable() || attempt >= retry_delays.len() || should_stop() {
                return Err(err);
            }
            tracing::warn!(job = job_id, error = %err, "result post failed; retrying");
            std::thread::sleep(retry_delays[attempt]);
            attempt += 1;
        }
    }

    /// One heartbeat (`rp_ping.Heartbeat._send_ping`).
    pub(crate) fn ping(
        &self,
        base: &str,
        job_ids: &[String],
        timeout: Duration,
    ) -> Result<(), ClientError> {
        let url = protocol::ping_url(base, job_ids);
        self.simple_get(&url, timeout)
    }

    /// The best-effort report of a failed fitness check (`rp_fitness._report_unhealthy`).
    pub(crate) fn report_unhealthy(
        &self,
        base: &str,
        check: &str,
        reason: &str,
    ) -> Result<(), ClientError> {
        let url = protocol::unhealthy_url(base, check, reason);
        // The SDK bounds this report to 2 s so it never delays the exit for long.
        self.simple_get(&url, Duration::from_secs(2))
    }

    fn simple_get(&self, url: &str, timeout: Duration) -> Result<(), ClientError> {
        let mut r = self
            .get(url, timeout)
            .call()
            .map_err(|source| ClientError::Transport {
                url: bare(url),
                source,
            })?;
        let _ = r.body_mut().with_config().limit(64 * 1024).read_to_vec();
        if r.status().is_success() {
            Ok(())
        } else {
            Err(ClientError::Status {
                url: bare(url),
                status: r.status().as_u16(),
            })
        }
    }

    /// One long poll of the stop channel (`rp_job.get_stop_signals`): the ids to stop.
    pub(crate) fn poll_stop(&self, url: &str, timeout: Duration) -> Result<StopPoll, ClientError> {
        let mut r = self
            .get(url, timeout)
            .call()
            .map_err(|source| ClientError::Transport {
                url: bare(url),
                source,
            })?;
        match r.status().as_u16() {
            204 => Ok(StopPoll::Ids(Vec::new())),
            429 => Ok(StopPoll::TooManyRequests),
            s if (200..300).contains(&s) => {
                let body = r
                    .body_mut()
                    .with_config()
                    .limit(1024 * 1024)
                    .read_to_vec()
                    .unwrap_or_default();
                Ok(StopPoll::Ids(protocol::parse_stop_body(&body)))
            }
            status => Err(ClientError::Status {
                url: bare(url),
                status,
            }),
        }
    }
}

/// What the stop channel said.
#[derive(Debug)]
pub(crate) enum StopPoll {
    /// Jobs to stop (maybe none).
    Ids(Vec<String>),
    /// 429: wait.
    TooManyRequests,
}

/// A job take that went wrong.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TakeError {
    /// The call itself failed.
    #[error(transparent)]
    Client(ClientError),
    /// The body is not a job.
    #[error("{0}")]
    Body(String),
    /// The body is over the size limit; `id` is the job's id when it could be read.
    #[error("the job is over the limit of {limit} bytes")]
    TooLarge { id: Option<String>, limit: u64 },
}
