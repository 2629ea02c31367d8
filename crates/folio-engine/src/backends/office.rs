//! The flow formats (DOCX, PPTX, XLSX/XLS/ODS, HTML, Markdown, CSV/TSV, text): a thin adapter
//! over `folio-office`, which builds the whole document; the engine applies the page selection
//! (a page is a slide or a sheet; other flow formats are one logical page) and its limits.

use folio_office::{OfficeError, OfficeOptions};

use super::{Backend, Input, Opened};
use crate::engine::select_pages;
use crate::{ExtractError, InputKind};

/// The flow-format backend.
pub(crate) struct Office;

impl Backend for Office {
    fn open(&self, input: Input<'_>) -> Result<Opened, ExtractError> {
        let InputKind::Flow(format) = input.kind else {
            // `crate::sniff::backend` sends only flow formats here.
            return Err(ExtractError::Unsupported(format!(
                "{} is not a flow format",
                input.kind.name()
            )));
        };
        let opts = input.opts;
        if opts.cancelled() {
            return Err(ExtractError::Cancelled);
        }
        let options = OfficeOptions {
            filename: opts.filename.clone(),
            images: opts.images,
            limits: folio_office::OfficeLimits {
                max_image_bytes: opts.limits.max_image_bytes,
                ..folio_office::OfficeLimits::default()
            },
            notes: opts.notes,
            hidden_sheets: opts.hidden_sheets,
            // The reader runs on this thread, not in the page pool: it watches the caller's
            // cancel flag and the document's time limit itself, between paragraphs, rows and
            // slides, as the page stages watch theirs.
            cancel: opts.cancel.clone(),
            deadline: input.started.checked_add(opts.limits.total_timeout),
        };
        let mut doc = folio_office::read(input.bytes, format, &options).map_err(|e| match e {
            OfficeError::Cancelled { .. } => ExtractError::Cancelled,
            OfficeError::TimedOut { .. } => ExtractError::Timeout(opts.limits.total_timeout),
            e => ExtractError::Office(e),
        })?;
        let pages = select_pages(doc.pages.len() as u32, opts)?;
        if pages.len() != doc.pages.len() {
            doc.pages.retain(|p| pages.contains(&p.number));
        }
        Ok(Opened::Flow(doc))
    }
}
