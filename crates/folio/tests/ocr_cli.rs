//! `folio extract` on images and scans, end to end: the real binary, bad and oversized input,
//! missing models, and `--ocr` on a PDF with a born-digital page and a scanned one.
//!
//! What OCR reads is measured in `folio-engine/tests/ocr.rs`, with one engine for all its tests;
//! here each run is a process that loads its own models, so only two runs OCR anything.

#[path = "../../folio-engine/tests/support/mod.rs"]
mod support;

mod cli_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use cli_common::*;
use support::*;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).expect("valid JSON")
}

/// A PNG chunk with its CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    // CRC-32 (IEEE), bit by bit: a handful of bytes, not worth a dependency.
    let mut crc = 0xFFFF_FFFFu32;
    for &b in kind.iter().chain(data) {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&(!crc).to_be_bytes());
    out
}

// ---------------------------------------------------------------- limits and bad input

#[test]
fn a_png_claiming_ten_billion_pixels_is_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    // A valid header for 100000 x 100000 RGB pixels (30 GB decoded) and a few bytes of data.
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(png_chunk(b"IHDR", &ihdr));
    bytes.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    ));
    bytes.extend(png_chunk(b"IEND", &[]));
    let path = write(dir.path(), "bomb.png", &bytes);
    // Under a 1 GiB address-space limit: an attempt to allocate for the pixels would abort
    // instead of failing cleanly.
    let started = Instant::now();
    let o = Command::new("sh")
        .args(["-c", "ulimit -v 1048576 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_folio"))
        .args(["extract", arg(&path)])
        .output()
        .unwrap();
    assert_clean_failure(
        &o,
        "image is 100000x100000 pixels, over the limit of 40000000 pixels",
    );
    // Refused from the header alone; a generous bound that only a hang would break.
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn truncated_images_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let crop = paper_crop();
    let png = png(crop);
    let path = write(dir.path(), "cut.png", &png[..png.len() / 3]);
    assert_clean_failure(
        &folio(&["extract", arg(&path)]),
        "png image: unexpected end of file",
    );
    // Cut inside its headers, a JPEG has nothing to show.
    let path = write(dir.path(), "cut.jpg", &crop_jpeg()[..300]);
    assert_clean_failure(&folio(&["extract", arg(&path)]), "jpeg image:");
    // Cut inside its scan data, the decoder keeps the rows it has (as image viewers do): the
    // page is there, at its full size, and the document says it is incomplete.
    let never_json = |path: &Path| {
        json(&folio(&[
            "extract",
            arg(path),
            "--ocr",
            "never",
            "--format",
            "json",
        ]))
    };
    let half = &crop_jpeg()[..crop_jpeg().len() / 2];
    let v = never_json(&write(dir.path(), "cut-data.jpg", half));
    assert_eq!(v["pages"][0]["width"].as_f64(), Some(f64::from(crop.width)));
    assert_eq!(v["status"], "partial");
    assert_eq!(
        v["warnings"][0]["message"],
        "page 1: the JPEG data ends early (a truncated file?); the rest of the image is blank"
    );
    // The whole file is complete: its only warning is that, with OCR off, nothing was read.
    let v = never_json(&write(dir.path(), "whole.jpg", crop_jpeg()));
    assert_eq!(v["status"], "partial");
    let warnings = v["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["kind"], "ocr_disabled");
}

#[test]
fn a_tiff_with_more_pages_than_allowed_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let page = Rgb {
        width: 8,
        height: 8,
        data: vec![255; 8 * 8 * 3],
    };
    let path = write(dir.path(), "five.tiff", &tiff(&[&page; 5]));
    // The message counts the pages there are, not the limit plus one.
    assert_clean_failure(
        &folio(&["extract", arg(&path), "--max-pages", "2"]),
        "5 pages selected, over the limit of 2",
    );
    // A selection within the limit is fine, and the document still has its five pages.
    let v = json(&folio(&[
        "extract",
        arg(&path),
        "--max-pages",
        "2",
        "--pages",
        "4-5",
        "--ocr",
        "never",
        "--format",
        "json",
    ]));
    assert_eq!(v["metadata"]["format"], "tiff");
    assert_eq!(v["metadata"]["page_count"], 5);
    let pages = v["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1]["number"], 5);
    assert_eq!(
        pages[1]["provenance"]["decision"],
        "image; OCR disabled (--ocr never), nothing extracted"
    );
}

#[test]
fn empty_and_random_files_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "empty.png", b"");
    assert_clean_failure(&folio(&["extract", arg(&path)]), "input is empty");
    // Bytes from a fixed-seed generator, so that a failure reproduces.
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let path = write(dir.path(), "noise.jpg", &noise);
    assert_clean_failure(&folio(&["extract", arg(&path)]), "unrecognised binary data");
    // Noise behind a real signature gets as far as the decoder.
    let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
    fake.extend_from_slice(&noise);
    let path = write(dir.path(), "noise.png", &fake);
    assert_clean_failure(&folio(&["extract", arg(&path)]), "png image:");
}

#[test]
fn a_huge_image_is_scaled_down_before_ocr_and_still_read() {
    store_with_ocr_models();
    // 8000 x 4800 (38.4 million pixels, under the 40 million limit): the crop blown up five
    // times on a white sheet. OCR sees it at 12 million pixels.
    let crop = paper_crop().to_image();
    let big = image::imageops::resize(
        &crop,
        crop.width() * 5,
        crop.height() * 5,
        image::imageops::FilterType::Triangle,
    );
    let mut sheet = image::RgbImage::from_pixel(8000, 4800, image::Rgb([255, 255, 255]));
    image::imageops::overlay(&mut sheet, &big, 400, 600);
    let mut bytes = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new_with_quality(
            &mut bytes,
            image::codecs::png::CompressionType::Fast,
            image::codecs::png::FilterType::NoFilter,
        ),
        sheet.as_raw(),
        8000,
        4800,
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    drop(sheet);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "huge.png", &bytes);
    let o = folio(&[
        "extract",
        arg(&path),
        "--format",
        "json",
        "--page-timeout",
        "600",
    ]);
    let v = json(&o);
    let page = &v["pages"][0];
    // Coordinates stay those of the image as given.
    assert_eq!(page["width"].as_f64(), Some(8000.0));
    assert_eq!(page["height"].as_f64(), Some(4800.0));
    let decision = page["provenance"]["decision"].as_str().unwrap();
    assert!(
        decision.starts_with("image; OCR of 8000x4800 pixels"),
        "{decision}"
    );
    let text: Vec<&str> = page["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    let text = text.join("\n");
    assert!(text.contains("Hyper Parameter Optimization"), "{text}");
    assert!(text.contains("PubTabNet"), "{text}");
    for b in page["blocks"].as_array().unwrap() {
        let bb = &b["bbox"];
        assert!(bb["x0"].as_f64().unwrap() >= 400.0 - 20.0, "{bb}");
        assert!(bb["x1"].as_f64().unwrap() <= 8000.0, "{bb}");
        assert!(
            bb["y1"].as_f64().unwrap() <= 600.0 + 5.0 * f64::from(crop.height()) + 20.0,
            "{bb}"
        );
    }
}

// ---------------------------------------------------------------- missing models

/// `folio` with a model store that has nothing in it and may not fetch anything.
fn folio_without_models(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(args)
        .args(["--cache-dir", arg(cache)])
        .env("FOLIO_OFFLINE", "1")
        .env_remove("FOLIO_VOLUME")
        .output()
        .expect("run folio")
}

#[test]
fn without_models_images_fail_and_pdfs_still_extract() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("empty-cache");
    std::fs::create_dir(&cache).unwrap();
    let image = write(dir.path(), "scan.jpg", crop_jpeg());
    assert_clean_failure(
        &folio_without_models(&cache, &["extract", arg(&image)]),
        "folio models install",
    );
    // A text layer needs no model.
    let o = folio_without_models(&cache, &["extract", arg(&paper_pdf_path())]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("## 5.1 Hyper Parameter Optimization"));
    // A scanned page in auto mode: the document still comes out, and the page says why it is
    // empty.
    let crop = paper_crop();
    let pdf = write(
        dir.path(),
        "mixed.pdf",
        &build_pdf(&[
            PdfPage::Text(&["A born-digital first page of text"]),
            PdfPage::Scan(crop_jpeg(), crop.width, crop.height),
        ]),
    );
    let o = folio_without_models(&cache, &["extract", arg(&pdf), "--format", "json"]);
    let v = json(&o);
    // The page is missing its text, so the document is partial and says which page and why.
    assert_eq!(v["status"], "partial");
    let warnings = v["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["page"], 2);
    let message = warnings[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("page 2: OCR needed but unavailable: ")
            && message.contains("folio models install"),
        "{message}"
    );
    assert!(stderr(&o).contains(message), "{}", stderr(&o));
    let pages = v["pages"].as_array().unwrap();
    assert_eq!(pages[0]["provenance"]["source"], "text_layer");
    assert_eq!(
        pages[0]["blocks"][0]["text"],
        "A born-digital first page of text"
    );
    let decision = pages[1]["provenance"]["decision"].as_str().unwrap();
    assert!(
        decision.starts_with("no text layer (0 characters); OCR unavailable: ")
            && decision.contains("folio models install"),
        "{decision}"
    );
    assert!(pages[1]["blocks"].as_array().unwrap().is_empty());
    // Asked for explicitly, OCR that cannot run is the document's error.
    assert_clean_failure(
        &folio_without_models(&cache, &["extract", arg(&pdf), "--ocr", "always"]),
        "folio models install",
    );
}

// ---------------------------------------------------------------- --ocr on a mixed PDF

const FIRST_PAGE: &str = "Minutes of the harbour board meeting";

fn mixed_pdf(dir: &Path) -> PathBuf {
    let crop = paper_crop();
    write(
        dir,
        "mixed.pdf",
        &build_pdf(&[
            PdfPage::Text(&[FIRST_PAGE]),
            PdfPage::Scan(crop_jpeg(), crop.width, crop.height),
        ]),
    )
}

#[test]
fn ocr_auto_reads_only_the_scanned_page_and_says_why_per_page() {
    store_with_ocr_models();
    let dir = tempfile::tempdir().unwrap();
    let pdf = mixed_pdf(dir.path());
    let v = json(&folio(&[
        "extract",
        arg(&pdf),
        "--format",
        "json",
        "--ocr",
        "auto",
        "--page-timeout",
        "600",
    ]));
    let pages = v["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0]["provenance"]["source"], "text_layer");
    assert_eq!(
        pages[0]["provenance"]["decision"],
        "text layer (31 characters)"
    );
    assert_eq!(pages[0]["blocks"][0]["text"], FIRST_PAGE);
    assert_eq!(pages[1]["provenance"]["source"], "ocr");
    let decision = pages[1]["provenance"]["decision"].as_str().unwrap();
    assert!(
        decision.starts_with("no text layer (0 characters); OCR of "),
        "{decision}"
    );
    let text = pages[1]["blocks"].to_string();
    assert!(text.contains("Hyper Parameter Optimization"), "{text}");
}

#[test]
fn ocr_never_leaves_the_scanned_page_empty() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = mixed_pdf(dir.path());
    let v = json(&folio(&[
        "extract",
        arg(&pdf),
        "--format",
        "json",
        "--ocr",
        "never",
    ]));
    let pages = v["pages"].as_array().unwrap();
    assert_eq!(pages[0]["blocks"][0]["text"], FIRST_PAGE);
    assert_eq!(
        pages[1]["provenance"]["decision"],
        "no text layer (0 characters); OCR disabled"
    );
    assert!(pages[1]["blocks"].as_array().unwrap().is_empty());
    // A usage error, in clap's words (with its hint line).
    let o = folio(&["extract", arg(&pdf), "--ocr", "sometimes"]);
    assert_eq!(o.status.code(), Some(2));
    // The possible values come from the one list `--help` shows.
    assert!(
        stderr(&o).contains("invalid value 'sometimes' for '--ocr <OCR>'")
            && stderr(&o).contains("[possible values: auto, always, never]"),
        "{}",
        stderr(&o)
    );
}
