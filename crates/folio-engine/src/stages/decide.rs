//! The text-layer-or-OCR decision, per page, with its reasons kept for provenance.

use folio_content::PageContent;
use folio_doc::{Source, Warning, WarningKind};

use super::{OcrChoice, PageCx, PageError, PageStage, PageState};
use crate::OcrMode;

/// A page with fewer letters and digits than this in its text layer has no usable text.
const MIN_TEXT_CHARS: usize = 10;
/// Images covering less than this share of a page are not worth reading.
const MIN_SCAN_AREA: f32 = 0.05;

/// Decides between the page's text layer and OCR.
///
/// An image (no text layer) is read by OCR (the engine has already refused an image without
/// models); with OCR off it comes out empty, with an `ocr_disabled` warning that makes the page
/// and the document `partial`, never an empty `success`. A PDF page keeps its text layer unless OCR is asked for
/// (`--ocr always`), or (`--ocr auto`) its glyphs have no Unicode, or its layer is sparse and a
/// scanned picture covers part of the page. A page with a few words and no picture keeps them. A page that needs OCR that cannot run keeps what its text layer has,
/// with an `ocr_unavailable` warning.
pub(crate) struct Decide;

impl PageStage for Decide {
    fn name(&self) -> &'static str {
        "decide"
    }

    fn run(&self, page: &mut PageState, cx: &PageCx<'_>) -> Result<bool, PageError> {
        if !page.has_text_layer {
            // Only OCR reads an image.
            page.source = Source::Ocr;
            if cx.mode == OcrMode::Never {
                let number = page.number;
                page.decision = "image; OCR disabled (--ocr never), nothing extracted".to_string();
                page.choice = OcrChoice::TextLayer;
                page.warnings.push(Warning::new(
                    WarningKind::OcrDisabled,
                    Some(number),
                    format!("page {number}: an image is read only by OCR, and OCR is off (--ocr never): nothing was extracted"),
                ));
            } else {
                page.decision = "image".to_string();
                page.choice = OcrChoice::Ocr;
            }
            return Ok(false);
        }
        let (layer_state, layer) = assess_text_layer(&page.content);
        let usable = layer_state == TextLayer::Usable;
        let wants_ocr = match cx.mode {
            OcrMode::Never => false,
            OcrMode::Always => true,
            // Glyphs without Unicode are drawn text only OCR can read. A layer that is merely
            // sparse (a title page, a page number, a few labels) is what the page says: OCR
            // would replace it, and with no picture to read it would only lose it.
            OcrMode::Auto => match layer_state {
                TextLayer::Usable => false,
                TextLayer::Unmapped => true,
                TextLayer::Sparse => scanned_area(&page.content) >= MIN_SCAN_AREA,
            },
        };
        page.choice = OcrChoice::TextLayer;
        if !wants_ocr {
            page.decision = match cx.mode {
                OcrMode::Never => format!("{layer}; OCR disabled"),
                _ if !usable => format!("{layer}; no scanned image to read"),
                _ => layer,
            };
            return Ok(false);
        }
        // Without models, a document whose other pages may be fine: the page keeps what its
        // text layer has, says why it was not read, and the document reports it.
        let unavailable = match cx.ocr {
            None => Some((
                "OCR needed but this engine has no OCR models".to_string(),
                None,
            )),
            Some(runtime) => runtime.models().err().map(|e| {
                (
                    format!("OCR unavailable: {e}"),
                    Some(format!("OCR needed but unavailable: {e}")),
                )
            }),
        };
        if let Some((why, warning)) = unavailable {
            let number = page.number;
            page.decision = format!("{layer}; {why}");
            page.warnings.push(Warning::new(
                WarningKind::OcrUnavailable,
                Some(number),
                format!("page {number}: {}", warning.unwrap_or(why)),
            ));
            return Ok(false);
        }
        page.decision = match cx.mode {
            OcrMode::Always => format!("{layer}; --ocr always"),
            _ => layer,
        };
        page.choice = OcrChoice::Ocr;
        Ok(false)
    }
}

/// The share of the page covered by images.
fn scanned_area(content: &PageContent) -> f32 {
    let page_area = (content.width * content.height).max(1.0);
    content
        .images
        .iter()
        .map(|b| b.width().max(0.0) * b.height().max(0.0))
        .sum::<f32>()
        / page_area
}

/// What a page's text layer is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextLayer {
    /// Enough mapped text to keep.
    Usable,
    /// Most glyphs have no Unicode: the text is drawn, but only OCR can read it.
    Unmapped,
    /// Few or no characters.
    Sparse,
}

/// What a text layer is worth, and a description of it for the page's provenance.
fn assess_text_layer(content: &PageContent) -> (TextLayer, String) {
    let glyphs = content.glyphs.len();
    let chars = content
        .glyphs
        .iter()
        .filter(|g| g.text.chars().any(|c| c.is_alphanumeric()))
        .count();
    // Fonts without a Unicode mapping give empty, replacement or private-use characters.
    let unmapped = content
        .glyphs
        .iter()
        .filter(|g| {
            g.text.is_empty()
                || g.text
                    .chars()
                    .any(|c| c == '\u{FFFD}' || ('\u{E000}'..='\u{F8FF}').contains(&c))
        })
        .count();
    if glyphs >= 20 && unmapped * 2 > glyphs {
        return (
            TextLayer::Unmapped,
            format!("text layer unusable ({unmapped} of {glyphs} glyphs have no Unicode)"),
        );
    }
    if chars < MIN_TEXT_CHARS {
        let described = if chars == 0 {
            "no text layer (0 characters)".to_string()
        } else {
            format!("sparse text layer ({chars} characters)")
        };
        return (TextLayer::Sparse, described);
    }
    (
        TextLayer::Usable,
        format!("text layer ({chars} characters)"),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use folio_content::{Cancel, FontInfo, Glyph};
    use folio_doc::BBox;

    use super::*;
    use crate::stages::testing::{cx, state, FakeInput};

    fn text(s: &str) -> PageContent {
        let font = Arc::new(FontInfo {
            name: "Times".into(),
            bold: false,
            italic: false,
            monospace: false,
        });
        let mut content = PageContent::empty(600.0, 800.0);
        for (i, c) in s.chars().enumerate() {
            let x = 50.0 + 6.0 * i as f32;
            content.glyphs.push(Glyph {
                text: c.to_string(),
                bbox: BBox::new(x, 100.0, x + 6.0, 112.0),
                size: 12.0,
                angle: 0.0,
                font: Arc::clone(&font),
                seq: i as u32,
            });
        }
        content
    }

    fn decide(content: PageContent, has_text_layer: bool, mode: OcrMode) -> PageState {
        let input = FakeInput { raster: None };
        let cancel = Cancel::new();
        let mut page = state(content, has_text_layer);
        assert!(!Decide.run(&mut page, &cx(&input, mode, &cancel)).unwrap());
        page
    }

    #[test]
    fn a_usable_text_layer_is_kept() {
        let page = decide(text("Quarterly results improved"), true, OcrMode::Auto);
        assert_eq!(page.choice, OcrChoice::TextLayer);
        assert_eq!(page.decision, "text layer (24 characters)");
        assert!(page.warnings.is_empty());
    }

    #[test]
    fn a_scan_without_models_keeps_its_layer_and_says_ocr_was_unavailable() {
        let mut scan = PageContent::empty(600.0, 800.0);
        scan.images.push(BBox::new(0.0, 0.0, 600.0, 800.0));
        let page = decide(scan.clone(), true, OcrMode::Auto);
        assert_eq!(page.choice, OcrChoice::TextLayer);
        assert!(page
            .decision
            .starts_with("no text layer (0 characters); OCR needed"));
        assert_eq!(page.warnings[0].kind, WarningKind::OcrUnavailable);
        assert_eq!(page.warnings[0].page, Some(1));
        // With OCR off, the same page is left as it is, without a warning.
        let page = decide(scan, true, OcrMode::Never);
        assert_eq!(page.decision, "no text layer (0 characters); OCR disabled");
        assert!(page.warnings.is_empty());
    }

    #[test]
    fn a_blank_page_needs_no_ocr() {
        let page = decide(PageContent::empty(600.0, 800.0), true, OcrMode::Auto);
        assert_eq!(page.choice, OcrChoice::TextLayer);
        assert_eq!(
            page.decision,
            "no text layer (0 characters); no scanned image to read"
        );
    }

    #[test]
    fn a_few_words_without_a_picture_keep_their_text_layer() {
        // A cover or separator page: OCR would read the same words at best, and without a
        // picture to read it would replace them with nothing.
        let page = decide(text("Part 2"), true, OcrMode::Auto);
        assert_eq!(page.choice, OcrChoice::TextLayer);
        assert_eq!(
            page.decision,
            "sparse text layer (5 characters); no scanned image to read"
        );
        assert!(page.warnings.is_empty(), "{:?}", page.warnings);
        // The same words over a scanned picture: the picture is what holds the page's text.
        let mut scan = text("Part 2");
        scan.images.push(BBox::new(0.0, 0.0, 600.0, 800.0));
        let page = decide(scan, true, OcrMode::Auto);
        assert_eq!(page.warnings[0].kind, WarningKind::OcrUnavailable);
    }

    #[test]
    fn unmapped_glyphs_want_ocr_even_without_a_picture() {
        let page = decide(text(&"\u{FFFD}".repeat(30)), true, OcrMode::Auto);
        assert_eq!(page.choice, OcrChoice::TextLayer);
        assert_eq!(page.warnings.len(), 1, "{:?}", page.warnings);
        assert_eq!(page.warnings[0].kind, WarningKind::OcrUnavailable);
    }

    #[test]
    fn glyphs_without_unicode_make_the_layer_unusable() {
        let page = decide(text(&"\u{FFFD}".repeat(30)), true, OcrMode::Never);
        assert!(
            page.decision
                .starts_with("text layer unusable (30 of 30 glyphs"),
            "{}",
            page.decision
        );
    }

    #[test]
    fn an_image_is_read_by_ocr_and_with_ocr_off_says_nothing_was_extracted() {
        let page = decide(PageContent::empty(100.0, 100.0), false, OcrMode::Auto);
        assert_eq!(
            (page.choice, page.decision.as_str()),
            (OcrChoice::Ocr, "image")
        );
        assert!(page.warnings.is_empty());
        let page = decide(PageContent::empty(100.0, 100.0), false, OcrMode::Never);
        assert_eq!(page.choice, OcrChoice::TextLayer);
        assert_eq!(page.warnings.len(), 1);
        assert_eq!(page.warnings[0].kind, WarningKind::OcrDisabled);
    }
}
