//! A model behind an OpenAI-compatible chat completions endpoint (vLLM, llama.cpp's server,
//! Ollama, OpenAI): the document's Markdown and the answer's JSON Schema go out as a
//! structured-output request; the answer comes back validated against that schema.
//!
//! Retries: 429 and 5xx answers and broken connections are retried with exponential back-off
//! (`backon`), waiting what `Retry-After` says when the server says it, all within one time
//! budget ([`LlmConfig::timeout`]); other errors are final.

use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use folio_doc::{render::markdown, Document, RenderOptions};
use serde_json::{json, Map, Value};

use crate::FieldRequest;

/// How to reach the model. The operator sets it (flags or environment), never a request.
#[derive(Clone)]
pub struct LlmConfig {
    /// The endpoint: a base URL (`http://127.0.0.1:8000/v1`) or the full chat completions URL.
    pub url: String,
    /// The model name the server knows.
    pub model: String,
    /// Sent as `Authorization: Bearer KEY` when set.
    pub api_key: Option<String>,
    /// The whole exchange, retries and waits included, ends after this.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: usize,
    /// The document's Markdown is cut to this many characters.
    pub max_chars: usize,
}

impl std::fmt::Debug for LlmConfig {
    // The key stays out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("max_chars", &self.max_chars)
            .finish()
    }
}

impl LlmConfig {
    /// A configuration with the defaults: 120 s, 3 retries, 60 000 characters.
    pub fn new(url: impl Into<String>, model: impl Into<String>) -> LlmConfig {
        LlmConfig {
            url: url.into(),
            model: model.into(),
            api_key: None,
            timeout: Duration::from_secs(120),
            max_retries: 3,
            max_chars: 60_000,
        }
    }
}

/// Why the model gave no usable answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LlmError {
    /// The configured URL is not an http(s) URL.
    #[error("invalid LLM endpoint URL {0:?} (expected http:// or https://)")]
    BadUrl(String),
    /// The server answered with an error status.
    #[error("the LLM endpoint answered {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The server's message (OpenAI's `error.message`) or the start of its body.
        message: String,
        /// The `Retry-After` the server asked for.
        retry_after: Option<Duration>,
    },
    /// The connection failed.
    #[error("cannot reach the LLM endpoint: {0}")]
    Transport(#[source] ureq::Error),
    /// The time budget ran out.
    #[error("the LLM endpoint gave no answer within {0:?}")]
    Timeout(Duration),
    /// The response is not a chat completion.
    #[error("the LLM endpoint's response is not a chat completion: {0}")]
    BadResponse(String),
    /// The model declined.
    #[error("the model refused: {0}")]
    Refused(String),
    /// The model's content is not JSON.
    #[error("the model's answer is not JSON: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// The model's JSON does not follow the schema.
    #[error("the model's answer does not follow the schema: {0}")]
    SchemaViolation(String),
}

impl LlmError {
    fn retryable(&self) -> bool {
        match self {
            LlmError::Status { status, .. } => *status == 429 || *status >= 500,
            LlmError::Transport(e) => !matches!(e, ureq::Error::Timeout(_)),
            _ => false,
        }
    }
}

/// A client for one endpoint and model.
#[derive(Debug, Clone)]
pub struct LlmClient {
    config: LlmConfig,
    url: String,
}

impl LlmClient {
    /// Checks the URL; connects only when asked for fields.
    pub fn new(config: LlmConfig) -> Result<LlmClient, LlmError> {
        let base = config.url.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() < 10 {
            return Err(LlmError::BadUrl(config.url.clone()));
        }
        let url = if base.ends_with("/chat/completions") {
            base.to_string()
        } else {
            format!("{base}/chat/completions")
        };
        Ok(LlmClient { config, url })
    }

    /// The chat completions URL requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The request body for a document: the system instructions, the Markdown with page
    /// markers (cut to the configured size) and the answer's schema as `response_format`.
    pub fn request_body(&self, doc: &Document, request: &FieldRequest) -> Value {
        let mut md = markdown(doc, RenderOptions { page_breaks: true });
        if md.chars().count() > self.config.max_chars {
            md = md.chars().take(self.config.max_chars).collect();
            md.push_str("\n\n[the rest of the document is cut]");
        }
        let names: Vec<&str> = request.fields.iter().map(|f| f.name.as_str()).collect();
        json!({
            "model": self.config.model,
            "stream": false,
            "temperature": 0,
            "messages": [
                {
                    "role": "system",
                    "content": "You extract fields from business documents (invoices, receipts). \
                        Answer with JSON following the schema. Copy text values exactly as printed \
                        in the document; give amounts as plain numbers; use null for a field the \
                        document does not contain. Never invent values.",
                },
                {
                    "role": "user",
                    "content": format!(
                        "Fields to extract: {}.\n\nThe document, in Markdown (pages marked with <!-- page N -->):\n\n{md}",
                        names.join(", ")
                    ),
                },
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "fields",
                    "strict": true,
                    "schema": request.answer_schema(),
                },
            },
        })
    }

    /// Asks the model; returns its answer object, validated against the request's schema.
    pub fn ask(
        &self,
        doc: &Document,
        request: &FieldRequest,
    ) -> Result<Map<String, Value>, LlmError> {
        let body = self.request_body(doc, request);
        let started = Instant::now();
        let budget = self.config.timeout;
        let mut delays = backon::ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(250))
            .with_max_delay(Duration::from_secs(20))
            .with_max_times(self.config.max_retries)
            .with_jitter()
            .build();
        let completion = loop {
            let left = budget.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(LlmError::Timeout(budget));
            }
            match self.post(&body, left) {
                Ok(v) => break v,
                Err(e) if e.retryable() => {
                    let Some(backoff) = delays.next() else {
                        return Err(e);
                    };
                    // The server's own wait wins over ours.
                    let wait = match &e {
                        LlmError::Status {
                            retry_after: Some(d),
                            ..
                        } => *d,
                        _ => backoff,
                    };
                    if started.elapsed() + wait >= budget {
                        return Err(e);
                    }
                    tracing::info!(error = %e, wait_ms = wait.as_millis() as u64, "LLM endpoint: retrying");
                    std::thread::sleep(wait);
                }
                Err(e) => return Err(e),
            }
        };
        let message = completion
            .get("choices")
            .and_then(|c| c.get(0))
            .and_then(|c| c.get("message"))
            .ok_or_else(|| LlmError::BadResponse("no choices[0].message".into()))?;
        if let Some(r) = message.get("refusal").and_then(Value::as_str) {
            return Err(LlmError::Refused(r.to_string()));
        }
        let content = message
            .get("content")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                LlmError::BadResponse("choices[0].message.content is not text".into())
            })?;
        let answer: Value =
            serde_json::from_str(strip_fence(content)).map_err(LlmError::InvalidJson)?;
        let schema = request.answer_schema();
        let validator = jsonschema::validator_for(&schema)
            .map_err(|e| LlmError::SchemaViolation(e.to_string()))?;
        if let Some(e) = validator.iter_errors(&answer).next() {
            return Err(LlmError::SchemaViolation(format!(
                "{e} (at {})",
                e.instance_path()
            )));
        }
        match answer {
            Value::Object(map) => Ok(map),
            _ => Err(LlmError::SchemaViolation("not an object".into())),
        }
    }

    fn post(&self, body: &Value, left: Duration) -> Result<Value, LlmError> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(left))
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = agent
            .post(&self.url)
            .header("Content-Type", "application/json");
        if let Some(key) = &self.config.api_key {
            req = req.header("Authorization", &format!("Bearer {key}"));
        }
        let mut resp = match req.send(serde_json::to_vec(body).unwrap_or_default().as_slice()) {
            Ok(r) => r,
            Err(ureq::Error::Timeout(_)) => return Err(LlmError::Timeout(self.config.timeout)),
            Err(e) => return Err(LlmError::Transport(e)),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        // Bounded: a completion for a few fields is small.
        let text = match resp
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_string()
        {
            Ok(t) => t,
            Err(ureq::Error::Timeout(_)) => return Err(LlmError::Timeout(self.config.timeout)),
            Err(e) => return Err(LlmError::Transport(e)),
        };
        if !(200..300).contains(&status) {
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| {
                    v.pointer("/error/message")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_else(|| text.chars().take(200).collect());
            return Err(LlmError::Status {
                status,
                message,
                retry_after,
            });
        }
        serde_json::from_str(&text).map_err(|e| LlmError::BadResponse(e.to_string()))
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(s) = v.parse::<f64>() {
        return (s.is_finite() && s >= 0.0).then(|| Duration::from_secs_f64(s.min(3600.0)));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// Some servers wrap JSON in a Markdown code fence even in JSON mode.
fn strip_fence(s: &str) -> &str {
    let t = s.trim();
    t.strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .and_then(|r| r.strip_suffix("```"))
        .map_or(t, str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn urls_get_the_chat_completions_path_once() {
        let c = |u: &str| LlmClient::new(LlmConfig::new(u, "m")).map(|c| c.url().to_string());
        assert_eq!(
            c("http://127.0.0.1:8000/v1/").unwrap(),
            "http://127.0.0.1:8000/v1/chat/completions"
        );
        assert_eq!(
            c("https://h.example/v1/chat/completions").unwrap(),
            "https://h.example/v1/chat/completions"
        );
        assert!(matches!(c("ftp://x/y"), Err(LlmError::BadUrl(_))));
    }
}
