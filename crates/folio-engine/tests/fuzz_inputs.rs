//! Bounded mutation fuzzing of the readers on stable Rust (`fuzz/mutate.rs`): the PDF object
//! layer and content streams (through `folio-pdf`, seeded from `fuzz/corpus/pdf`) and the image
//! decoders (through the engine, seeded with small images made here). Each target runs for
//! `FOLIO_FUZZ_SECS` (default 10 s); every input must end without a panic, within its limits
//! and in bounded time. Inputs that once failed live in `fuzz/regressions/<target>/` and are
//! replayed first.

#[path = "../../../fuzz/mutate.rs"]
mod mutate;

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_engine::{Engine, ExtractOptions, Limits, OcrMode};
use folio_pdf::{PdfDocument, ReadLimits};

/// Longest any one input may take: a hang is a finding too.
const SLOW: Duration = Duration::from_secs(10);

fn corpus(name: &str) -> Vec<Vec<u8>> {
    mutate::seeds(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus")
            .join(name),
    )
}

fn timed(started: Instant) -> Result<(), String> {
    if started.elapsed() > SLOW {
        return Err(format!("took {:?}", started.elapsed()));
    }
    Ok(())
}

const PDF_TOKENS: [&[u8]; 24] = [
    b" q ",
    b" Q ",
    b" /X0 Do ",
    b" BT ",
    b" ET ",
    b" (a) Tj ",
    b" /F1 12 Tf ",
    b" 1 0 0 1 0 0 cm ",
    b"<< /Length 5 >>",
    b"stream\n",
    b"\nendstream",
    b" 1 0 R ",
    b" 0 obj ",
    b"endobj",
    b"xref\n",
    b"trailer",
    b"/FlateDecode",
    b"/LZWDecode",
    b"[",
    b"]",
    b"<<",
    b">>",
    b" 0 0 m 10 10 l S ",
    b"/Filter /RunLengthDecode",
];

#[test]
fn fuzz_pdf_reader() {
    let limits = ReadLimits {
        max_stream_bytes: 16 << 20,
        max_page_bytes: 64 << 20,
        max_document_bytes: 128 << 20,
        max_operations: 500_000,
        max_nesting: 16,
    };
    let runs = mutate::run(
        "pdf",
        &corpus("pdf"),
        &PDF_TOKENS,
        mutate::budget(Duration::from_secs(10)),
        |input| {
            let started = Instant::now();
            let Ok(doc) = PdfDocument::open_with_limits(Arc::new(input.to_vec()), None, limits)
            else {
                return timed(started);
            };
            let _ = doc.title();
            for page in 0..doc.page_count().min(3) {
                let _ = doc.page_content_bounded(page, &folio_content::Cancel::new());
            }
            timed(started)
        },
    );
    assert!(runs > 0);
}

/// Small images of every decoded format, made here.
fn image_seeds() -> Vec<Vec<u8>> {
    let img = image::RgbaImage::from_fn(23, 17, |x, y| {
        image::Rgba([(x * 11) as u8, (y * 15) as u8, 128, (x * y) as u8])
    });
    let mut out = Vec::new();
    for format in [
        image::ImageFormat::Png,
        image::ImageFormat::Tiff,
        image::ImageFormat::Bmp,
    ] {
        let mut buf = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgba8(img.clone())
            .write_to(&mut buf, format)
            .unwrap();
        out.push(buf.into_inner());
    }
    let mut jpeg = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(img)
        .to_rgb8()
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    out.push(jpeg.into_inner());
    out
}

#[test]
fn fuzz_image_decoders() {
    let engine = Engine::new();
    let opts = ExtractOptions {
        ocr: OcrMode::Never,
        limits: Limits {
            max_page_pixels: 4_000_000,
            page_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(8),
            ..Limits::default()
        },
        ..ExtractOptions::default()
    };
    let runs = mutate::run(
        "image",
        &image_seeds(),
        &[
            b"IHDR",
            b"IDAT",
            b"\xff\xd8\xff\xdb",
            b"\xff\xc0",
            b"II*\0",
            b"\0\0\x01\0",
        ],
        mutate::budget(Duration::from_secs(10)),
        |input| {
            let started = Instant::now();
            let message = match engine.extract(input, &opts) {
                Ok(doc) => doc
                    .warnings
                    .iter()
                    .map(|w| w.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                Err(e) => e.to_string(),
            };
            // The engine turns a panic in a page into this text; for a fuzzer it is a crash.
            if message.contains("internal error") {
                return Err(message);
            }
            timed(started)
        },
    );
    assert!(runs > 0);
}
