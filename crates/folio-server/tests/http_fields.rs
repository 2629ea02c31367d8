//! The `fields` and `schema` options against the real server on 127.0.0.1: `POST /extract` and
//! `/v1/jobs` answer named fields from a born-digital invoice, parsed by folio-api's shared
//! request options.

mod common;

#[path = "../../folio-pdf/tests/common/pdf_writer.rs"]
mod pdf_writer;

use common::*;
use serde_json::json;

/// A one-page invoice, its words placed as an invoicing tool writes them (Helvetica).
fn invoice() -> Vec<u8> {
    let items: [(f32, f32, f32, &str); 14] = [
        (50.0, 60.0, 18.0, "Northwind Traders Ltd"),
        (400.0, 60.0, 20.0, "INVOICE"),
        (50.0, 82.0, 10.0, "12 Harbour Street"),
        (50.0, 96.0, 10.0, "London EC1A 1BB"),
        (330.0, 110.0, 10.0, "Invoice No:"),
        (450.0, 110.0, 10.0, "INV-2024-0042"),
        (330.0, 124.0, 10.0, "Invoice Date:"),
        (450.0, 124.0, 10.0, "14/03/2024"),
        (370.0, 340.0, 10.0, "Subtotal"),
        (480.0, 340.0, 10.0, "1,550.50"),
        (370.0, 356.0, 10.0, "VAT 20%"),
        (480.0, 356.0, 10.0, "310.10"),
        (370.0, 372.0, 10.0, "Total due"),
        (480.0, 372.0, 10.0, "GBP 1,860.60"),
    ];
    let mut content = Vec::new();
    for (x, y, size, text) in items {
        content.extend_from_slice(
            format!("BT /F1 {size} Tf {x} {} Td ({text}) Tj ET\n", 842.0 - y).as_bytes(),
        );
    }
    pdf_writer::pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_vec(),
        pdf_writer::stream("", &content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    ])
}

fn server() -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(config(dir.path()));
    (dir, s)
}

#[test]
fn format_fields_answers_the_flat_object_and_json_carries_each_fields_detail() {
    let (_dir, s) = server();
    let pdf = invoice();
    let r = post_form(
        &s.url("/extract"),
        &[],
        &[
            Part::File("invoice.pdf", &pdf),
            Part::Field("fields", "company,date,total,colour"),
            Part::Field("format", "fields"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["format"], "fields");
    assert_eq!(
        v["content"],
        json!({"company": "Northwind Traders Ltd", "date": "14/03/2024", "total": 1860.6,
               "colour": null}),
        "{v:#}"
    );
    // An unknown name is null with a warning, never a guess.
    assert!(v["warnings"].to_string().contains("colour"), "{v:#}");

    let r = post_form(
        &s.url("/extract"),
        &[],
        &[
            Part::File("invoice.pdf", &pdf),
            Part::Field("fields", "invoice_number,date"),
            Part::Field("format", "json"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let fields = &r.json()["content"]["fields"];
    assert_eq!(
        fields["invoice_number"]["value"], "INV-2024-0042",
        "{fields:#}"
    );
    assert_eq!(fields["date"]["normalized"], "2024-03-14", "{fields:#}");
    assert_eq!(fields["date"]["source"], "rules");
    assert_eq!(fields["date"]["page"], 1);
    assert!(fields["date"]["bbox"]["x0"].is_number(), "{fields:#}");
}

#[test]
fn a_schema_field_asks_typed_fields() {
    let (_dir, s) = server();
    let pdf = invoice();
    let schema = json!({"type": "object", "properties": {
        "total": {"type": "number"}, "tax": {"type": "number"}, "vendor": {"type": "string"}}});
    let r = post_form(
        &s.url("/extract"),
        &[],
        &[
            Part::File("invoice.pdf", &pdf),
            Part::Field("schema", &schema.to_string()),
            Part::Field("format", "fields"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["content"],
        json!({"total": 1860.6, "tax": 310.1, "vendor": "Northwind Traders Ltd"})
    );
}

#[test]
fn bad_field_options_are_400_bad_option() {
    let (_dir, s) = server();
    let pdf = invoice();
    let url = s.url("/extract");
    let send = |fields: &[(&str, &str)]| {
        let mut parts = vec![Part::File("invoice.pdf", &pdf)];
        parts.extend(fields.iter().map(|(n, v)| Part::Field(n, v)));
        post_form(&url, &[], &parts)
    };
    let m = send(&[("format", "fields")]).assert_error(400, "bad_option");
    assert!(m.contains("fields") && m.contains("schema"), "{m}");
    let m = send(&[("fields", "total"), ("schema", r#"{"properties": {}}"#)])
        .assert_error(400, "bad_option");
    assert!(m.contains("not both"), "{m}");
    let m = send(&[("schema", "{not json")]).assert_error(400, "bad_option");
    assert!(m.contains("JSON"), "{m}");
    // The endpoint is the operator's: a request cannot name one.
    let m = send(&[("fields", "total"), ("llm_url", "http://127.0.0.1:9/v1")])
        .assert_error(400, "bad_option");
    assert!(m.contains("llm_url"), "{m}");
}

#[test]
fn a_job_keeps_its_fields_option_until_it_runs() {
    let (_dir, s) = server();
    let pdf = invoice();
    let result = job_result(
        &s,
        &[
            Part::File("invoice.pdf", &pdf),
            Part::Field("fields", "company,total"),
            Part::Field("format", "fields"),
        ],
    );
    assert_eq!(
        result.json()["content"],
        json!({"company": "Northwind Traders Ltd", "total": 1860.6})
    );
}
