//! Regions a layout model found on a page, and what they change in the page's layout.
//!
//! The model (`folio-vision`'s PP-PicoDet on CDLA) is strong on tables, figures, formulas,
//! titles and captions and weak at splitting English paragraphs, so paragraphs stay the
//! heuristics' work and the regions only add what the heuristics cannot see on their own:
//!
//! - a **figure** region becomes a figure block; the text printed inside it (chart labels) is
//!   the figure's text, and the nearest figure-caption region below or above it becomes a
//!   caption block read right after it;
//! - an **equation** region holding something mathematical becomes one formula block;
//! - a **header** or **footer** region in the page's margin marks the blocks in it as page
//!   furniture, on pages that read like a document (a receipt's shop name at the top is text);
//! - on a page read by OCR, headings come only from **title** regions, and only when their
//!   text is words on a page of prose (a scrawl on a receipt is no heading);
//! - side-by-side **text** regions confirm columns on a page read by OCR, whose reading order
//!   otherwise refuses column cuts (receipts and forms wander row by row).
//!
//! Tables are the engine's work (the table model reads the region's image); it hands them
//! over with [`PageLayout::add_model_table`].

use folio_doc::{BBox, Block, BlockKind, Provenance, Source};

use crate::analyze::PageLayout;
use crate::blocks::{formula_text, lines, mostly_math, TextLine};
use crate::order::{reading_order, Columns};
use crate::words::Fragment;

/// The stage name the engine gives the layout model in a page's provenance: pages it laid out
/// take their OCR headings from its title regions alone (see `document::mark_headings`).
pub const MODEL_STAGE: &str = "layout_model";

/// What a layout model says a region of the page holds (the CDLA classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegionRole {
    /// Body text.
    Text,
    /// A title or section heading.
    Title,
    /// A picture, chart or diagram.
    Figure,
    /// A figure's caption.
    FigureCaption,
    /// A table.
    Table,
    /// A table's caption.
    TableCaption,
    /// A running header.
    Header,
    /// A running footer or page number.
    Footer,
    /// A bibliography entry.
    Reference,
    /// A displayed formula.
    Equation,
}

/// A region of the page and what it holds, in page units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelRegion {
    /// What the region holds.
    pub role: RegionRole,
    /// Where, in page units (the page's own coordinates, origin top-left).
    pub bbox: BBox,
    /// The model's confidence, 0 to 1.
    pub score: f32,
}

/// Rows of text with at least this many pieces set apart make a page read by OCR a table
/// candidate.
const CANDIDATE_ROWS: usize = 3;
/// A block of at least this many rows whose columns line up makes a born-digital page a table
/// candidate: a header and three rows. Three rows line up by chance in a figure's labels, a
/// matrix set in roman type or a glossary on a two-column page (11 of GeoTopo's 117 pages).
const CANDIDATE_BLOCK_ROWS: usize = 4;
/// A line of prose has at least this many words...
const PROSE_WORDS: usize = 6;
/// ...and spans at least this share of the page's width.
const PROSE_WIDTH: f32 = 0.4;
/// A page taller than this many times its width is shaped like a till receipt.
const RECEIPT_ASPECT: f32 = 1.6;
/// Pieces of a row further apart than this many font sizes are in different columns.
const COLUMN_GAP_EM: f32 = 1.5;
/// Rows of one table block are at most this many font sizes apart (room for a row of empty
/// cells or a wrapped cell between them).
const BLOCK_GAP_EM: f32 = 4.0;
/// A margin band (top or bottom) where the model's header and footer regions are believed.
const MARGIN_BAND: f32 = 0.15;
/// A figure region covering more of the page than this is the page, not a picture on it.
const MAX_FIGURE_SHARE: f32 = 0.5;
/// On a text layer, a figure region without an image holds at least this many drawn lines.
const MIN_FIGURE_GRAPHICS: usize = 3;

impl PageLayout {
    /// Whether the layout model may add something to this born-digital page that the
    /// heuristics do not: a block of at least four rows of running text (what the table stage
    /// left) in three or more pieces whose column gaps line up from row to row, an unruled table
    /// the heuristics did not take. Tables the rules or the alignment found are not a reason: on
    /// the dev tables and text sets the models added nothing on such pages (same scores) and
    /// cost 0.4 s a page, 15 to 35 times the page's extraction. Nor are rows set apart here and
    /// there (displayed formulas, a date line, a signature block): their gaps do not line up,
    /// and on the speed set's 359 pages they sent 21 pages to the models for no table at all.
    /// A cheap test: the words are already grouped.
    pub fn wants_model(&self) -> bool {
        column_block_rows(&self.frags, self.em) >= CANDIDATE_BLOCK_ROWS
    }

    /// Whether the layout model may add something to this page read by OCR: its text reads
    /// like a document (three lines of prose across much of the page: titles, running heads,
    /// figures and columns are the model's to find) or holds rows of column-separated pieces (a
    /// scanned table), and it is not shaped like a till receipt (text in a strip more than
    /// 1.6 times as tall as it is wide). A receipt gains nothing from the models (measured on
    /// the SROIE receipts: no table, no figure but the whole photograph) and would pay their
    /// time, about half a second a page.
    pub fn wants_model_on_scan(&self) -> bool {
        let prose = self
            .frags
            .iter()
            .filter(|f| {
                f.text().split_whitespace().count() >= PROSE_WORDS
                    && f.bbox.width() >= PROSE_WIDTH * self.width
            })
            .count();
        !receipt_shaped(self.frags.iter().map(|f| &f.bbox))
            && (prose >= CANDIDATE_ROWS || aligned_rows(&self.frags, self.em) >= CANDIDATE_ROWS)
    }

    /// The words of the running text with their boxes (a text layer's words; a fragment
    /// without word boxes counts as one word), to fill the cells of a table the model finds.
    pub fn text_words(&self) -> Vec<(String, BBox)> {
        self.frags
            .iter()
            .flat_map(|f| {
                if f.words.is_empty() {
                    vec![(f.text(), f.bbox)]
                } else {
                    f.words.clone()
                }
            })
            .collect()
    }

    /// Adds a table the table model read, taking out of the running text every piece whose
    /// centre lies in `extent` (the cells the words were read into). Returns how many pieces
    /// left the running text.
    pub fn add_model_table(&mut self, table: Block, extent: BBox) -> usize {
        let before = self.frags.len();
        self.frags.retain(|f| {
            let (x, y) = f.bbox.center();
            !extent.contains_point(x, y)
        });
        self.tables.push(table);
        before - self.frags.len()
    }

    /// The layout model's regions for [`PageLayout::into_blocks`] (tables excepted: see
    /// [`PageLayout::add_model_table`]).
    pub fn set_regions(&mut self, regions: Vec<ModelRegion>) {
        self.regions = regions;
    }
}

/// Whether text in these boxes is shaped like a till receipt: its own extent (a receipt scanned
/// on an A4 sheet is a narrow strip on it) more than [`RECEIPT_ASPECT`] times as tall as wide.
pub(crate) fn receipt_shaped<'a>(boxes: impl IntoIterator<Item = &'a BBox>) -> bool {
    BBox::union_all(boxes).is_some_and(|t| t.height() > RECEIPT_ASPECT * t.width())
}

/// The upright pieces grouped into rows (pieces sharing a baseline band), top to bottom, each
/// row's boxes left to right.
fn rows<'a>(frags: impl IntoIterator<Item = &'a Fragment>) -> Vec<Vec<BBox>> {
    let mut order: Vec<&Fragment> = frags.into_iter().filter(|f| f.orientation == 0).collect();
    order.sort_by(|a, b| a.bbox.y0.total_cmp(&b.bbox.y0));
    let mut rows = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let first = order[start].bbox;
        let mut end = start + 1;
        while end < order.len()
            && first.overlap_y(&order[end].bbox)
                >= 0.5 * first.height().min(order[end].bbox.height())
        {
            end += 1;
        }
        let mut row: Vec<BBox> = order[start..end].iter().map(|f| f.bbox).collect();
        row.sort_by(|a, b| a.x0.total_cmp(&b.x0));
        rows.push(row);
        start = end;
    }
    rows
}

/// The column gaps of a row (left piece's right edge, right piece's left edge): spaces between
/// neighbouring pieces of at least [`COLUMN_GAP_EM`] font sizes.
fn column_gaps(row: &[BBox], em: f32) -> Vec<(f32, f32)> {
    row.windows(2)
        .filter(|w| w[1].x0 - w[0].x1 >= COLUMN_GAP_EM * em.max(1.0))
        .map(|w| (w[0].x1, w[1].x0))
        .collect()
}

/// Rows made of three or more pieces with column gaps between them, anywhere on the page.
fn aligned_rows(frags: &[Fragment], em: f32) -> usize {
    rows(frags)
        .iter()
        .filter(|row| column_gaps(row, em).len() >= 2)
        .count()
}

/// The most rows of three or more pieces in one block whose column gaps line up: at least two
/// gutters (white strips a font size wide) run through every such row of the block, each row
/// lies below the one before (not overlapping it) within [`BLOCK_GAP_EM`] font sizes, and no
/// row between them runs across a gutter (a line of prose through it ends a table). Rows with
/// fewer pieces (a section label, a row with empty cells) may sit inside the block. Pieces
/// that are mostly mathematics are left out: a matrix's entries line up like cells.
fn column_block_rows(frags: &[Fragment], em: f32) -> usize {
    let em = em.max(1.0);
    let mut best = 0;
    let mut run = 0;
    // The run's last aligned row's bottom, and the gutters (white strips at least a font size
    // wide) that run through every aligned row of the run.
    let mut last: Option<(f32, Vec<(f32, f32)>)> = None;
    for row in rows(frags.iter().filter(|f| !mostly_math(&f.spans))) {
        let Some(extent) = BBox::union_all(row.iter()) else {
            continue;
        };
        let gaps = column_gaps(&row, em);
        if gaps.len() < 2 {
            // Text through one of the run's gutters ends it.
            let crosses = last.as_ref().is_some_and(|(_, gutters)| {
                gutters.iter().any(|g| {
                    row.iter()
                        .any(|b| b.x0 < g.0 + 0.1 * em && b.x1 > g.1 - 0.1 * em)
                })
            });
            if crosses {
                run = 0;
                last = None;
            }
            continue;
        }
        // A row overlapping the one before it is a formula's sub- or superscripts, or its
        // tall brackets, not the next row of a table.
        let narrowed = last.as_ref().and_then(|(bottom, gutters)| {
            let below = extent.y0 - bottom;
            if !(-0.2 * em..=BLOCK_GAP_EM * em).contains(&below) {
                return None;
            }
            let kept: Vec<(f32, f32)> = gutters
                .iter()
                .filter_map(|g| {
                    gaps.iter()
                        .map(|r| (g.0.max(r.0), g.1.min(r.1)))
                        .find(|i| i.1 - i.0 >= em)
                })
                .collect();
            (kept.len() >= 2).then_some(kept)
        });
        let gutters = match narrowed {
            Some(kept) => {
                run += 1;
                kept
            }
            None => {
                run = 1;
                gaps
            }
        };
        best = best.max(run);
        last = Some((extent.y1, gutters));
    }
    best
}

/// What the regions took out of the running text, placed in reading order by the caller.
pub(crate) enum RegionItem {
    /// A figure (a model's region, or an image of the page's content) with the text printed
    /// inside it and its caption's pieces.
    Figure {
        bbox: BBox,
        inside: Vec<Fragment>,
        caption: Vec<Fragment>,
    },
    /// A displayed formula's pieces.
    Formula { bbox: BBox, inside: Vec<Fragment> },
}

impl RegionItem {
    pub(crate) fn bbox(&self) -> BBox {
        match self {
            RegionItem::Figure { bbox, caption, .. } => {
                BBox::union_all(caption.iter().map(|f| &f.bbox)).map_or(*bbox, |c| c.union(bbox))
            }
            RegionItem::Formula { bbox, .. } => *bbox,
        }
    }

    /// The item's blocks: a figure and its caption, or a formula.
    pub(crate) fn into_blocks(self, em: f32, provenance: Provenance) -> Vec<Block> {
        match self {
            RegionItem::Figure {
                bbox,
                inside,
                caption,
            } => {
                let inner = ordered_lines(inside, em);
                let mut figure = Block::from_lines(
                    BlockKind::Figure,
                    inner.into_iter().map(|l| l.line).collect(),
                    provenance,
                );
                figure.bbox = bbox;
                let mut out = vec![figure];
                let caption = ordered_lines(caption, em);
                if !caption.is_empty() {
                    out.push(Block::from_lines(
                        BlockKind::Caption,
                        caption.into_iter().map(|l| l.line).collect(),
                        provenance,
                    ));
                }
                out
            }
            RegionItem::Formula { bbox, inside } => {
                let lines: Vec<_> = ordered_lines(inside, em)
                    .into_iter()
                    .map(|l| l.line)
                    .collect();
                let mut block = Block::from_lines(BlockKind::Formula, lines, provenance);
                block.text = formula_text(&block.lines);
                block.bbox = block.bbox.union(&bbox);
                vec![block]
            }
        }
    }
}

/// Pieces in reading order, joined into lines.
fn ordered_lines(frags: Vec<Fragment>, em: f32) -> Vec<TextLine> {
    let boxes: Vec<BBox> = frags.iter().map(|f| f.bbox).collect();
    let order = reading_order(&boxes, em, false, Columns::TextOnly);
    let mut slots: Vec<Option<Fragment>> = frags.into_iter().map(Some).collect();
    lines(order.into_iter().filter_map(|i| slots[i].take()).collect())
}

/// Whether `inner` lies mostly (by area) inside `outer`.
fn mostly_inside(inner: &BBox, outer: &BBox, share: f32) -> bool {
    let area = inner.width().max(0.1) * inner.height().max(0.1);
    inner.overlap_x(outer) * inner.overlap_y(outer) >= share * area
}

fn centre_in(b: &BBox, region: &BBox) -> bool {
    let (x, y) = b.center();
    region.contains_point(x, y)
}

/// Text of a would-be formula: a relation or an operator, and hardly any prose words.
fn looks_mathematical(text: &str) -> bool {
    let symbol = text.chars().any(|c| {
        matches!(
            c,
            '=' | '<'
                | '>'
                | '≤'
                | '≥'
                | '≈'
                | '≠'
                | '∑'
                | '∏'
                | '∫'
                | '√'
                | '±'
                | '×'
                | '÷'
                | '^'
                | '∞'
                | '∈'
                | '→'
        ) || ('\u{0391}'..='\u{03C9}').contains(&c)
            || ('\u{2200}'..='\u{22FF}').contains(&c)
    });
    let prose = text
        .split_whitespace()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 4)
        .count();
    symbol && prose <= 2
}

/// The regions' effect on one page, applied by [`PageLayout::into_blocks`].
pub(crate) struct RegionPlan {
    regions: Vec<ModelRegion>,
    width: f32,
    height: f32,
    source: Source,
    /// Boxes of the page's images, and of its drawn lines (a text layer's; none on a page
    /// read by OCR).
    graphics: (Vec<BBox>, Vec<BBox>),
}

impl RegionPlan {
    pub(crate) fn new(
        regions: Vec<ModelRegion>,
        width: f32,
        height: f32,
        source: Source,
        graphics: (Vec<BBox>, Vec<BBox>),
    ) -> Self {
        RegionPlan {
            regions,
            width,
            height,
            source,
            graphics,
        }
    }

    /// Whether a figure region is a picture: not paragraphs of prose the model boxed (three
    /// lines of six words or more), and on a text layer, drawn: it holds part of an image or a
    /// few of the page's lines. On a page read by OCR the model saw the pixels; that is enough.
    fn is_picture(&self, region: &BBox, frags: &[Fragment]) -> bool {
        let prose = frags
            .iter()
            .filter(|f| centre_in(&f.bbox, region))
            .filter(|f| f.text().split_whitespace().count() >= PROSE_WORDS)
            .count();
        if prose >= CANDIDATE_ROWS {
            return false;
        }
        if self.source == Source::Ocr {
            return true;
        }
        let (images, lines) = &self.graphics;
        let picture = images.iter().any(|g| {
            let shared = g.overlap_x(region) * g.overlap_y(region);
            let area = |b: &BBox| b.width().max(0.1) * b.height().max(0.1);
            shared >= 0.3 * area(g).min(area(region))
        });
        let drawn = lines.iter().filter(|g| centre_in(g, region)).count();
        picture || drawn >= MIN_FIGURE_GRAPHICS
    }

    fn of(&self, role: RegionRole) -> impl Iterator<Item = &ModelRegion> {
        self.regions.iter().filter(move |r| r.role == role)
    }

    /// Takes out of `frags` what figure and equation regions hold, and turns `figures` (the
    /// content's images) and the model's figures into figure items with their captions. A
    /// figure region over one of `tables` is the table, seen as a picture: it is left out.
    pub(crate) fn take_items(
        &self,
        frags: &mut Vec<Fragment>,
        figures: Vec<BBox>,
        tables: &[BBox],
    ) -> Vec<RegionItem> {
        let mut items = Vec::new();
        // The model's figures (whose text is theirs), and the content's images none of them
        // already covers (whose text stays running text, as without a model: an image under a
        // text layer is often a page background or a letterhead).
        let page_area = (self.width * self.height).max(1.0);
        let mut boxes: Vec<(BBox, bool)> = self
            .of(RegionRole::Figure)
            // A "figure" over most of the page is the page itself (a photographed receipt, a
            // scan with a shadowed border): its text is the page's text, not a picture's.
            .filter(|r| r.bbox.width() * r.bbox.height() < MAX_FIGURE_SHARE * page_area)
            .filter(|r| self.is_picture(&r.bbox, frags))
            .filter(|r| {
                !tables
                    .iter()
                    .any(|t| mostly_inside(t, &r.bbox, 0.5) || mostly_inside(&r.bbox, t, 0.5))
            })
            .map(|r| (r.bbox, true))
            .collect();
        for img in figures {
            if !boxes
                .iter()
                .any(|(b, _)| mostly_inside(&img, b, 0.5) || mostly_inside(b, &img, 0.5))
            {
                boxes.push((img, false));
            }
        }
        let mut captions: Vec<Option<BBox>> = self
            .of(RegionRole::FigureCaption)
            .map(|r| Some(r.bbox))
            .collect();
        for (bbox, owns_text) in boxes {
            let inside = if owns_text {
                take(frags, |f| centre_in(&f.bbox, &bbox))
            } else {
                Vec::new()
            };
            let caption = nearest_caption(&bbox, &mut captions)
                .map(|c| take(frags, |f| centre_in(&f.bbox, &c)))
                .unwrap_or_default();
            items.push(RegionItem::Figure {
                bbox,
                inside,
                caption,
            });
        }
        for eq in self.of(RegionRole::Equation) {
            let text: String = frags
                .iter()
                .filter(|f| centre_in(&f.bbox, &eq.bbox))
                .map(|f| f.text() + " ")
                .collect();
            if text.trim().is_empty() || !looks_mathematical(&text) {
                continue;
            }
            let inside = take(frags, |f| centre_in(&f.bbox, &eq.bbox));
            items.push(RegionItem::Formula {
                bbox: eq.bbox,
                inside,
            });
        }
        items
    }

    /// Reading order's policy for the page: columns the model confirms (text regions side by
    /// side, each holding several lines) are read as columns even on a page read by OCR.
    pub(crate) fn columns(&self, frags: &[Fragment], default: Columns) -> Columns {
        if default == Columns::Aligned {
            return default;
        }
        let text: Vec<&ModelRegion> = self
            .regions
            .iter()
            .filter(|r| matches!(r.role, RegionRole::Text | RegionRole::Reference))
            .filter(|r| frags.iter().filter(|f| centre_in(&f.bbox, &r.bbox)).count() >= 3)
            .collect();
        let side_by_side = text.iter().any(|a| {
            text.iter().any(|b| {
                a.bbox.x1 <= b.bbox.x0
                    && a.bbox.overlap_y(&b.bbox) >= 0.5 * a.bbox.height().min(b.bbox.height())
            })
        });
        if side_by_side {
            Columns::Aligned
        } else {
            default
        }
    }

    /// Marks running heads and headings the regions confirm, once the blocks are made.
    pub(crate) fn mark(&self, blocks: &mut [Block]) {
        // A page of prose: a receipt's or a form's top lines are not a running head, and its
        // large letters are not a title.
        let prose = blocks
            .iter()
            .filter(|b| b.kind == BlockKind::Paragraph && b.text.split_whitespace().count() >= 8)
            .count();
        let document_like = prose >= 3;
        for b in blocks.iter_mut() {
            let text_block = matches!(b.kind, BlockKind::Paragraph | BlockKind::Heading { .. });
            if !text_block || b.lines.len() > 2 || !document_like {
                continue;
            }
            let in_role = |role| self.of(role).any(|r| centre_in(&b.bbox, &r.bbox));
            let header = in_role(RegionRole::Header) && b.bbox.y1 <= self.height * MARGIN_BAND;
            let footer =
                in_role(RegionRole::Footer) && b.bbox.y0 >= self.height * (1.0 - MARGIN_BAND);
            if header {
                b.kind = BlockKind::PageHeader;
            } else if footer {
                b.kind = BlockKind::PageFooter;
            }
        }
        // On a page read by OCR, a heading needs a title region (the document pass then leaves
        // the page's other lines alone), and words to be one.
        if self.source != Source::Ocr || !document_like {
            return;
        }
        for b in blocks.iter_mut() {
            if b.kind != BlockKind::Paragraph || b.lines.len() > 3 {
                continue;
            }
            let titled = self
                .of(RegionRole::Title)
                .any(|r| mostly_inside(&b.bbox, &r.bbox, 0.6));
            if titled && heading_words(&b.text) {
                b.kind = BlockKind::Heading { level: 2 };
            }
        }
    }
}

/// Text that can be a heading: at most 20 words, mostly letters, and either two words of
/// letters or one long one ("Introduction"); a scrawl read as a few odd letters is neither.
fn heading_words(text: &str) -> bool {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let letters = chars.iter().filter(|c| c.is_alphabetic()).count();
    let words = text.split_whitespace().count();
    let lettered = |min: usize| {
        text.split_whitespace()
            .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= min)
            .count()
    };
    let wordy = lettered(2) >= 2 || lettered(6) >= 1;
    words <= 20 && wordy && letters * 5 >= chars.len() * 4
}

/// The caption region nearest a figure (above or below it, overlapping it across), used once.
fn nearest_caption(figure: &BBox, captions: &mut [Option<BBox>]) -> Option<BBox> {
    let gap = |c: &BBox| {
        if c.y0 >= figure.y1 {
            c.y0 - figure.y1
        } else if c.y1 <= figure.y0 {
            figure.y0 - c.y1
        } else {
            0.0
        }
    };
    let limit = figure.height().max(20.0);
    let best = captions
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.map(|c| (i, c)))
        .filter(|(_, c)| c.overlap_x(figure) > 0.3 * c.width().min(figure.width()))
        .filter(|(_, c)| gap(c) <= limit)
        .min_by(|a, b| gap(&a.1).total_cmp(&gap(&b.1)))
        .map(|(i, _)| i)?;
    captions[best].take()
}

/// Removes and returns the pieces `keep` selects.
fn take(frags: &mut Vec<Fragment>, pick: impl Fn(&Fragment) -> bool) -> Vec<Fragment> {
    let (taken, rest): (Vec<Fragment>, Vec<Fragment>) =
        std::mem::take(frags).into_iter().partition(|f| pick(f));
    *frags = rest;
    taken
}

#[cfg(test)]
mod tests {
    use folio_content::{Glyph, PageContent, Segment};

    use super::*;
    use crate::test_support::{font, prose};

    const BODY: &str = "Body text of the page runs on in sentences of ordinary length here.";

    /// A page of prose lines at the given heights, plus `extra` glyphs, read as `source`.
    fn page(extra: Vec<Glyph>, source: Source) -> PageLayout {
        let f = font("Times");
        let mut content = PageContent::empty(612.0, 792.0);
        for y in [200.0f32, 240.0, 280.0, 600.0, 640.0] {
            content.glyphs.extend(prose(BODY, 72.0, y, 10.0, &f));
        }
        content.glyphs.extend(extra);
        PageLayout::new(&content, 1, source)
    }

    fn region(role: RegionRole, x0: f32, y0: f32, x1: f32, y1: f32) -> ModelRegion {
        ModelRegion {
            role,
            bbox: BBox::new(x0, y0, x1, y1),
            score: 0.9,
        }
    }

    #[test]
    fn a_figure_region_takes_its_labels_and_its_caption_follows_it() {
        let f = font("Times");
        let mut extra = prose("Q1 Q2 Q3", 150.0, 420.0, 8.0, &f);
        extra.extend(prose(
            "Figure 2: Containers per quarter.",
            150.0,
            500.0,
            9.0,
            &f,
        ));
        let mut layout = page(extra, Source::Ocr);
        layout.set_regions(vec![
            region(RegionRole::Figure, 100.0, 320.0, 500.0, 440.0),
            region(RegionRole::FigureCaption, 140.0, 488.0, 400.0, 505.0),
        ]);
        let blocks = layout.into_blocks();
        let at = blocks
            .iter()
            .position(|b| b.kind == BlockKind::Figure)
            .expect("a figure");
        assert_eq!(blocks[at].bbox, BBox::new(100.0, 320.0, 500.0, 440.0));
        assert_eq!(blocks[at].text, "Q1 Q2 Q3");
        assert_eq!(blocks[at + 1].kind, BlockKind::Caption);
        assert_eq!(blocks[at + 1].text, "Figure 2: Containers per quarter.");
        // Read between the prose above and below it.
        assert!(blocks[..at].iter().any(|b| b.bbox.y0 < 300.0));
        assert!(blocks[at + 2..].iter().all(|b| b.bbox.y0 > 500.0));
    }

    #[test]
    fn an_equation_region_is_a_formula_and_never_a_heading() {
        let f = font("Times");
        let extra = prose("E = m c 2", 250.0, 420.0, 16.0, &f);
        let mut layout = page(extra, Source::Ocr);
        layout.set_regions(vec![
            region(RegionRole::Equation, 240.0, 400.0, 360.0, 430.0),
            // A title region over it too: the formula wins.
            region(RegionRole::Title, 240.0, 400.0, 360.0, 430.0),
        ]);
        let blocks = layout.into_blocks();
        let formula: Vec<_> = blocks
            .iter()
            .filter(|b| b.kind == BlockKind::Formula)
            .collect();
        assert_eq!(formula.len(), 1, "{blocks:?}");
        assert_eq!(formula[0].text, "E = m c 2");
        assert!(!blocks
            .iter()
            .any(|b| matches!(b.kind, BlockKind::Heading { .. })));
    }

    #[test]
    fn titles_on_scans_need_a_region_and_words_and_running_heads_a_page_of_prose() {
        let f = font("Times");
        let mut extra = prose("Annual Review", 72.0, 140.0, 20.0, &f);
        extra.extend(prose("Aih", 400.0, 140.0, 24.0, &f));
        extra.extend(prose("Harbour Authority Quarterly 7", 72.0, 40.0, 8.0, &f));
        let mut layout = page(extra, Source::Ocr);
        layout.set_regions(vec![
            region(RegionRole::Title, 60.0, 115.0, 260.0, 150.0),
            region(RegionRole::Title, 390.0, 115.0, 460.0, 150.0),
            region(RegionRole::Header, 60.0, 30.0, 400.0, 45.0),
        ]);
        let blocks = layout.into_blocks();
        let kind_of = |text: &str| {
            blocks
                .iter()
                .find(|b| b.text == text)
                .map(|b| b.kind)
                .unwrap_or_else(|| panic!("no block {text:?} in {blocks:?}"))
        };
        assert_eq!(kind_of("Annual Review"), BlockKind::Heading { level: 2 });
        // A scrawl in a title region stays text.
        assert_eq!(kind_of("Aih"), BlockKind::Paragraph);
        assert_eq!(
            kind_of("Harbour Authority Quarterly 7"),
            BlockKind::PageHeader
        );

        // A receipt (no prose): the same regions change nothing.
        let f = font("OCR");
        let mut glyphs = prose("Annual Review", 72.0, 140.0, 20.0, &f);
        glyphs.extend(prose("TOTAL 12.00", 72.0, 300.0, 10.0, &f));
        glyphs.extend(prose("Harbour Authority Quarterly 7", 72.0, 40.0, 8.0, &f));
        let mut content = PageContent::empty(612.0, 792.0);
        content.glyphs = glyphs;
        let mut receipt = PageLayout::new(&content, 1, Source::Ocr);
        receipt.set_regions(vec![
            region(RegionRole::Title, 60.0, 115.0, 260.0, 150.0),
            region(RegionRole::Header, 60.0, 30.0, 400.0, 45.0),
        ]);
        let blocks = receipt.into_blocks();
        assert!(
            blocks.iter().all(|b| b.kind == BlockKind::Paragraph),
            "{blocks:?}"
        );
    }

    #[test]
    fn table_candidates_are_rows_of_pieces_set_apart() {
        let f = font("Times");
        let mut glyphs = Vec::new();
        for (i, y) in [100.0f32, 120.0, 140.0, 160.0].iter().enumerate() {
            glyphs.extend(prose(&format!("Item {i}"), 72.0, *y, 10.0, &f));
            glyphs.extend(prose("12.50", 250.0, *y, 10.0, &f));
            glyphs.extend(prose("3", 400.0, *y, 10.0, &f));
        }
        let mut content = PageContent::empty(612.0, 792.0);
        content.glyphs = glyphs;
        let layout = PageLayout::new(&content, 1, Source::TextLayer);
        assert!(layout.wants_model());
        let words: Vec<String> = layout.text_words().into_iter().map(|w| w.0).collect();
        assert!(words.contains(&"12.50".to_string()), "{words:?}");

        let mut prose_only = PageContent::empty(612.0, 792.0);
        prose_only.glyphs = prose(BODY, 72.0, 100.0, 10.0, &f);
        assert!(!PageLayout::new(&prose_only, 1, Source::TextLayer).wants_model());

        // Rows in three pieces whose gaps do not line up (displayed formulas, a date line): no
        // table, however many there are.
        let mut scattered = PageContent::empty(612.0, 792.0);
        for (i, y) in [100.0f32, 120.0, 140.0, 160.0].iter().enumerate() {
            let shift = 60.0 * i as f32;
            scattered
                .glyphs
                .extend(prose("f(x)", 72.0 + shift, *y, 10.0, &f));
            scattered
                .glyphs
                .extend(prose("=", 130.0 + shift, *y, 10.0, &f));
            scattered
                .glyphs
                .extend(prose("x+1", 170.0 + shift, *y, 10.0, &f));
        }
        assert!(!PageLayout::new(&scattered, 1, Source::TextLayer).wants_model());

        // The table's rows with a line of prose across the gutter between them: two blocks of
        // one and three rows, not a table of four.
        let mut interrupted = PageContent::empty(612.0, 792.0);
        for (i, y) in [100.0f32, 150.0, 170.0, 190.0].iter().enumerate() {
            interrupted
                .glyphs
                .extend(prose(&format!("Item {i}"), 72.0, *y, 10.0, &f));
            interrupted
                .glyphs
                .extend(prose("12.50", 250.0, *y, 10.0, &f));
            interrupted.glyphs.extend(prose("3", 400.0, *y, 10.0, &f));
        }
        interrupted
            .glyphs
            .extend(prose(BODY, 72.0, 125.0, 10.0, &f));
        assert!(!PageLayout::new(&interrupted, 1, Source::TextLayer).wants_model());

        // The same rows inside ruled cells: the rules take them, and nothing is left to ask.
        let mut ruled = content.clone();
        for y in [88.0, 107.0, 127.0, 147.0, 167.0] {
            ruled.segments.push(Segment {
                x0: 60.0,
                y0: y,
                x1: 450.0,
                y1: y,
            });
        }
        for x in [60.0, 240.0, 390.0, 450.0] {
            ruled.segments.push(Segment {
                x0: x,
                y0: 88.0,
                x1: x,
                y1: 167.0,
            });
        }
        let mut layout = PageLayout::new(&ruled, 1, Source::TextLayer);
        assert!(layout.find_tables() > 0);
        assert!(!layout.wants_model());
    }

    #[test]
    fn scans_want_the_model_when_they_read_like_documents_or_tables_not_receipts() {
        let f = font("OCR");
        // Three prose lines: a document.
        let mut doc = PageContent::empty(612.0, 792.0);
        for y in [100.0f32, 120.0, 140.0] {
            doc.glyphs.extend(prose(BODY, 72.0, y, 10.0, &f));
        }
        assert!(PageLayout::new(&doc, 1, Source::Ocr).wants_model_on_scan());
        // Rows of item, quantity and amount: a table on a page, a receipt on a strip.
        let rows = |width: f32, height: f32| {
            let mut c = PageContent::empty(width, height);
            for y in [100.0f32, 120.0, 140.0] {
                c.glyphs.extend(prose("Tea", 10.0, y, 10.0, &f));
                c.glyphs.extend(prose("2", 120.0, y, 10.0, &f));
                c.glyphs.extend(prose("4.50", 200.0, y, 10.0, &f));
            }
            PageLayout::new(&c, 1, Source::Ocr)
        };
        assert!(rows(612.0, 792.0).wants_model_on_scan());
        // The same rows on a long strip of a receipt.
        let mut strip = PageContent::empty(250.0, 700.0);
        for i in 0..20 {
            let y = 100.0 + 20.0 * i as f32;
            strip.glyphs.extend(prose("Tea", 10.0, y, 10.0, &f));
            strip.glyphs.extend(prose("2", 120.0, y, 10.0, &f));
            strip.glyphs.extend(prose("4.50", 200.0, y, 10.0, &f));
        }
        assert!(!PageLayout::new(&strip, 1, Source::Ocr).wants_model_on_scan());
    }

    /// A two-page spread as printed to one PDF page: each half outlined by a rectangle (the
    /// right one past the page's edges, with the fold between them), prose down the left half,
    /// and in the right half three lines of prose over a matrix of options ticked with stars
    /// under a two-line head, its rows beside the left half's lines.
    fn spread() -> PageContent {
        let f = font("Helvetica");
        let mut page = PageContent::empty(1224.0, 792.0);
        for y in (0..24).map(|i| 80.0 + 18.0 * i as f32) {
            page.glyphs.extend(prose(BODY, 60.0, y, 10.0, &f));
        }
        for y in [80.0f32, 98.0, 116.0] {
            page.glyphs.extend(prose(BODY, 700.0, y, 10.0, &f));
        }
        page.glyphs
            .extend(prose("State funded", 950.0, 160.0, 10.0, &f));
        page.glyphs.extend(prose("CSOs", 1080.0, 160.0, 10.0, &f));
        page.glyphs
            .extend(prose("legal aid", 958.0, 172.0, 10.0, &f));
        let groups = [
            "Persons with disabilities",
            "Children",
            "Women",
            "The elderly",
            "Migrants",
        ];
        for (i, group) in groups.iter().enumerate() {
            let y = 200.0 + 18.0 * i as f32;
            page.glyphs.extend(prose(group, 700.0, y, 10.0, &f));
            page.glyphs.extend(prose("*", 975.0, y, 10.0, &f));
            page.glyphs.extend(prose("*", 1090.0, y, 10.0, &f));
        }
        let outline = |x0: f32, y0: f32, x1: f32, y1: f32| {
            [
                (x0, y0, x1, y0),
                (x0, y1, x1, y1),
                (x0, y0, x0, y1),
                (x1, y0, x1, y1),
            ]
            .map(|(x0, y0, x1, y1)| Segment { x0, y0, x1, y1 })
        };
        page.segments.extend(outline(0.0, 0.0, 612.0, 792.0));
        page.segments.extend(outline(612.0, -14.0, 1238.0, 806.0));
        page
    }

    #[test]
    fn a_matrix_of_stars_in_one_half_of_a_spread_is_a_table_of_that_half() {
        let mut layout = PageLayout::new(&spread(), 1, Source::TextLayer);
        assert_eq!(layout.find_tables(), 1);
        let table = layout.tables()[0].table.clone().expect("a table block");
        let grid = table.grid();
        assert_eq!(grid[0][1..], ["State funded legal aid", "CSOs"], "{grid:?}");
        assert_eq!(grid.len(), 6, "{grid:?}");
        for (row, group) in grid[1..]
            .iter()
            .zip(["Persons with disabilities", "Children"])
        {
            assert_eq!(row, &[group, "*", "*"], "{grid:?}");
        }
        // The left half's lines beside the rows stay running text, and the table leaves no
        // aligned block for the layout model to look at.
        assert!(grid.iter().flatten().all(|cell| !cell.contains("Body")));
        assert!(!layout.wants_model());
    }
}
