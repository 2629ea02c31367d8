//! Figure pictures from PDF pages (`ExtractOptions::images`): each figure cropped from the
//! rendered page, only when asked for, and a document's pictures bounded by
//! `Limits::max_image_bytes` with a typed warning for what was left out.

#[path = "../../folio-pdf/tests/common/pdf_writer.rs"]
mod pdf_writer;

use folio_doc::{BlockKind, Document, Status, WarningKind};
use folio_engine::{Engine, ExtractOptions, LayoutMode, Limits};

/// 40x30 pixels of noise, raw RGB, different for each `seed`.
fn noise(seed: u32) -> Vec<u8> {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    (0..40 * 30 * 3)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s as u8
        })
        .collect()
}

/// A letter page with a line of text and four pictures of 200 x 150 points in a 2 x 2 grid.
fn four_pictures() -> Vec<u8> {
    let mut content = String::from("BT /F1 12 Tf 72 740 Td (Four pictures of noise.) Tj ET\n");
    let mut xobjects = String::new();
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        Vec::new(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        Vec::new(),
    ];
    for i in 0..4u32 {
        let (x, y) = (80 + 250 * (i % 2), 120 + 250 * (i / 2));
        content += &format!("q 200 0 0 150 {x} {y} cm /Im{i} Do Q\n");
        xobjects += &format!("/Im{i} {} 0 R ", objects.len() + 1);
        objects.push(pdf_writer::stream(
            "/Type /XObject /Subtype /Image /Width 40 /Height 30 /ColorSpace /DeviceRGB \
             /BitsPerComponent 8",
            &noise(i + 1),
        ));
    }
    objects[2] = format!(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
         /Resources << /Font << /F1 4 0 R >> /XObject << {xobjects}>> >> /Contents 5 0 R >>"
    )
    .into_bytes();
    objects[4] = pdf_writer::stream("", content.as_bytes());
    pdf_writer::pdf(&objects)
}

fn extract(images: bool, max_image_bytes: u64) -> Document {
    let opts = ExtractOptions {
        layout: LayoutMode::Fast,
        images,
        limits: Limits {
            max_image_bytes,
            ..Limits::default()
        },
        ..ExtractOptions::default()
    };
    Engine::new()
        .extract(&four_pictures(), &opts)
        .expect("extract")
}

fn picture_sizes(doc: &Document) -> Vec<usize> {
    doc.pages[0]
        .blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Figure)
        .filter_map(|b| b.image.as_ref())
        .map(|img| img.data.as_ref().map_or(0, Vec::len))
        .collect()
}

#[test]
fn pictures_are_cropped_only_when_asked_for() {
    let plain = extract(false, 1 << 30);
    let figures = plain.pages[0]
        .blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Figure)
        .count();
    assert_eq!(figures, 4);
    assert!(picture_sizes(&plain).is_empty());
    assert!(!plain.pages[0]
        .provenance
        .stages
        .contains(&"figure_images".to_string()));

    let asked = extract(true, 1 << 30);
    assert_eq!(asked.status, Status::Success, "{:?}", asked.warnings);
    assert!(asked.pages[0]
        .provenance
        .stages
        .contains(&"figure_images".to_string()));
    for b in asked.pages[0]
        .blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Figure)
    {
        let img = b.image.as_ref().expect("a picture");
        let png = image::load_from_memory(img.data.as_ref().expect("bytes")).expect("a PNG");
        assert_eq!((png.width(), png.height()), (img.width, img.height));
        // 200 x 150 points at 144 dpi.
        assert!(
            img.width.abs_diff(400) <= 2 && img.height.abs_diff(300) <= 2,
            "{}x{}",
            img.width,
            img.height
        );
        // The same blocks as without pictures, the picture aside.
        let mut bare = b.clone();
        bare.image = None;
        assert!(plain.pages[0].blocks.contains(&bare));
    }
}

#[test]
fn a_documents_pictures_stay_within_the_byte_budget_with_a_warning() {
    let sizes = picture_sizes(&extract(true, 1 << 30));
    assert_eq!(sizes.len(), 4);
    // Room for the smallest picture only: whichever comes first that fits, no other does.
    let budget = *sizes.iter().min().unwrap() as u64 + 1;
    let doc = extract(true, budget);
    assert_eq!(picture_sizes(&doc).len(), 1);
    assert!(picture_sizes(&doc)[0] as u64 <= budget);
    let skipped: Vec<_> = doc
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::ImageSkipped)
        .collect();
    assert_eq!(skipped.len(), 1, "{:?}", doc.warnings);
    assert!(
        skipped[0].message.contains("3 figures' pictures left out")
            && skipped[0]
                .message
                .contains(&format!("budget of {budget} bytes")),
        "{}",
        skipped[0].message
    );
    assert_eq!(skipped[0].page, Some(1));
    assert_eq!(doc.status, Status::Partial);
}
