/*!
Readers for Folio's flow formats: DOCX, PPTX, XLSX (and XLS/ODS), HTML, Markdown, CSV/TSV and plain
text, each turned into the same [`folio_doc::Document`] the PDF path builds.

- [`sniff`] tells the formats apart by content (zip member names, OLE streams, markup, delimiter
  consistency); a file name only breaks ties between text formats.
- [`read`] reads bytes of a known [`Format`] under [`OfficeOptions`] (its [`OfficeLimits`] bound
  what a hostile file can cost) and returns a document or a typed [`OfficeError`].

Flow formats have no page geometry: a DOCX, HTML, Markdown, CSV or text document is one logical
page, a spreadsheet one page per sheet, all with a width and height of 0 and blocks without boxes
(`folio_doc::Page::is_flow`). Slides are real pages: the slide size, and each shape's box from
its position on the slide.

Scope: no I/O (the caller hands bytes), nothing fetched from the network (linked images and
external relationships stay references), no DTD accepted in any XML part (no entity expansion, no
external entity), no macros run. Legacy `.doc`/`.ppt` are not read.

Crates: `zip` + `roxmltree` for OOXML (a DOM keeps the readers short; its parser refuses DTDs
and bounds the node count), `calamine` for spreadsheets (XLSX, XLS, ODS, with cell styles for
number formats), `scraper` (html5ever, the browsers' parsing algorithm) for HTML, `pulldown-cmark`
for Markdown, `csv` for delimited text, `encoding_rs` + `chardetng` for text encodings.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod build;
mod chart;
mod csv;
mod docx;
mod error;
mod html;
mod limits;
mod markdown;
mod media;
mod omml;
mod package;
mod pptx;
mod sniff;
mod text;
mod xlsx;
mod xml;

pub use error::OfficeError;
pub use limits::OfficeLimits;
pub use sniff::sniff;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use folio_doc::Document;

/// A format this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Word (Office Open XML, transitional or strict).
    Docx,
    /// PowerPoint (Office Open XML).
    Pptx,
    /// Excel (Office Open XML).
    Xlsx,
    /// Legacy Excel (BIFF in an OLE compound file).
    Xls,
    /// OpenDocument spreadsheet.
    Ods,
    /// HTML.
    Html,
    /// Markdown (CommonMark with pipe tables).
    Markdown,
    /// Comma-, tab-, semicolon- or pipe-separated values (sniffed).
    Csv,
    /// Plain text in any encoding `encoding_rs` knows.
    Text,
}

impl Format {
    /// Every format, in the order help texts list them.
    pub const ALL: [Format; 9] = [
        Format::Docx,
        Format::Pptx,
        Format::Xlsx,
        Format::Xls,
        Format::Ods,
        Format::Html,
        Format::Markdown,
        Format::Csv,
        Format::Text,
    ];

    /// The short name used in `metadata.format` and messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Pptx => "pptx",
            Format::Xlsx => "xlsx",
            Format::Xls => "xls",
            Format::Ods => "ods",
            Format::Html => "html",
            Format::Markdown => "markdown",
            Format::Csv => "csv",
            Format::Text => "text",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How to read.
#[derive(Debug, Clone, Default)]
pub struct OfficeOptions {
    /// Set to `true` from another thread to stop reading: the readers check it between
    /// paragraphs, rows, cells and slides and end with [`OfficeError::Cancelled`].
    pub cancel: Option<Arc<AtomicBool>>,
    /// The moment reading must stop by; checked where `cancel` is, it ends with
    /// [`OfficeError::TimedOut`]. The engine sets it from the document's time limit.
    pub deadline: Option<Instant>,
    /// Bounds on the work a file may cause.
    pub limits: OfficeLimits,
    /// The source's file name, recorded in the metadata.
    pub filename: Option<String>,
    /// PPTX: add each slide's speaker notes after its content.
    pub notes: bool,
    /// XLSX/XLS/ODS: read hidden sheets too.
    pub hidden_sheets: bool,
    /// DOCX, PPTX, HTML: give each figure its picture (`folio_doc::Image`: the embedded PNG or
    /// JPEG bytes, other rasters as PNG, within [`OfficeLimits::max_image_bytes`]).
    pub images: bool,
}

impl OfficeOptions {
    /// `Err` once reading must stop: cancelled, or past the deadline. Cheap (an atomic load and
    /// a clock read), so the readers' loops call it once per paragraph, row or slide.
    pub(crate) fn check(&self, format: &'static str) -> Result<(), OfficeError> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(OfficeError::Cancelled { format });
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(OfficeError::TimedOut { format });
        }
        Ok(())
    }
}

/// Reads `bytes` as `format`.
pub fn read(
    bytes: &[u8],
    format: Format,
    options: &OfficeOptions,
) -> Result<Document, OfficeError> {
    let _span =
        tracing::debug_span!("office", format = format.name(), bytes = bytes.len()).entered();
    options.check(format.name())?;
    match format {
        Format::Docx => docx::read(bytes, options),
        Format::Pptx => pptx::read(bytes, options),
        Format::Xlsx | Format::Xls | Format::Ods => xlsx::read(bytes, format, options),
        Format::Html => html::read(bytes, options),
        Format::Markdown => markdown::read(bytes, options),
        Format::Csv => csv::read(bytes, options),
        Format::Text => text::read(bytes, options),
    }
}
