//! Running the `folio` binary from the CLI tests, and what a clean failure looks like.
#![allow(dead_code)]

use std::process::{Command, Output};

/// Runs `folio` with `args`, free of the environment settings that would change its answers
/// (a password or an OCR backend from the developer's shell).
pub fn folio(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(args)
        .env_remove("FOLIO_PDF_PASSWORD")
        .env_remove("FOLIO_OCR_BACKEND")
        .output()
        .expect("run folio")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failure is exit code 2 and exactly one line on stderr that starts with `error:`.
pub fn assert_clean_failure(o: &Output, expect: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line expected, got: {err:?}");
    assert!(err.starts_with("error: "), "{err:?}");
    assert!(err.contains(expect), "expected {expect:?} in {err:?}");
    assert!(!err.contains("panicked"), "{err:?}");
}
