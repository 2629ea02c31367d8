//! Opening a PDF and reading its pages.

use std::sync::Arc;

use folio_layout::PageContent;

/// Why a PDF could not be opened or a page not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// Encrypted, and the empty password does not open it.
    #[error("the document is encrypted and needs a password")]
    PasswordRequired,
    /// The given password does not open it.
    #[error("the password does not open the document")]
    WrongPassword,
    /// Encrypted with a scheme the reader does not support.
    #[error("unsupported encryption: {0}")]
    UnsupportedEncryption(String),
    /// Not a PDF that can be parsed, even with recovery.
    #[error("not a readable PDF")]
    Invalid,
    /// A page index past the end.
    #[error("page {index} does not exist")]
    NoSuchPage {
        /// The 0-based index asked for.
        index: u32,
    },
}

/// A rendered page: 8-bit RGB, row-major, no padding.
#[derive(Debug, Clone)]
pub struct Raster {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes.
    pub rgb: Vec<u8>,
}

/// An open PDF. Cheap to clone and safe to share between threads.
#[derive(Clone)]
pub struct PdfDocument {
    data: Arc<Vec<u8>>,
}

impl PdfDocument {
    /// Opens a PDF from its bytes.
    pub fn open(data: Arc<Vec<u8>>, _password: Option<&str>) -> Result<PdfDocument, PdfError> {
        let _ = &data;
        Err(PdfError::Invalid)
    }

    /// Number of pages.
    pub fn page_count(&self) -> u32 {
        let _ = &self.data;
        0
    }

    /// The title from the document information dictionary, when present.
    pub fn title(&self) -> Option<String> {
        None
    }

    /// The glyphs, segments and images of page `index` (0-based).
    pub fn page_content(&self, index: u32) -> Result<PageContent, PdfError> {
        Err(PdfError::NoSuchPage { index })
    }

    /// Renders page `index` (0-based) at `scale` pixels per point.
    pub fn render_page(&self, index: u32, _scale: f32) -> Result<Raster, PdfError> {
        Err(PdfError::NoSuchPage { index })
    }
}
