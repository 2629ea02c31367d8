//! What the OCR tests share: the real models, a page with known text rendered here, encoders for
//! every input format, a minimal PDF writer and the text metrics.
//!
//! Used by `folio-engine/tests/ocr.rs` and `folio/tests/ocr_cli.rs` (through `#[path]`); each uses
//! only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use folio_pdf::PdfDocument;
use folio_store::{ModelId, Store, StoreConfig};

/// The born-digital page whose text layer is the reference for OCR of its rendering.
pub fn paper_pdf_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/pdf/table-paper-page.pdf")
}

/// The receipts (JPEG) and their transcripts (`.txt`), in `tests/fixtures/receipts`.
pub fn receipts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/receipts")
}

/// The default model store, after checking that every OCR model is installed. Tests that need
/// OCR fail here, loudly, rather than pass without having read anything.
pub fn store_with_ocr_models() -> Store {
    let store = Store::open(StoreConfig::from_env());
    for id in ModelId::OCR {
        if let Err(e) = store.model_path(id) {
            panic!(
                "the OCR models are not installed in the model store at {} ({e}); \
                 run `bash scripts/test.d/20-models.sh` first",
                store.root().display()
            );
        }
    }
    store
}

/// An 8-bit RGB raster.
#[derive(Clone)]
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl Rgb {
    pub fn to_image(&self) -> image::RgbImage {
        image::RgbImage::from_raw(self.width, self.height, self.data.clone())
            .expect("raster size matches its data")
    }

    /// The raster turned clockwise by `quarter_turns` × 90°.
    pub fn turned(&self, quarter_turns: u8) -> Rgb {
        let img = self.to_image();
        let img = match quarter_turns % 4 {
            0 => img,
            1 => image::imageops::rotate90(&img),
            2 => image::imageops::rotate180(&img),
            _ => image::imageops::rotate270(&img),
        };
        Rgb {
            width: img.width(),
            height: img.height(),
            data: img.into_raw(),
        }
    }
}

/// Resolution the known-text page is rendered at.
pub const RENDER_DPI: f32 = 200.0;

/// The paper page rendered at [`RENDER_DPI`], rendered once per test process.
pub fn paper_page() -> &'static Rgb {
    static PAGE: OnceLock<Rgb> = OnceLock::new();
    PAGE.get_or_init(|| {
        let bytes = std::fs::read(paper_pdf_path()).expect("read the paper fixture");
        let pdf = PdfDocument::open(Arc::new(bytes), None).expect("open the paper fixture");
        let r = pdf
            .render_page(
                0,
                RENDER_DPI / 72.0,
                40_000_000,
                &folio_content::Cancel::new(),
            )
            .expect("render the paper page");
        Rgb {
            width: r.width,
            height: r.height,
            data: r.rgb,
        }
    })
}

fn encode(img: &Rgb, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.to_image()
        .write_to(&mut out, format)
        .expect("encode the image");
    out.into_inner()
}

pub fn png(img: &Rgb) -> Vec<u8> {
    encode(img, image::ImageFormat::Png)
}

pub fn bmp(img: &Rgb) -> Vec<u8> {
    encode(img, image::ImageFormat::Bmp)
}

/// Lossless WebP (the only kind the image crate's encoder writes).
pub fn webp(img: &Rgb) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .encode(
            &img.data,
            img.width,
            img.height,
            image::ExtendedColorType::Rgb8,
        )
        .expect("encode WebP");
    out
}

pub fn jpeg(img: &Rgb, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode(
            &img.data,
            img.width,
            img.height,
            image::ExtendedColorType::Rgb8,
        )
        .expect("encode JPEG");
    out
}

/// A TIFF with one RGB page per raster.
pub fn tiff(pages: &[&Rgb]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    {
        let mut enc = tiff::encoder::TiffEncoder::new(&mut out).expect("TIFF encoder");
        for p in pages {
            enc.write_image::<tiff::encoder::colortype::RGB8>(p.width, p.height, &p.data)
                .expect("write a TIFF page");
        }
    }
    out.into_inner()
}

/// The minimal PDF writer the reader's tests use too.
#[path = "../../../folio-pdf/tests/common/pdf_writer.rs"]
pub mod pdf_writer;
pub use pdf_writer::{pdf, stream};

/// Letter-size pages, in points.
pub const PAGE_W: f32 = 612.0;
pub const PAGE_H: f32 = 792.0;

/// The part of the paper page most tests read, in points `[x0, y0, x1, y1]`: the running
/// header, a paragraph, the 5.1 heading and the paragraph below it (11 lines). OCR time grows
/// with the amount of text, and the whole page takes about 20 s in a dev build.
pub const CROP_PT: [f32; 4] = [120.0, 80.0, 495.0, 262.0];

/// Pixels per point of the rendered page.
pub const PX_PER_PT: f32 = RENDER_DPI / 72.0;

/// [`CROP_PT`] of the rendered paper page, cut once per test process.
pub fn paper_crop() -> &'static Rgb {
    static CROP: OnceLock<Rgb> = OnceLock::new();
    CROP.get_or_init(|| {
        let page = paper_page();
        let [x0, y0, x1, y1] = CROP_PT.map(|v| (v * PX_PER_PT).round() as u32);
        let img = image::imageops::crop_imm(&page.to_image(), x0, y0, x1 - x0, y1 - y0).to_image();
        Rgb {
            width: img.width(),
            height: img.height(),
            data: img.into_raw(),
        }
    })
}

/// [`paper_crop`] as a JPEG (quality 90), encoded once per test process.
pub fn crop_jpeg() -> &'static [u8] {
    static JPEG: OnceLock<Vec<u8>> = OnceLock::new();
    JPEG.get_or_init(|| jpeg(paper_crop(), 90))
}

/// What one page of a test PDF holds.
pub enum PdfPage<'a> {
    /// Lines of Helvetica text on a letter-size page, one per entry, from the top.
    Text(&'a [&'a str]),
    /// Only a JPEG of `width` x `height` pixels covering the whole page (a scan), which is as
    /// large as the image at [`RENDER_DPI`].
    Scan(&'a [u8], u32, u32),
    /// A scan under invisible text whose font maps every code to a private-use character: the
    /// kind of text layer a broken OCR tool or a subset font without Unicode leaves behind.
    ScanWithGarbageText(&'a [u8], u32, u32, &'a str),
    /// Lines of 10-point Helvetica text on a letter-size page, from the top, and below them a
    /// JPEG of `width` x `height` pixels drawn at [`PICTURE_ZOOM`] times its size at
    /// [`RENDER_DPI`], from [`PICTURE_LEFT`]: a picture that holds text the text layer lacks.
    TextAndPicture(&'a [&'a str], &'a [u8], u32, u32),
}

/// How much larger than at [`RENDER_DPI`] [`PdfPage::TextAndPicture`] draws its picture: the
/// paper's 10-point text becomes 14-point text, larger than the page's own.
pub const PICTURE_ZOOM: f32 = 1.4;

/// Left edge of [`PdfPage::TextAndPicture`]'s picture, in points.
pub const PICTURE_LEFT: f32 = 72.0;

/// Top of [`PdfPage::TextAndPicture`]'s picture, in points from the top of the page.
pub const PICTURE_TOP: f32 = 200.0;

/// A PDF built from `pages`.
pub fn build_pdf(pages: &[PdfPage<'_>]) -> Vec<u8> {
    // 1: catalog, 2: page tree, 3: Helvetica, 4: the private-use font, 5: its ToUnicode map;
    // then per page: page, content stream, image (when there is one).
    let mut objects: Vec<Vec<u8>> = vec![Vec::new(); 5];
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>".to_vec();
    objects[2] =
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec();
    objects[3] =
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 5 0 R >>".to_vec();
    let cmap = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
        /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
        /CMapName /Adobe-Identity-UCS def /CMapType 2 def\n\
        1 begincodespacerange <00> <FF> endcodespacerange\n\
        1 beginbfrange <00> <FF> <E000> endbfrange\n\
        endcmap CMapName currentdict /CMap defineresource pop end end";
    objects[4] = stream("", cmap.as_bytes());
    let mut kids = Vec::new();
    for page in pages {
        let page_id = objects.len() + 1;
        kids.push(format!("{page_id} 0 R"));
        let (size, content, image) = match page {
            PdfPage::Text(lines) => {
                let mut s = String::from("BT /F1 14 Tf 16 TL 72 720 Td\n");
                for line in *lines {
                    s.push_str(&format!("({line}) Tj T*\n"));
                }
                s.push_str("ET");
                ((PAGE_W, PAGE_H), s, None)
            }
            PdfPage::TextAndPicture(lines, jpeg, w, h) => {
                let mut s = String::from("BT /F1 10 Tf 12 TL 72 720 Td\n");
                for line in *lines {
                    s.push_str(&format!("({line}) Tj T*\n"));
                }
                s.push_str("ET\n");
                let (pw, ph) = (
                    *w as f32 / PX_PER_PT * PICTURE_ZOOM,
                    *h as f32 / PX_PER_PT * PICTURE_ZOOM,
                );
                let bottom = PAGE_H - PICTURE_TOP - ph;
                s.push_str(&format!(
                    "q {pw} 0 0 {ph} {PICTURE_LEFT} {bottom} cm /Im0 Do Q"
                ));
                ((PAGE_W, PAGE_H), s, Some((*jpeg, *w, *h)))
            }
            PdfPage::Scan(jpeg, w, h) | PdfPage::ScanWithGarbageText(jpeg, w, h, _) => {
                let (pw, ph) = (*w as f32 / PX_PER_PT, *h as f32 / PX_PER_PT);
                let mut s = format!("q {pw} 0 0 {ph} 0 0 cm /Im0 Do Q");
                if let PdfPage::ScanWithGarbageText(.., text) = page {
                    // Render mode 3: invisible, as OCR text layers are.
                    s.push_str(&format!(
                        "\nBT 3 Tr /F2 10 Tf 10 {} Td ({text}) Tj ET",
                        ph / 2.0
                    ));
                }
                ((pw, ph), s, Some((*jpeg, *w, *h)))
            }
        };
        let content_id = page_id + 1;
        let image_id = page_id + 2;
        let xobjects = if image.is_some() {
            format!("/XObject << /Im0 {image_id} 0 R >>")
        } else {
            String::new()
        };
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] \
                 /Resources << /Font << /F1 3 0 R /F2 4 0 R >> {xobjects} >> \
                 /Contents {content_id} 0 R >>",
                size.0, size.1
            )
            .into_bytes(),
        );
        objects.push(stream("", content.as_bytes()));
        if let Some((jpeg, w, h)) = image {
            objects.push(stream(
                &format!(
                    "/Type /XObject /Subtype /Image /Width {w} /Height {h} \
                     /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode"
                ),
                jpeg,
            ));
        }
    }
    objects[1] = format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    )
    .into_bytes();
    pdf(&objects)
}

/// Lowercase words of letters and digits, the unit word recall counts.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Share of the reference's words (as a multiset) that the candidate also has.
pub fn word_recall(reference: &str, candidate: &str) -> f64 {
    let mut have: HashMap<String, usize> = HashMap::new();
    for w in words(candidate) {
        *have.entry(w).or_default() += 1;
    }
    let want = words(reference);
    let mut found = 0usize;
    for w in &want {
        if let Some(n) = have.get_mut(w) {
            if *n > 0 {
                *n -= 1;
                found += 1;
            }
        }
    }
    found as f64 / want.len().max(1) as f64
}

/// Levenshtein distance over characters.
pub fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Case-insensitive character error rate with whitespace runs as one space, as the corpus
/// scorer computes it (`cer_ci`): edits over the reference's length.
pub fn cer(reference: &str, candidate: &str) -> f64 {
    let norm = |s: &str| -> Vec<char> {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
            .chars()
            .collect()
    };
    let (r, c) = (norm(reference), norm(candidate));
    levenshtein(&c, &r) as f64 / r.len().max(1) as f64
}

#[test]
fn metrics_behave() {
    assert_eq!(levenshtein(&['a', 'b', 'c'], &['a', 'x', 'c', 'd']), 2);
    assert_eq!(cer("Hello  World", "hello world"), 0.0);
    assert!((cer("abcd", "abxd") - 0.25).abs() < 1e-9);
    assert!((word_recall("a b b c", "b a x") - 0.5).abs() < 1e-9);
}
