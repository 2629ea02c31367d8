//! `folio extract -o`: the output never replaces the input, a link, a device or a FIFO, and a
//! failed run leaves nothing behind.

mod cli_common;

use std::os::unix::fs::{symlink, FileTypeExt};
use std::path::{Path, PathBuf};

use cli_common::*;

/// A born-digital PDF copied into `dir` (the run must not touch the repository's fixture).
fn pdf_in(dir: &Path) -> PathBuf {
    let src =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/pdf/two-columns.pdf");
    let dst = dir.join("in.pdf");
    std::fs::copy(src, &dst).unwrap();
    dst
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Names of the entries in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn output_onto_the_input_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let input = pdf_in(dir.path());
    let before = std::fs::read(&input).unwrap();
    let o = folio(&["extract", s(&input), "-o", s(&input)]);
    assert_clean_failure(&o, "it is the input file");
    assert_eq!(std::fs::read(&input).unwrap(), before);
    // The same file under another name (a hard link, a path with `..`) is the same inode.
    let hard = dir.path().join("hard.md");
    std::fs::hard_link(&input, &hard).unwrap();
    let o = folio(&["extract", s(&input), "-o", s(&hard)]);
    assert_clean_failure(&o, "it is the input file");
    let dotted = dir.path().join("x/../in.pdf");
    std::fs::create_dir(dir.path().join("x")).unwrap();
    let o = folio(&["extract", s(&input), "-o", s(&dotted)]);
    assert_clean_failure(&o, "it is the input file");
    // Standard input redirected from the file is the file too.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["extract", "-", "-o", s(&input)])
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert_clean_failure(&o, "it is the input file");
    assert_eq!(std::fs::read(&input).unwrap(), before);
    assert_eq!(listing(dir.path()), ["hard.md", "in.pdf", "x"]);
}

#[test]
fn a_symbolic_link_needs_force_and_then_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let input = pdf_in(dir.path());
    let real = dir.path().join("real.md");
    std::fs::write(&real, "old").unwrap();
    let link = dir.path().join("link.md");
    symlink(&real, &link).unwrap();
    let o = folio(&["extract", s(&input), "-o", s(&link)]);
    assert_clean_failure(&o, "symbolic link");
    assert_eq!(std::fs::read_to_string(&real).unwrap(), "old");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());

    let o = folio(&["extract", s(&input), "-o", s(&link), "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().len() > 100);

    // Even with --force, a link to the input is the input.
    let to_input = dir.path().join("to-input.md");
    symlink(&input, &to_input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let o = folio(&["extract", s(&input), "-o", s(&to_input), "--force"]);
    assert_clean_failure(&o, "it is the input file");
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn directories_fifos_and_devices_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = pdf_in(dir.path());
    let o = folio(&["extract", s(&input), "-o", s(dir.path())]);
    assert_clean_failure(&o, "it is a directory");

    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let o = folio(&["extract", s(&input), "-o", s(&fifo)]);
    assert_clean_failure(&o, "it is a FIFO");
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());

    let o = folio(&["extract", s(&input), "-o", "/dev/null"]);
    assert_clean_failure(&o, "it is a device");
    // Nothing was left beside them (no half-written temporary file).
    assert_eq!(listing(dir.path()), ["fifo", "in.pdf"]);
}

#[test]
fn a_failed_run_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pdf");
    std::fs::write(&bad, b"%PDF-1.7\nnot really a pdf").unwrap();
    let out = dir.path().join("out.md");
    let o = folio(&["extract", s(&bad), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(listing(dir.path()), ["bad.pdf"]);
}
