//! Golden tests: each fixture's Markdown and JSON against the reference beside it.
//! A missing reference is written and the test fails; `FOLIO_BLESS=1` rewrites references.

use std::path::{Path, PathBuf};

use folio_doc::{render, Format, RenderOptions};
use folio_engine::{Engine, ExtractOptions};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
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
fn pdf_fixtures_match_their_references() {
    let engine = Engine::new();
    let mut failures = Vec::new();
    let mut n = 0;
    for entry in std::fs::read_dir(fixtures().join("pdf")).expect("fixtures/pdf") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "pdf") {
            continue;
        }
        n += 1;
        let bytes = std::fs::read(&path).expect("read fixture");
        let doc = engine
            .extract(&bytes, &ExtractOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check(
            &path.with_extension("md"),
            &render(&doc, Format::Markdown, RenderOptions::default()),
            &mut failures,
        );
        check(
            &path.with_extension("json"),
            &render(&doc, Format::Json, RenderOptions::default()),
            &mut failures,
        );
    }
    assert!(n >= 3, "expected at least 3 PDF fixtures, found {n}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
