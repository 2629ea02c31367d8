//! The layout and table models, as installed in Folio's model store, on real pages rendered by
//! folio-pdf: the fixtures in `tests/fixtures/pdf` and tables built here.
//!
//! The models come from the default store (`bash scripts/test.d/20-models.sh` installs them);
//! without them these tests fail, naming that command.

#[path = "../../folio-pdf/tests/common/pdf_writer.rs"]
mod pdf_writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use folio_pdf::PdfDocument;
use folio_store::{ModelId, Store, StoreConfig};
use folio_vision::{
    BackendKind, LayoutModel, LayoutParams, Region, RegionKind, RgbImage, TableModel,
};

/// Pixels per point the pages are rendered at (144 dpi).
const SCALE: f32 = 2.0;

fn model_path(id: ModelId) -> PathBuf {
    let store = Store::open(StoreConfig::from_env());
    store.model_path(id).unwrap_or_else(|e| {
        panic!(
            "model {id:?} is not installed in the model store at {} ({e}); \
             run `bash scripts/test.d/20-models.sh` first",
            store.root().display()
        )
    })
}

fn layout_model() -> &'static LayoutModel {
    static MODEL: OnceLock<LayoutModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        LayoutModel::load(&model_path(ModelId::Layout), BackendKind::Rten, 2)
            .expect("load the layout model")
    })
}

fn table_model() -> &'static TableModel {
    static MODEL: OnceLock<TableModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        TableModel::load(&model_path(ModelId::TableStructure), BackendKind::Rten, 2)
            .expect("load the table model")
    })
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/pdf")
        .join(name)
}

/// Page 1 of a PDF rendered at [`SCALE`].
fn render(pdf: Vec<u8>) -> RgbImage {
    let doc = PdfDocument::open(Arc::new(pdf), None).expect("open the PDF");
    let r = doc
        .render_page(0, SCALE, 40_000_000, &folio_content::Cancel::new())
        .expect("render page 1");
    RgbImage::new(r.width, r.height, r.rgb).expect("a raster")
}

/// `[x0, y0, x1, y1]` of the first block of `kind` in a fixture's golden JSON, in points.
fn golden_block(name: &str, kind: &str) -> [f32; 4] {
    let text = std::fs::read_to_string(fixture(name)).expect("read the golden JSON");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("golden JSON");
    let block = doc["pages"][0]["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .find(|b| b["type"] == kind)
        .unwrap_or_else(|| panic!("{name} has no {kind} block"));
    let b = &block["bbox"];
    let v = |k: &str| b[k].as_f64().expect("a number") as f32;
    [v("x0"), v("y0"), v("x1"), v("y1")]
}

fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let area = |r: [f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let i = area([
        a[0].max(b[0]),
        a[1].max(b[1]),
        a[2].min(b[2]),
        a[3].min(b[3]),
    ]);
    i / (area(a) + area(b) - i)
}

fn scaled(b: [f32; 4], s: f32) -> [f32; 4] {
    b.map(|v| v * s)
}

fn describe(regions: &[Region]) -> String {
    regions
        .iter()
        .map(|r| {
            format!(
                "{} {:.2} {:?}",
                r.kind.label(),
                r.score,
                r.bbox.map(|v| v.round())
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn layout_finds_the_table_and_its_caption_where_the_text_layer_has_them() {
    let page = render(std::fs::read(fixture("table-paper-page.pdf")).expect("fixture"));
    let regions = layout_model()
        .detect(&page, &LayoutParams::default())
        .expect("layout");
    let table = scaled(golden_block("table-paper-page.json", "table"), SCALE);
    let caption = scaled(golden_block("table-paper-page.json", "caption"), SCALE);
    let best = |kind: RegionKind, target: [f32; 4]| {
        regions
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| iou(r.bbox, target))
            .fold(0.0f32, f32::max)
    };
    assert!(
        best(RegionKind::Table, table) >= 0.8,
        "no table region over the table at {table:?}:\n{}",
        describe(&regions)
    );
    // The five-line caption above the table is a region of its own, not part of the table
    // (the model calls a caption this long `text`), and the running head is a header.
    let caption_region =
        best(RegionKind::TableCaption, caption).max(best(RegionKind::Text, caption));
    assert!(
        caption_region >= 0.8,
        "no region over the caption at {caption:?}:\n{}",
        describe(&regions)
    );
    let header = scaled(golden_block("table-paper-page.json", "page_header"), SCALE);
    assert!(
        best(RegionKind::Header, header) >= 0.6,
        "no header region over the running head at {header:?}:\n{}",
        describe(&regions)
    );
    // Only one table on the page.
    let tables = regions
        .iter()
        .filter(|r| r.kind == RegionKind::Table)
        .count();
    assert_eq!(tables, 1, "{}", describe(&regions));
}

#[test]
fn layout_finds_text_in_two_columns() {
    let page = render(std::fs::read(fixture("two-columns.pdf")).expect("fixture"));
    let regions = layout_model()
        .detect(&page, &LayoutParams::default())
        .expect("layout");
    let mid = page.width() as f32 / 2.0;
    // The columns: text regions taller than a quarter of the page.
    let columns: Vec<&Region> = regions
        .iter()
        .filter(|r| {
            r.kind == RegionKind::Text && r.bbox[3] - r.bbox[1] > page.height() as f32 / 4.0
        })
        .collect();
    let centre = |r: &Region| (r.bbox[0] + r.bbox[2]) / 2.0;
    let (left, right): (Vec<&Region>, Vec<&Region>) = columns.iter().partition(|r| centre(r) < mid);
    // Side by side, not overlapping.
    let apart = left
        .iter()
        .all(|l| right.iter().all(|r| l.bbox[2] < r.bbox[0]));
    let (left, right) = (left.len(), right.len());
    // Nothing beside the columns crosses the gutter between them.
    let top = columns.iter().map(|r| r.bbox[1]).fold(f32::MAX, f32::min);
    let across = regions
        .iter()
        .filter(|r| r.bbox[3] > top + 10.0 && r.bbox[0] < mid - 20.0 && r.bbox[2] > mid + 20.0)
        .count();
    assert!(
        left == 1 && right == 1 && apart && across == 0,
        "column regions left {left}, right {right}, apart {apart}; regions across the gutter {across}:\n{}",
        describe(&regions)
    );
}

/// A cell's text and its box in points.
type CellText = (String, [f32; 4]);

/// A ruled table of `rows × cols` cells of Helvetica words on a letter page; returns the PDF,
/// the table's box in points and the text of each cell (row by row) with its approximate box in
/// points (Helvetica's average advance is about half its size).
fn table_pdf(rows: usize, cols: usize) -> (Vec<u8>, [f32; 4], Vec<Vec<CellText>>) {
    let (left, top, cell_w, cell_h) = (90.0f32, 200.0f32, 100.0f32, 22.0f32);
    let page_h = 792.0f32;
    let words = [
        "Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel",
    ];
    let mut text = Vec::new();
    let mut content = String::from("0.8 w\n");
    for r in 0..=rows {
        let y = page_h - (top + r as f32 * cell_h);
        content += &format!("{left} {y} m {} {y} l S\n", left + cols as f32 * cell_w);
    }
    for c in 0..=cols {
        let x = left + c as f32 * cell_w;
        let (ya, yb) = (page_h - top, page_h - (top + rows as f32 * cell_h));
        content += &format!("{x} {ya} m {x} {yb} l S\n");
    }
    for r in 0..rows {
        let mut row = Vec::new();
        for c in 0..cols {
            let word = if r == 0 {
                format!("Head{}", c + 1)
            } else {
                format!("{} {}", words[(r * 3 + c) % words.len()], r * 10 + c)
            };
            let (x, y) = (
                left + c as f32 * cell_w + 6.0,
                page_h - (top + r as f32 * cell_h + 15.0),
            );
            content += &format!("BT /F1 10 Tf {x} {y} Td ({word}) Tj ET\n");
            let top = page_h - y - 8.0;
            let bbox = [x, top, x + 5.0 * word.len() as f32, top + 10.0];
            row.push((word, bbox));
        }
        text.push(row);
    }
    let pdf = pdf_writer::pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
           /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
            .to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
        pdf_writer::stream("", content.as_bytes()),
    ]);
    let bbox = [
        left,
        top,
        left + cols as f32 * cell_w,
        top + rows as f32 * cell_h,
    ];
    (pdf, bbox, text)
}

#[test]
fn table_model_gives_the_rows_and_columns_of_a_ruled_table() {
    for (rows, cols) in [(5, 4), (3, 3)] {
        let (pdf, bbox, text) = table_pdf(rows, cols);
        let page = render(pdf);
        // The region a layout model would give: the table with a little margin.
        let region = [bbox[0] - 8.0, bbox[1] - 8.0, bbox[2] + 8.0, bbox[3] + 8.0];
        let t = table_model()
            .recognize(&page, scaled(region, SCALE))
            .expect("table structure");
        assert_eq!(
            (t.rows, t.cols),
            (rows as u32, cols as u32),
            "tokens: {}",
            t.tokens.join("")
        );
        assert_eq!(t.cells.len(), rows * cols, "tokens: {}", t.tokens.join(""));
        // Each cell's box lies over its own grid cell: its centre is inside the ruled cell.
        for cell in &t.cells {
            let (cx, cy) = (
                (cell.bbox[0] + cell.bbox[2]) / 2.0 / SCALE,
                (cell.bbox[1] + cell.bbox[3]) / 2.0 / SCALE,
            );
            let col = ((cx - bbox[0]) / 100.0).floor() as u32;
            let row = ((cy - bbox[1]) / 22.0).floor() as u32;
            assert_eq!(
                (row, col),
                (cell.row, cell.col),
                "cell {cell:?} has its centre at ({cx}, {cy}) points"
            );
        }
        assert!(t.score > 0.5, "score {}", t.score);
        // The text of each cell, from words placed where the PDF drew them.
        let words: Vec<(&str, [f32; 4])> = text
            .iter()
            .flatten()
            .map(|(w, b)| (w.as_str(), scaled(*b, SCALE)))
            .collect();
        let filled = t.cell_texts(&words);
        for (cell, got) in t.cells.iter().zip(&filled) {
            assert_eq!(
                got, &text[cell.row as usize][cell.col as usize].0,
                "{cell:?}"
            );
        }
    }
}

#[test]
fn table_model_on_the_paper_page_finds_its_columns() {
    let page = render(std::fs::read(fixture("table-paper-page.pdf")).expect("fixture"));
    let table = golden_block("table-paper-page.json", "table");
    let region = [
        table[0] - 4.0,
        table[1] - 4.0,
        table[2] + 4.0,
        table[3] + 4.0,
    ];
    let t = table_model()
        .recognize(&page, scaled(region, SCALE))
        .expect("table structure");
    // Eight columns (two layer counts, the language, three TED columns, mAP and time) and the
    // two header rows over four configurations: at least six rows.
    assert_eq!(t.cols, 8, "tokens: {}", t.tokens.join(""));
    assert!(
        t.rows >= 6,
        "{} rows; tokens: {}",
        t.rows,
        t.tokens.join("")
    );
    // Every cell box lies inside the region.
    let r = scaled(region, SCALE);
    for c in &t.cells {
        assert!(
            c.bbox[0] >= r[0] && c.bbox[1] >= r[1] && c.bbox[2] <= r[2] && c.bbox[3] <= r[3],
            "{c:?} outside {r:?}"
        );
    }
}

#[test]
fn table_model_refuses_an_empty_region() {
    let page = RgbImage::new(10, 10, vec![255; 300]).expect("image");
    assert!(table_model()
        .recognize(&page, [5.0, 5.0, 5.0, 9.0])
        .is_err());
    assert!(table_model()
        .recognize(&page, [20.0, 20.0, 30.0, 30.0])
        .is_err());
}
