//! Errors as every front door reports them: a stable code, a message for people, the causes,
//! and the HTTP status that fits.

use folio_engine::ExtractError;
use serde::{Deserialize, Serialize};

use crate::OptionError;

/// The code of a document that killed its extraction process or ran past its deadline.
pub const DOCUMENT_TOO_COSTLY: &str = "document_too_costly";

/// Every code [`ExtractError::code`], [`OptionError::code`] and [`Failure::too_costly`] give: what
/// [`Failure::from_wire`] accepts from another process.
const CODES: &[&str] = &[
    "too_large",
    "empty_input",
    "unsupported_type",
    "unreadable",
    "password_required",
    "wrong_password",
    "no_such_page",
    "too_many_pages",
    "too_many_pixels",
    "timeout",
    "cancelled",
    "models_unavailable",
    "ocr_failed",
    "overloaded",
    "bad_option",
    DOCUMENT_TOO_COSTLY,
];

/// A failed request: what `POST /extract` answers (with [`Failure::status`]), what a job's
/// status holds, and what the RunPod worker posts (`code` is the SDK's `error_type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The HTTP status that fits: 4xx when the request or the document is at fault, 503 when
    /// the service could not finish it (time limit, shutdown, models), 500 for a fault of ours.
    pub status: u16,
    /// A stable code (`unreadable`, `no_such_page`, `bad_option`, ...).
    pub code: &'static str,
    /// One line for people, quoting what caused it.
    pub message: String,
    /// The error's sources, outermost first.
    pub causes: Vec<String>,
}

impl Failure {
    /// A failure without further causes.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            status,
            code,
            message: message.into(),
            causes: Vec::new(),
        }
    }

    /// The failure for an error `status` that was decided outside any handler (an extractor's
    /// rejection, a layer's status, hyper's answer to a malformed request head), with `detail`
    /// as its message when there is one: every error answer gets a code from this one table.
    pub fn for_status(status: u16, detail: Option<String>) -> Failure {
        let (code, fallback) = match status {
            400 => ("bad_request", "the request is malformed"),
            404 => ("not_found", "not found"),
            405 => ("method_not_allowed", "method not allowed"),
            408 => ("request_timeout", "the request took too long to arrive"),
            413 => ("too_large", "the request is too large"),
            414 => ("uri_too_long", "the request URI is too long"),
            415 => ("unsupported_media_type", "unsupported media type"),
            422 => ("unprocessable", "the request cannot be processed"),
            429 => ("busy", "too many requests"),
            431 => (
                "headers_too_large",
                "the request's header fields are too large",
            ),
            503 => ("unavailable", "the service is unavailable"),
            s if s >= 500 => ("internal", "internal error"),
            _ => ("bad_request", "the request failed"),
        };
        let message = detail
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| fallback.to_string());
        Failure::new(status, code, message)
    }

    /// The failure for a document whose extraction process died or was stopped at its
    /// deadline (`folio serve` and `folio worker` extract in child processes): 422
    /// `document_too_costly`, with `reason` saying how it ended.
    pub fn too_costly(reason: impl std::fmt::Display) -> Failure {
        Failure::new(
            422,
            DOCUMENT_TOO_COSTLY,
            format!("the document costs more than this service gives one document: {reason}"),
        )
    }

    /// A failure as another process reported it (an extraction child): its `code` becomes the
    /// same static code this process would have used, or `internal` for a code this version
    /// does not know (a child from a different build).
    pub fn from_wire(status: u16, code: &str, message: String, causes: Vec<String>) -> Failure {
        let code = CODES
            .iter()
            .copied()
            .find(|c| *c == code)
            .unwrap_or("internal");
        Failure {
            status,
            code,
            message,
            causes,
        }
    }

    /// The JSON body of this failure.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
            },
        }
    }
}

impl From<&ExtractError> for Failure {
    fn from(e: &ExtractError) -> Failure {
        let status = match e {
            ExtractError::TooLarge { .. }
            | ExtractError::TooManyPages { .. }
            | ExtractError::TooManyPixels { .. }
            | ExtractError::ImageSideTooLong { .. } => 413,
            // An office document past a reader's limit (a zip bomb, a huge sheet).
            ExtractError::Office(_) if e.code() == "too_large" => 413,
            ExtractError::Unsupported(_) => 415,
            // Not the document's fault: the service could not finish it (time limit, shutdown,
            // models). Long documents belong on the async jobs API.
            ExtractError::Timeout(_)
            | ExtractError::Cancelled
            | ExtractError::ModelsUnavailable(_) => 503,
            _ if e.is_input_error() => 422,
            _ => 503,
        };
        let mut message = e.to_string();
        if let ExtractError::PasswordRequired = e {
            // Network callers give it as an option, not as the CLI's flag.
            message.push_str(": send it in the `password` option");
        }
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            causes.push(s.to_string());
            source = s.source();
        }
        Failure {
            status,
            code: e.code(),
            message,
            causes,
        }
    }
}

impl From<ExtractError> for Failure {
    fn from(e: ExtractError) -> Failure {
        Failure::from(&e)
    }
}

impl From<OptionError> for Failure {
    fn from(e: OptionError) -> Failure {
        Failure::new(400, e.code(), e.message)
    }
}

/// The error body of every HTTP answer that is not a success: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable code, e.g. `unreadable`, `no_such_page`, `busy`.
    pub code: String,
    /// One line for people, quoting what caused it.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_map_to_client_statuses() {
        let cases = [
            (
                ExtractError::Unsupported("x".into()),
                415,
                "unsupported_type",
            ),
            (
                ExtractError::Unreadable(folio_engine::ReadError::NoPages),
                422,
                "unreadable",
            ),
            (ExtractError::PasswordRequired, 422, "password_required"),
            (ExtractError::WrongPassword, 422, "wrong_password"),
            (ExtractError::Empty, 422, "empty_input"),
            (
                ExtractError::NoSuchPage {
                    requested: 9,
                    count: 2,
                },
                422,
                "no_such_page",
            ),
            (
                ExtractError::TooLarge { size: 2, limit: 1 },
                413,
                "too_large",
            ),
            (
                ExtractError::Timeout(std::time::Duration::from_secs(1)),
                503,
                "timeout",
            ),
        ];
        for (e, status, code) in cases {
            let f = Failure::from(e);
            assert_eq!((f.status, f.code), (status, code));
            // Another process's report of it keeps the code.
            assert!(CODES.contains(&f.code), "{} is missing from CODES", f.code);
        }
        let f = Failure::from(ExtractError::PasswordRequired);
        assert!(
            f.message.ends_with("send it in the `password` option"),
            "{}",
            f.message
        );
        assert!(!f.message.contains("--password"), "{}", f.message);
    }

    #[test]
    fn codes_from_another_process_are_the_known_ones_or_internal() {
        for (e, _, code) in [
            (ExtractError::Empty, 0, "empty_input"),
            (ExtractError::Cancelled, 0, "cancelled"),
        ] {
            let f = Failure::from(e);
            let back = Failure::from_wire(f.status, code, f.message.clone(), f.causes.clone());
            assert_eq!(back, f);
        }
        let f = Failure::from_wire(503, "from_the_future", "x".into(), vec![]);
        assert_eq!((f.status, f.code), (503, "internal"));
        let f = Failure::too_costly("its process was killed");
        assert_eq!((f.status, f.code), (422, "document_too_costly"));
        assert!(
            f.message.ends_with("its process was killed"),
            "{}",
            f.message
        );
    }
}
