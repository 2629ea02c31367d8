//! The layout-model stage through the engine, with the real models from the store: pages built
//! here as PDFs (a ruled table, a chart with its caption), rendered to PNG and read as scans,
//! the receipts (with `--layout model`: `auto` leaves receipts to the heuristics), and the
//! models missing.
//!
//! The models come from the default store (`bash scripts/test.d/20-models.sh` installs them).
#![allow(clippy::print_stderr)]

mod support;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use folio_doc::{BlockKind, Document, Page, WarningKind};
use folio_engine::{Engine, ExtractOptions, LayoutMode, Limits, OcrSettings};
use folio_store::ModelId;
use support::*;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let store = store_with_ocr_models();
        for id in [ModelId::Layout, ModelId::TableStructure] {
            if let Err(e) = store.model_path(id) {
                panic!("model {id:?} is not installed ({e}); run `bash scripts/test.d/20-models.sh` first");
            }
        }
        Engine::with_store(Arc::new(store), OcrSettings::default())
    })
}

fn options(layout: LayoutMode) -> ExtractOptions {
    ExtractOptions {
        layout,
        // Only a guard against hangs: tests share two cores.
        limits: Limits {
            page_timeout: Duration::from_secs(600),
            ..Limits::default()
        },
        ..ExtractOptions::default()
    }
}

fn describe(page: &Page) -> String {
    page.blocks
        .iter()
        .map(|b| format!("{:?} {:?} {:?}", b.kind, b.bbox, b.text))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts that the layout-model stage changed `page` (its provenance names the stage).
fn assert_models_ran(page: &Page) {
    assert!(
        page.provenance.stages.iter().any(|s| s == "layout_model"),
        "{:?}",
        page.provenance
    );
}

/// The page's only table block (asserts there is exactly one).
fn the_one_table(page: &Page) -> &folio_doc::Block {
    let tables: Vec<_> = page
        .blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Table)
        .collect();
    assert_eq!(tables.len(), 1, "{}", describe(page));
    tables[0]
}

/// A letter page drawn by `content` (a PDF content stream with Helvetica as /F1).
fn letter_pdf(content: &str) -> Vec<u8> {
    pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
           /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
            .to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
        stream("", content.as_bytes()),
    ])
}

/// Page 1 of a PDF rendered at [`RENDER_DPI`], as a PNG: a scan of the page.
fn scan_of(pdf_bytes: Vec<u8>) -> Vec<u8> {
    let doc = folio_pdf::PdfDocument::open(Arc::new(pdf_bytes), None).expect("open the PDF");
    let r = doc
        .render_page(
            0,
            RENDER_DPI / 72.0,
            40_000_000,
            &folio_content::Cancel::new(),
        )
        .expect("render");
    png(&Rgb {
        width: r.width,
        height: r.height,
        data: r.rgb,
    })
}

/// `text` at (x, y) points from the top-left, in Helvetica of `size`.
fn text_at(x: f32, y: f32, size: f32, text: &str) -> String {
    format!("BT /F1 {size} Tf {x} {} Td ({text}) Tj ET\n", 792.0 - y)
}

const PROSE: [&str; 3] = [
    "The harbour authority counts every container that crosses its quays, and the",
    "figures below are the totals of the last four quarters for the three ports that",
    "report to it, as the statistics office published them in its annual review.",
];

/// A title, a paragraph and a ruled table of 4 rows by 3 columns; returns the PDF and the
/// table's cells row by row.
fn ruled_table_page() -> (Vec<u8>, Vec<Vec<String>>) {
    let mut s = text_at(72.0, 80.0, 18.0, "Container traffic by port");
    for (i, line) in PROSE.iter().enumerate() {
        s += &text_at(72.0, 120.0 + 16.0 * i as f32, 11.0, line);
    }
    let rows = [
        ["Port", "Quarter", "Containers"],
        ["Northgate", "Spring", "1204"],
        ["Eastham", "Summer", "988"],
        ["Westwick", "Autumn", "1530"],
    ];
    let (left, top, cell_w, cell_h) = (90.0f32, 200.0f32, 140.0f32, 26.0f32);
    s += "0.8 w\n";
    for r in 0..=rows.len() {
        let y = 792.0 - (top + r as f32 * cell_h);
        s += &format!("{left} {y} m {} {y} l S\n", left + 3.0 * cell_w);
    }
    for c in 0..=3 {
        let x = left + c as f32 * cell_w;
        let (ya, yb) = (792.0 - top, 792.0 - (top + rows.len() as f32 * cell_h));
        s += &format!("{x} {ya} m {x} {yb} l S\n");
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, word) in row.iter().enumerate() {
            let x = left + c as f32 * cell_w + 8.0;
            let y = top + r as f32 * cell_h + 17.0;
            s += &text_at(x, y, 11.0, word);
        }
    }
    s += &text_at(
        72.0,
        340.0,
        11.0,
        "Northgate handled the most containers in the spring quarter.",
    );
    let cells = rows
        .iter()
        .map(|r| r.iter().map(|w| w.to_string()).collect())
        .collect();
    (letter_pdf(&s), cells)
}

#[test]
fn a_scanned_ruled_table_becomes_a_table_block_with_its_cells() {
    let (pdf_bytes, cells) = ruled_table_page();
    let doc = engine()
        .extract(&scan_of(pdf_bytes), &options(LayoutMode::Auto))
        .expect("extract");
    let page = &doc.pages[0];
    assert_models_ran(page);
    let table_block = the_one_table(page);
    let table = table_block.table.as_ref().expect("cells");
    assert_eq!((table.rows, table.cols), (4, 3), "{:?}", table.grid());
    assert_eq!(table.grid(), cells, "{}", describe(page));
    // Every cell has a box inside the table's, and the table sits where it was drawn
    // (90..510 x 200..304 points; an image's page units are its pixels, here at 200 dpi).
    let b = table_block.bbox;
    let k = RENDER_DPI / 72.0;
    assert!(
        (b.x0 / k - 90.0).abs() < 15.0 && (b.y0 / k - 200.0).abs() < 15.0,
        "table at {b:?}"
    );
    for cell in &table.cells {
        let c = cell.bbox.expect("a cell box");
        assert!(
            c.x0 >= b.x0 - 1.0 && c.x1 <= b.x1 + 1.0,
            "{c:?} outside {b:?}"
        );
    }
    // The cells' words are not repeated as running text, and the text around stays.
    let running: String = page
        .blocks
        .iter()
        .filter(|b| b.kind != BlockKind::Table)
        .map(|b| b.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!running.contains("Westwick"), "{running}");
    assert!(running.contains("harbour authority"), "{running}");
    assert!(running.contains("spring quarter"), "{running}");
}

/// Prose, a bar chart, its caption under it, and more prose.
fn chart_page() -> Vec<u8> {
    let mut s = text_at(72.0, 80.0, 18.0, "Shipments in the year");
    for (i, line) in PROSE.iter().enumerate() {
        s += &text_at(72.0, 120.0 + 16.0 * i as f32, 11.0, line);
    }
    // Axes and six bars between y = 200 and y = 440 points.
    s += "1 w 120 352 m 120 592 l S 120 352 m 500 352 l S\n";
    for (i, h) in [120.0f32, 180.0, 90.0, 210.0, 150.0, 60.0]
        .iter()
        .enumerate()
    {
        let x = 140.0 + 60.0 * i as f32;
        let gray = 0.2 + 0.1 * i as f32;
        s += &format!("{gray} g {x} 352 40 {h} re f 0 g\n");
    }
    s += &text_at(
        130.0,
        470.0,
        10.0,
        "Figure 1: Containers shipped per month, in thousands.",
    );
    for (i, line) in PROSE.iter().enumerate() {
        s += &text_at(72.0, 510.0 + 16.0 * i as f32, 11.0, line);
    }
    letter_pdf(&s)
}

/// Asserts that `page` (in units of `per_point` a point) has a figure block where
/// [`chart_page`] draws its chart (120..500 x 200..440 points), with the chart's caption as the
/// next block.
fn assert_chart_then_caption(page: &Page, per_point: f32) {
    let at = page
        .blocks
        .iter()
        .position(|b| b.kind == BlockKind::Figure)
        .unwrap_or_else(|| panic!("no figure:\n{}", describe(page)));
    let b = page.blocks[at].bbox;
    let (cx, cy) = (
        (b.x0 + b.x1) / 2.0 / per_point,
        (b.y0 + b.y1) / 2.0 / per_point,
    );
    assert!(
        (200.0..420.0).contains(&cx) && (250.0..400.0).contains(&cy),
        "figure centred at ({cx}, {cy}) points:\n{}",
        describe(page)
    );
    let caption = page.blocks.get(at + 1).expect("a block after the figure");
    assert_eq!(caption.kind, BlockKind::Caption, "{}", describe(page));
    assert!(caption.text.starts_with("Figure 1"), "{}", caption.text);
}

#[test]
fn a_scanned_chart_becomes_a_figure_followed_by_its_caption() {
    let doc = engine()
        .extract(&scan_of(chart_page()), &options(LayoutMode::Auto))
        .expect("extract");
    let page = &doc.pages[0];
    // An image's page units are its pixels.
    assert_chart_then_caption(page, RENDER_DPI / 72.0);
    // The caption is said once.
    let said = page
        .blocks
        .iter()
        .filter(|b| b.text.contains("Containers shipped"))
        .count();
    assert_eq!(said, 1, "{}", describe(page));
}

fn headings(doc: &Document) -> Vec<String> {
    doc.pages
        .iter()
        .flat_map(|p| &p.blocks)
        .filter(|b| matches!(b.kind, BlockKind::Heading { .. }))
        .map(|b| b.text.clone())
        .collect()
}

#[test]
fn receipts_get_no_heading_from_a_scrawl_and_fast_skips_the_models() {
    for name in ["sroie_005.jpg", "sroie_035.jpg"] {
        let bytes = std::fs::read(receipts().join(name)).expect("receipt");
        // `auto` leaves most receipts to the heuristics (they gain nothing from the models);
        // `model` makes sure the model's regions make no heading of a scrawl either.
        let doc = engine()
            .extract(&bytes, &options(LayoutMode::Model))
            .expect("extract");
        assert!(
            doc.pages[0]
                .provenance
                .stages
                .iter()
                .any(|s| s == "layout_model"),
            "{name}: {:?}",
            doc.pages[0].provenance
        );
        assert_eq!(headings(&doc), Vec::<String>::new(), "{name}");
        let fast = engine()
            .extract(&bytes, &options(LayoutMode::Fast))
            .expect("extract");
        assert!(
            !fast.pages[0]
                .provenance
                .stages
                .iter()
                .any(|s| s == "layout_model"),
            "{name}: {:?}",
            fast.pages[0].provenance
        );
    }
}

#[test]
fn without_layout_models_a_page_keeps_its_heuristic_layout_and_says_why() {
    let store = Arc::new(store_with_ocr_models());
    let engine = Engine::with_ocr(
        Arc::new(move |id| {
            if matches!(id, ModelId::Layout | ModelId::TableStructure) {
                Err(format!("model {} is not installed", id.name()).into())
            } else {
                store
                    .model_path(id)
                    .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })
            }
        }),
        OcrSettings::default(),
    );
    // A scanned table: a page `auto` sends to the models.
    let bytes = scan_of(ruled_table_page().0);
    let doc = engine
        .extract(&bytes, &options(LayoutMode::Auto))
        .expect("extract");
    let layout: Vec<_> = doc
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::LayoutUnavailable)
        .collect();
    assert_eq!(layout.len(), 1, "{:?}", doc.warnings);
    assert!(
        layout[0].message.contains("folio models install")
            && layout[0].message.contains("not installed"),
        "{}",
        layout[0].message
    );
    let page = &doc.pages[0];
    assert!(!page.blocks.is_empty());
    assert!(!page.provenance.stages.iter().any(|s| s == "layout_model"));
    assert!(!page.blocks.iter().any(|b| b.kind == BlockKind::Table));
    // The same text as with the models turned off.
    let fast = engine
        .extract(&bytes, &options(LayoutMode::Fast))
        .expect("extract");
    let text = |d: &Document| folio_doc::render(d, folio_doc::Format::Text, Default::default());
    assert_eq!(text(&doc), text(&fast));
    assert!(fast.warnings.is_empty(), "{:?}", fast.warnings);
}

#[test]
fn a_scanned_charts_picture_is_cropped_from_the_image_with_its_caption() {
    let opts = ExtractOptions {
        images: true,
        ..options(LayoutMode::Auto)
    };
    let doc = engine()
        .extract(&scan_of(chart_page()), &opts)
        .expect("extract");
    let page = &doc.pages[0];
    let figure = page
        .blocks
        .iter()
        .find(|b| b.kind == BlockKind::Figure)
        .unwrap_or_else(|| panic!("no figure:\n{}", describe(page)));
    assert!(
        figure
            .caption
            .as_deref()
            .is_some_and(|c| c.starts_with("Figure 1")),
        "{:?}",
        figure.caption
    );
    let img = figure.image.as_deref().expect("the figure's picture");
    let png = image::load_from_memory(img.data.as_deref().expect("bytes"))
        .expect("a PNG")
        .to_rgb8();
    assert_eq!((png.width(), png.height()), (img.width, img.height));
    // An image is one pixel per point: the crop is the figure's box.
    let b = figure.bbox;
    assert!(
        png.width().abs_diff(b.width().round() as u32) <= 2
            && png.height().abs_diff(b.height().round() as u32) <= 2,
        "{}x{} for {b:?}",
        png.width(),
        png.height()
    );
    // The chart's bars are in it: dark pixels, not only paper.
    let dark = png
        .pixels()
        .filter(|p| p.0.iter().all(|&c| c < 120))
        .count();
    assert!(dark > 1000, "{dark} dark pixels");
    assert!(page
        .provenance
        .stages
        .contains(&"figure_images".to_string()));
}

/// Born-digital pages under `--layout model`: the models run on the rendered page while the
/// words stay the text layer's. The chart becomes a figure with its caption after it, and the
/// ruled table stays the one exact table of the rules (the model's table region over it adds
/// no second table and takes no words from it).
#[test]
fn born_digital_pages_keep_their_text_layer_and_gain_the_models_regions() {
    let doc = engine()
        .extract(&chart_page(), &options(LayoutMode::Model))
        .expect("extract");
    let page = &doc.pages[0];
    assert_models_ran(page);
    assert!(
        page.blocks
            .iter()
            .all(|b| b.provenance.source == folio_doc::Source::TextLayer),
        "{}",
        describe(page)
    );
    // Page units are points here.
    assert_chart_then_caption(page, 1.0);

    let (pdf_bytes, cells) = ruled_table_page();
    let doc = engine()
        .extract(&pdf_bytes, &options(LayoutMode::Model))
        .expect("extract");
    let page = &doc.pages[0];
    let table = the_one_table(page).table.as_ref().expect("cells");
    assert_eq!(table.grid(), cells, "{}", describe(page));
}
