//! The one error type of the HTTP edge and its one mapping to a response:
//! `{"error": {"code", "message"}}` with the status that fits.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use folio_api::{Failure, OptionError};
use folio_engine::ExtractError;

/// An error answer. Client errors keep their message; internal ones answer a generic message
/// and keep the detail in the response extensions for the metrics and logging middleware.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
    /// What went wrong inside, for the log only.
    pub internal: Option<String>,
}

/// Put in the extensions of every error response: the code, for the metrics, and the internal
/// detail, for the log.
#[derive(Debug, Clone)]
pub(crate) struct ErrorInfo {
    pub code: &'static str,
    pub internal: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            internal: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    pub fn unsupported_media(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    pub fn busy(message: impl Into<String>, retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "busy", message)
        }
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// A fault of the service, not of the request: answered as a generic 500.
    pub fn internal(detail: impl Into<String>) -> ApiError {
        ApiError {
            internal: Some(detail.into()),
            ..ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; the details are in the server log",
            )
        }
    }
}

impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::new(status, f.code, f.message)
    }
}

impl From<OptionError> for ApiError {
    fn from(e: OptionError) -> Self {
        Failure::from(e).into()
    }
}

impl From<ExtractError> for ApiError {
    fn from(e: ExtractError) -> Self {
        let mut a = ApiError::from(Failure::from(&e));
        if let ExtractError::Timeout(_) = e {
            a.message
                .push_str("; submit long documents to POST /v1/jobs");
        }
        a
    }
}

impl From<folio_isolate::Error> for ApiError {
    fn from(e: folio_isolate::Error) -> Self {
        match e {
            folio_isolate::Error::Engine(e) => e.into(),
            // Ours, not the request's: the detail (a path, an OS error) goes to the log only.
            e @ (folio_isolate::Error::Unavailable { .. } | folio_isolate::Error::Protocol(_)) => {
                ApiError {
                    internal: Some(crate::state::chain(&e)),
                    ..ApiError::unavailable(
                        "unavailable",
                        "no extraction process could be started; retry later",
                    )
                }
            }
            e => {
                let mut a = ApiError::from(e.failure());
                if e.is_timeout() {
                    a.message
                        .push_str("; submit long documents to POST /v1/jobs");
                }
                a
            }
        }
    }
}

/// The JSON error body, `{"error":{"code","message"}}`, as text: for answers written outside
/// the router (a refused connection, a malformed request head).
pub(crate) fn json_body(failure: &Failure) -> String {
    serde_json::to_string(&failure.body()).unwrap_or_default()
}

/// Middleware: an error answer that is not JSON (a rejection from an extractor, such as a path
/// that is not UTF-8, or a status set by a layer) gets the JSON error body every other error
/// has, keeping its status. Every error of this service is JSON.
pub(crate) async fn json_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Rejection texts are short; anything longer is cut rather than buffered.
    let detail = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    if status.is_server_error() && !detail.is_empty() {
        tracing::warn!(%status, %detail, "error answer without a JSON body");
    }
    // A fault inside says nothing to the client (as `ApiError::internal`); the log has it.
    let detail = (!status.is_server_error()).then_some(detail);
    let mut fixed = ApiError::from(Failure::for_status(status.as_u16(), detail)).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fixed.headers_mut().insert(name.clone(), value.clone());
        }
    }
    fixed
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Failure::new(self.status.as_u16(), self.code, self.message).body();
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(ErrorInfo {
            code: self.code,
            internal: self.internal,
        });
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_keep_the_shared_status_and_code() {
        let a = ApiError::from(ExtractError::NoSuchPage {
            requested: 9,
            count: 2,
        });
        assert_eq!((a.status.as_u16(), a.code), (422, "no_such_page"));
        // Past the time limit of a sync request: the answer points at the jobs API.
        let a = ApiError::from(ExtractError::Timeout(std::time::Duration::from_secs(1)));
        assert_eq!((a.status.as_u16(), a.code), (503, "timeout"));
        assert!(a
            .message
            .ends_with("submit long documents to POST /v1/jobs"));
    }
}
