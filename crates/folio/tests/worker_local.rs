//! `folio worker` local mode, like the SDK's: no queue, one test job, exit 0 or 1.

mod worker_common;

use std::process::Command;

use serde_json::{json, Value};
use worker_common::{base64, text_pdf};

fn local(dir: &std::path::Path, args: &[&str]) -> (i32, Value, String) {
    let cache = dir.join("cache");
    let mut cmd: Command = worker_common::worker_command(&[], &cache, args);
    let out = cmd.current_dir(dir).output().expect("run folio worker");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let value = if stdout.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}"))
    };
    (out.status.code().unwrap_or(-1), value, stderr)
}

#[test]
fn test_input_json_in_the_working_directory_runs_once() {
    let dir = tempfile::tempdir().unwrap();
    let job = json!({"input": {"file_base64": base64(&text_pdf(2, 3)), "format": "text", "filename": "two.pdf"}});
    std::fs::write(dir.path().join("test_input.json"), job.to_string()).unwrap();
    let (code, result, stderr) = local(dir.path(), &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    let output = &result["output"];
    let content = output["content"].as_str().expect("text content");
    assert!(content.contains("Folio worker test page 1"), "{content}");
    assert!(content.contains("Folio worker test page 2"), "{content}");
    assert_eq!(output["format"], "text");
    assert_eq!(output["page_count"], 2);
    assert_eq!(output["pages_extracted"], 2);
    assert_eq!(output["status"], "success");
    assert!(result.get("error").is_none());
}

#[test]
fn test_input_flag_takes_a_file_or_inline_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.json");
    let job = json!({"id": "mine", "input": {"file_base64": base64(&text_pdf(3, 2)), "pages": "2", "format": "json"}});
    std::fs::write(&path, job.to_string()).unwrap();
    let (code, result, stderr) = local(dir.path(), &["--test-input", path.to_str().unwrap()]);
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(result["output"]["pages_extracted"], 1);
    assert_eq!(result["output"]["pages"][0]["page"], 2);
    // `json` returns the document model itself.
    assert!(result["output"]["content"]["pages"].is_array());

    let inline = json!({"input": {"file_base64": base64(&text_pdf(1, 1)), "format": "markdown"}})
        .to_string();
    let (code, result, _) = local(dir.path(), &["--test-input", &inline]);
    assert_eq!(code, 0);
    assert!(result["output"]["content"]
        .as_str()
        .unwrap()
        .contains("Folio worker test page 1"));
}

#[test]
fn a_failing_test_job_exits_1_with_the_sdk_error_and_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let job = json!({"input": {"file_base64": base64(b"\x00\x01\x02\x03 binary, not a document")}})
        .to_string();
    let (code, result, stderr) = local(dir.path(), &["--test-input", &job]);
    assert_eq!(code, 1);
    let info: Value =
        serde_json::from_str(result["error"].as_str().expect("error string")).unwrap();
    assert_eq!(info["error_type"], "unsupported_type");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("test job failed"), "{stderr}");

    for (job, needle) in [
        (json!({"id": "x"}).to_string(), "no input"),
        ("{not json".to_string(), "not JSON"),
        (
            json!({"input": {"file_base64": "QUJD", "colour": "red"}}).to_string(),
            "colour",
        ),
    ] {
        let (code, _, stderr) = local(dir.path(), &["--test-input", &job]);
        assert_eq!(code, 1, "{job}");
        assert!(stderr.contains(needle), "{job}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

#[test]
fn no_queue_and_no_test_input_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let (code, result, stderr) = local(dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(result.is_null());
    assert!(stderr.contains("test_input.json"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let (code, _, stderr) = local(dir.path(), &["--test-input", "missing.json"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("missing.json"), "{stderr}");
}

#[test]
fn a_real_pdf_comes_back_with_its_text() {
    let bytes = worker_common::fixture_bytes("pdf/table-paper-page.pdf");
    let dir = tempfile::tempdir().unwrap();
    let job = json!({"input": {"file_base64": base64(&bytes), "filename": "pg9.pdf"}});
    std::fs::write(dir.path().join("test_input.json"), job.to_string()).unwrap();
    let (code, result, stderr) = local(dir.path(), &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    let md = result["output"]["content"].as_str().unwrap();
    // Words from the page (the TableFormer paper, page 9), not from any file name.
    assert!(md.contains("TableFormer"), "{md}");
    assert_eq!(result["output"]["pages"][0]["source"], "text_layer");
}

#[test]
fn images_inline_returns_each_figures_picture_in_the_json() {
    let bytes = worker_common::fixture_bytes("figures/word_image_anchors.docx");
    let dir = tempfile::tempdir().unwrap();
    let job =
        json!({"input": {"file_base64": base64(&bytes), "format": "json", "images": "inline"}});
    std::fs::write(dir.path().join("test_input.json"), job.to_string()).unwrap();
    let (code, result, stderr) = local(dir.path(), &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    let figures: Vec<&Value> = result["output"]["content"]["pages"][0]["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .filter(|b| b["type"] == "figure")
        .collect();
    assert_eq!(figures.len(), 3, "{result:#}");
    for fig in figures {
        let image = &fig["image"];
        assert!(image.get("path").is_none(), "{image}");
        let data = image["data"].as_str().expect("base64 data");
        // "iVBORw0KGgo" is the PNG signature in base64.
        assert!(
            data.starts_with("iVBORw0KGgo"),
            "{}",
            &data[..data.len().min(20)]
        );
    }
    // A folder is no value for it.
    let job = json!({"input": {"file_base64": base64(&bytes), "images": "/srv/out"}});
    std::fs::write(dir.path().join("test_input.json"), job.to_string()).unwrap();
    let (code, result, _) = local(dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(result["error"].to_string().contains("/srv/out"), "{result}");
}
