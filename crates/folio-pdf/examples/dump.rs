//! Prints what the reader sees on one page: `cargo run -p folio-pdf --example dump FILE PAGE`.
//! A development aid for layout work.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: dump FILE [PAGE]")?;
    let page: u32 = args.next().map(|p| p.parse()).transpose()?.unwrap_or(1);
    let password = std::env::var("FOLIO_PDF_PASSWORD").ok();
    let doc = folio_pdf::PdfDocument::open(Arc::new(std::fs::read(path)?), password.as_deref())?;
    let content = doc.page_content(page - 1, &folio_content::Cancel::new())?;
    println!(
        "page {}x{} rot {}",
        content.width, content.height, content.rotation
    );
    for s in &content.segments {
        println!("seg {:.1},{:.1} -> {:.1},{:.1}", s.x0, s.y0, s.x1, s.y1);
    }
    for i in &content.images {
        println!("img {i:?}");
    }
    for g in &content.glyphs {
        println!(
            "glyph {:?} {:.1},{:.1},{:.1},{:.1} size {:.1} angle {:.0} font {} b{} i{}",
            g.text,
            g.bbox.x0,
            g.bbox.y0,
            g.bbox.x1,
            g.bbox.y1,
            g.size,
            g.angle,
            g.font.name,
            g.font.bold,
            g.font.italic
        );
    }
    Ok(())
}
