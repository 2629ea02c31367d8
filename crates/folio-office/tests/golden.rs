//! Golden tests: each office fixture's Markdown and JSON against the reference beside it.
//! A missing reference is written and the test fails; `FOLIO_BLESS=1` rewrites references.

use std::path::{Path, PathBuf};

use folio_doc::{render, Format, RenderOptions};
use folio_office::{read, sniff, OfficeOptions};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/office")
}

fn check(reference: &Path, actual: &str, failures: &mut Vec<String>) {
    let bless = std::env::var_os("FOLIO_BLESS").is_some_and(|v| v == "1");
    match std::fs::read_to_string(reference) {
        Ok(expected) if expected == actual => {}
        Ok(_) if bless => std::fs::write(reference, actual).expect("write reference"),
        Ok(expected) => failures.push(format!(
            "{} differs.\n--- expected\n{expected}\n--- actual\n{actual}",
            reference.display()
        )),
        Err(_) => {
            std::fs::write(reference, actual).expect("write reference");
            if !bless {
                failures.push(format!(
                    "{} was missing and has been written",
                    reference.display()
                ));
            }
        }
    }
}

#[test]
fn office_fixtures_match_their_references() {
    let mut failures = Vec::new();
    let mut n = 0;
    for entry in std::fs::read_dir(fixtures()).expect("fixtures/office") {
        let path = entry.expect("entry").path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "docx" | "pptx" | "xlsx" | "html") {
            continue;
        }
        n += 1;
        let bytes = std::fs::read(&path).expect("read fixture");
        let format =
            sniff(&bytes, None).unwrap_or_else(|| panic!("{}: not sniffed", path.display()));
        assert_eq!(format.name(), ext, "{}: sniffed by content", path.display());
        let doc = read(&bytes, format, &OfficeOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        check(
            &fixtures().join(format!("{name}.md")),
            &render(&doc, Format::Markdown, RenderOptions::default()),
            &mut failures,
        );
        check(
            &fixtures().join(format!("{name}.json")),
            &render(&doc, Format::Json, RenderOptions::default()),
            &mut failures,
        );
    }
    assert!(n >= 10, "expected at least 10 office fixtures, found {n}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
