//! Runs OCR on image files and prints their lines and stage timings, for tuning:
//! `cargo run --release -p folio-vision --example ocr -- MODEL_DIR IMAGE...`
//! where MODEL_DIR holds det.onnx, rec.onnx, cls.onnx and orientation.onnx.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::Instant;

use folio_vision::{BackendKind, Ocr, OcrModelPaths, OcrParams, RgbImage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: ocr MODEL_DIR IMAGE...")?);
    let backend = std::env::var("FOLIO_OCR_BACKEND")
        .ok()
        .and_then(|b| BackendKind::from_name(&b))
        .unwrap_or_default();
    let threads = std::env::var("THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let t = Instant::now();
    let (det, rec, cls, ori) = (
        dir.join("det.onnx"),
        dir.join("rec.onnx"),
        dir.join("cls.onnx"),
        dir.join("orientation.onnx"),
    );
    let ocr = Ocr::load(
        &OcrModelPaths {
            det: &det,
            rec: &rec,
            cls: Some(&cls),
            orientation: Some(&ori),
        },
        backend,
        threads,
    )?;
    eprintln!("load: {} ms", t.elapsed().as_millis());
    let mut params = OcrParams::default();
    if let Ok(v) = std::env::var("MIN_WIDTH") {
        params.rec.min_width = v.parse()?;
    }
    if let Ok(v) = std::env::var("MIN_SIDE") {
        params.det.min_side = v.parse()?;
    }
    if let Ok(v) = std::env::var("MAX_SIDE") {
        params.det.max_side = v.parse()?;
    }
    if let Ok(v) = std::env::var("MIN_SCORE") {
        params.min_line_score = v.parse()?;
    }
    if let Ok(v) = std::env::var("BOX_THRESH") {
        params.det.box_threshold = v.parse()?;
    }
    if let Ok(v) = std::env::var("UNCLIP") {
        params.det.unclip_ratio = v.parse()?;
    }
    if let Ok(v) = std::env::var("ORIENT") {
        params.orientation_threshold = v.parse()?;
    }
    if let Ok(v) = std::env::var("BATCH") {
        params.rec.batch = v.parse()?;
    }
    for path in args {
        let img = image::open(&path)?.to_rgb8();
        let (w, h) = img.dimensions();
        let img = RgbImage::new(w, h, img.into_raw())?;
        let t = Instant::now();
        let page = ocr.recognize(&img, &params)?;
        eprintln!(
            "{path}: {} lines in {} ms {:?}",
            page.lines.len(),
            t.elapsed().as_millis(),
            page.timings
        );
        let boxes = std::env::var_os("SHOW_BOXES").is_some();
        for line in &page.lines {
            if boxes {
                println!("{:?} {}", line.quad, line.text);
            } else {
                println!("{}", line.text);
            }
        }
    }
    Ok(())
}
