//! The reader on real PDFs: text positions, rules, rendering and passwords.

#[path = "common/pdf_writer.rs"]
mod pdf_writer;

use std::path::Path;
use std::sync::Arc;

use folio_content::Cancel;
use folio_pdf::{PdfDocument, PdfError};

fn open(rel: &str, password: Option<&str>) -> Result<PdfDocument, PdfError> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    PdfDocument::open(Arc::new(std::fs::read(&path).expect("fixture")), password)
}

#[test]
fn glyphs_have_text_fonts_and_positions_inside_the_page() {
    let doc = open("tests/fixtures/pdf/table-paper-page.pdf", None).unwrap();
    assert_eq!(doc.page_count(), 1);
    let page = doc.page_content(0, &Cancel::new()).unwrap();
    assert!((page.width - 612.0).abs() < 1.0 && (page.height - 792.0).abs() < 1.0);
    assert!(page.glyphs.len() > 1000, "{} glyphs", page.glyphs.len());
    for g in &page.glyphs {
        assert!(g.bbox.is_finite());
        assert!(g.bbox.x0 >= -2.0 && g.bbox.x1 <= page.width + 2.0, "{g:?}");
        assert!(g.size > 0.0);
    }
    // Glyph text joined in drawing order spells the page's words.
    let text: String = page.glyphs.iter().map(|g| g.text.as_str()).collect();
    assert!(
        text.contains("HyperParameterOptimization") || text.contains("Hyper Parameter"),
        "{text}"
    );
    // The table is drawn with rules: horizontal and vertical segments are collected.
    assert!(page.segments.iter().filter(|s| s.is_horizontal()).count() >= 4);
    assert!(page.segments.iter().filter(|s| s.is_vertical()).count() >= 10);
}

#[test]
fn rendering_gives_an_rgb_raster_with_ink() {
    let doc = open("tests/fixtures/pdf/table-paper-page.pdf", None).unwrap();
    let r = doc.render_page(0, 1.0, 10_000_000, &Cancel::new()).unwrap();
    assert_eq!((r.width, r.height), (612, 792));
    assert_eq!(r.rgb.len(), 612 * 792 * 3);
    let dark = r
        .rgb
        .chunks(3)
        .filter(|p| p[0] < 100 && p[1] < 100 && p[2] < 100)
        .count();
    assert!(dark > 5_000, "only {dark} dark pixels");
    // The pixel budget is enforced before anything is allocated.
    assert!(matches!(
        doc.render_page(0, 10.0, 1_000_000, &Cancel::new()),
        Err(PdfError::RasterTooLarge { .. })
    ));
    assert!(matches!(
        doc.render_page(3, 1.0, 10_000_000, &Cancel::new()),
        Err(PdfError::NoSuchPage { index: 3 })
    ));
}

#[test]
fn garbage_is_invalid_not_a_panic() {
    let r = PdfDocument::open(Arc::new(b"%PDF-1.4\nnothing here".to_vec()), None);
    assert!(matches!(r, Err(PdfError::Invalid)));
}

/// A one-page PDF (400 x 300 points) that draws a 4 x 2 pixel RGB image into
/// `[x, y, x + w, y + h]` (PDF coordinates, origin at the bottom left).
fn pdf_with_image(x: f32, y: f32, w: f32, h: f32) -> Vec<u8> {
    let content = format!("q {w} 0 0 {h} {x} {y} cm /Im0 Do Q");
    let pixels = [0x80u8; 4 * 2 * 3];
    let objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 300] \
           /Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R >>"
            .to_vec(),
        pdf_writer::stream("", content.as_bytes()),
        pdf_writer::stream(
            "/Type /XObject /Subtype /Image /Width 4 /Height 2 /ColorSpace /DeviceRGB \
             /BitsPerComponent 8",
            &pixels,
        ),
    ];
    pdf_writer::pdf(&objects)
}

#[test]
fn image_boxes_cover_where_the_image_is_drawn() {
    // Whatever the image's pixel size, its box is the rectangle the page maps it onto (a scan
    // covering the page must not shrink to a pixel, or pages of scans look empty).
    let doc = PdfDocument::open(Arc::new(pdf_with_image(50.0, 100.0, 300.0, 150.0)), None).unwrap();
    let page = doc.page_content(0, &Cancel::new()).unwrap();
    assert_eq!(page.images.len(), 1, "{:?}", page.images);
    let b = page.images[0];
    // Top-left origin: PDF y 100..250 becomes 50..200 on a 300-point page.
    for (got, want) in [(b.x0, 50.0), (b.y0, 50.0), (b.x1, 350.0), (b.y1, 200.0)] {
        assert!((got - want).abs() < 0.01, "{b:?}");
    }
}

#[test]
fn a_page_that_never_ends_stops_soon_after_it_is_cancelled() {
    let bytes = pdf_writer::never_ending_page();
    let doc = PdfDocument::open(Arc::new(bytes), None).unwrap();
    let cancel = Cancel::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = {
        let (doc, cancel) = (doc.clone(), cancel.clone());
        std::thread::spawn(move || tx.send(doc.page_content(0, &cancel)).unwrap())
    };
    // Still running after a while: the page really does not end on its own.
    assert!(rx
        .recv_timeout(std::time::Duration::from_millis(300))
        .is_err());
    let asked = std::time::Instant::now();
    cancel.cancel();
    let content = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("the reader stops once cancelled")
        .unwrap();
    reader.join().unwrap();
    assert!(asked.elapsed() < std::time::Duration::from_secs(1));
    assert!(
        content
            .warnings
            .iter()
            .any(|w| w.kind == folio_content::ContentWarningKind::Interrupted),
        "{:?}",
        content.warnings
    );
    // Rendering the same page stops the same way.
    let cancel = Cancel::new();
    let render = {
        let (doc, cancel) = (doc.clone(), cancel.clone());
        std::thread::spawn(move || doc.render_page(0, 1.0, 1_000_000, &cancel))
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    cancel.cancel();
    assert!(matches!(render.join().unwrap(), Err(PdfError::Cancelled)));
}
