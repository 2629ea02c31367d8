//! Writes a local test job (`test_input.json`) holding a generated PDF of any length, for trying
//! and measuring `folio worker` without a document at hand.
//!
//! ```text
//! cargo run -p folio-worker --features fake-server --example make_test_input -- PAGES OUT.json
//! ```
#![allow(clippy::print_stderr)]

use base64::Engine as _;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let pages: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let out = args.next().unwrap_or_else(|| "test_input.json".to_string());
    let pdf = folio_worker::fake::text_pdf(pages, 45);
    let job = serde_json::json!({"input": {
        "file_base64": base64::engine::general_purpose::STANDARD.encode(&pdf),
        "filename": format!("generated-{pages}.pdf"),
        "format": "text",
    }});
    std::fs::write(&out, job.to_string())?;
    eprintln!("{out}: {pages} pages, PDF {} bytes", pdf.len());
    Ok(())
}
