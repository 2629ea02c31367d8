//! Figure pictures from Office and HTML files (`OfficeOptions::images`): the package's own bytes,
//! within a byte budget that a hostile file (thousands of pictures, one picture over the budget)
//! cannot get past, with one warning per reason; nothing when they are not asked for; an HTML
//! `data:` URI decoded, an external `src` never fetched.

use std::io::Cursor;

use folio_doc::{BlockKind, Document, Status, WarningKind};
use folio_office::{read, Format, OfficeLimits, OfficeOptions};

mod common;
use common::zip_of;

/// A PNG of `w` x `h` pixels of noise (so it does not compress away).
fn noise_png(w: u32, h: u32) -> Vec<u8> {
    let mut seed = 0x2545_f491u32;
    let img = image::RgbImage::from_fn(w, h, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let b = seed.to_le_bytes();
        image::Rgb([b[0], b[1], b[2]])
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode");
    out
}

/// A DOCX whose body shows `media/image1.png` in `count` paragraphs.
fn docx_showing(picture: &[u8], count: usize) -> Vec<u8> {
    let drawing = "<w:p><w:r><w:drawing><wp:inline><a:graphic><a:graphicData><pic:pic>\
                   <pic:blipFill><a:blip r:embed=\"rId1\"/></pic:blipFill>\
                   </pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>";
    let document = format!(
        "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" \
         xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" \
         xmlns:wp=\"http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing\" \
         xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" \
         xmlns:pic=\"http://schemas.openxmlformats.org/drawingml/2006/picture\"><w:body>\
         <w:p><w:r><w:t>Pictures follow.</w:t></w:r></w:p>{}</w:body></w:document>",
        drawing.repeat(count)
    );
    let rels =
        "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
                <Relationship Id=\"rId1\" \
                Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/image\" \
                Target=\"media/image1.png\"/></Relationships>";
    zip_of(&[
        ("word/document.xml", document.as_bytes()),
        ("word/_rels/document.xml.rels", rels.as_bytes()),
        ("word/media/image1.png", picture),
    ])
}

fn options(images: bool, max_image_bytes: u64) -> OfficeOptions {
    OfficeOptions {
        images,
        limits: OfficeLimits {
            max_image_bytes,
            ..OfficeLimits::default()
        },
        ..OfficeOptions::default()
    }
}

fn pictures(doc: &Document) -> Vec<&folio_doc::Image> {
    doc.pages
        .iter()
        .flat_map(|p| &p.blocks)
        .filter(|b| b.kind == BlockKind::Figure)
        .filter_map(|b| b.image.as_deref())
        .collect()
}

#[test]
fn thousands_of_pictures_stay_within_the_budget_with_one_warning() {
    let png = noise_png(64, 64);
    let count = 5_000;
    let bytes = docx_showing(&png, count);
    // Room for ten copies of the picture.
    let budget = 10 * png.len() as u64 + 7;
    let doc = read(&bytes, Format::Docx, &options(true, budget)).expect("read");
    let figures = doc.pages[0]
        .blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Figure)
        .count();
    assert_eq!(
        figures, count,
        "every figure is kept, with or without its picture"
    );
    let kept = pictures(&doc);
    assert_eq!(kept.len(), 10);
    for img in &kept {
        assert_eq!(
            img.data.as_deref(),
            Some(&png[..]),
            "the package's own bytes"
        );
        assert_eq!(
            (img.mime.as_str(), img.width, img.height),
            ("image/png", 64, 64)
        );
    }
    let skipped: Vec<_> = doc
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::ImageSkipped)
        .collect();
    assert_eq!(skipped.len(), 1, "{:?}", doc.warnings);
    assert!(
        skipped[0]
            .message
            .starts_with(&format!("{} figures' pictures left out", count - 10))
            && skipped[0]
                .message
                .contains(&format!("budget of {budget} bytes")),
        "{}",
        skipped[0].message
    );
    assert_eq!(doc.status, Status::Partial);
}

#[test]
fn no_more_than_a_thousand_pictures_however_small() {
    let png = noise_png(2, 2);
    let doc = read(
        &docx_showing(&png, 1_200),
        Format::Docx,
        &options(true, 1 << 30),
    )
    .expect("read");
    assert_eq!(pictures(&doc).len(), 1_000);
    assert_eq!(doc.warnings.len(), 1, "{:?}", doc.warnings);
    assert!(
        doc.warnings[0]
            .message
            .starts_with("200 figures' pictures left out: the document has more than 1000"),
        "{}",
        doc.warnings[0].message
    );
}

#[test]
fn pictures_are_read_only_when_asked_for() {
    let bytes = docx_showing(&noise_png(8, 8), 3);
    let doc = read(&bytes, Format::Docx, &options(false, 1 << 20)).expect("read");
    assert!(pictures(&doc).is_empty());
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    assert_eq!(doc.status, Status::Success);
}

#[test]
fn a_picture_in_a_format_that_cannot_be_written_is_skipped_with_its_reason() {
    let emf = b"\x01\x00\x00\x00 an EMF record, not a raster".to_vec();
    let doc = read(
        &docx_showing(&emf, 2),
        Format::Docx,
        &options(true, 1 << 20),
    )
    .expect("read");
    assert!(pictures(&doc).is_empty());
    assert_eq!(doc.warnings.len(), 1, "{:?}", doc.warnings);
    assert!(
        doc.warnings[0]
            .message
            .starts_with("2 figures' pictures left out")
            && doc.warnings[0].message.contains("format"),
        "{}",
        doc.warnings[0].message
    );
}

#[test]
fn html_data_uris_are_decoded_and_links_never_fetched() {
    use base64::Engine as _;
    let png = noise_png(5, 3);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let html = format!(
        "<html><body><p>Two pictures.</p><img src=\"data:image/png;base64,{b64}\" alt=\"a\">\
         <img src=\"http://127.0.0.1:9/never.png\"></body></html>"
    );
    let doc = read(html.as_bytes(), Format::Html, &options(true, 1 << 20)).expect("read");
    let kept = pictures(&doc);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].data.as_deref(), Some(&png[..]));
    assert_eq!((kept[0].width, kept[0].height), (5, 3));
    assert!(
        doc.warnings
            .iter()
            .any(|w| w.kind == WarningKind::ImageSkipped && w.message.contains("never fetched")),
        "{:?}",
        doc.warnings
    );
    // A data: URI longer than the budget is not even decoded.
    let doc = read(html.as_bytes(), Format::Html, &options(true, 16)).expect("read");
    assert!(pictures(&doc).is_empty());
    assert!(
        doc.warnings.iter().any(|w| w
            .message
            .contains("data: URI is over the budget of 16 bytes")),
        "{:?}",
        doc.warnings
    );
}
