//! OCR of a page the decision sent to it: the page's own image, or its rendering at
//! [`crate::OCR_RENDER_DPI`] within the pixel budget, read by the engine's OCR models. The lines
//! found replace the page's content (as glyphs), and the page's source becomes OCR.

use folio_doc::Source;

use super::{OcrChoice, PageCx, PageError, PageStage, PageState};
use crate::ocr::{page_content, page_words, OcrFailure, OCR_PIXEL_BUDGET, OCR_RENDER_DPI};

/// The OCR stage.
pub(crate) struct OcrStage;

impl PageStage for OcrStage {
    fn name(&self) -> &'static str {
        "ocr"
    }

    fn run(&self, page: &mut PageState, cx: &PageCx<'_>) -> Result<bool, PageError> {
        if page.choice != OcrChoice::Ocr {
            return Ok(false);
        }
        // The engine checks for models before an image's pages run; a PDF page only gets here
        // once the decision found them loaded.
        let Some(runtime) = cx.ocr else {
            return Err(PageError::NoModels);
        };
        let (img, px_per_point) = match page.raster.take() {
            Some(img) => (img, page.px_per_point),
            None => {
                let points = (page.content.width * page.content.height).max(1.0);
                let budget = (OCR_PIXEL_BUDGET.min(cx.max_pixels)) as f32;
                let scale = (OCR_RENDER_DPI / 72.0).min((budget / points).sqrt());
                let img = cx
                    .input
                    .render_page(page.number, scale, cx.max_pixels, cx.cancel)?;
                (img, scale)
            }
        };
        let (w, h) = (img.width(), img.height());
        let read = runtime.recognize(img, cx.cancel).map_err(|e| match e {
            OcrFailure::Models(e) => PageError::Models(e),
            OcrFailure::Run(folio_vision::BackendError::Cancelled) => PageError::Cancelled,
            OcrFailure::Run(e) => PageError::Ocr(e),
        })?;
        let (found, fit) = (&read.page, read.fit);
        let mut content = page_content(found, px_per_point * fit);
        page.ocr_words = page_words(found, px_per_point * fit);
        // The page is the image as given (turned upright): its size comes from the image's own
        // dimensions, not from the scaled-down copy OCR read, whose whole-pixel rounding would
        // make a downscaled page a fraction of a pixel shorter than the image.
        let (upright_w, upright_h) = if found.turned % 2 == 1 {
            (h, w)
        } else {
            (w, h)
        };
        content.width = upright_w as f32 / px_per_point;
        content.height = upright_h as f32 / px_per_point;
        content.rotation = 0;
        let t = found.timings;
        let turned = match found.turned {
            0 => String::new(),
            q => format!(", turned upright by {}°", u32::from(q) * 90),
        };
        page.decision = format!(
            "{}; OCR of {w}x{h} pixels: {} lines{turned} (orientation {} ms, detection {} ms, \
             line direction {} ms, recognition {} ms)",
            page.decision,
            found.lines.len(),
            t.orientation_ms,
            t.det_ms,
            t.cls_ms,
            t.rec_ms,
        );
        page.content = content;
        page.source = Source::Ocr;
        // Kept for the layout model, in the upright page's pixels.
        page.raster = Some(read.image);
        page.px_per_point = px_per_point * fit;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use folio_content::{Cancel, PageContent};

    use super::*;
    use crate::stages::testing::{cx, state, FakeInput};
    use crate::OcrMode;

    #[test]
    fn a_page_kept_on_its_text_layer_is_left_alone() {
        let input = FakeInput { raster: None };
        let cancel = Cancel::new();
        let mut page = state(PageContent::empty(10.0, 10.0), true);
        page.decision = "text layer (40 characters)".into();
        assert!(!OcrStage
            .run(&mut page, &cx(&input, OcrMode::Auto, &cancel))
            .unwrap());
        assert_eq!(page.source, Source::TextLayer);
    }

    #[test]
    fn a_page_sent_to_ocr_without_models_fails() {
        let input = FakeInput { raster: None };
        let cancel = Cancel::new();
        let mut page = state(PageContent::empty(10.0, 10.0), false);
        page.choice = OcrChoice::Ocr;
        let err = OcrStage
            .run(&mut page, &cx(&input, OcrMode::Auto, &cancel))
            .unwrap_err();
        assert!(matches!(err, PageError::NoModels), "{err}");
    }
}
