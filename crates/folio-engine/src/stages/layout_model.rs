//! The layout-model stage: on the pages `--layout` sends to it, the layout model finds the
//! page's regions; each table region it finds where the rules found none is read by the table
//! model, its cells filled from the page's words (OCR's, or the text layer's), and becomes a
//! table block whose words leave the running text; the other regions (figures and captions,
//! formulas, titles, running heads, columns) go to `folio-layout` for the blocks stage.
//!
//! Which pages: `--layout model` every page, `--layout fast` none, and `--layout auto` (the
//! default) the pages read by OCR that read like a document or hold a table
//! ([`folio_layout::PageLayout::wants_model_on_scan`]: a till receipt gains nothing from the
//! models and would pay for them, about half a second) and the born-digital pages with table
//! candidates ([`folio_layout::PageLayout::wants_model`]). The models fail soft: when they are missing,
//! do not load or fail on the page, the page keeps its heuristic layout and the document gets
//! a `layout_unavailable` warning that says why. Cancellation (the page's time limit) is
//! checked between model calls.

use std::time::Instant;

use folio_doc::{BBox, Block, Cell, Provenance, Source, Table, Warning, WarningKind};
use folio_layout::{ModelRegion, PageLayout, RegionRole};
use folio_vision::{LayoutParams, RegionKind, RgbImage, TableStructure};

use super::{OcrChoice, PageCx, PageError, PageStage, PageState};
use crate::LayoutMode;

/// Born-digital pages are rendered at this resolution for the layout model: its input is
/// 608 × 800, and the table model's 488 pixels a side, so more only costs time.
pub const LAYOUT_RENDER_DPI: f32 = 144.0;

/// Most pixels of a page rendered for the layout model (within the request's `max_pixels`).
pub const LAYOUT_PIXEL_BUDGET: u64 = 4_000_000;

/// A table region needs at least this score before the table model reads it: a weak table
/// region over a receipt's item lines or a list would turn running text into cells.
const TABLE_SCORE: f32 = 0.6;

/// Region margin (in pixels of the model's image) given to the table model: the region's box
/// can cut the outer rules or the first letters of a column.
const TABLE_PAD_PX: f32 = 6.0;

/// The layout-model stage.
pub(crate) struct LayoutModelStage;

impl PageStage for LayoutModelStage {
    fn name(&self) -> &'static str {
        folio_layout::MODEL_STAGE
    }

    fn run(&self, page: &mut PageState, cx: &PageCx<'_>) -> Result<bool, PageError> {
        let Some(layout) = page.layout.as_ref() else {
            return Ok(false);
        };
        // Read by OCR (not an image left unread under `--ocr never`).
        let scanned =
            page.source == Source::Ocr && page.choice == OcrChoice::Ocr && page.raster.is_some();
        let why = match cx.layout_mode {
            LayoutMode::Fast => return Ok(false),
            LayoutMode::Model => "--layout model",
            LayoutMode::Auto if scanned && layout.wants_model_on_scan() => "read by OCR",
            LayoutMode::Auto if !scanned && page.has_text_layer && layout.wants_model() => {
                "aligned text the table stage left"
            }
            LayoutMode::Auto => return Ok(false),
        };
        let Some(runtime) = cx.layout else {
            // An engine built for born-digital documents only: asked for explicitly, say why
            // nothing happened; under `auto` that engine's choice stands.
            if cx.layout_mode == LayoutMode::Model {
                unavailable(page, "this engine was started without models");
            }
            return Ok(false);
        };
        let models = match runtime.models() {
            Ok(models) => models,
            Err(e) => {
                unavailable(page, &e.to_string());
                return Ok(false);
            }
        };
        cx.cancel.check()?;
        let started = Instant::now();
        let (image, px) = match page_image(page, cx, scanned) {
            Ok(found) => found,
            Err(PageError::Cancelled) => return Err(PageError::Cancelled),
            Err(e) => {
                unavailable(page, &format!("the page cannot be rendered for it: {e}"));
                return Ok(false);
            }
        };
        cx.cancel.check()?;
        let regions = match models.layout.detect(&image, &LayoutParams::default()) {
            Ok(regions) => regions,
            Err(e) => {
                unavailable(page, &format!("the layout model failed: {e}"));
                return Ok(false);
            }
        };
        let to_page = |b: [f32; 4]| BBox::new(b[0] / px, b[1] / px, b[2] / px, b[3] / px);
        let provenance = Provenance {
            page: page.number,
            source: Source::Model,
        };
        let mut words = if scanned {
            page.ocr_words.clone()
        } else {
            page.layout
                .as_ref()
                .map(PageLayout::text_words)
                .unwrap_or_default()
        };
        let mut tables = 0usize;
        let mut kept: Vec<ModelRegion> = Vec::new();
        for region in &regions {
            let bbox = to_page(region.bbox);
            let role = role(region.kind);
            if role != RegionRole::Table {
                kept.push(ModelRegion {
                    role,
                    bbox,
                    score: region.score,
                });
                continue;
            }
            let Some(layout) = page.layout.as_mut() else {
                break;
            };
            // Ruled tables keep their exact path: the rules already gave their cells.
            let ruled = layout.tables().iter().any(|t| overlaps(&t.bbox, &bbox));
            if ruled || region.score < TABLE_SCORE {
                continue;
            }
            cx.cancel.check()?;
            let [x0, y0, x1, y1] = region.bbox;
            let padded = [
                x0 - TABLE_PAD_PX,
                y0 - TABLE_PAD_PX,
                x1 + TABLE_PAD_PX,
                y1 + TABLE_PAD_PX,
            ];
            let structure = match models.table.recognize(&image, padded) {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(page = page.number, error = %e, "table model failed on a region; its text stays running text");
                    continue;
                }
            };
            if let Some((table, extent)) = read_table(&structure, &words, px, provenance) {
                layout.add_model_table(table, extent);
                // Words read into a table are not read into another.
                words.retain(|(_, b)| {
                    let (x, y) = b.center();
                    !extent.contains_point(x, y)
                });
                tables += 1;
            }
        }
        let count = regions.len();
        if let Some(layout) = page.layout.as_mut() {
            layout.set_regions(kept);
        }
        page.decision = format!(
            "{}; layout model ({why}): {count} regions, {tables} tables read by the table model ({} ms)",
            page.decision,
            started.elapsed().as_millis()
        );
        if scanned {
            // Given back: the figure stage crops pictures from it (`--images`).
            page.raster = Some(image);
        }
        Ok(true)
    }
}

/// The page's image for the models, and its pixels per page unit: the image OCR read, or the
/// page rendered within the pixel budget.
fn page_image(
    page: &mut PageState,
    cx: &PageCx<'_>,
    scanned: bool,
) -> Result<(RgbImage, f32), PageError> {
    if scanned {
        if let Some(img) = page.raster.take() {
            return Ok((img, page.px_per_point));
        }
    }
    let points = (page.content.width * page.content.height).max(1.0);
    let budget = LAYOUT_PIXEL_BUDGET.min(cx.max_pixels) as f32;
    let scale = (LAYOUT_RENDER_DPI / 72.0).min((budget / points).sqrt());
    let img = cx
        .input
        .render_page(page.number, scale, cx.max_pixels, cx.cancel)?;
    Ok((img, scale))
}

/// Records on the page that the models could not run, and why; the page keeps its
/// heuristic layout.
fn unavailable(page: &mut PageState, reason: &str) {
    tracing::debug!(page = page.number, reason, "layout models unavailable");
    page.decision = format!("{}; layout models unavailable", page.decision);
    page.warnings.push(Warning::new(
        WarningKind::LayoutUnavailable,
        Some(page.number),
        format!(
            "layout models unavailable ({reason}); install them with `folio models install`; \
             heuristic layout kept"
        ),
    ));
}

/// Whether two boxes overlap by half the smaller one's area.
fn overlaps(a: &BBox, b: &BBox) -> bool {
    let small = (a.width() * a.height())
        .min(b.width() * b.height())
        .max(0.1);
    a.overlap_x(b) * a.overlap_y(b) >= 0.5 * small
}

fn role(kind: RegionKind) -> RegionRole {
    match kind {
        RegionKind::Text => RegionRole::Text,
        RegionKind::Title => RegionRole::Title,
        RegionKind::Figure => RegionRole::Figure,
        RegionKind::FigureCaption => RegionRole::FigureCaption,
        RegionKind::Table => RegionRole::Table,
        RegionKind::TableCaption => RegionRole::TableCaption,
        RegionKind::Header => RegionRole::Header,
        RegionKind::Footer => RegionRole::Footer,
        RegionKind::Reference => RegionRole::Reference,
        RegionKind::Equation => RegionRole::Equation,
    }
}

/// The table block of a recognised structure, its cells filled from `words` (page units;
/// `px` pixels per unit), and the extent of its cells (whose words leave the running text).
/// `None` when it is no table worth the name: fewer than two rows or columns, or cells
/// with no text.
fn read_table(
    structure: &TableStructure,
    words: &[(String, BBox)],
    px: f32,
    provenance: Provenance,
) -> Option<(Block, BBox)> {
    if structure.rows < 2 || structure.cols < 2 || structure.cells.is_empty() {
        return None;
    }
    let in_pixels: Vec<(&str, [f32; 4])> = words
        .iter()
        .map(|(t, b)| (t.as_str(), [b.x0 * px, b.y0 * px, b.x1 * px, b.y1 * px]))
        .collect();
    let texts = structure.cell_texts(&in_pixels);
    let filled = texts.iter().filter(|t| !t.trim().is_empty()).count();
    // A table of one filled cell is a paragraph the model boxed.
    if filled < 2 {
        return None;
    }
    let to_page = |b: [f32; 4]| BBox::new(b[0] / px, b[1] / px, b[2] / px, b[3] / px);
    let cells: Vec<Cell> = structure
        .cells
        .iter()
        .zip(texts)
        .map(|(c, text)| Cell {
            row: c.row,
            col: c.col,
            row_span: c.row_span,
            col_span: c.col_span,
            text,
            bbox: Some(to_page(c.bbox)),
            header: c.header,
        })
        .collect();
    let cells_box = BBox::union_all(cells.iter().filter_map(|c| c.bbox.as_ref()))?;
    // As `cell_texts` takes words: those within half a line of the cells.
    let line = median_height(words, &cells_box).unwrap_or(0.0);
    let extent = BBox::new(
        cells_box.x0 - line / 2.0,
        cells_box.y0 - line / 2.0,
        cells_box.x1 + line / 2.0,
        cells_box.y1 + line / 2.0,
    );
    let table = Table {
        rows: structure.rows,
        cols: structure.cols,
        cells,
    };
    // The cells' box, tighter than the model's region, which takes in margins.
    Some((Block::from_table(table, cells_box, provenance), extent))
}

/// The median height of the words centred in `area`.
fn median_height(words: &[(String, BBox)], area: &BBox) -> Option<f32> {
    let mut h: Vec<f32> = words
        .iter()
        .filter(|(_, b)| {
            let (x, y) = b.center();
            area.contains_point(x, y)
        })
        .map(|(_, b)| b.height())
        .collect();
    h.sort_by(f32::total_cmp);
    h.get(h.len() / 2).copied()
}

#[cfg(test)]
mod tests {
    use folio_content::{Cancel, PageContent};
    use folio_vision::TableCell;

    use super::*;
    use crate::stages::layout::Words;
    use crate::stages::testing::{cx, state, FakeInput};
    use crate::OcrMode;

    #[test]
    fn fast_mode_and_engines_without_models_leave_the_page_alone() {
        let input = FakeInput { raster: None };
        let cancel = Cancel::new();
        let mut page = state(PageContent::empty(600.0, 800.0), false);
        let mut c = cx(&input, OcrMode::Auto, &cancel);
        Words.run(&mut page, &c).unwrap();
        assert!(!LayoutModelStage.run(&mut page, &c).unwrap());
        // `model` asked of an engine without models: a warning that names the fix.
        c.layout_mode = LayoutMode::Model;
        assert!(!LayoutModelStage.run(&mut page, &c).unwrap());
        assert_eq!(page.warnings.len(), 1);
        assert_eq!(page.warnings[0].kind, WarningKind::LayoutUnavailable);
        assert!(page.warnings[0].message.contains("folio models install"));
        // `auto` on a page that needs nothing from the models: silent.
        let mut quiet = state(PageContent::empty(600.0, 800.0), true);
        c.layout_mode = LayoutMode::Auto;
        Words.run(&mut quiet, &c).unwrap();
        assert!(!LayoutModelStage.run(&mut quiet, &c).unwrap());
        assert!(quiet.warnings.is_empty());
    }

    #[test]
    fn a_structure_becomes_a_table_block_filled_from_words() {
        let cell = |row, col, bbox| TableCell {
            row,
            col,
            row_span: 1,
            col_span: 1,
            header: row == 0,
            bbox,
        };
        // Two pixels per page unit.
        let structure = TableStructure {
            rows: 2,
            cols: 2,
            cells: vec![
                cell(0, 0, [0.0, 0.0, 80.0, 20.0]),
                cell(0, 1, [100.0, 0.0, 180.0, 20.0]),
                cell(1, 0, [0.0, 40.0, 80.0, 60.0]),
                cell(1, 1, [100.0, 40.0, 180.0, 60.0]),
            ],
            tokens: Vec::new(),
            score: 0.9,
        };
        let w = |t: &str, x: f32, y: f32| (t.to_string(), BBox::new(x, y, x + 20.0, y + 8.0));
        let words = vec![
            w("Item", 2.0, 1.0),
            w("Price", 52.0, 1.0),
            w("Tea", 2.0, 21.0),
            w("4.50", 52.0, 21.0),
            w("far", 2.0, 300.0),
        ];
        let provenance = Provenance {
            page: 1,
            source: Source::Model,
        };
        let (block, extent) = read_table(&structure, &words, 2.0, provenance).unwrap();
        let table = block.table.as_ref().unwrap();
        assert_eq!(
            table.grid(),
            vec![vec!["Item", "Price"], vec!["Tea", "4.50"]]
        );
        assert!(table.cells[0].header && !table.cells[2].header);
        assert_eq!(table.cells[3].bbox, Some(BBox::new(50.0, 20.0, 90.0, 30.0)));
        assert_eq!(block.bbox, BBox::new(0.0, 0.0, 90.0, 30.0));
        assert!(extent.contains_point(60.0, 25.0) && !extent.contains_point(10.0, 304.0));
        // One filled cell is no table.
        let lonely = vec![w("Tea", 2.0, 21.0)];
        assert!(read_table(&structure, &lonely, 2.0, provenance).is_none());
    }
}
