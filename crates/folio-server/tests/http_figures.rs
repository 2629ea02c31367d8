//! `images=inline` against the real server on 127.0.0.1: `POST /extract` and `/v1/jobs` return
//! each figure's picture as base64 in the JSON (the DOCX's own PNG bytes), never a path; without
//! the option the answer has no picture; a folder for a value is refused.

mod common;

use base64::Engine as _;
use common::*;
use serde_json::Value;

const PICTURES: &str = "figures/word_image_anchors.docx";

fn figures(answer: &Value) -> Vec<Value> {
    answer["content"]["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .flat_map(|p| p["blocks"].as_array().expect("blocks").clone())
        .filter(|b| b["type"] == "figure")
        .collect()
}

/// Width and height from a PNG's header.
fn png_size(png: &[u8]) -> (u64, u64) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be = |at: usize| u64::from(u32::from_be_bytes(png[at..at + 4].try_into().unwrap()));
    (be(16), be(20))
}

fn assert_inline_pictures(answer: &Value) {
    let figs = figures(answer);
    assert_eq!(figs.len(), 3, "{answer:#}");
    for fig in figs {
        let image = &fig["image"];
        assert!(image.get("path").is_none(), "never a server path: {image}");
        assert_eq!(image["mime"], "image/png");
        let data = base64::engine::general_purpose::STANDARD
            .decode(image["data"].as_str().expect("base64 data"))
            .expect("decodable base64");
        assert_eq!(
            png_size(&data),
            (
                image["width"].as_u64().unwrap(),
                image["height"].as_u64().unwrap()
            )
        );
    }
}

#[test]
fn extract_and_jobs_return_pictures_inline_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(config(dir.path()));
    let docx = doc(PICTURES);
    let file = Part::File("anchors.docx", &docx);

    let r = post_form(
        &s.url("/extract"),
        &[],
        &[
            Part::File("anchors.docx", &docx),
            Part::Field("format", "json"),
            Part::Field("images", "inline"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_inline_pictures(&r.json());

    // Markdown carries them as data: URIs.
    let r = post_form(
        &s.url("/extract"),
        &[],
        &[
            Part::File("anchors.docx", &docx),
            Part::Field("images", "inline"),
        ],
    );
    let md = r.json()["content"].as_str().unwrap_or_default().to_string();
    assert_eq!(md.matches("](data:image/png;base64,").count(), 3, "{md}");

    // Without the option: no picture, and the Markdown keeps its comments.
    let plain = post_form(
        &s.url("/extract"),
        &[],
        &[
            Part::File("anchors.docx", &docx),
            Part::Field("format", "json"),
        ],
    )
    .json();
    assert!(figures(&plain).iter().all(|f| f.get("image").is_none()));
    let md = post_form(&s.url("/extract"), &[], &[file]).json()["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(md.matches("<!-- image -->").count(), 3, "{md}");

    // A caller cannot name a folder on the server.
    let m = post_form(
        &s.url("/extract"),
        &[],
        &[
            Part::File("anchors.docx", &docx),
            Part::Field("images", "/tmp/folio-pictures"),
        ],
    )
    .assert_error(400, "bad_option");
    assert!(m.contains("/tmp/folio-pictures"), "{m}");
    assert!(!std::path::Path::new("/tmp/folio-pictures").exists());

    // A job answers the same way.
    let result = job_result(
        &s,
        &[
            Part::File("anchors.docx", &docx),
            Part::Field("format", "json"),
            Part::Field("images", "inline"),
        ],
    );
    assert_inline_pictures(&result.json());
}
