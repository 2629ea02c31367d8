//! The reader on real PDFs: text positions, rules, rendering and passwords.

#[path = "common/pdf_writer.rs"]
mod pdf_writer;

use std::path::Path;
use std::sync::Arc;

use folio_content::Cancel;
use folio_pdf::{PdfDocument, PdfError, Raster};

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

#[test]
fn edges_hidden_inside_a_fill_of_the_same_colour_are_no_rules() {
    // A shaded cell (orange, PDF x 50..250, y 100..140) with each of its two text lines
    // shaded again in the same orange (x 60..160), as word processors draw it, and a grey box
    // (x 180..240, y 105..135) inside it. Page 400 x 300.
    let content = "1 0.8 0.6 rg 50 100 200 40 re f \
                   60 120 100 20 re f 60 100 100 20 re f \
                   0.5 g 180 105 60 30 re f";
    let objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 300] /Contents 4 0 R >>".to_vec(),
        pdf_writer::stream("", content.as_bytes()),
    ];
    let doc = PdfDocument::open(Arc::new(pdf_writer::pdf(&objects)), None).unwrap();
    let page = doc.page_content(0, &Cancel::new()).unwrap();
    let horizontal_at = |y: f32, x: f32| {
        page.segments.iter().any(|s| {
            s.is_horizontal()
                && (s.y0 - y).abs() < 0.5
                && s.x0.min(s.x1) <= x
                && s.x0.max(s.x1) >= x
        })
    };
    // Top-left origin: PDF y 100..140 is 160..200; the line fills meet at 180.
    assert!(horizontal_at(160.0, 100.0), "{:?}", page.segments);
    assert!(horizontal_at(200.0, 100.0), "{:?}", page.segments);
    assert!(!horizontal_at(180.0, 100.0), "{:?}", page.segments);
    // The line fills' sides at x = 60 and 160 lie inside the cell too.
    assert!(!page
        .segments
        .iter()
        .any(|s| s.is_vertical() && ((s.x0 - 60.0).abs() < 0.5 || (s.x0 - 160.0).abs() < 0.5)));
    // A box of another colour inside the cell shows: its edges stay.
    assert!(horizontal_at(165.0, 200.0) && horizontal_at(195.0, 200.0));
}

/// A 400 x 300 page drawn by `content`, whose colour space `/CS0` is ICC-based with `profile`
/// (four components).
fn icc_cmyk_page(profile: &[u8], content: &str) -> PdfDocument {
    let objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 300] /Contents 4 0 R \
           /Resources << /ColorSpace << /CS0 [/ICCBased 5 0 R] >> >> >>"
            .to_vec(),
        pdf_writer::stream("", content.as_bytes()),
        pdf_writer::stream("/N 4", profile),
    ];
    PdfDocument::open(Arc::new(pdf_writer::pdf(&objects)), None).unwrap()
}

/// The colour of pixel (`x`, `y`) of a rendered page.
fn rgb_at(r: &Raster, x: usize, y: usize) -> [u8; 3] {
    let i = (y * r.width as usize + x) * 3;
    [r.rgb[i], r.rgb[i + 1], r.rgb[i + 2]]
}

#[test]
fn icc_cmyk_fills_are_keyed_without_conversion_and_still_painted() {
    // A cell and its line shaded in one ICC-based CMYK cyan (the profile hayro uses for
    // DeviceCMYK, so the same colour painted as DeviceCMYK must render alike), and a DeviceCMYK
    // box beside them. Reading the page compares the paints by their components; the CMYK
    // transform is only built when the page is painted.
    let profile = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../third_party/hayro-interpret/assets/CGATS001Compat-v2-micro.icc"
    ));
    let content = "/CS0 cs 1 0 0 0 sc 50 100 200 40 re f 60 120 100 20 re f \
                   1 0 0 0 k 300 100 50 40 re f";
    let doc = icc_cmyk_page(profile, content);
    let page = doc.page_content(0, &Cancel::new()).unwrap();
    // The line fill's lower edge (PDF y 120, 180 from the top) lies inside the cell of the
    // same paint; the cell's own edges stay.
    let horizontal_at = |y: f32| {
        page.segments
            .iter()
            .any(|s| s.is_horizontal() && (s.y0 - y).abs() < 0.5 && s.x0.min(s.x1) <= 100.0)
    };
    assert!(
        horizontal_at(160.0) && horizontal_at(200.0),
        "{:?}",
        page.segments
    );
    assert!(!horizontal_at(180.0), "{:?}", page.segments);

    let r = doc.render_page(0, 1.0, 1_000_000, &Cancel::new()).unwrap();
    let pixel = |x: usize, y: usize| rgb_at(&r, x, y);
    let (icc, device) = (pixel(100, 190), pixel(325, 180));
    assert_eq!(icc, device);
    assert!(icc[0] < 80 && icc[2] > 180, "cyan expected, got {icc:?}");
}

/// A CMYK output profile that parses (a valid header, no tags) but from which no transform can
/// be built: it has no lookup tables.
fn cmyk_profile_without_tables() -> Vec<u8> {
    let mut icc = vec![0u8; 132];
    icc[8..12].copy_from_slice(&0x0430_0000u32.to_be_bytes()); // version 4.3
    icc[12..16].copy_from_slice(b"prtr");
    icc[16..20].copy_from_slice(b"CMYK");
    icc[20..24].copy_from_slice(b"Lab ");
    icc[36..40].copy_from_slice(b"acsp");
    // D50, the only illuminant a profile may name, in s15.16.
    for (at, v) in [(68, 0.9642f64), (72, 1.0), (76, 0.8249)] {
        icc[at..at + 4].copy_from_slice(&((v * 65536.0).round() as i32).to_be_bytes());
    }
    let len = icc.len() as u32;
    icc[0..4].copy_from_slice(&len.to_be_bytes());
    icc
}

#[test]
fn a_cmyk_profile_whose_transform_cannot_be_built_paints_by_the_plain_formula() {
    // The profile is read when the page names the colour space, and its transform is built
    // only when something is painted: building it fails, and the fill is converted by
    // RGB = (1 - ink) x (1 - black) rather than dropped or shown through another profile.
    let profile = cmyk_profile_without_tables();
    let content = "/CS0 cs 1 0 0 0 sc 50 100 200 40 re f 0 0 0 0.5 sc 260 100 30 40 re f \
                   1 0 0 0 k 300 100 50 40 re f";
    let doc = icc_cmyk_page(&profile, content);
    let r = doc.render_page(0, 1.0, 1_000_000, &Cancel::new()).unwrap();
    let pixel = |x: usize, y: usize| rgb_at(&r, x, y);
    assert_eq!(pixel(100, 180), [0, 255, 255], "plain cyan");
    // Half black: 255 x (1 - 0.5), rounded either way.
    let grey = pixel(275, 180);
    assert!(
        grey.iter().all(|&c| (127..=128).contains(&c)),
        "half black, got {grey:?}"
    );
    // DeviceCMYK goes through hayro's own profile, whose cyan is not the plain one.
    assert_ne!(pixel(325, 180), [0, 255, 255]);
}

/// A page showing the CIDs 1 to 4 (text "ABCD" by its ToUnicode map) in a CID font whose CMap
/// is `encoding` (`Identity-H` or `Identity-V`).
fn cid_font_page(encoding: &str) -> PdfDocument {
    let to_unicode = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap \
        /CMapName /Test-UCS def /CMapType 2 def \
        1 begincodespacerange <0000> <FFFF> endcodespacerange \
        1 beginbfrange <0001> <0004> <0041> endbfrange \
        endcmap CMapName currentdict /CMap defineresource pop end end";
    let objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 300] /Contents 4 0 R \
           /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_vec(),
        pdf_writer::stream(
            "",
            b"BT /F1 12 Tf 1 0 0 1 100 250 Tm <0001000200030004> Tj ET",
        ),
        format!(
            "<< /Type /Font /Subtype /Type0 /BaseFont /MSGothic /Encoding /{encoding} \
               /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>"
        )
        .into_bytes(),
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /MSGothic \
           /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
           /FontDescriptor 8 0 R /DW 1000 >>"
            .to_vec(),
        pdf_writer::stream("", to_unicode.as_bytes()),
        b"<< /Type /FontDescriptor /FontName /MSGothic /Flags 4 /FontBBox [0 -120 1000 880] \
           /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>"
            .to_vec(),
    ];
    PdfDocument::open(Arc::new(pdf_writer::pdf(&objects)), None).unwrap()
}

#[test]
fn a_vertical_font_runs_its_text_downwards() {
    let across = cid_font_page("Identity-H")
        .page_content(0, &Cancel::new())
        .unwrap();
    let down = cid_font_page("Identity-V")
        .page_content(0, &Cancel::new())
        .unwrap();
    for page in [&across, &down] {
        let text: String = page.glyphs.iter().map(|g| g.text.as_str()).collect();
        assert_eq!(text, "ABCD");
    }
    // Set horizontally: one baseline, left to right.
    assert!(across.glyphs.iter().all(|g| g.angle.abs() < 1.0));
    assert!(across
        .glyphs
        .windows(2)
        .all(|w| w[1].bbox.x0 > w[0].bbox.x0));
    // Set vertically: each glyph below the one before, and the text's direction is down the
    // page (a quarter turn clockwise), so that layout reads the four glyphs as one line.
    assert!(
        down.glyphs.windows(2).all(|w| w[1].bbox.y0 > w[0].bbox.y0),
        "{:?}",
        down.glyphs
    );
    for g in &down.glyphs {
        assert!((g.angle.rem_euclid(360.0) - 270.0).abs() < 1.0, "{g:?}");
    }
}
