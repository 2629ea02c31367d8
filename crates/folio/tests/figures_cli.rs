//! `folio extract --images DIR`, end to end with the real binary: a PDF's picture is cropped
//! from the rendered page into a PNG of the figure's box that Markdown, HTML and JSON link; a
//! DOCX's and a PPTX's pictures are the package's own media bytes; without `--images` nothing
//! changes and no folder is made; a target that is not a folder is a clean error.

mod cli_common;
#[path = "../../folio-pdf/tests/common/pdf_writer.rs"]
mod pdf_writer;

use std::io::Read as _;
use std::path::{Path, PathBuf};

use cli_common::*;

/// The picture: 60x40 pixels, the left half red and the right half blue.
fn picture() -> Vec<u8> {
    let mut rgb = Vec::with_capacity(60 * 40 * 3);
    for _y in 0..40 {
        for x in 0..60 {
            rgb.extend_from_slice(if x < 30 { &[255, 0, 0] } else { &[0, 0, 255] });
        }
    }
    rgb
}

/// A letter page: a heading and prose, the picture drawn 300 x 200 points with its top-left
/// corner at (150, 250) from the page's top-left, its caption under it, and more prose.
fn picture_pdf() -> Vec<u8> {
    let line = |y: f32, size: f32, text: &str| {
        format!("BT /F1 {size} Tf 72 {} Td ({text}) Tj ET\n", 792.0 - y)
    };
    let mut content = line(80.0, 18.0, "Harbour report");
    for (i, text) in [
        "The harbour authority counted the containers moved in every month of the year.",
        "The chart below shows the share carried by each of the two terminals in spring.",
        "Both terminals were open every day of the quarter, and neither one was closed.",
    ]
    .iter()
    .enumerate()
    {
        content += &line(120.0 + 16.0 * i as f32, 11.0, text);
    }
    // PDF space has its origin at the bottom-left: the picture's bottom edge is 792 - 450.
    content += "q 300 0 0 200 150 342 cm /Im0 Do Q\n";
    content += &line(470.0, 10.0, "Figure 1: Containers by terminal.");
    for (i, text) in [
        "The west terminal carried more containers than the east one in every month.",
        "The report for the summer quarter follows in the next issue of this bulletin.",
    ]
    .iter()
    .enumerate()
    {
        content += &line(510.0 + 16.0 * i as f32, 11.0, text);
    }
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
           /Resources << /Font << /F1 4 0 R >> /XObject << /Im0 6 0 R >> >> /Contents 5 0 R >>"
            .to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
        pdf_writer::stream("", content.as_bytes()),
        pdf_writer::stream(
            "/Type /XObject /Subtype /Image /Width 60 /Height 40 /ColorSpace /DeviceRGB \
             /BitsPerComponent 8",
            &picture(),
        ),
    ];
    pdf_writer::pdf(&objects)
}

fn write_input(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the input");
    path.to_str().expect("utf-8 path").to_string()
}

fn figures_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/figures")
        .join(name)
}

fn run_ok(args: &[&str]) -> String {
    let o = folio(args);
    assert!(o.status.success(), "folio {args:?}: {}", stderr(&o));
    stdout(&o)
}

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&run_ok(args)).expect("JSON output")
}

fn figures(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    doc["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .flat_map(|p| p["blocks"].as_array().expect("blocks").clone())
        .filter(|b| b["type"] == "figure")
        .collect()
}

#[test]
fn a_pdf_picture_is_cropped_to_a_png_that_markdown_html_and_json_link() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let pdf = write_input(tmp.path(), "harbour.pdf", &picture_pdf());
    let dir = tmp.path().join("out").join("pictures");
    let dir_s = dir.to_str().expect("utf-8 path");
    let common = [
        "extract",
        pdf.as_str(),
        "--layout",
        "fast",
        "--images",
        dir_s,
    ];

    let doc = json(&[&common[..], &["--format", "json"]].concat());
    let figs = figures(&doc);
    assert_eq!(figs.len(), 1, "{doc:#}");
    let fig = &figs[0];
    assert_eq!(
        fig["caption"], "Figure 1: Containers by terminal.",
        "{fig:#}"
    );
    let image = &fig["image"];
    let expected = format!("{dir_s}/page-1-figure-1.png");
    assert_eq!(image["path"], expected.as_str(), "{fig:#}");
    assert_eq!(image["mime"], "image/png");
    assert!(
        image.get("data").is_none(),
        "a written picture is not inline too"
    );
    // The figure's box is the picture's: 300 x 200 points, cropped at 144 dpi (2 px a point).
    let b = &fig["bbox"];
    let (w_pt, h_pt) = (
        b["x1"].as_f64().unwrap() - b["x0"].as_f64().unwrap(),
        b["y1"].as_f64().unwrap() - b["y0"].as_f64().unwrap(),
    );
    assert!(
        (w_pt - 300.0).abs() < 1.0 && (h_pt - 200.0).abs() < 1.0,
        "{b}"
    );
    let png = image::open(&expected).expect("a valid PNG").to_rgb8();
    assert_eq!(
        (u64::from(png.width()), u64::from(png.height())),
        (
            image["width"].as_u64().unwrap(),
            image["height"].as_u64().unwrap()
        )
    );
    assert!(
        png.width().abs_diff(600) <= 2 && png.height().abs_diff(400) <= 2,
        "{}x{}",
        png.width(),
        png.height()
    );
    // The crop is the picture: red on the left, blue on the right, nothing of the page around it.
    let (mid_y, w) = (png.height() / 2, png.width());
    let left = png.get_pixel(w / 4, mid_y).0;
    let right = png.get_pixel(3 * w / 4, mid_y).0;
    assert!(left[0] > 200 && left[2] < 60, "left {left:?}");
    assert!(right[2] > 200 && right[0] < 60, "right {right:?}");

    let md = run_ok(&common);
    assert!(
        md.contains(&format!("![Figure 1: Containers by terminal.]({expected})")),
        "{md}"
    );
    assert!(!md.contains("<!-- image -->"), "{md}");
    let html = run_ok(&[&common[..], &["--format", "html"]].concat());
    assert!(html.contains(&format!("<img src=\"{expected}\"")), "{html}");

    // Without --images: the comment as before, no folder, no picture in the JSON, and the
    // Markdown is the same but for the link.
    let plain_dir = tmp.path().join("never");
    let plain = run_ok(&["extract", pdf.as_str(), "--layout", "fast"]);
    assert!(plain.contains("<!-- image -->"), "{plain}");
    assert_eq!(
        plain,
        md.replace(
            &format!("![Figure 1: Containers by terminal.]({expected})"),
            "<!-- image -->"
        )
    );
    assert!(!plain_dir.exists());
    let plain_json = json(&["extract", pdf.as_str(), "--layout", "fast", "-f", "json"]);
    assert!(figures(&plain_json)[0].get("image").is_none());
}

/// Every member of the package under `prefix`, by name.
fn media(path: &Path, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let file = std::fs::File::open(path).expect("open the package");
    let mut zip = zip::ZipArchive::new(file).expect("a zip");
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("member");
        if entry.name().starts_with(prefix) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("read member");
            out.push((entry.name().to_string(), bytes));
        }
    }
    out.sort();
    out
}

#[test]
fn office_pictures_are_the_packages_own_media_bytes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // DrawingML pictures (one shown twice), VML pictures, and slides whose broken pictures
    // (no fill, a dangling relationship) are no figures.
    for (name, prefix, count) in [
        ("word_image_anchors.docx", "word/media/", 3),
        ("docx_vml_images.docx", "word/media/", 2),
        ("powerpoint_malformed_pictures.pptx", "ppt/media/", 1),
    ] {
        let input = figures_fixture(name);
        let dir = tmp.path().join(name);
        let dir_s = dir.to_str().expect("utf-8 path");
        let input_s = input.to_str().expect("utf-8 path");
        let doc = json(&["extract", input_s, "-f", "json", "--images", dir_s]);
        let members = media(&input, prefix);
        let figs = figures(&doc);
        assert_eq!(figs.len(), count, "{name}: {doc:#}");
        let mut used = Vec::new();
        for fig in &figs {
            let path = fig["image"]["path"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: no picture in {fig:#}"));
            assert!(path.starts_with(dir_s), "{path}");
            let written = std::fs::read(path).expect("the written picture");
            let member = members
                .iter()
                .find(|(_, bytes)| *bytes == written)
                .unwrap_or_else(|| panic!("{name}: {path} is no media member's bytes"));
            used.push(member.0.clone());
            let img = image::load_from_memory(&written).expect("a valid picture");
            assert_eq!(
                u64::from(img.width()),
                fig["image"]["width"].as_u64().unwrap()
            );
            assert_eq!(
                u64::from(img.height()),
                fig["image"]["height"].as_u64().unwrap()
            );
        }
        used.sort();
        used.dedup();
        assert_eq!(
            used,
            members.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            "{name}: every picture shown is written"
        );
        // Markdown links the same files.
        let md = run_ok(&["extract", input_s, "--images", dir_s]);
        assert_eq!(
            md.matches(&format!("]({dir_s}/page-")).count(),
            count,
            "{md}"
        );
        assert!(!md.contains("<!-- image -->"), "{md}");
    }
}

#[test]
fn an_images_target_that_is_a_file_is_a_clean_error() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("taken");
    std::fs::write(&file, b"not a folder").expect("write");
    let input = figures_fixture("word_image_anchors.docx");
    let o = folio(&[
        "extract",
        input.to_str().unwrap(),
        "--images",
        file.to_str().unwrap(),
    ]);
    assert_clean_failure(&o, "images folder");
}
