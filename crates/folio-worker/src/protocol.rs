//! The wire format of RunPod's serverless queue, as `runpod/serverless/modules/rp_job.py`,
//! `rp_http.py`, `rp_ping.py` and `rp_fitness.py` (SDK 1.12) build and read it.

use serde_json::{json, Value};

use crate::config::{WorkerConfig, RUNPOD_PROTOCOL_VERSION};

/// One job as the job-take endpoint hands it out: `{"id": ..., "input": ...}` plus fields the
/// worker does not use (webhook, batch id, ...).
#[derive(Debug, Clone)]
pub struct Job {
    /// The request id: the `$ID` of the result URL and the `X-Request-ID` of the post.
    pub id: String,
    /// The caller's `input` object, unparsed (`Value::Null` when missing).
    pub input: Value,
}

/// What a job take returned.
#[derive(Debug)]
pub enum Take {
    /// A job to run.
    Jobs(Vec<Job>),
    /// No job (204, 400, an empty or non-JSON body).
    Empty,
    /// 429: wait before asking again.
    TooManyRequests,
}

/// Reads a job-take body. A single object is the legacy API, a list the batch API; an object
/// without an `id` cannot be answered and is dropped, as the SDK drops it.
pub(crate) fn parse_take_body(body: &[u8]) -> Result<Vec<Job>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("job take body is not JSON: {e}"))?;
    let items = match value {
        Value::Array(items) => items,
        obj @ Value::Object(_) => vec![obj],
        Value::Null => Vec::new(),
        other => return Err(format!("job take body is not a job: {other}")),
    };
    let mut jobs = Vec::new();
    for item in items {
        let Value::Object(mut obj) = item else {
            return Err("job take body lists something that is not a job".to_string());
        };
        let id = match obj.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err("Job has missing field(s): id or input.".to_string()),
        };
        jobs.push(Job {
            id,
            // Moved, not copied: it may hold a large base64 document.
            input: obj.remove("input").unwrap_or(Value::Null),
        });
    }
    Ok(jobs)
}

/// The id of a job whose body was too large to read whole: the `"id"` member near the start,
/// so the job can still be answered with an error instead of being lost.
pub(crate) fn sniff_job_id(prefix: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&prefix[..prefix.len().min(4096)]);
    let at = text.find("\"id\"")?;
    let rest = text[at + 4..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    let id = &rest[..end];
    (!id.is_empty() && !id.contains('\\')).then(|| id.to_string())
}

/// `url` with `key=value` pairs appended (`application/x-www-form-urlencoded`), as `requests`
/// merges `params` into a URL.
pub(crate) fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    if query.is_empty() {
        return url.to_string();
    }
    let joint = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joint}{query}")
}

/// The job-take URL for this moment: `job_in_progress=1` while any job runs.
pub(crate) fn take_url(base: &str, job_in_progress: bool) -> String {
    with_query(
        base,
        &[("job_in_progress", if job_in_progress { "1" } else { "0" })],
    )
}

/// The stop channel: the job-take URL with `/job-take/` turned into `/job-stop/`, query kept
/// (the SDK's `_job_stop_url`). `None` when the take URL is not in that form.
pub(crate) fn stop_url(take_base: &str) -> Option<String> {
    take_base
        .contains("/job-take/")
        .then(|| take_base.replace("/job-take/", "/job-stop/"))
}

/// The result URL for one job, with `isStream=false` as the SDK appends it.
pub(crate) fn done_url(template: &str, job_id: &str) -> String {
    with_query(&template.replace("$ID", job_id), &[("isStream", "false")])
}

/// A heartbeat URL listing the jobs in progress (comma-separated; omitted when none, as
/// `requests` drops a `None` param).
pub(crate) fn ping_url(base: &str, job_ids: &[String]) -> String {
    let list = job_ids.join(",");
    let mut params = Vec::new();
    if !list.is_empty() {
        params.push(("job_id", list.as_str()));
    }
    params.push(("runpod_version", RUNPOD_PROTOCOL_VERSION));
    with_query(base, &params)
}

/// The one-shot unhealthy report `rp_fitness._report_unhealthy` sends before the worker exits.
pub(crate) fn unhealthy_url(base: &str, check: &str, reason: &str) -> String {
    let reason = shorten(reason, 256);
    with_query(
        base,
        &[
            ("status", "unhealthy"),
            ("check", check),
            ("reason", &reason),
            ("runpod_version", RUNPOD_PROTOCOL_VERSION),
        ],
    )
}

/// `text` in at most `max` characters, as the SDK cuts the unhealthy reason (at 256). A longer
/// text keeps its start and its end around an ellipsis, since a load error names the model
/// first and its root cause last (`... libcublasLt.so.13: cannot open shared object file`).
fn shorten(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let head = max / 3;
    let tail = max - head - 1;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(count - tail));
    out
}

/// Why a job failed, as the SDK reports a handler exception.
#[derive(Debug, Clone)]
pub struct JobFailure {
    /// A stable code (`unreadable`, `bad_input`, `download_failed`, ...): the SDK's
    /// `error_type`, which for Python is the exception class.
    pub error_type: String,
    /// One line for people.
    pub message: String,
    /// The causes, outermost first (the SDK's `error_traceback`).
    pub causes: Vec<String>,
}

impl From<folio_api::Failure> for JobFailure {
    fn from(f: folio_api::Failure) -> JobFailure {
        JobFailure {
            error_type: f.code.to_string(),
            message: f.message,
            causes: f.causes,
        }
    }
}

impl JobFailure {
    /// A failure with no further causes.
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> JobFailure {
        JobFailure {
            error_type: error_type.into(),
            message: message.into(),
            causes: Vec::new(),
        }
    }
}

/// The result body of a successful job: `{"output": ...}`.
pub(crate) fn success_result(output: Value) -> Value {
    json!({ "output": output })
}

/// The result body of a failed job, exactly as `rp_job.run_job` builds it: `error` is a JSON
/// *string* holding `error_type`, `error_message`, `error_traceback`, `hostname`, `worker_id`
/// and `runpod_version`.
pub(crate) fn error_result(failure: &JobFailure, cfg: &WorkerConfig) -> Value {
    let mut traceback = format!("{}: {}", failure.error_type, failure.message);
    for cause in &failure.causes {
        traceback.push_str("\ncaused by: ");
        traceback.push_str(cause);
    }
    let info = json!({
        "error_type": failure.error_type,
        "error_message": failure.message,
        "error_traceback": traceback,
        "hostname": cfg.hostname,
        "worker_id": cfg.reported_worker_id(),
        "runpod_version": RUNPOD_PROTOCOL_VERSION,
    });
    json!({ "error": info.to_string() })
}

/// A progress update (`rp_progress.progress_update`): posted to the result URL while the job
/// runs.
pub(crate) fn progress_result(pages_done: u32, pages_total: u32) -> Value {
    json!({
        "status": "IN_PROGRESS",
        "output": { "pages_done": pages_done, "pages_total": pages_total },
    })
}

/// Marks a result so RunPod replaces this worker after the job (the SDK's `refresh_worker`).
pub(crate) fn add_stop_pod(result: &mut Value) {
    if let Value::Object(map) = result {
        map.insert("stopPod".to_string(), Value::Bool(true));
    }
}

/// The ids in a stop-channel answer (`{"jobsToStop": [...]}`); anything else means none.
pub(crate) fn parse_stop_body(body: &[u8]) -> Vec<String> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    match map.get("jobsToStop") {
        Some(Value::Array(ids)) => ids
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads a local test job (`test_input.json` or `--test-input`): it must have an `input`;
/// its id defaults to `local_test`.
pub(crate) fn parse_local_job(text: &str) -> Result<Job, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("test input is not JSON: {e}"))?;
    let Value::Object(mut map) = value else {
        return Err("test input must be a JSON object with an \"input\" member".to_string());
    };
    let input = map.remove("input").unwrap_or(Value::Null);
    if input.is_null() {
        return Err("Job has no input parameter. Unable to run.".to_string());
    }
    let id = match map.get("id") {
        Some(Value::String(s)) => s.clone(),
        _ => "local_test".to_string(),
    };
    Ok(Job { id, input })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_bodies() {
        let jobs = parse_take_body(br#"{"id":"a1","input":{"x":1},"webhook":null}"#).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].id, "a1");
        assert_eq!(jobs[0].input["x"], 1);
        let jobs = parse_take_body(br#"[{"id":"a","input":{}},{"id":"b","input":{}}]"#).unwrap();
        assert_eq!(jobs.len(), 2);
        assert!(parse_take_body(br#"{"input":{}}"#).is_err());
        assert!(parse_take_body(b"not json").is_err());
        assert!(parse_take_body(b"null").unwrap().is_empty());
        let no_input = parse_take_body(br#"{"id":"c"}"#).unwrap();
        assert!(no_input[0].input.is_null());
    }

    #[test]
    fn id_of_an_oversized_body() {
        assert_eq!(
            sniff_job_id(br#"{"delayTime": 3, "id" : "job-9", "input": {"file_base64": "AAAA"#),
            Some("job-9".to_string())
        );
        assert_eq!(sniff_job_id(br#"{"input": {"file_base64": "AAAA"#), None);
    }

    #[test]
    fn urls() {
        assert_eq!(
            take_url("http://h/job-take/w?gpu=a", true),
            "http://h/job-take/w?gpu=a&job_in_progress=1"
        );
        assert_eq!(
            take_url("http://h/job-take/w", false),
            "http://h/job-take/w?job_in_progress=0"
        );
        assert_eq!(
            stop_url("http://h/v2/e/job-take/w?gpu=a").as_deref(),
            Some("http://h/v2/e/job-stop/w?gpu=a")
        );
        assert_eq!(stop_url("http://h/take"), None);
        assert_eq!(
            done_url("http://h/job-done/w/$ID?gpu=a", "j1"),
            "http://h/job-done/w/j1?gpu=a&isStream=false"
        );
        assert_eq!(
            ping_url("http://h/ping/w", &["a".into(), "b c".into()]),
            "http://h/ping/w?job_id=a%2Cb+c&runpod_version=1.12.0"
        );
        assert_eq!(
            ping_url("http://h/ping/w?x=1", &[]),
            "http://h/ping/w?x=1&runpod_version=1.12.0"
        );
        let long = "é".repeat(300);
        let u = unhealthy_url("http://h/p", "models", &long);
        assert!(u.starts_with("http://h/p?status=unhealthy&check=models&reason=%C3%A9"));
        // 255 characters kept, plus the ellipsis.
        assert_eq!(u.matches("%C3%A9").count(), 255);
        let cause = format!(
            "models unavailable: cannot load model /v/{}/model.onnx: libcublasLt.so.13: \
             cannot open shared object file",
            "0".repeat(200)
        );
        let short = shorten(&cause, 256);
        assert_eq!(short.chars().count(), 256);
        assert!(short.starts_with("models unavailable"), "{short}");
        assert!(short.ends_with("libcublasLt.so.13: cannot open shared object file"));
        assert_eq!(shorten("short", 256), "short");
    }

    #[test]
    fn error_shape_matches_the_sdk() {
        let cfg = crate::WorkerConfig::from_vars(
            &[("RUNPOD_POD_ID".to_string(), "pod1".to_string())].into(),
        );
        let mut f = JobFailure::new("unreadable", "cannot read the document: bad xref");
        f.causes.push("bad xref".to_string());
        let r = error_result(&f, &cfg);
        let s = r["error"].as_str().expect("error is a JSON string");
        let info: Value = serde_json::from_str(s).unwrap();
        assert_eq!(info["error_type"], "unreadable");
        assert_eq!(info["error_message"], "cannot read the document: bad xref");
        assert_eq!(info["worker_id"], "pod1");
        assert_eq!(info["hostname"], "unknown");
        assert_eq!(info["runpod_version"], RUNPOD_PROTOCOL_VERSION);
        assert!(info["error_traceback"]
            .as_str()
            .unwrap()
            .contains("caused by: bad xref"));
        assert_eq!(r.as_object().unwrap().len(), 1);
    }

    #[test]
    fn stop_and_local_bodies() {
        assert_eq!(
            parse_stop_body(br#"{"jobsToStop":["a",3,"b"]}"#),
            vec!["a", "b"]
        );
        assert!(parse_stop_body(br#"{"jobsToStop":"a"}"#).is_empty());
        assert!(parse_stop_body(b"[]").is_empty());
        let j = parse_local_job(r#"{"input":{"a":1}}"#).unwrap();
        assert_eq!(j.id, "local_test");
        assert!(parse_local_job(r#"{"id":"x"}"#).is_err());
        assert!(parse_local_job("[").is_err());
    }
}
