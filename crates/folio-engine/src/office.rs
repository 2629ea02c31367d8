//! The flow formats (DOCX, PPTX, XLSX/XLS/ODS, HTML, Markdown, CSV/TSV, text): a thin adapter
//! over `folio-office`, which builds the whole document; the engine applies the page selection
//! (a page is a slide or a sheet; other flow formats are one logical page) and its limits.

use folio_doc::Document;
use folio_office::{Format, OfficeOptions};

use crate::pipeline::select_pages;
use crate::{ExtractError, ExtractOptions};

/// Every input format Folio reads, for messages (the 415 answer, the CLI's error).
pub(crate) const FORMATS: &str =
    "PDF, PNG, JPEG, TIFF, BMP, WebP, DOCX, PPTX, XLSX, XLS, ODS, HTML, Markdown, CSV/TSV, plain text";

pub(crate) fn extract(
    input: &[u8],
    format: Format,
    opts: &ExtractOptions,
) -> Result<Document, ExtractError> {
    if opts.cancelled() {
        return Err(ExtractError::Cancelled);
    }
    let options = OfficeOptions {
        filename: opts.filename.clone(),
        ..OfficeOptions::default()
    };
    let mut doc = folio_office::read(input, format, &options)?;
    let pages = select_pages(doc.pages.len() as u32, opts)?;
    if pages.len() != doc.pages.len() {
        doc.pages.retain(|p| pages.contains(&p.number));
    }
    Ok(doc)
}
