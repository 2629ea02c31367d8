//! Opening a PDF and reading its pages.

use std::sync::Arc;

use folio_content::{Cancel, ContentWarning, ContentWarningKind, PageContent};
use hayro::hayro_interpret::util::TransformExt;
use hayro::hayro_interpret::{interpret_page, Context, InterpreterCache, InterpreterSettings};
use hayro::hayro_syntax::page::Rotation;
use hayro::hayro_syntax::{DecryptionError, LoadPdfError, Pdf};
use hayro::kurbo::Rect;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings};

use crate::collect::Collector;
use crate::limits::{DocumentBudget, LimitHit, ReadLimits};

/// Why a PDF could not be opened or a page not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// Encrypted, and the password given (or the empty one) does not open it.
    #[error("the document is encrypted and needs a password")]
    PasswordRequired,
    /// Encrypted with a scheme the reader does not support.
    #[error("unsupported or invalid encryption: {0}")]
    UnsupportedEncryption(&'static str),
    /// Not a PDF that can be parsed, even with recovery.
    #[error("not a readable PDF (no usable cross-reference table or page tree)")]
    Invalid,
    /// A page index past the end.
    #[error("page {index} does not exist")]
    NoSuchPage {
        /// The 0-based index asked for.
        index: u32,
    },
    /// Rendering was cancelled before it finished.
    #[error("rendering was cancelled")]
    Cancelled,
    /// A raster that would exceed the pixel budget.
    #[error("rendering at this scale needs {width}x{height} pixels, over the limit")]
    RasterTooLarge {
        /// Width that would be needed.
        width: u32,
        /// Height that would be needed.
        height: u32,
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

/// An open PDF. Cheap to clone and safe to share between threads; each page is interpreted
/// with its own caches, so pages can be read in parallel.
#[derive(Clone)]
pub struct PdfDocument {
    pdf: Arc<Pdf>,
    budget: Arc<DocumentBudget>,
}

/// Most glyphs kept from one page: a fuzzed content stream can draw millions, and no real page
/// holds more than a few tens of thousands.
pub const MAX_GLYPHS_PER_PAGE: usize = 400_000;

impl PdfDocument {
    /// Opens a PDF from its bytes; an encrypted file is opened with `password` or, when none is
    /// given, with the empty user password.
    pub fn open(data: Arc<Vec<u8>>, password: Option<&str>) -> Result<PdfDocument, PdfError> {
        PdfDocument::open_with_limits(data, password, ReadLimits::default())
    }

    /// [`PdfDocument::open`] under `limits` (opening itself, which decodes the cross-reference
    /// and object streams, runs under the per-page share of them).
    pub fn open_with_limits(
        data: Arc<Vec<u8>>,
        password: Option<&str>,
        limits: ReadLimits,
    ) -> Result<PdfDocument, PdfError> {
        let budget = Arc::new(DocumentBudget::new(limits));
        let (pdf, hit) = budget.run(None, || {
            Pdf::new_with_password(data, password.unwrap_or(""))
        });
        if let Some(hit) = hit {
            tracing::warn!(%hit, "limit reached while opening the PDF");
        }
        let pdf = pdf.map_err(|e| match e {
            LoadPdfError::Decryption(DecryptionError::PasswordProtected) => {
                PdfError::PasswordRequired
            }
            LoadPdfError::Decryption(DecryptionError::UnsupportedAlgorithm) => {
                PdfError::UnsupportedEncryption("unsupported algorithm")
            }
            LoadPdfError::Decryption(DecryptionError::MissingIDEntry) => {
                PdfError::UnsupportedEncryption("the file ID needed for decryption is missing")
            }
            LoadPdfError::Decryption(DecryptionError::InvalidEncryption) => {
                PdfError::UnsupportedEncryption("invalid encryption dictionary")
            }
            LoadPdfError::Invalid => PdfError::Invalid,
        })?;
        Ok(PdfDocument {
            pdf: Arc::new(pdf),
            budget,
        })
    }

    /// Number of pages.
    pub fn page_count(&self) -> u32 {
        self.pdf.pages().len() as u32
    }

    /// The title from the document information dictionary, when present and not blank.
    pub fn title(&self) -> Option<String> {
        let raw = self.pdf.metadata().title.as_deref()?;
        let title = decode_text_string(raw);
        let title = title.trim();
        (!title.is_empty()).then(|| title.to_string())
    }

    /// The glyphs, ruling segments and image boxes of page `index` (0-based), in page
    /// coordinates: points, origin at the top-left of the page as displayed.
    ///
    /// The page is read within the document's [`ReadLimits`]. Once `cancel` is set, or a limit
    /// is reached, the reader stops (before allocating what a limit refuses) and the page comes
    /// back with what was read so far and a [`ContentWarningKind::Interrupted`] warning.
    pub fn page_content(&self, index: u32, cancel: &Cancel) -> Result<PageContent, PdfError> {
        let (mut content, hit) = self.page_content_bounded(index, cancel)?;
        match hit {
            None => {}
            Some(LimitHit::Cancelled) => content.warnings.push(ContentWarning::new(
                ContentWarningKind::Interrupted,
                "reading the page was cancelled before the end of its content",
            )),
            Some(hit) => content.warnings.push(ContentWarning::new(
                ContentWarningKind::Interrupted,
                format!("content left out by a reader limit: {hit}"),
            )),
        }
        Ok(content)
    }

    /// [`PdfDocument::page_content`], with the limit the page ran into (if any) beside what was
    /// read instead of among its warnings.
    pub fn page_content_bounded(
        &self,
        index: u32,
        cancel: &Cancel,
    ) -> Result<(PageContent, Option<LimitHit>), PdfError> {
        let flag = cancel.flag();
        let (content, hit) = self
            .budget
            .run(Some(&flag), || self.page_content_unbounded(index, cancel));
        Ok((content?, hit))
    }

    fn page_content_unbounded(&self, index: u32, cancel: &Cancel) -> Result<PageContent, PdfError> {
        let pages = self.pdf.pages();
        let page = pages
            .get(index as usize)
            .ok_or(PdfError::NoSuchPage { index })?;
        let (width, height) = page.render_dimensions();
        let cache = InterpreterCache::new();
        let viewport = Rect::new(0.0, 0.0, f64::from(width), f64::from(height));
        let mut ctx = Context::new(
            page.initial_transform(true).to_kurbo(),
            viewport,
            &cache,
            page.xref(),
            InterpreterSettings::default(),
        );
        let mut collector = Collector::new(width, height, MAX_GLYPHS_PER_PAGE, cancel.clone());
        interpret_page(page, &mut ctx, &mut collector);
        let mut content = collector.finish();
        content.rotation = match page.rotation() {
            Rotation::None => 0,
            Rotation::Horizontal => 90,
            Rotation::Flipped => 180,
            Rotation::FlippedHorizontal => 270,
        };
        Ok(content)
    }

    /// Renders page `index` (0-based) at `scale` pixels per point (2.0 ≈ 144 dpi) on white.
    /// Fails rather than allocate more than `max_pixels`. Rendering runs within the document's
    /// [`ReadLimits`]; once `cancel` is set it stops at the interpreter's next operator and
    /// fails with [`PdfError::Cancelled`].
    pub fn render_page(
        &self,
        index: u32,
        scale: f32,
        max_pixels: u64,
        cancel: &Cancel,
    ) -> Result<Raster, PdfError> {
        let flag = cancel.flag();
        let (raster, hit) = self.budget.run(Some(&flag), || {
            self.render_page_unbounded(index, scale, max_pixels, cancel)
        });
        match hit {
            Some(LimitHit::Cancelled) => return Err(PdfError::Cancelled),
            Some(hit) => {
                tracing::warn!(page = index + 1, %hit, "limit reached while rendering a page")
            }
            None => {}
        }
        raster
    }

    fn render_page_unbounded(
        &self,
        index: u32,
        scale: f32,
        max_pixels: u64,
        cancel: &Cancel,
    ) -> Result<Raster, PdfError> {
        let pages = self.pdf.pages();
        let page = pages
            .get(index as usize)
            .ok_or(PdfError::NoSuchPage { index })?;
        let (w, h) = page.render_dimensions();
        let (width, height) = ((w * scale).ceil() as u64, (h * scale).ceil() as u64);
        // The rasterizer addresses pixels with u16.
        if width * height > max_pixels || width > 65_535 || height > 65_535 || scale <= 0.0 {
            return Err(PdfError::RasterTooLarge {
                width: width.min(u64::from(u32::MAX)) as u32,
                height: height.min(u64::from(u32::MAX)) as u32,
            });
        }
        let pixmap = hayro::render(
            page,
            &RenderCache::new(),
            &InterpreterSettings::default(),
            &RenderSettings::default(),
            &PixmapSettings {
                x_scale: scale,
                y_scale: scale,
                bg_color: WHITE,
            },
        );
        if cancel.is_cancelled() {
            return Err(PdfError::Cancelled);
        }
        let (pw, ph) = (u32::from(pixmap.width()), u32::from(pixmap.height()));
        // The background is opaque white, so premultiplied RGBA is plain RGBA with alpha 255.
        let rgb = pixmap
            .data_as_u8_slice()
            .chunks_exact(4)
            .flat_map(|px| [px[0], px[1], px[2]])
            .collect();
        Ok(Raster {
            width: pw,
            height: ph,
            rgb,
        })
    }
}

/// Decodes a PDF text string: UTF-16BE with a byte-order mark, UTF-8 with one, else
/// PDFDocEncoding (treated as Latin-1, which agrees on every printable ASCII and most accents).
fn decode_text_string(raw: &[u8]) -> String {
    if let Some(rest) = raw.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = raw.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        raw.iter().map(|&b| char::from(b)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_strings_decode() {
        assert_eq!(decode_text_string(b"\xFE\xFF\x00H\x00i"), "Hi");
        assert_eq!(decode_text_string(b"caf\xE9"), "café");
    }
}
