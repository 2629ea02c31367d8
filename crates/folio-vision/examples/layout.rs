//! Runs the layout model on a page (a PDF page rendered at 144 dpi, or an image) and the table
//! model on every table region it finds, printing regions, table grids and timings:
//! `cargo run --release -p folio-vision --example layout -- LAYOUT.onnx TABLE.onnx FILE [PAGE]`
//! (`folio models path layout` and `folio models path table` name the installed models).
//! With `SAVE=out.png` the model's input page is written too, for comparison with other tools.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use folio_vision::{BackendKind, LayoutModel, LayoutParams, RegionKind, RgbImage, TableModel};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: layout LAYOUT.onnx TABLE.onnx FILE [PAGE]";
    let mut args = std::env::args().skip(1);
    let layout_path = PathBuf::from(args.next().ok_or(usage)?);
    let table_path = PathBuf::from(args.next().ok_or(usage)?);
    let file = PathBuf::from(args.next().ok_or(usage)?);
    let page_no: u32 = args.next().map_or(Ok(1), |p| p.parse())?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let bytes = std::fs::read(&file)?;
    let page = if bytes.starts_with(b"%PDF") {
        let doc = folio_pdf::PdfDocument::open(Arc::new(bytes), None)?;
        let r = doc.render_page(
            page_no.saturating_sub(1),
            2.0,
            40_000_000,
            &folio_content::Cancel::new(),
        )?;
        RgbImage::new(r.width, r.height, r.rgb)?
    } else {
        let img = image::load_from_memory(&bytes)?.to_rgb8();
        RgbImage::new(img.width(), img.height(), img.into_raw())?
    };
    if let Ok(path) = std::env::var("SAVE") {
        image::RgbImage::from_raw(page.width(), page.height(), page.as_bytes().to_vec())
            .ok_or("raster")?
            .save(path)?;
    }
    let t = Instant::now();
    let layout = LayoutModel::load(&layout_path, BackendKind::Rten, threads)?;
    let table = TableModel::load(&table_path, BackendKind::Rten, threads)?;
    eprintln!("load: {} ms", t.elapsed().as_millis());
    let t = Instant::now();
    let regions = layout.detect(&page, &LayoutParams::default())?;
    eprintln!("layout: {} ms", t.elapsed().as_millis());
    for r in &regions {
        println!(
            "{:15} {:.3} {:?}",
            r.kind.label(),
            r.score,
            r.bbox.map(|v| v.round())
        );
    }
    for r in regions.iter().filter(|r| r.kind == RegionKind::Table) {
        let t = Instant::now();
        let s = table.recognize(&page, r.bbox)?;
        eprintln!("table: {} ms", t.elapsed().as_millis());
        println!(
            "table {:?}: {} x {} (score {:.3})\n{}",
            r.bbox.map(|v| v.round()),
            s.rows,
            s.cols,
            s.score,
            s.tokens.join("")
        );
        for c in &s.cells {
            println!(
                "  r{} c{} span {}x{}{} {:?}",
                c.row,
                c.col,
                c.row_span,
                c.col_span,
                if c.header { " head" } else { "" },
                c.bbox.map(|v| v.round())
            );
        }
    }
    Ok(())
}
