//! The one error type of an extraction.

/// Why an extraction produced no document. Problems confined to a page are warnings on the
/// document instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The input is larger than [`crate::Limits::max_input_bytes`].
    #[error("input is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Input size.
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// The input is empty.
    #[error("input is empty")]
    Empty,
    /// The input is not a type Folio reads.
    #[error("unsupported input type: {0}")]
    Unsupported(String),
    /// The input claims a supported type but cannot be read.
    #[error("cannot read the document: {0}")]
    Unreadable(String),
    /// The document is encrypted and no password was given, or the empty password failed.
    #[error("the document is encrypted: give its password with --password")]
    PasswordRequired,
    /// The given password does not open the document.
    #[error("the password does not open the document")]
    WrongPassword,
    /// The page selection names pages the document does not have.
    #[error("no such page: {requested} (the document has {count} pages)")]
    NoSuchPage {
        /// The first page asked for that does not exist.
        requested: u32,
        /// Pages in the document.
        count: u32,
    },
    /// More pages selected than [`crate::Limits::max_pages`].
    #[error("{count} pages selected, over the limit of {limit}")]
    TooManyPages {
        /// Pages that would be processed.
        count: u32,
        /// The limit in force.
        limit: u32,
    },
    /// An image larger than [`crate::Limits::max_page_pixels`].
    #[error("image is {width}x{height} pixels, over the limit of {limit} pixels")]
    TooManyPixels {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The limit in force.
        limit: u64,
    },
    /// An image with a side longer than [`crate::MAX_IMAGE_SIDE`], however few its pixels.
    #[error("image is {width}x{height} pixels, over the limit of {limit} pixels on a side")]
    ImageSideTooLong {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The limit in force.
        limit: u32,
    },
    /// The whole extraction ran past [`crate::Limits::total_timeout`].
    #[error("extraction ran past its time limit of {0:?}")]
    Timeout(std::time::Duration),
    /// The caller cancelled the extraction.
    #[error("extraction cancelled")]
    Cancelled,
    /// A model needed for this document cannot be loaded.
    #[error("models unavailable: {0}")]
    ModelsUnavailable(String),
    /// Every selected page failed.
    #[error("no page could be extracted: {0}")]
    AllPagesFailed(String),
    /// The document cost more than one document may: the process extracting it died (its
    /// memory cap, a stack overflow, an abort) or was stopped at its deadline.
    #[error("the document is too costly to extract: {0}")]
    TooCostly(String),
    /// An error an extraction process reported, by its code (see `folio-isolate`).
    #[error("{message}")]
    Reported {
        /// One of the codes [`ExtractError::code`] gives.
        code: &'static str,
        /// The message as the process wrote it.
        message: String,
    },
}

/// Every code [`ExtractError::code`] gives.
const CODES: [&str; 15] = [
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
    "document_too_costly",
    "bad_option",
    "internal",
];

impl ExtractError {
    /// A stable machine-readable code, used in JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            ExtractError::TooLarge { .. } => "too_large",
            ExtractError::Empty => "empty_input",
            ExtractError::Unsupported(_) => "unsupported_type",
            ExtractError::Unreadable(_) => "unreadable",
            ExtractError::PasswordRequired => "password_required",
            ExtractError::WrongPassword => "wrong_password",
            ExtractError::NoSuchPage { .. } => "no_such_page",
            ExtractError::TooManyPages { .. } => "too_many_pages",
            ExtractError::TooManyPixels { .. } | ExtractError::ImageSideTooLong { .. } => {
                "too_many_pixels"
            }
            ExtractError::Timeout(_) => "timeout",
            ExtractError::Cancelled => "cancelled",
            ExtractError::ModelsUnavailable(_) => "models_unavailable",
            ExtractError::AllPagesFailed(_) => "unreadable",
            ExtractError::TooCostly(_) => "document_too_costly",
            ExtractError::Reported { code, .. } => code,
        }
    }

    /// The error another process reported as `code` and `message`; an unknown code reads as
    /// `internal`.
    pub fn reported(code: &str, message: String) -> ExtractError {
        let code = CODES
            .iter()
            .find(|c| **c == code)
            .copied()
            .unwrap_or("internal");
        ExtractError::Reported { code, message }
    }

    /// Whether the input (not the service) is at fault: a 4xx rather than a 5xx.
    pub fn is_input_error(&self) -> bool {
        !matches!(
            self.code(),
            "models_unavailable" | "cancelled" | "timeout" | "internal"
        )
    }
}
