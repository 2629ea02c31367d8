//! The worker's settings: RunPod's environment as the Python SDK reads it, plus Folio's own knobs.

use std::collections::HashMap;
use std::time::Duration;

use folio_engine::Limits;

/// The `runpod` SDK release whose serverless protocol this crate speaks. It is sent where the SDK
/// sends its own version (`runpod_version` in pings and error reports), so RunPod sees a client it
/// knows how to talk to.
pub const RUNPOD_PROTOCOL_VERSION: &str = "1.12.0";

/// The placeholder the SDK uses when `RUNPOD_WEBHOOK_PING` is unset.
const PING_NOT_SET: &str = "PING_NOT_SET";

/// Where and how the worker talks to RunPod, read from the environment with
/// [`WorkerConfig::from_env`] and adjustable before [`crate::Worker::run`].
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// This worker's id: `RUNPOD_POD_ID`, or a random UUID when unset (as the SDK does).
    pub worker_id: String,
    /// Whether `RUNPOD_POD_ID` was set (the SDK sends pings only on RunPod).
    pub pod_id_set: bool,
    /// `RUNPOD_WEBHOOK_GET_JOB` with `$ID` replaced by the worker id; `None` means local mode.
    pub job_take_url: Option<String>,
    /// `RUNPOD_WEBHOOK_POST_OUTPUT` with `$RUNPOD_POD_ID` replaced; `$ID` (the job id) stays.
    pub job_done_url: Option<String>,
    /// `RUNPOD_WEBHOOK_PING` with `$RUNPOD_POD_ID` replaced.
    pub ping_url: Option<String>,
    /// `RUNPOD_PING_INTERVAL` (milliseconds, default 10000).
    pub ping_interval: Duration,
    /// `RUNPOD_AI_API_KEY`, sent verbatim as the `Authorization` header.
    pub api_key: String,
    /// `RUNPOD_POD_HOSTNAME`, reported in errors (`unknown` when unset, as the SDK does).
    pub hostname: String,
    /// Jobs run at the same time (the SDK's default concurrency is 1).
    pub concurrency: usize,
    /// Stop after the first job and ask RunPod for a fresh worker (`stopPod`), like the SDK's
    /// `refresh_worker`.
    pub refresh_worker: bool,
    /// Extraction limits for each job.
    pub limits: Limits,
    /// Longest a `file_url` download may take.
    pub download_timeout: Duration,
    /// Whether `file_url` may point at loopback, private, link-local or other non-public
    /// addresses. Off by default: a job must not reach into the worker's own network.
    pub allow_private_urls: bool,
    /// Where `file_url`s of the form `s3://bucket/key` are read, and which buckets they may
    /// name (none by default: S3 is off until the operator allows a bucket).
    pub objects: folio_api::objects::ObjectStorage,
    /// Longest the start-up fitness check may take before the worker gives up on it.
    pub fitness_timeout: Duration,
    /// Longest a job take may be held open by the server (the SDK's `jobs_fetcher_timeout`).
    pub take_timeout: Duration,
    /// Pause after a 429 on job take or stop poll (the SDK debounces 5 s).
    pub too_many_requests_wait: Duration,
    /// Pause after a failed job take (network error, 5xx) before trying again.
    pub error_wait: Duration,
    /// How often the pages done of a running job are posted as a progress update
    /// (`{"status": "IN_PROGRESS"}`); `None` sends none.
    pub progress_interval: Option<Duration>,
    /// Delays between the attempts of a result post: the SDK retries with aiohttp_retry's
    /// `FibonacciRetry(attempts=3)`, which waits 2 s then 3 s.
    pub post_retry_delays: Vec<Duration>,
}

impl WorkerConfig {
    /// Reads the process environment.
    pub fn from_env() -> WorkerConfig {
        WorkerConfig::from_vars(&std::env::vars().collect())
    }

    /// Reads the given variables, as [`WorkerConfig::from_env`] reads the environment.
    pub fn from_vars(vars: &HashMap<String, String>) -> WorkerConfig {
        let get = |k: &str| vars.get(k).filter(|v| !v.is_empty()).cloned();
        let pod_id = get("RUNPOD_POD_ID");
        let worker_id = pod_id.clone().unwrap_or_else(random_uuid);
        // The SDK replaces `$ID`; some deployments write `$RUNPOD_POD_ID` here, as in the other
        // URLs, which the SDK would send literally. Both mean this worker.
        let job_take_url = get("RUNPOD_WEBHOOK_GET_JOB").map(|u| {
            u.replace("$RUNPOD_POD_ID", &worker_id)
                .replace("$ID", &worker_id)
        });
        let job_done_url =
            get("RUNPOD_WEBHOOK_POST_OUTPUT").map(|u| u.replace("$RUNPOD_POD_ID", &worker_id));
        let ping_url = get("RUNPOD_WEBHOOK_PING")
            .filter(|u| u != PING_NOT_SET)
            .map(|u| u.replace("$RUNPOD_POD_ID", &worker_id));
        let ping_ms = get("RUNPOD_PING_INTERVAL")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(10_000);
        WorkerConfig {
            worker_id,
            pod_id_set: pod_id.is_some(),
            job_take_url,
            job_done_url,
            ping_url,
            // The SDK floors to whole seconds (so 500 ms would mean a busy loop); keep the
            // milliseconds but never ping more than ten times a second.
            ping_interval: Duration::from_millis(ping_ms.max(100)),
            api_key: get("RUNPOD_AI_API_KEY").unwrap_or_default(),
            hostname: get("RUNPOD_POD_HOSTNAME").unwrap_or_else(|| "unknown".to_string()),
            concurrency: 1,
            refresh_worker: false,
            limits: Limits::default(),
            download_timeout: Duration::from_secs(120),
            allow_private_urls: false,
            objects: folio_api::objects::ObjectStorage::default(),
            fitness_timeout: Duration::from_secs(60),
            take_timeout: Duration::from_secs(90),
            too_many_requests_wait: Duration::from_secs(5),
            error_wait: Duration::from_secs(1),
            progress_interval: Some(Duration::from_secs(5)),
            post_retry_delays: vec![Duration::from_secs(2), Duration::from_secs(3)],
        }
    }

    /// Whether the worker runs locally on a test input (no `RUNPOD_WEBHOOK_GET_JOB`).
    pub fn is_local(&self) -> bool {
        self.job_take_url.is_none()
    }

    /// Whether heartbeats go out: like the SDK, only with an API key, a pod id and a ping URL.
    pub fn pings_enabled(&self) -> bool {
        !self.api_key.is_empty() && self.pod_id_set && self.ping_url.is_some()
    }

    /// The worker id as RunPod's error reports carry it (`RUNPOD_POD_ID` or `unknown`).
    pub(crate) fn reported_worker_id(&self) -> &str {
        if self.pod_id_set {
            &self.worker_id
        } else {
            "unknown"
        }
    }
}

/// A version-4 UUID from the standard library's randomly seeded hasher: unique enough to tell
/// workers apart, which is all the id is for.
fn random_uuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    let word = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.write_u32(std::process::id());
        h.finish()
    };
    let (a, b) = (word(), word());
    let bytes: Vec<u8> = a.to_be_bytes().into_iter().chain(b.to_be_bytes()).collect();
    let mut b16 = [0u8; 16];
    b16.copy_from_slice(&bytes);
    b16[6] = (b16[6] & 0x0f) | 0x40;
    b16[8] = (b16[8] & 0x3f) | 0x80;
    let hex: String = b16.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn urls_get_the_sdk_substitutions() {
        let c = WorkerConfig::from_vars(&vars(&[
            ("RUNPOD_POD_ID", "pod7"),
            ("RUNPOD_WEBHOOK_GET_JOB", "http://h/v2/e/job-take/$ID?gpu=x"),
            (
                "RUNPOD_WEBHOOK_POST_OUTPUT",
                "http://h/v2/e/job-done/$RUNPOD_POD_ID/$ID?gpu=x",
            ),
            ("RUNPOD_WEBHOOK_PING", "http://h/ping/$RUNPOD_POD_ID?gpu=x"),
            ("RUNPOD_PING_INTERVAL", "2500"),
            ("RUNPOD_AI_API_KEY", "k"),
        ]));
        assert_eq!(c.worker_id, "pod7");
        assert_eq!(
            c.job_take_url.as_deref(),
            Some("http://h/v2/e/job-take/pod7?gpu=x")
        );
        assert_eq!(
            c.job_done_url.as_deref(),
            Some("http://h/v2/e/job-done/pod7/$ID?gpu=x")
        );
        assert_eq!(c.ping_url.as_deref(), Some("http://h/ping/pod7?gpu=x"));
        let other = WorkerConfig::from_vars(&vars(&[
            ("RUNPOD_POD_ID", "pod8"),
            (
                "RUNPOD_WEBHOOK_GET_JOB",
                "http://h/v2/e/job-take/$RUNPOD_POD_ID",
            ),
        ]));
        assert_eq!(
            other.job_take_url.as_deref(),
            Some("http://h/v2/e/job-take/pod8")
        );
        assert_eq!(c.ping_interval, Duration::from_millis(2500));
        assert!(c.pings_enabled());
        assert!(!c.is_local());
    }

    #[test]
    fn defaults_follow_the_sdk() {
        let c = WorkerConfig::from_vars(&vars(&[("RUNPOD_WEBHOOK_PING", "PING_NOT_SET")]));
        assert!(c.is_local());
        assert_eq!(c.ping_url, None);
        assert_eq!(c.ping_interval, Duration::from_secs(10));
        assert!(!c.pings_enabled());
        assert_eq!(c.reported_worker_id(), "unknown");
        assert_eq!(c.hostname, "unknown");
        // A random worker id shaped like the SDK's uuid4, different each time.
        let other = WorkerConfig::from_vars(&HashMap::new());
        assert_eq!(c.worker_id.len(), 36);
        assert_eq!(&c.worker_id[14..15], "4");
        assert_ne!(c.worker_id, other.worker_id);
    }
}
