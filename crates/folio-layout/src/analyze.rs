//! Entry points: one page, then the whole document.

use folio_doc::{BBox, Block, Page, Provenance, Source};

use crate::blocks::{blocks, lines};
use crate::order::{reading_order, Columns};
use crate::regions::{ModelRegion, RegionItem, RegionPlan};
use crate::tables;
use crate::words::{fragments, Fragment};
use folio_content::{PageContent, Segment};

/// Images smaller than this share of the page are decoration (bullets, logos in a line).
const MIN_FIGURE_AREA: f32 = 0.02;
/// Rules within this many points of the page's edge, or past it, are the page's frame.
const EDGE_MARGIN: f32 = 1.0;

/// One thing placed in reading order.
enum Item {
    Text(Fragment),
    Table(Block),
    /// A figure or a formula, with the text the layout model's regions gave it.
    Region(RegionItem),
}

impl Item {
    fn bbox(&self) -> BBox {
        match self {
            Item::Text(f) => f.bbox,
            Item::Table(b) => b.bbox,
            Item::Region(r) => r.bbox(),
        }
    }
}

/// One page on its way from content to blocks, in three steps that the engine runs as stages:
/// [`PageLayout::new`] groups glyphs into words and lines, [`PageLayout::find_tables`] takes the
/// tables out of them (rules or alignment), and [`PageLayout::into_blocks`] puts what is left,
/// the tables and the figures in reading order and gives each block its role.
pub struct PageLayout {
    page_number: u32,
    source: Source,
    pub(crate) width: f32,
    height: f32,
    segments: Vec<Segment>,
    images: Vec<BBox>,
    pub(crate) frags: Vec<Fragment>,
    /// The page's median glyph size, taken before the tables leave the running text.
    pub(crate) em: f32,
    pub(crate) tables: Vec<Block>,
    /// A layout model's regions, when one ran on the page (see `regions`).
    pub(crate) regions: Vec<ModelRegion>,
}

impl std::fmt::Debug for PageLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageLayout")
            .field("page_number", &self.page_number)
            .field("source", &self.source)
            .field("words", &self.frags.len())
            .field("tables", &self.tables.len())
            .finish_non_exhaustive()
    }
}

impl PageLayout {
    /// The words of a page's content. `source` is where the glyphs came from (the text layer,
    /// or OCR lines presented as glyphs).
    pub fn new(content: &PageContent, page_number: u32, source: Source) -> PageLayout {
        let frags = fragments(&content.glyphs, &content.segments);
        PageLayout {
            page_number,
            source,
            width: content.width,
            height: content.height,
            segments: page_rules(&content.segments, content.width, content.height),
            images: content.images.clone(),
            em: median_size(&frags),
            frags,
            tables: Vec::new(),
            regions: Vec::new(),
        }
    }

    /// Finds the tables (ruled grids, rows between rules, aligned columns) and takes their words
    /// out of the running text. Returns how many tables were found.
    pub fn find_tables(&mut self) -> usize {
        let provenance = Provenance {
            page: self.page_number,
            source: self.source,
        };
        let frags = std::mem::take(&mut self.frags);
        let (tables, frags) = tables::extract_tables(&self.segments, frags, provenance, self.em);
        self.frags = frags;
        let found = tables.len();
        self.tables.extend(tables);
        found
    }

    /// The tables found so far.
    pub fn tables(&self) -> &[Block] {
        &self.tables
    }

    /// Blocks of the page in reading order: text grouped into paragraphs, headings, lists and
    /// code, with the tables and figures placed among them.
    pub fn into_blocks(self) -> Vec<Block> {
        let PageLayout {
            page_number,
            source,
            width,
            height,
            images,
            segments,
            mut frags,
            em,
            tables,
            regions,
        } = self;
        let provenance = Provenance {
            page: page_number,
            source,
        };
        let page_area = (width * height).max(1.0);
        let mut items: Vec<Item> = Vec::new();
        let table_boxes: Vec<BBox> = tables.iter().map(|t| t.bbox).collect();
        items.extend(tables.into_iter().map(Item::Table));
        let figures: Vec<BBox> = images
            .iter()
            .map(|img| {
                BBox::new(
                    img.x0.max(0.0),
                    img.y0.max(0.0),
                    img.x1.min(width),
                    img.y1.min(height),
                )
            })
            .filter(|clipped| {
                let area = clipped.width() * clipped.height();
                area >= MIN_FIGURE_AREA * page_area && area < 0.9 * page_area
            })
            .collect();
        // What is drawn on the page besides its text: a model's figure on a text layer must
        // hold some of it (a picture, or lines of a chart), not only text.
        let lines_drawn: Vec<BBox> = segments
            .iter()
            .map(|s| BBox::new(s.x0, s.y0, s.x1, s.y1))
            .collect();
        let plan = RegionPlan::new(
            regions,
            width,
            height,
            source,
            (images.clone(), lines_drawn),
        );
        items.extend(
            plan.take_items(&mut frags, figures, &table_boxes)
                .into_iter()
                .map(Item::Region),
        );
        let rtl_chars: usize = frags.iter().filter(|f| f.rtl).map(|f| f.text().len()).sum();
        let all_chars: usize = frags.iter().map(|f| f.text().len()).sum();
        let rtl = rtl_chars * 2 > all_chars;
        let columns = plan.columns(
            &frags,
            match source {
                Source::Ocr => Columns::TextOnly,
                _ => Columns::Aligned,
            },
        );
        items.extend(frags.into_iter().map(Item::Text));

        let boxes: Vec<BBox> = items.iter().map(Item::bbox).collect();
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
                Some(Item::Region(r)) => {
                    flush(&mut run, &mut out);
                    out.extend(r.into_blocks(em, provenance));
                }
                None => {}
            }
        }
        flush(&mut run, &mut out);
        plan.mark(&mut out);
        out
    }
}

/// Blocks of one page, in reading order, from its content: the three steps of [`PageLayout`]
/// in a row. `source` is where the glyphs came from.
pub fn analyze_page(content: &PageContent, page_number: u32, source: Source) -> Vec<Block> {
    let mut layout = PageLayout::new(content, page_number, source);
    layout.find_tables();
    layout.into_blocks()
}

/// The rules drawn on the page, less the page's own frame: a line along an edge of the page or
/// reaching past it (a spread's two page outlines and its fold, crop marks, a bleed band) is
/// no table's rule, and a grid of them would hide the whole page from the table search as a
/// chart's plot area.
fn page_rules(segments: &[Segment], width: f32, height: f32) -> Vec<Segment> {
    let inside = |v: f32, limit: f32| (EDGE_MARGIN..=limit - EDGE_MARGIN).contains(&v);
    segments
        .iter()
        .filter(|s| {
            inside(s.x0.min(s.x1), width)
                && inside(s.x0.max(s.x1), width)
                && inside(s.y0.min(s.y1), height)
                && inside(s.y0.max(s.y1), height)
        })
        .copied()
        .collect()
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

/// Running headers and footers, recognised by repetition across pages, become page furniture.
pub fn mark_furniture(pages: &mut [Page]) {
    crate::document::mark_furniture(pages);
}

/// Heading levels from the whole document's font statistics.
pub fn mark_headings(pages: &mut [Page]) {
    crate::document::mark_headings(pages);
}

/// Document-wide passes once every page is analysed: [`mark_furniture`], then [`mark_headings`].
pub fn finish_document(pages: &mut [Page]) {
    mark_furniture(pages);
    mark_headings(pages);
}
