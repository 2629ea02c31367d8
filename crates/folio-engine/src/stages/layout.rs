//! Layout analysis (`folio-layout`) in two stages around the table stage: [`Words`] groups the
//! page's glyphs (or OCR lines) into words and lines, [`Blocks`] puts them, the tables and the
//! figures in reading order and gives each block its role.

use super::{PageCx, PageError, PageStage, PageState};

/// Words and lines from the page's content.
pub(crate) struct Words;

impl PageStage for Words {
    fn name(&self) -> &'static str {
        "words"
    }

    fn run(&self, page: &mut PageState, _cx: &PageCx<'_>) -> Result<bool, PageError> {
        page.layout = Some(folio_layout::PageLayout::new(
            &page.content,
            page.number,
            page.source,
        ));
        Ok(!page.content.glyphs.is_empty())
    }
}

/// Reading order and block roles: the page's blocks.
pub(crate) struct Blocks;

impl PageStage for Blocks {
    fn name(&self) -> &'static str {
        "layout"
    }

    fn run(&self, page: &mut PageState, _cx: &PageCx<'_>) -> Result<bool, PageError> {
        let Some(layout) = page.layout.take() else {
            return Ok(false);
        };
        page.blocks = layout.into_blocks();
        Ok(!page.blocks.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use folio_content::{Cancel, FontInfo, Glyph, PageContent};
    use folio_doc::{BBox, BlockKind};

    use super::*;
    use crate::stages::testing::{cx, state, FakeInput};
    use crate::OcrMode;

    #[test]
    fn glyphs_become_a_paragraph_and_an_empty_page_no_blocks() {
        let font = Arc::new(FontInfo {
            name: "Times".into(),
            bold: false,
            italic: false,
            monospace: false,
        });
        let mut content = PageContent::empty(600.0, 800.0);
        for (i, word) in ["Layout", "stages", "work"].iter().enumerate() {
            let x = 50.0 + 60.0 * i as f32;
            content.glyphs.push(Glyph {
                text: (*word).to_string(),
                bbox: BBox::new(x, 100.0, x + 50.0, 112.0),
                size: 12.0,
                angle: 0.0,
                font: Arc::clone(&font),
                seq: i as u32,
            });
        }
        let input = FakeInput { raster: None };
        let cancel = Cancel::new();
        let cx = cx(&input, OcrMode::Auto, &cancel);
        let mut page = state(content, true);
        assert!(Words.run(&mut page, &cx).unwrap());
        assert!(Blocks.run(&mut page, &cx).unwrap());
        assert_eq!(page.blocks.len(), 1);
        assert_eq!(page.blocks[0].kind, BlockKind::Paragraph);
        assert_eq!(page.blocks[0].text, "Layout stages work");

        let mut empty = state(PageContent::empty(600.0, 800.0), true);
        assert!(!Words.run(&mut empty, &cx).unwrap());
        assert!(!Blocks.run(&mut empty, &cx).unwrap());
        assert!(empty.blocks.is_empty());
    }
}
