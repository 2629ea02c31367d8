//! The office reading options and hyperlinks end to end: `folio extract --notes` and
//! `--hidden-sheets`, links in the JSON only, a workbook stopped by `--timeout`, `folio serve`
//! (extracting in child processes) taking `notes` and `hidden_sheets` as form fields, and
//! `folio worker` taking them as JSON members.

mod cli_common;
mod serve_common;
mod worker_common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cli_common::*;
use serde_json::Value;

fn office(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/office")
        .join(name)
}

fn extract(args: &[&str]) -> String {
    let o = folio(args);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

#[test]
fn notes_flag_adds_each_slides_speaker_notes() {
    let pptx = office("speaker_notes.pptx");
    let pptx = pptx.to_str().unwrap();
    let plain = extract(&["extract", pptx]);
    assert!(plain.contains("# Quarterly review, part 2"), "{plain}");
    assert!(!plain.contains("Speaker note"), "{plain}");
    let notes = extract(&["extract", pptx, "--notes"]);
    let first = notes.find("Speaker note 1:").expect("slide 1's notes");
    let second_title = notes.find("# Quarterly review, part 2").expect("slide 2");
    let second = notes.find("Speaker note 2:").expect("slide 2's notes");
    assert!(first < second_title && second_title < second, "{notes}");
}

#[test]
fn hidden_sheets_flag_reads_hidden_sheets() {
    let xlsx = office("hidden_sheet.xlsx");
    let xlsx = xlsx.to_str().unwrap();
    let plain = extract(&["extract", xlsx]);
    assert!(plain.contains("| North | 120 |"), "{plain}");
    assert!(!plain.contains("Workings"), "{plain}");
    let all = extract(&["extract", xlsx, "--hidden-sheets", "--format", "json"]);
    let v: Value = serde_json::from_str(&all).unwrap();
    assert_eq!(v["metadata"]["page_count"], 2);
    assert_eq!(v["pages"][1]["blocks"][0]["text"], "Workings");
}

#[test]
fn links_travel_in_the_json_and_not_in_markdown() {
    let pptx = office("speaker_notes.pptx");
    let pptx = pptx.to_str().unwrap();
    let v: Value = serde_json::from_str(&extract(&["extract", pptx, "-f", "json"])).unwrap();
    let links: Vec<&Value> = v["pages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["blocks"].as_array().unwrap())
        .flat_map(|b| b["links"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(
        links,
        vec![
            &serde_json::json!({"text": "the project site", "url": "https://example.org/folio/figures"})
        ]
    );
    let md = extract(&["extract", pptx]);
    assert!(
        md.contains("Figures are on the project site and nowhere"),
        "{md}"
    );
    assert!(
        !md.contains("example.org") && !md.contains("javascript"),
        "{md}"
    );
}

/// A workbook of 400,000 numbers (stored, not deflated, so the test writes it fast): several
/// seconds of reading in a debug build, far past a one-second limit.
fn large_workbook(dir: &Path) -> PathBuf {
    let mut sheet = String::from(
        "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>",
    );
    for r in 1..=26_700usize {
        sheet.push_str(&format!("<row r=\"{r}\">"));
        for c in 0..15u8 {
            sheet.push_str(&format!(
                "<c r=\"{}{r}\"><v>{}</v></c>",
                (b'A' + c) as char,
                r * 31 + c as usize
            ));
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let template = std::fs::read(office("hidden_sheet.xlsx")).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&template)).unwrap();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut data).unwrap();
        if f.name() == "xl/worksheets/sheet1.xml" {
            data = sheet.as_bytes().to_vec();
        }
        w.start_file(f.name(), stored).unwrap();
        w.write_all(&data).unwrap();
    }
    let path = dir.join("large.xlsx");
    std::fs::write(&path, w.finish().unwrap().into_inner()).unwrap();
    path
}

#[test]
fn a_large_workbook_past_its_time_limit_is_one_clean_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = large_workbook(dir.path());
    let started = std::time::Instant::now();
    let o = folio(&["extract", path.to_str().unwrap(), "--timeout", "1s"]);
    // The reader looks at the deadline between cells: without that, it would read the whole
    // workbook and succeed.
    assert_clean_failure(&o, "ran past its time limit of 1s");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}

fn post(base: &str, file: (&str, &[u8]), fields: &[(&str, &str)]) -> (u16, Value) {
    serve_common::post_form(&format!("{base}/extract"), file, fields)
}

#[test]
fn serve_takes_notes_and_hidden_sheets_through_its_child_processes() {
    let data = tempfile::tempdir().unwrap();
    let mut cmd = serve_common::serve_command();
    cmd.arg("--data-dir")
        .arg(data.path())
        .args(["--isolate", "on"]);
    let (mut child, base) = serve_common::spawn_serve(cmd);
    let pptx = std::fs::read(office("speaker_notes.pptx")).unwrap();
    let xlsx = std::fs::read(office("hidden_sheet.xlsx")).unwrap();
    let content = |v: &Value| v["content"].as_str().unwrap_or_default().to_string();

    let (status, v) = post(&base, ("deck.pptx", &pptx), &[]);
    assert_eq!(status, 200, "{v}");
    assert!(!content(&v).contains("Speaker note"), "{v}");
    let (status, v) = post(&base, ("deck.pptx", &pptx), &[("notes", "true")]);
    assert_eq!(status, 200, "{v}");
    assert!(
        content(&v).contains("Speaker note 2: mention the budget."),
        "{v}"
    );

    let (status, v) = post(&base, ("book.xlsx", &xlsx), &[("hidden_sheets", "true")]);
    assert_eq!(status, 200, "{v}");
    assert!(content(&v).contains("| Discount | 0.15 |"), "{v}");
    // Links in the JSON document, as the CLI gives them.
    let (status, v) = post(&base, ("deck.pptx", &pptx), &[("format", "json")]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["content"]["pages"][0]["blocks"][1]["links"][0]["url"],
        "https://example.org/folio/figures",
        "{v}"
    );
    // A switch that is not one is the usual option error.
    let (status, v) = post(&base, ("book.xlsx", &xlsx), &[("hidden_sheets", "maybe")]);
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["code"], "bad_option", "{v}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn worker_jobs_take_notes_and_hidden_sheets_as_json_booleans() {
    let dir = tempfile::tempdir().unwrap();
    let run = |input: Value| -> Value {
        let job = serde_json::json!({ "input": input }).to_string();
        let mut cmd =
            worker_common::worker_command(&[], &dir.path().join("cache"), &["--test-input", &job]);
        let out = cmd
            .current_dir(dir.path())
            .output()
            .expect("run folio worker");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    let pptx = worker_common::base64(&std::fs::read(office("speaker_notes.pptx")).unwrap());
    let xlsx = worker_common::base64(&std::fs::read(office("hidden_sheet.xlsx")).unwrap());
    let v = run(serde_json::json!({"file_base64": pptx, "notes": true}));
    let md = v["output"]["content"].as_str().unwrap_or_default();
    assert!(md.contains("Speaker note 1: mention the budget."), "{v}");
    let v = run(serde_json::json!({"file_base64": xlsx, "hidden_sheets": true}));
    let md = v["output"]["content"].as_str().unwrap_or_default();
    assert!(md.contains("| Discount | 0.15 |"), "{v}");
    let v = run(serde_json::json!({"file_base64": xlsx, "hidden_sheets": false}));
    let md = v["output"]["content"].as_str().unwrap_or_default();
    assert!(
        !md.contains("Discount") && md.contains("| North | 120 |"),
        "{v}"
    );
    // The switches mean nothing to a PDF, and change nothing there.
    let pdf = worker_common::base64(&worker_common::text_pdf(1, 1));
    let v = run(serde_json::json!({"file_base64": pdf, "notes": true, "hidden_sheets": true}));
    let md = v["output"]["content"].as_str().unwrap_or_default();
    assert!(md.contains("Folio worker test page 1"), "{v}");
}
