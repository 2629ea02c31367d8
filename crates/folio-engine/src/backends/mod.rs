//! Backends: one module per input format, all behind one [`Backend`] trait.
//!
//! A backend opens the input's bytes into one of two things ([`Opened`]):
//! - **pages** ([`PagedInput`]) for formats laid out on pages (PDF, images): each page's content
//!   (glyphs with fonts and boxes, rules, image boxes) and, where OCR needs it, its raster. The
//!   engine runs the page stages (`crate::stages`) on each page in the page pool.
//! - **a finished [`Document`]** for flow formats (Office, HTML, Markdown, CSV, text), whose
//!   structure is in the file itself: their readers live in their own crates (which depend on
//!   `folio-doc`, never on this one) and the backend module is a thin adapter. Only the document
//!   stages run on it.
//!
//! Adding a format: a module here with a type that implements [`Backend`], and a rule in
//! `crate::sniff` that recognises the input and names the backend. The pipeline does not change.
//! A flow backend is a few lines:
//!
//! `office` (every format `folio-office` reads) is one.

pub(crate) mod image;
pub(crate) mod office;
pub(crate) mod pdf;

use std::sync::Arc;

use folio_content::{Cancel, PageContent};
use folio_doc::{Document, Metadata, Warning};
use folio_vision::RgbImage;

use crate::stages::PageError;
use crate::{ExtractError, ExtractOptions, InputKind};

/// What a backend is given: the input and the caller's options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Input<'a> {
    /// The whole input, shared with the page threads.
    pub bytes: &'a Arc<Vec<u8>>,
    /// The type sniffing found.
    pub kind: InputKind,
    /// What the caller asked for (password, limits, pages).
    pub opts: &'a ExtractOptions,
    /// When the extraction started: the document's time limit counts from here.
    pub started: std::time::Instant,
}

/// Opens one input format.
pub(crate) trait Backend: Sync {
    /// Opens the input: its pages for the page stages, or the finished document.
    fn open(&self, input: Input<'_>) -> Result<Opened, ExtractError>;
}

/// An opened input.
pub(crate) enum Opened {
    /// A paged format: the engine reads and analyses each selected page.
    Paged(Box<dyn PagedInput>),
    /// A flow format, already converted into the document model.
    Flow(Document),
}

/// A paged document, open and ready to be read page by page from many threads.
pub(crate) trait PagedInput: Send + Sync {
    /// Facts about the document (format, page count, title); the engine adds the file name.
    fn metadata(&self) -> Metadata;

    /// Whether the format has a text layer at all (an image has none: only OCR reads it).
    fn has_text_layer(&self) -> bool;

    /// Checks that concern the whole document once the pages are selected, before any page is
    /// read (a single image's size is the document's error, not a page's).
    fn check(&self, _pages: &[u32], _opts: &ExtractOptions) -> Result<(), ExtractError> {
        Ok(())
    }

    /// Reads page `number` (1-based): its content, and its raster when the page is an image.
    fn read_page(&self, number: u32, cancel: &Cancel) -> Result<SourcePage, PageError>;

    /// Renders page `number` at `scale` pixels per point for OCR, within `max_pixels`.
    fn render_page(
        &self,
        number: u32,
        scale: f32,
        max_pixels: u64,
        cancel: &Cancel,
    ) -> Result<RgbImage, PageError>;
}

/// One page as its backend read it.
pub(crate) struct SourcePage {
    /// The page's own content: its text layer, rules and image boxes (empty for an image).
    pub content: PageContent,
    /// The page itself as pixels, when it is an image (a PDF page is rendered on demand).
    pub raster: Option<RgbImage>,
    /// Pixels of `raster` per page unit.
    pub px_per_point: f32,
    /// What the backend has to say about this page beyond its content (a truncated file).
    pub warnings: Vec<Warning>,
}
