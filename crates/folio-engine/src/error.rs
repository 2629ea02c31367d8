//! The one error type of an extraction, and the typed causes it carries.
//!
//! Every message includes its cause's text (so that an HTTP answer built from `to_string()` says
//! everything), and the cause stays reachable through `source()`.

use std::sync::Arc;

use crate::stages::PageError;

/// Why the input, though of a supported type, cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The PDF cannot be opened.
    #[error("{0}")]
    Pdf(#[source] folio_pdf::PdfError),
    /// The PDF parses into an empty page tree (a truncated file, often).
    #[error("the document has no readable pages")]
    NoPages,
    /// An image with no pixels.
    #[error("image is {width}x{height} pixels")]
    EmptyImage {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The image cannot be decoded.
    #[error("{format} image: {source}")]
    Image {
        /// The image format.
        format: &'static str,
        /// The decoder's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Why the OCR models cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The engine was built for born-digital documents only.
    #[error("this engine was started without OCR models")]
    NoOcr,
    /// A model file cannot be found or verified (the store's error names the command that
    /// installs it).
    #[error("{0}")]
    Locate(#[source] Arc<dyn std::error::Error + Send + Sync>),
    /// The model files are there but do not load.
    #[error("{0}")]
    Load(#[source] Arc<folio_vision::BackendError>),
}

/// A page that could not be extracted, and why.
#[derive(Debug, thiserror::Error)]
#[error("page {page}: {error}")]
pub struct PageFailure {
    /// 1-based page number.
    pub page: u32,
    /// Why.
    #[source]
    pub error: PageError,
}

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
    Unreadable(#[source] ReadError),
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
    ModelsUnavailable(#[source] ModelError),
    /// Page threads that did not stop after cancellation have reached the process's cap: no
    /// new extraction starts until they end (see [`crate::PagePool`]).
    #[error("{stuck} page threads are stuck (cap {cap}); not accepting work until they end")]
    Overloaded {
        /// Stuck threads now.
        stuck: usize,
        /// The cap.
        cap: usize,
    },
    /// An office, web or text document that cannot be read, or that breaks one of the
    /// readers' limits (a zip bomb, entity declarations, nesting, too many cells).
    #[error(transparent)]
    Office(#[from] folio_office::OfficeError),
    /// Every selected page failed.
    #[error("no page could be extracted: {0}")]
    AllPagesFailed(#[source] PageFailure),
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
            ExtractError::TooManyPixels { .. } | ExtractError::ImageSideTooLong { .. } => {
                "too_many_pixels"
            }
            ExtractError::Timeout(_) => "timeout",
            ExtractError::Cancelled => "cancelled",
            ExtractError::ModelsUnavailable(_) => "models_unavailable",
            // OCR that ran and failed is the service's problem, not the input's.
            ExtractError::AllPagesFailed(f) if matches!(f.error, PageError::Ocr(_)) => "ocr_failed",
            ExtractError::AllPagesFailed(_) => "unreadable",
            ExtractError::Overloaded { .. } => "overloaded",
            ExtractError::Office(folio_office::OfficeError::Limit { .. }) => "too_large",
            ExtractError::Office(_) => "unreadable",
        }
    }

    /// Whether the input (not the service) is at fault: a 4xx rather than a 5xx.
    pub fn is_input_error(&self) -> bool {
        if let ExtractError::AllPagesFailed(f) = self {
            return !matches!(f.error, PageError::Ocr(_));
        }
        !matches!(
            self,
            ExtractError::ModelsUnavailable(_)
                | ExtractError::Cancelled
                | ExtractError::Timeout(_)
                | ExtractError::Overloaded { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    #[test]
    fn causes_stay_reachable_and_codes_stable() {
        let e = ExtractError::AllPagesFailed(PageFailure {
            page: 3,
            error: PageError::Pdf(folio_pdf::PdfError::Invalid),
        });
        assert_eq!(e.code(), "unreadable");
        assert!(e.is_input_error());
        assert!(e
            .to_string()
            .starts_with("no page could be extracted: page 3: not a readable PDF"));
        let page = e.source().unwrap();
        assert!(page.downcast_ref::<PageFailure>().is_some());
        let pdf = page.source().unwrap().source().unwrap();
        assert!(pdf.downcast_ref::<folio_pdf::PdfError>().is_some());

        let ocr = ExtractError::AllPagesFailed(PageFailure {
            page: 1,
            error: PageError::Ocr(folio_vision::BackendError::Run("boom".into())),
        });
        assert_eq!(ocr.code(), "ocr_failed");
        assert!(!ocr.is_input_error());
        let models = ExtractError::ModelsUnavailable(ModelError::NoOcr);
        assert_eq!(models.code(), "models_unavailable");
        assert!(models.source().is_some());
    }
}
