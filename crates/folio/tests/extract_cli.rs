//! `folio extract` end to end: the real binary on real documents (`tests/fixtures/`).

mod cli_common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cli_common::*;

/// A test document under `tests/fixtures/` (`rel` is relative to it).
fn doc(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(rel)
}

const PAPER: &str = "pdf/table-paper-page.pdf";
const FOUR_PAGES: &str = "docs/normal-4pages.pdf";
const ENCRYPTED: &str =
    "robust/py-pdf__005-libreoffice-writer-password__libreoffice-writer-password.pdf";

#[test]
fn markdown_has_headings_paragraphs_and_the_ruled_table() {
    let o = folio(&["extract", doc(PAPER).to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = stdout(&o);
    assert!(md.contains("## 5.1 Hyper Parameter Optimization"), "{md}");
    assert!(md.contains("We have chosen the PubTabNet data set to perform HPO"));
    // The ruled table keeps its rows and columns.
    assert!(md.contains("| 6 | 6 | OTSL HTML | 0.965 0.969 |"), "{md}");
    // The running header is furniture, not content.
    assert!(!md.contains("Optimized Table Tokenization for Table Structure Recognition 9"));
}

#[test]
fn json_is_the_document_model_with_boxes_inside_the_page() {
    let o = folio(&[
        "extract",
        doc(FOUR_PAGES).to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["schema"], "folio.document.v1");
    assert_eq!(v["metadata"]["page_count"], 4);
    let pages = v["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 4);
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(page["number"], i + 1);
        assert_eq!(page["provenance"]["source"], "text_layer");
        let (w, h) = (
            page["width"].as_f64().unwrap(),
            page["height"].as_f64().unwrap(),
        );
        let blocks = page["blocks"].as_array().unwrap();
        assert!(!blocks.is_empty(), "page {} has no blocks", i + 1);
        for b in blocks {
            let bb = &b["bbox"];
            let (x0, y0, x1, y1) = (
                bb["x0"].as_f64().unwrap(),
                bb["y0"].as_f64().unwrap(),
                bb["x1"].as_f64().unwrap(),
                bb["y1"].as_f64().unwrap(),
            );
            assert!(x0 <= x1 && y0 <= y1, "{bb}");
            assert!(
                x0 >= -5.0 && y0 >= -5.0 && x1 <= w + 5.0 && y1 <= h + 5.0,
                "{bb} outside {w}x{h}"
            );
            assert_eq!(b["provenance"]["page"], i + 1);
            assert!(b["type"].is_string());
        }
    }
}

#[test]
fn page_selection_extracts_only_those_pages() {
    let o = folio(&[
        "extract",
        doc(FOUR_PAGES).to_str().unwrap(),
        "--format",
        "json",
        "--pages",
        "2-3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let numbers: Vec<u64> = v["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, vec![2, 3]);
    assert_eq!(v["metadata"]["page_count"], 4);
}

#[test]
fn a_page_past_the_end_is_a_clean_error() {
    let o = folio(&["extract", doc(FOUR_PAGES).to_str().unwrap(), "--pages", "9"]);
    assert_clean_failure(&o, "no such page: 9 (the document has 4 pages)");
}

#[test]
fn a_bad_page_selection_is_a_usage_error() {
    let o = folio(&[
        "extract",
        doc(FOUR_PAGES).to_str().unwrap(),
        "--pages",
        "3-1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("range goes backwards"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn text_html_and_csv_render_the_same_document() {
    let path = doc(PAPER);
    let p = path.to_str().unwrap();
    let text = stdout(&folio(&["extract", p, "--format", "text"]));
    assert!(
        text.contains("5.1 Hyper Parameter Optimization\n\nWe have chosen"),
        "{text}"
    );
    let html = stdout(&folio(&["extract", p, "--format", "html"]));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("<h2>5.1 Hyper Parameter Optimization</h2>")
            || html.contains("<h1>5.1 Hyper"),
        "{html}"
    );
    assert!(
        html.contains("<table>") && html.contains("<td>OTSL HTML</td>"),
        "{html}"
    );
    let csv = stdout(&folio(&["extract", p, "--format", "csv"]));
    assert!(
        csv.lines()
            .any(|l| l.starts_with("6,6,OTSL HTML,0.965 0.969")),
        "{csv}"
    );
}

#[test]
fn encrypted_pdf_needs_its_password() {
    let path = doc(ENCRYPTED);
    let p = path.to_str().unwrap();
    assert_clean_failure(
        &folio(&["extract", p]),
        "encrypted and needs its password: give it with --password",
    );
    assert_clean_failure(
        &folio(&["extract", p, "--password", "wrong"]),
        "password does not open",
    );
    let o = folio(&["extract", p, "--password", "openpassword"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Lorem ipsum dolor sit amet"));
}

#[test]
fn not_a_pdf_empty_and_missing_inputs_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // Plain text is a format of its own now; binary data of no known kind is not.
    let blob = dir.path().join("blob.bin");
    std::fs::write(
        &blob,
        b"\x00\x01\x02\x03\xfe\xff\x00\x10 binary \x00\x07\x00",
    )
    .unwrap();
    assert_clean_failure(
        &folio(&["extract", blob.to_str().unwrap()]),
        "unsupported input type",
    );
    let empty = dir.path().join("empty.pdf");
    std::fs::write(&empty, b"").unwrap();
    assert_clean_failure(
        &folio(&["extract", empty.to_str().unwrap()]),
        "input is empty",
    );
    let missing = dir.path().join("missing.pdf");
    assert_clean_failure(
        &folio(&["extract", missing.to_str().unwrap()]),
        "cannot read",
    );
    assert_clean_failure(
        &folio(&["extract", dir.path().to_str().unwrap()]),
        "it is a directory",
    );
    let broken = dir.path().join("broken.pdf");
    std::fs::write(
        &broken,
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer garbage",
    )
    .unwrap();
    assert_clean_failure(
        &folio(&["extract", broken.to_str().unwrap()]),
        "cannot read the document",
    );
}

#[test]
fn size_and_page_limits_are_enforced() {
    let path = doc(FOUR_PAGES);
    let p = path.to_str().unwrap();
    assert_clean_failure(
        &folio(&["extract", p, "--max-size-mb", "0"]),
        "over the limit",
    );
    assert_clean_failure(
        &folio(&["extract", p, "--max-pages", "2"]),
        "4 pages selected, over the limit of 2",
    );
    assert!(folio(&["extract", p, "--max-pages", "2", "--pages", "1-2"])
        .status
        .success());
}

#[test]
fn standard_input_and_output_file() {
    let bytes = std::fs::read(doc(PAPER)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["extract", "-", "--format", "text"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Hyper Parameter Optimization"));

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.md");
    let o = folio(&[
        "extract",
        doc(PAPER).to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("## 5.1 Hyper Parameter Optimization"));
    // A failed run leaves an existing output untouched.
    let o = folio(&["extract", "/nonexistent.pdf", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("Hyper Parameter"));
}

#[test]
fn two_columns_read_column_by_column() {
    let o = folio(&["extract", doc("pdf/two-columns.pdf").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = stdout(&o);
    // The first line of the left column continues with the left column's second line.
    assert!(
        md.contains("Lorem ipsum dolor sit amet, consectetuer adipiscing elit. Ut purus elit, vestibulum ut, placerat ac, adipiscing vitae, felis."),
        "{md}"
    );
}

#[test]
fn right_to_left_text_comes_out_in_logical_order() {
    let o = folio(&[
        "extract",
        doc("docs/right-to-left.pdf").to_str().unwrap(),
        "--format",
        "text",
    ]);
    assert!(o.status.success());
    let t = stdout(&o);
    // "Improving productivity and solving problems through programming in R and Python".
    assert!(t.contains("تحسين الإنتاجية وحل المشكلات"), "{t}");
}

/// Every malformed, fuzzed or encrypted file ends as output or as one clean error line.
#[test]
fn robust_set_never_crashes() {
    let mut n = 0;
    for entry in std::fs::read_dir(doc("robust")).unwrap() {
        let path = entry.unwrap().path();
        let o = Command::new(env!("CARGO_BIN_EXE_folio"))
            .args(["extract", path.to_str().unwrap(), "--timeout", "60"])
            .output()
            .unwrap();
        let err = stderr(&o);
        match o.status.code() {
            Some(0) => {}
            Some(2) => assert_eq!(
                err.lines().filter(|l| l.starts_with("error:")).count(),
                1,
                "{}: {err}",
                path.display()
            ),
            other => panic!("{}: exit {other:?}: {err}", path.display()),
        }
        assert!(!err.contains("panicked"), "{}: {err}", path.display());
        n += 1;
    }
    assert!(n >= 50, "only {n} robust documents found");
}

fn office_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/office")
        .join(name)
}

#[test]
fn office_documents_are_extracted_by_content() {
    // A DOCX under a misleading name: detection looks at the zip's members.
    let dir = tempfile::tempdir().unwrap();
    let renamed = dir.path().join("report.pdf");
    std::fs::copy(office_fixture("word_tables.docx"), &renamed).unwrap();
    let o = folio(&["extract", renamed.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = stdout(&o);
    assert!(
        md.contains("| Cell 1.0 | Merged Cell 1.1 1.2 | Merged Cell 1.1 1.2 |"),
        "{md}"
    );
    // A slide deck, one page per slide, the second slide only.
    let o = folio(&[
        "extract",
        office_fixture("pptx_chart.pptx").to_str().unwrap(),
        "--pages",
        "2",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["pages"].as_array().unwrap().len(), 1);
    assert_eq!(v["pages"][0]["number"], 2);
    assert_eq!(v["pages"][0]["blocks"][0]["text"], "Quarterly revenue");
}

#[test]
fn a_hostile_office_file_is_one_clean_error() {
    // A truncated package.
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(office_fixture("word_tables.docx")).unwrap();
    let cut = dir.path().join("cut.docx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert_clean_failure(
        &folio(&["extract", cut.to_str().unwrap()]),
        "docx: not a readable zip package",
    );
    // A document declaring entities (billion laughs): refused, never expanded.
    let xml = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><d>&b;</d>";
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(
        "word/document.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    w.write_all(xml.as_bytes()).unwrap();
    let path = dir.path().join("laughs.docx");
    std::fs::write(&path, w.finish().unwrap().into_inner()).unwrap();
    assert_clean_failure(
        &folio(&["extract", path.to_str().unwrap()]),
        "word/document.xml is not acceptable XML",
    );
}
