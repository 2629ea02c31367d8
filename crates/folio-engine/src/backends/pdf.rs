//! PDF through `folio-pdf` (hayro): a text layer per page, rendered on demand for OCR.

use folio_content::Cancel;
use folio_doc::Metadata;
use folio_pdf::{PdfDocument, PdfError};
use folio_vision::RgbImage;

use super::{Backend, Input, Opened, PagedInput, SourcePage};
use crate::error::ReadError;
use crate::stages::PageError;
use crate::ExtractError;

/// The PDF backend.
pub(crate) struct Pdf;

impl Backend for Pdf {
    fn open(&self, input: Input<'_>) -> Result<Opened, ExtractError> {
        let password = input.opts.password.as_deref();
        let pdf =
            PdfDocument::open(std::sync::Arc::clone(input.bytes), password).map_err(
                |e| match e {
                    PdfError::PasswordRequired if password.is_some() => ExtractError::WrongPassword,
                    PdfError::PasswordRequired => ExtractError::PasswordRequired,
                    other => ExtractError::Unreadable(ReadError::Pdf(other)),
                },
            )?;
        if pdf.page_count() == 0 {
            // A truncated file can still parse into an empty page tree: nothing was extracted.
            return Err(ExtractError::Unreadable(ReadError::NoPages));
        }
        Ok(Opened::Paged(Box::new(OpenPdf { pdf })))
    }
}

struct OpenPdf {
    pdf: PdfDocument,
}

impl PagedInput for OpenPdf {
    fn metadata(&self) -> Metadata {
        Metadata {
            filename: None,
            format: "pdf".to_string(),
            page_count: self.pdf.page_count(),
            title: self.pdf.title(),
        }
    }

    fn has_text_layer(&self) -> bool {
        true
    }

    fn read_page(&self, number: u32, cancel: &Cancel) -> Result<SourcePage, PageError> {
        let content = self
            .pdf
            .page_content(number - 1, cancel)
            .map_err(PageError::Pdf)?;
        Ok(SourcePage {
            content,
            raster: None,
            px_per_point: 1.0,
            warnings: Vec::new(),
        })
    }

    fn render_page(
        &self,
        number: u32,
        scale: f32,
        max_pixels: u64,
        cancel: &Cancel,
    ) -> Result<RgbImage, PageError> {
        let raster = self
            .pdf
            .render_page(number - 1, scale, max_pixels, cancel)
            .map_err(PageError::Render)?;
        RgbImage::new(raster.width, raster.height, raster.rgb).map_err(PageError::Raster)
    }
}
