//! One job: read its `input`, get the document, run the engine, shape the answer.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use folio_api::{Failure, OptionError, PageProgress, RequestOptions};
use folio_isolate::Extractor;
use folio_net::PublicOnlyResolver;
use serde_json::Value;

use crate::config::WorkerConfig;
use crate::protocol::JobFailure;

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

/// Runs one job's input through the engine, in this process or in a child (`extractor`).
/// Never panics on bad input: every problem with the job becomes a [`JobFailure`].
pub(crate) fn run_job(
    extractor: &Extractor,
    cfg: &WorkerConfig,
    input: Value,
    cancel: &Arc<AtomicBool>,
    progress: &PageProgress,
) -> Outcome {
    let started = Instant::now();
    let result = parse_input(input).and_then(|req| {
        let (bytes, url_name) = match &req.source {
            Source::Base64(b64) => (decode_base64(b64, cfg.limits.max_input_bytes)?, None),
            Source::Url(url) if url.starts_with("s3://") => {
                (read_object(url, cfg)?, url_file_name_of_key(url))
            }
            Source::Url(url) => (
                download(
                    url,
                    &Fetch {
                        limit: cfg.limits.max_input_bytes,
                        timeout: cfg.download_timeout,
                        allow_private: cfg.allow_private_urls,
                    },
                    cancel,
                )?,
                url_file_name(url),
            ),
        };
        let mut options = req.options;
        if options.filename.is_none() {
            options.filename = url_name;
        }
        let mut response = extractor
            .extract(
                &bytes,
                &options,
                cfg.limits.clone(),
                Some(Arc::clone(cancel)),
                Some(progress),
            )
            .map_err(|e| JobFailure::from(e.failure()))?;
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
    /// Parsed as `POST /extract` parses its form fields, so both accept the same options with
    /// the same messages.
    options: RequestOptions,
}

fn bad_input(message: impl Into<String>) -> JobFailure {
    JobFailure::new("bad_input", message)
}

/// An option that does not parse: the same code and message `POST /extract` answers with.
fn bad_option(e: OptionError) -> JobFailure {
    Failure::from(e).into()
}

/// Reads a job's `input`. The document comes in `file_base64` or `file_url`; every other member
/// is an option, given to [`RequestOptions::set`] as text (a number, or for `pages` a list like
/// `[1, "4-5"]`, is accepted too, since JSON callers write those). Unknown members are refused,
/// so a typo (`"fromat"`) fails loudly instead of being ignored.
///
/// Takes the input by value: its `file_base64` can be hundreds of megabytes, not to be copied.
fn parse_input(input: Value) -> Result<Request, JobFailure> {
    let Value::Object(members) = input else {
        return Err(bad_input(
            "the job's \"input\" must be an object with \"file_base64\" or \"file_url\"",
        ));
    };
    let mut file_base64 = None;
    let mut file_url = None;
    let mut options = RequestOptions::default();
    for (name, value) in members {
        match name.as_str() {
            "file_base64" | "file_url" => {
                let Value::String(text) = value else {
                    return Err(bad_input(format!("\"{name}\" must be a string")));
                };
                if name == "file_base64" {
                    file_base64 = Some(text);
                } else {
                    file_url = Some(text);
                }
            }
            _ => {
                let known = RequestOptions::FIELDS.contains(&name.as_str());
                options.set_json(&name, &value).map_err(|e| {
                    let mut failure = bad_option(e);
                    if !known {
                        failure
                            .message
                            .push_str("; the document goes in \"file_base64\" or \"file_url\"");
                    }
                    failure
                })?;
            }
        }
    }
    options.check().map_err(bad_option)?;
    let source = match (file_base64, file_url) {
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
    Ok(Request { source, options })
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

/// The last path segment of a URL, percent-decoded, as the document's file name.
fn url_file_name(url: &str) -> Option<String> {
    let uri: ureq::http::Uri = url.parse().ok()?;
    let name = uri.path().rsplit('/').next()?;
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8()
        .ok()?;
    (!name.is_empty()).then(|| name.into_owned())
}

/// Reads an `s3://bucket/key` `file_url` through the operator's object storage settings, within
/// the size limit.
fn read_object(url: &str, cfg: &WorkerConfig) -> Result<Vec<u8>, JobFailure> {
    let at = cfg
        .objects
        .check(url, "file_url")
        .map_err(download_failure)?;
    cfg.objects
        .get(&at, cfg.limits.max_input_bytes)
        .map_err(|(code, message)| match code {
            "too_large" => JobFailure::new("too_large", message),
            _ => download_failure(message),
        })
}

/// The last segment of an `s3://` key, as the document's file name.
fn url_file_name_of_key(url: &str) -> Option<String> {
    let name = url.rsplit('/').next()?;
    (!name.is_empty()).then(|| name.to_string())
}

fn download_failure(message: impl Into<String>) -> JobFailure {
    JobFailure::new("download_failed", message)
}

/// How a `file_url` may be fetched.
#[derive(Debug, Clone, Copy)]
struct Fetch {
    /// Most bytes.
    limit: u64,
    /// Longest the whole download may take.
    timeout: Duration,
    /// Whether loopback, private and other non-public addresses may be fetched
    /// (`FOLIO_WORKER_ALLOW_PRIVATE_URLS`); by default they are refused.
    allow_private: bool,
}

/// Fetches `file_url` (http or https only) within the fetch's size and time limits, stopping
/// early when the job is cancelled.
///
/// A job must not be able to make the worker fetch from inside its own network (the cloud
/// metadata service at 169.254.169.254, a sidecar on loopback, the datacenter's private
/// addresses): unless `allow_private`, the agent's resolver refuses every host with a non-public
/// address. The check sits in the resolver, so the agent connects to exactly the addresses
/// checked (no DNS rebinding between check and connection) and each redirect hop is checked
/// too; proxies are off, since through one the address checked would be the proxy's.
fn download(url: &str, fetch: &Fetch, cancel: &AtomicBool) -> Result<Vec<u8>, JobFailure> {
    let Fetch {
        limit,
        timeout,
        allow_private,
    } = *fetch;
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if !matches!(scheme.as_deref(), Some("http" | "https")) {
        return Err(bad_input(format!(
            "file_url must be an http or https URL, not {:?}",
            truncate(url, 80)
        )));
    }
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .max_redirects(5);
    let guard = (!allow_private).then(PublicOnlyResolver::new);
    let agent = match &guard {
        Some(resolver) => resolver.agent(config.proxy(None).build()),
        None => config.build().into(),
    };
    let started = Instant::now();
    let response = agent.get(url).call().map_err(|e| {
        match guard.as_ref().and_then(PublicOnlyResolver::refused) {
            Some(refused) => JobFailure::new(
                "url_not_allowed",
                format!(
                    "file_url {:?} is refused: {refused}; this worker fetches documents from \
                     public addresses only (its operator can allow others with \
                     FOLIO_WORKER_ALLOW_PRIVATE_URLS=1)",
                    truncate(url, 80)
                ),
            ),
            None => download_failure(format!("cannot fetch file_url: {e}")),
        }
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_validation() {
        let ok = parse_input(json!({"file_base64": "JVBERg==", "format": "json", "pages": [1, "3-4"], "ocr": "never", "password": " pw", "filename": "a.pdf"})).unwrap();
        assert_eq!(ok.options.format, folio_doc::Format::Json);
        assert_eq!(ok.options.ocr, folio_engine::OcrMode::Never);
        assert_eq!(ok.options.pages.unwrap().resolve(9).unwrap(), vec![1, 3, 4]);
        assert_eq!(ok.options.password.as_deref(), Some(" pw"));
        assert_eq!(ok.options.filename.as_deref(), Some("a.pdf"));
        let n =
            parse_input(json!({"file_url": "https://h/x", "pages": 2, "format": null})).unwrap();
        assert_eq!(n.options.pages.unwrap().resolve(3).unwrap(), vec![2]);
        assert_eq!(n.options.format, folio_doc::Format::Markdown);
        let cases = [
            (json!("a string"), "bad_input", "must be an object"),
            (json!({}), "bad_input", "needs \"file_base64\""),
            (json!({"file_base64": 7}), "bad_input", "must be a string"),
            (
                json!({"file_base64": "a", "file_url": "http://x/y"}),
                "bad_input",
                "not both",
            ),
            (
                json!({"file_base64": "a", "fromat": "json"}),
                "bad_option",
                "unknown option \"fromat\"",
            ),
            (
                json!({"file_base64": "a", "fromat": {"x": 1}}),
                "bad_option",
                "file_base64",
            ),
            (
                json!({"file_base64": "a", "format": "docx"}),
                "bad_option",
                "docx",
            ),
            (
                json!({"file_base64": "a", "ocr": "maybe"}),
                "bad_option",
                "maybe",
            ),
            (
                json!({"file_base64": "a", "ocr": true}),
                "bad_option",
                "must be a string",
            ),
            (
                json!({"file_base64": "a", "pages": "3-1"}),
                "bad_option",
                "3-1",
            ),
            (
                json!({"file_base64": "a", "pages": {"from": 1}}),
                "bad_option",
                "\"pages\" must be",
            ),
        ];
        for (input, code, needle) in cases {
            let shown = input.to_string();
            let err = parse_input(input).unwrap_err();
            assert_eq!(err.error_type, code, "{shown}");
            assert!(err.message.contains(needle), "{shown}: {}", err.message);
        }
    }

    #[test]
    fn fields_come_as_a_list_or_text_and_the_schema_as_an_object() {
        let list = parse_input(
            json!({"file_base64": "a", "fields": ["company", "total"], "format": "fields"}),
        )
        .unwrap();
        let text = parse_input(json!({"file_base64": "a", "fields": "company,total"})).unwrap();
        for r in [&list, &text] {
            let names: Vec<_> = r
                .options
                .fields
                .as_ref()
                .unwrap()
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .collect();
            assert_eq!(names, ["company", "total"]);
        }
        let schema = json!({"type": "object", "properties": {"total": {"type": "number"}}});
        let s = parse_input(json!({"file_base64": "a", "schema": schema})).unwrap();
        assert!(s.options.fields.as_ref().unwrap().from_schema);
        // As POST /extract: format=fields with nothing asked is refused before any work.
        let e = parse_input(json!({"file_base64": "a", "format": "fields"})).unwrap_err();
        assert_eq!(e.error_type, "bad_option");
        assert!(e.message.contains("schema"), "{}", e.message);
        let e =
            parse_input(json!({"file_base64": "a", "llm_url": "http://127.0.0.1:9"})).unwrap_err();
        assert_eq!(e.error_type, "bad_option");
    }

    #[test]
    fn options_fail_with_the_messages_post_extract_gives() {
        // The HTTP service feeds its form fields to `RequestOptions::set`; a job's members must
        // fail with the very same text.
        for (field, value) in [
            ("format", "docx"),
            ("pages", "0"),
            ("ocr", "maybe"),
            ("colour", "red"),
        ] {
            let http = RequestOptions::default().set(field, value).unwrap_err();
            let job = parse_input(json!({"file_base64": "a", field: value})).unwrap_err();
            assert_eq!(job.error_type, http.code());
            assert!(
                job.message.starts_with(&http.message),
                "{} vs {}",
                job.message,
                http.message
            );
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
            let fetch = Fetch {
                limit: 10,
                timeout: Duration::from_secs(1),
                allow_private: true,
            };
            let err = download(url, &fetch, &cancel).unwrap_err();
            assert_eq!(err.error_type, "bad_input", "{url}");
        }
        assert_eq!(
            url_file_name("https://h/a/b/doc.pdf?sig=1").as_deref(),
            Some("doc.pdf")
        );
        assert_eq!(url_file_name("https://h/"), None);
        assert_eq!(
            url_file_name("https://h/my%20scan.pdf#p2").as_deref(),
            Some("my scan.pdf")
        );
        assert_eq!(url_file_name("https://h"), None);
    }

    #[test]
    fn non_public_urls_are_refused_by_default_without_a_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cancel = AtomicBool::new(false);
        let fetch = Fetch {
            limit: 1000,
            timeout: Duration::from_secs(5),
            allow_private: false,
        };
        for url in [
            format!("http://127.0.0.1:{port}/doc.pdf"),
            format!("http://localhost:{port}/doc.pdf"),
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "http://10.1.2.3/doc.pdf".to_string(),
            "http://[::ffff:127.0.0.1]/doc.pdf".to_string(),
        ] {
            let err = download(&url, &fetch, &cancel).unwrap_err();
            assert_eq!(err.error_type, "url_not_allowed", "{url}: {}", err.message);
            assert!(
                err.message.contains("not a public address")
                    && err.message.contains("FOLIO_WORKER_ALLOW_PRIVATE_URLS"),
                "{url}: {}",
                err.message
            );
        }
        listener.set_nonblocking(true).unwrap();
        assert!(listener.accept().is_err(), "nothing may connect");
    }
}
