//! Entry points: one page, then the whole document.

use folio_doc::{BBox, Block, BlockKind, Page, Provenance, Source};

use crate::blocks::{blocks, lines};
use crate::order::{reading_order, Columns};
use crate::words::{fragments, Fragment};
use crate::{tables, PageContent};

/// Images smaller than this share of the page are decoration (bullets, logos in a line).
const MIN_FIGURE_AREA: f32 = 0.02;

/// One thing placed in reading order.
enum Item {
    Text(Fragment),
    Table(Block),
    Figure(BBox),
}

impl Item {
    fn bbox(&self) -> BBox {
        match self {
            Item::Text(f) => f.bbox,
            Item::Table(b) => b.bbox,
            Item::Figure(b) => *b,
        }
    }
}

/// Blocks of one page, in reading order, from its content. `source` is where the glyphs came
/// from (the text layer, or OCR words presented as glyphs).
pub fn analyze_page(content: &PageContent, page_number: u32, source: Source) -> Vec<Block> {
    let provenance = Provenance {
        page: page_number,
        source,
    };
    let frags = fragments(&content.glyphs, &content.segments);
    let em = median_size(&frags);
    let (table_blocks, frags) = tables::extract_tables(&content.segments, frags, provenance, em);
    let page_area = (content.width * content.height).max(1.0);
    let mut items: Vec<Item> = Vec::new();
    items.extend(table_blocks.into_iter().map(Item::Table));
    for img in &content.images {
        let clipped = BBox::new(
            img.x0.max(0.0),
            img.y0.max(0.0),
            img.x1.min(content.width),
            img.y1.min(content.height),
        );
        if clipped.width() * clipped.height() >= MIN_FIGURE_AREA * page_area
            && clipped.width() * clipped.height() < 0.9 * page_area
        {
            items.push(Item::Figure(clipped));
        }
    }
    let rtl_chars: usize = frags.iter().filter(|f| f.rtl).map(|f| f.text().len()).sum();
    let all_chars: usize = frags.iter().map(|f| f.text().len()).sum();
    let rtl = rtl_chars * 2 > all_chars;
    items.extend(frags.into_iter().map(Item::Text));

    let boxes: Vec<BBox> = items.iter().map(Item::bbox).collect();
    let columns = match source {
        Source::Ocr => Columns::TextOnly,
        _ => Columns::Aligned,
    };
    let order = reading_order(&boxes, em, rtl, columns);
    let mut slots: Vec<Option<Item>> = items.into_iter().map(Some).collect();
    let mut out = Vec::new();
    let mut run: Vec<Fragment> = Vec::new();
    let flush = |run: &mut Vec<Fragment>, out: &mut Vec<Block>| {
        if !run.is_empty() {
            out.extend(blocks(lines(std::mem::take(run)), page_number, source));
        }
    };
    for i in order {
        match slots[i].take() {
            Some(Item::Text(f)) => run.push(f),
            Some(Item::Table(b)) => {
                flush(&mut run, &mut out);
                out.push(b);
            }
            Some(Item::Figure(bbox)) => {
                flush(&mut run, &mut out);
                out.push(Block {
                    kind: BlockKind::Figure,
                    bbox,
                    text: String::new(),
                    lines: Vec::new(),
                    table: None,
                    key_value: None,
                    provenance,
                });
            }
            None => {}
        }
    }
    flush(&mut run, &mut out);
    out
}

fn median_size(frags: &[Fragment]) -> f32 {
    let mut sizes: Vec<f32> = frags
        .iter()
        .map(|f| f.size)
        .filter(|s| s.is_finite())
        .collect();
    if sizes.is_empty() {
        return 10.0;
    }
    sizes.sort_by(f32::total_cmp);
    sizes[sizes.len() / 2]
}

/// Document-wide passes once every page is analysed: heading levels from the document's font
/// statistics, and running headers/footers recognised by repetition across pages.
pub fn finish_document(pages: &mut [Page]) {
    crate::document::mark_furniture(pages);
    crate::document::mark_headings(pages);
}
