//! Tables from the page's rules and alignment (`folio-layout`): their words leave the running
//! text and each table becomes one block, placed in reading order by the layout stage.
//! A table-structure model (issue 13) refines or adds tables in its own stage.

use super::{PageCx, PageError, PageStage, PageState};

/// The table stage.
pub(crate) struct Tables;

impl PageStage for Tables {
    fn name(&self) -> &'static str {
        "tables"
    }

    fn run(&self, page: &mut PageState, _cx: &PageCx<'_>) -> Result<bool, PageError> {
        Ok(page
            .layout
            .as_mut()
            .is_some_and(|layout| layout.find_tables() > 0))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use folio_content::{Cancel, FontInfo, Glyph, PageContent, Segment};
    use folio_doc::{BBox, BlockKind};

    use super::*;
    use crate::stages::layout::{Blocks, Words};
    use crate::stages::testing::{cx, state, FakeInput};
    use crate::OcrMode;

    /// A 2x2 grid of ruled cells, each holding one word.
    fn ruled_table() -> PageContent {
        let font = Arc::new(FontInfo {
            name: "Helvetica".into(),
            bold: false,
            italic: false,
            monospace: false,
        });
        let mut content = PageContent::empty(600.0, 800.0);
        for y in [100.0, 130.0, 160.0] {
            content.segments.push(Segment {
                x0: 100.0,
                y0: y,
                x1: 400.0,
                y1: y,
            });
        }
        for x in [100.0, 250.0, 400.0] {
            content.segments.push(Segment {
                x0: x,
                y0: 100.0,
                x1: x,
                y1: 160.0,
            });
        }
        for (i, (word, x, y)) in [
            ("Name", 110.0, 110.0),
            ("Value", 260.0, 110.0),
            ("alpha", 110.0, 140.0),
            ("42", 260.0, 140.0),
        ]
        .into_iter()
        .enumerate()
        {
            content.glyphs.push(Glyph {
                text: word.to_string(),
                bbox: BBox::new(x, y, x + 40.0, y + 12.0),
                size: 12.0,
                angle: 0.0,
                font: Arc::clone(&font),
                seq: i as u32,
            });
        }
        content
    }

    #[test]
    fn a_ruled_grid_becomes_one_table_block() {
        let input = FakeInput { raster: None };
        let cancel = Cancel::new();
        let cx = cx(&input, OcrMode::Auto, &cancel);
        let mut page = state(ruled_table(), true);
        Words.run(&mut page, &cx).unwrap();
        assert!(Tables.run(&mut page, &cx).unwrap());
        Blocks.run(&mut page, &cx).unwrap();
        let tables: Vec<_> = page
            .blocks
            .iter()
            .filter(|b| b.kind == BlockKind::Table)
            .collect();
        assert_eq!(tables.len(), 1, "{:?}", page.blocks);
        let grid = tables[0].table.as_ref().unwrap().grid();
        assert_eq!(grid, vec![vec!["Name", "Value"], vec!["alpha", "42"]]);
        // The cells' words are not repeated as running text.
        assert!(page.blocks.iter().all(|b| b.kind == BlockKind::Table));
    }

    #[test]
    fn text_without_rules_has_no_table() {
        let input = FakeInput { raster: None };
        let cancel = Cancel::new();
        let cx = cx(&input, OcrMode::Auto, &cancel);
        let mut content = ruled_table();
        content.segments.clear();
        let mut page = state(content, true);
        Words.run(&mut page, &cx).unwrap();
        assert!(!Tables.run(&mut page, &cx).unwrap());
    }
}
