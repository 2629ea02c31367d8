//! The office reading options (`notes`, `hidden_sheets`) and hyperlinks through the real server
//! on 127.0.0.1: `POST /extract` and `/v1/jobs` take the same fields.

mod common;

use common::*;
use serde_json::Value;

fn office(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("tests/fixtures/office").join(name)).expect("fixture")
}

fn content(v: &Value) -> String {
    v["content"].as_str().unwrap_or_default().to_string()
}

#[test]
fn extract_takes_notes_and_hidden_sheets() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(config(dir.path()));
    let url = s.url("/extract");
    let pptx = office("speaker_notes.pptx");
    let xlsx = office("hidden_sheet.xlsx");

    let plain = post_form(&url, &[], &[Part::File("deck.pptx", &pptx)]);
    assert_eq!(plain.status, 200, "{}", plain.text());
    assert!(!content(&plain.json()).contains("Speaker note"));
    let notes = post_form(
        &url,
        &[],
        &[Part::File("deck.pptx", &pptx), Part::Field("notes", "true")],
    );
    assert_eq!(notes.status, 200, "{}", notes.text());
    let md = content(&notes.json());
    assert!(md.contains("Speaker note 1: mention the budget."), "{md}");
    assert!(md.contains("Speaker note 2: mention the budget."), "{md}");

    let plain = post_form(&url, &[], &[Part::File("book.xlsx", &xlsx)]);
    assert!(!content(&plain.json()).contains("Workings"));
    // `on` is what an HTML checkbox sends.
    let all = post_form(
        &url,
        &[],
        &[
            Part::File("book.xlsx", &xlsx),
            Part::Field("hidden_sheets", "on"),
            Part::Field("format", "json"),
        ],
    );
    assert_eq!(all.status, 200, "{}", all.text());
    let v = all.json();
    assert_eq!(v["content"]["metadata"]["page_count"], 2, "{v}");
    assert_eq!(v["content"]["pages"][1]["blocks"][0]["text"], "Workings");

    let m = post_form(
        &url,
        &[],
        &[
            Part::File("deck.pptx", &pptx),
            Part::Field("notes", "maybe"),
        ],
    )
    .assert_error(400, "bad_option");
    assert!(m.contains("notes") && m.contains("maybe"), "{m}");
}

#[test]
fn json_answers_carry_links_and_markdown_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(config(dir.path()));
    let html = br#"<html><body><p>See <a href="https://example.org/guide">the guide</a> and
        <a href="javascript:alert(1)">this</a>.</p></body></html>"#;
    let r = post_form(
        &s.url("/extract"),
        &[],
        &[Part::File("page.html", html), Part::Field("format", "json")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        v["content"]["pages"][0]["blocks"][0]["links"],
        serde_json::json!([{"text": "the guide", "url": "https://example.org/guide"}]),
        "{v}"
    );
    let r = post_form(&s.url("/extract"), &[], &[Part::File("page.html", html)]);
    assert_eq!(content(&r.json()), "See the guide and this.\n");
}

#[test]
fn jobs_take_the_same_fields() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(config(dir.path()));
    let pptx = office("speaker_notes.pptx");
    let result = job_result(
        &s,
        &[Part::File("deck.pptx", &pptx), Part::Field("notes", "true")],
    );
    assert!(
        content(&result.json()).contains("Speaker note 2: mention the budget."),
        "{}",
        result.text()
    );
    // A bad switch fails the request up front, as for POST /extract.
    post_form(
        &s.url("/v1/jobs"),
        &[],
        &[Part::File("deck.pptx", &pptx), Part::Field("notes", "2")],
    )
    .assert_error(400, "bad_option");
}
