//! One job: read its `input`, get the document, run the engine, shape the answer.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use folio_doc::Format;
use folio_engine::{Engine, ExtractError, ExtractOptions, ExtractResponse, OcrMode, PageSelection};
use serde::Deserialize;
use serde_json::Value;

use crate::config::WorkerConfig;
use crate::protocol::JobFailure;

/// A job's `input`, as callers write it. Unknown members are refused so that a typo
/// (`"fromat"`) fails loudly instead of being ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobInput {
    file_base64: Option<String>,
    file_url: Option<String>,
    filename: Option<String>,
    format: Option<String>,
    pages: Option<Value>,
    ocr: Option<String>,
    password: Option<String>,
}

/// How a job ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The `output` to post.
    Done(Value),
    /// The failure to post in the SDK's error shape.
    Failed(JobFailure),
    /// Stopped on request; nothing is posted (the SDK cancels the task and sends nothing).
    Cancelled,
}

/// Runs one job's input through the engine. Never panics on bad input: every problem with the
/// job becomes a [`JobFailure`].
pub(crate) fn run_job(
    engine: &Engine,
    cfg: &WorkerConfig,
    input: Value,
    cancel: &Arc<AtomicBool>,
    progress: &PageProgress,
) -> Outcome {
    let started = Instant::now();
    let result = parse_input(input).and_then(|req| {
        let (bytes, url_name) = match &req.source {
            Source::Base64(b64) => (decode_base64(b64, cfg.limits.max_input_bytes)?, None),
            Source::Url(url) => (
                download(
                    url,
                    cfg.limits.max_input_bytes,
                    cfg.download_timeout,
                    cancel,
                )?,
                url_file_name(url),
            ),
        };
        let filename = req.filename.clone().or(url_name);
        // Options the engine grows later keep their defaults here.
        #[allow(clippy::needless_update)]
        let opts = ExtractOptions {
            pages: req.pages.clone(),
            password: req.password.clone(),
            ocr: req.ocr,
            limits: cfg.limits.clone(),
            filename,
            cancel: Some(Arc::clone(cancel)),
            ..ExtractOptions::default()
        };
        let extract_start = Instant::now();
        let doc = engine
            .extract_with_progress(&bytes, &opts, &|done, total| progress.set(done, total))
            .map_err(extract_failure)?;
        let extract_ms = extract_start.elapsed().as_millis() as u64;
        let mut response = ExtractResponse::new(&doc, req.format, extract_ms);
        // The caller waited for the download too: count it in the total.
        response.timings.total_ms = started.elapsed().as_millis() as u64;
        serde_json::to_value(&response)
            .map_err(|e| JobFailure::new("internal", format!("cannot serialise the result: {e}")))
    });
    match result {
        Ok(v) => Outcome::Done(v),
        Err(_) if cancel.load(Ordering::Relaxed) => Outcome::Cancelled,
        Err(f) => Outcome::Failed(f),
    }
}

/// Pages done out of pages selected, written by the engine's progress callback and read by the
/// progress reporter.
#[derive(Debug, Default)]
pub(crate) struct PageProgress {
    /// `done << 32 | total`, so a reader never sees one without the other.
    packed: std::sync::atomic::AtomicU64,
}

impl PageProgress {
    fn set(&self, done: u32, total: u32) {
        self.packed.store(
            (u64::from(done) << 32) | u64::from(total),
            Ordering::Relaxed,
        );
    }

    /// `(done, total)`; `(0, 0)` before the first page finished.
    pub(crate) fn get(&self) -> (u32, u32) {
        let v = self.packed.load(Ordering::Relaxed);
        ((v >> 32) as u32, v as u32)
    }
}

/// Where the document comes from.
#[derive(Debug)]
enum Source {
    Base64(String),
    Url(String),
}

/// The validated request.
#[derive(Debug)]
struct Request {
    source: Source,
    filename: Option<String>,
    format: Format,
    pages: Option<PageSelection>,
    ocr: OcrMode,
    password: Option<String>,
}

fn bad_input(message: impl Into<String>) -> JobFailure {
    JobFailure::new("bad_input", message)
}

/// Takes the input by value: its `file_base64` can be hundreds of megabytes, not to be copied.
fn parse_input(input: Value) -> Result<Request, JobFailure> {
    if !input.is_object() {
        return Err(bad_input(
            "the job's \"input\" must be an object with \"file_base64\" or \"file_url\"",
        ));
    }
    let raw: JobInput =
        serde_json::from_value(input).map_err(|e| bad_input(format!("invalid job input: {e}")))?;
    let source = match (raw.file_base64, raw.file_url) {
        (Some(b64), None) => Source::Base64(b64),
        (None, Some(url)) => Source::Url(url),
        (None, None) => {
            return Err(bad_input(
                "the job input needs \"file_base64\" (the document, base64) or \"file_url\"",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(bad_input(
                "give either \"file_base64\" or \"file_url\", not both",
            ))
        }
    };
    let format = match raw.format.as_deref() {
        None => Format::Markdown,
        Some(f) => f
            .parse()
            .map_err(|e: folio_doc::UnknownFormat| bad_input(e.to_string()))?,
    };
    let ocr = match raw.ocr.as_deref() {
        None => OcrMode::Auto,
        Some(m) => m.parse().map_err(bad_input)?,
    };
    let pages = match &raw.pages {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            s.parse()
                .map_err(|e: folio_engine::PageSelectionError| bad_input(e.to_string()))?,
        ),
        Some(Value::Number(n)) => Some(
            n.to_string()
                .parse()
                .map_err(|e: folio_engine::PageSelectionError| bad_input(e.to_string()))?,
        ),
        Some(Value::Array(items)) => {
            let list: Vec<String> = items
                .iter()
                .map(|v| match v {
                    Value::Number(n) => Ok(n.to_string()),
                    Value::String(s) => Ok(s.clone()),
                    other => Err(bad_input(format!("invalid page {other} in \"pages\""))),
                })
                .collect::<Result<_, _>>()?;
            Some(
                list.join(",")
                    .parse()
                    .map_err(|e: folio_engine::PageSelectionError| bad_input(e.to_string()))?,
            )
        }
        Some(other) => {
            return Err(bad_input(format!(
                "\"pages\" must be a string like \"1-3,7\", a number or a list, not {other}"
            )))
        }
    };
    Ok(Request {
        source,
        filename: raw.filename,
        format,
        pages,
        ocr,
        password: raw.password,
    })
}

/// Decodes `file_base64`, refusing oversized input before decoding it. Whitespace (line-wrapped
/// base64) and a `data:...;base64,` prefix are accepted.
fn decode_base64(text: &str, limit: u64) -> Result<Vec<u8>, JobFailure> {
    let body = match text.strip_prefix("data:") {
        Some(rest) => rest.split_once(',').map(|(_, b)| b).unwrap_or(rest),
        None => text,
    };
    // Copy only line-wrapped input: a document can be hundreds of megabytes.
    let compact: std::borrow::Cow<'_, str> = if body.bytes().any(|b| b.is_ascii_whitespace()) {
        body.chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect::<String>()
            .into()
    } else {
        body.into()
    };
    let decoded_size = (compact.len() as u64 / 4) * 3;
    if decoded_size > limit.saturating_add(3) {
        return Err(JobFailure::new(
            "too_large",
            format!(
                "file_base64 holds about {decoded_size} bytes, over the limit of {limit} bytes"
            ),
        ));
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let url_safe = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine
        .decode(compact.as_bytes())
        .or_else(|_| url_safe.decode(compact.as_bytes()))
        .map_err(|e| bad_input(format!("file_base64 is not valid base64: {e}")))
}

/// The last path segment of a URL, as the document's file name.
fn url_file_name(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let after_host = path.split_once("://").map(|(_, r)| r).unwrap_or(path);
    let (_, path) = after_host.split_once('/')?;
    let name = path.rsplit('/').next()?;
    (!name.is_empty()).then(|| name.to_string())
}

fn download_failure(message: impl Into<String>) -> JobFailure {
    JobFailure::new("download_failed", message)
}

/// Fetches `file_url` (http or https only) within `limit` bytes and `timeout`, stopping early
/// when the job is cancelled.
fn download(
    url: &str,
    limit: u64,
    timeout: Duration,
    cancel: &AtomicBool,
) -> Result<Vec<u8>, JobFailure> {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if !matches!(scheme.as_deref(), Some("http" | "https")) {
        return Err(bad_input(format!(
            "file_url must be an http or https URL, not {:?}",
            truncate(url, 80)
        )));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .max_redirects(5)
        .build()
        .into();
    let started = Instant::now();
    let response = agent
        .get(url)
        .call()
        .map_err(|e| download_failure(format!("cannot fetch file_url: {e}")))?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(download_failure(format!("file_url answered HTTP {status}")));
    }
    let declared = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(size) = declared {
        if size > limit {
            return Err(JobFailure::new(
                "too_large",
                format!("file_url is {size} bytes, over the limit of {limit} bytes"),
            ));
        }
    }
    let mut reader = response.into_body().into_reader();
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(limit) as usize);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(JobFailure::new("cancelled", "the job was stopped"));
        }
        if started.elapsed() > timeout {
            return Err(download_failure(format!(
                "file_url took longer than {timeout:?}"
            )));
        }
        let n = reader
            .read(&mut chunk)
            .map_err(|e| download_failure(format!("cannot read file_url: {e}")))?;
        if n == 0 {
            break;
        }
        if bytes.len() as u64 + n as u64 > limit {
            return Err(JobFailure::new(
                "too_large",
                format!("file_url is over the limit of {limit} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    Ok(bytes)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// An engine error in the SDK's error shape, with the engine's stable code as its type.
fn extract_failure(e: ExtractError) -> JobFailure {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    JobFailure {
        error_type: e.code().to_string(),
        message: e.to_string(),
        causes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_validation() {
        let ok = parse_input(json!({"file_base64": "JVBERg==", "format": "json", "pages": [1, "3-4"], "ocr": "never"})).unwrap();
        assert_eq!(ok.format, Format::Json);
        assert_eq!(ok.ocr, OcrMode::Never);
        assert_eq!(ok.pages.unwrap().resolve(9).unwrap(), vec![1, 3, 4]);
        let cases = [
            (json!("a string"), "must be an object"),
            (json!({}), "needs \"file_base64\""),
            (
                json!({"file_base64": "a", "file_url": "http://x/y"}),
                "not both",
            ),
            (
                json!({"file_base64": "a", "fromat": "json"}),
                "unknown field `fromat`",
            ),
            (json!({"file_base64": "a", "format": "docx"}), "docx"),
            (json!({"file_base64": "a", "ocr": "maybe"}), "maybe"),
            (json!({"file_base64": "a", "pages": "3-1"}), "backwards"),
            (
                json!({"file_base64": "a", "pages": {"from": 1}}),
                "\"pages\" must be",
            ),
        ];
        for (input, needle) in cases {
            let shown = input.to_string();
            let err = parse_input(input).unwrap_err();
            assert_eq!(err.error_type, "bad_input");
            assert!(err.message.contains(needle), "{shown}: {}", err.message);
        }
    }

    #[test]
    fn base64_forms_and_limit() {
        assert_eq!(decode_base64("aGVsbG8=", 100).unwrap(), b"hello");
        assert_eq!(decode_base64("aGVs\nbG8", 100).unwrap(), b"hello");
        assert_eq!(
            decode_base64("data:application/pdf;base64,aGVsbG8=", 100).unwrap(),
            b"hello"
        );
        assert_eq!(decode_base64("_-8", 100).unwrap(), vec![0xff, 0xef]);
        assert_eq!(
            decode_base64("!!!!", 100).unwrap_err().error_type,
            "bad_input"
        );
        let big = "A".repeat(4000);
        assert_eq!(
            decode_base64(&big, 1000).unwrap_err().error_type,
            "too_large"
        );
    }

    #[test]
    fn urls_are_checked_before_any_traffic() {
        let cancel = AtomicBool::new(false);
        for url in [
            "file:///etc/passwd",
            "ftp://x/y",
            "/etc/passwd",
            "gopher://x",
        ] {
            let err = download(url, 10, Duration::from_secs(1), &cancel).unwrap_err();
            assert_eq!(err.error_type, "bad_input", "{url}");
        }
        assert_eq!(
            url_file_name("https://h/a/b/doc.pdf?sig=1").as_deref(),
            Some("doc.pdf")
        );
        assert_eq!(url_file_name("https://h/"), None);
        assert_eq!(url_file_name("https://h"), None);
    }
}
