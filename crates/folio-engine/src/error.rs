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
    #[error("the document is encrypted and needs its password")]
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
    /// The whole extraction ran past [`crate::Limits::total_timeout`].
    #[error("extraction ran past its time limit of {0:?}")]
    Timeout(std::time::Duration),
    /// The caller cancelled the extraction.
    #[error("extraction cancelled")]
    Cancelled,
    /// A model needed for this document cannot be loaded.
    #[error("models unavailable: {0}")]
    ModelsUnavailable(String),
    /// An office, web or text document that cannot be read, or that breaks one of the
    /// readers' limits (a zip bomb, entity declarations, nesting, too many cells).
    #[error(transparent)]
    Office(#[from] folio_office::OfficeError),
    /// Every selected page failed.
    #[error("no page could be extracted: {0}")]
    AllPagesFailed(String),
}

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
            ExtractError::TooManyPixels { .. } => "too_many_pixels",
            ExtractError::Timeout(_) => "timeout",
            ExtractError::Cancelled => "cancelled",
            ExtractError::ModelsUnavailable(_) => "models_unavailable",
            ExtractError::AllPagesFailed(_) => "unreadable",
            ExtractError::Office(folio_office::OfficeError::Limit { .. }) => "too_large",
            ExtractError::Office(_) => "unreadable",
        }
    }

    /// Whether the input (not the service) is at fault: a 4xx rather than a 5xx.
    pub fn is_input_error(&self) -> bool {
        !matches!(
            self,
            ExtractError::ModelsUnavailable(_) | ExtractError::Cancelled | ExtractError::Timeout(_)
        )
    }
}
