//! Images (PNG, JPEG, TIFF, BMP, WebP): one page per image (a TIFF may hold several), decoded
//! under limits by `crate::raster`. An image has no text layer: only OCR reads it.

use std::sync::Arc;

use folio_content::{Cancel, PageContent};
use folio_doc::{BBox, Metadata, Warning, WarningKind};
use folio_vision::RgbImage;

use super::{Backend, Input, Opened, PagedInput, SourcePage};
use crate::raster::{jpeg_is_truncated, ImageSource};
use crate::stages::PageError;
use crate::{ExtractError, ExtractOptions, InputKind};

/// The image backend.
pub(crate) struct Image;

impl Backend for Image {
    fn open(&self, input: Input<'_>) -> Result<Opened, ExtractError> {
        let source = ImageSource::open(input.bytes, input.kind)?;
        Ok(Opened::Paged(Box::new(OpenImage {
            bytes: Arc::clone(input.bytes),
            kind: input.kind,
            pages: source.page_count(),
            multi_page: source.is_multi_page(),
            max_pixels: input.opts.limits.max_page_pixels,
        })))
    }
}

struct OpenImage {
    bytes: Arc<Vec<u8>>,
    kind: InputKind,
    pages: u32,
    multi_page: bool,
    max_pixels: u64,
}

impl PagedInput for OpenImage {
    fn metadata(&self) -> Metadata {
        Metadata {
            filename: None,
            format: self.kind.name().to_string(),
            page_count: self.pages,
            title: None,
        }
    }

    fn has_text_layer(&self) -> bool {
        false
    }

    fn check(&self, _pages: &[u32], opts: &ExtractOptions) -> Result<(), ExtractError> {
        if !self.multi_page {
            // One image: its size is the document's, so a bad one is the document's error.
            ImageSource::reopen(&self.bytes, self.kind, self.pages)
                .check_page(0, opts.limits.max_page_pixels)?;
        }
        Ok(())
    }

    fn read_page(&self, number: u32, _cancel: &Cancel) -> Result<SourcePage, PageError> {
        let source = ImageSource::reopen(&self.bytes, self.kind, self.pages);
        let img = source
            .page(number - 1, self.max_pixels)
            .map_err(|e| PageError::Image(Box::new(e)))?;
        let (w, h) = (img.width() as f32, img.height() as f32);
        let mut content = PageContent::empty(w, h);
        // The whole page is a picture: what the text-layer decision looks at.
        content.images.push(BBox::new(0.0, 0.0, w, h));
        let mut warnings = Vec::new();
        // The decoder fills what a cut JPEG lacks: the page is there, but incomplete.
        if self.kind == InputKind::Jpeg && jpeg_is_truncated(&self.bytes) {
            warnings.push(Warning::new(
                WarningKind::TruncatedInput,
                Some(number),
                format!("page {number}: the JPEG data ends early (a truncated file?); the rest of the image is blank"),
            ));
        }
        Ok(SourcePage {
            content,
            raster: Some(img),
            px_per_point: 1.0,
            warnings,
        })
    }

    fn render_page(
        &self,
        number: u32,
        _scale: f32,
        _max_pixels: u64,
        cancel: &Cancel,
    ) -> Result<RgbImage, PageError> {
        // An image is its own raster, at one pixel per point.
        let page = self.read_page(number, cancel)?;
        page.raster.ok_or(PageError::NoRaster)
    }
}
