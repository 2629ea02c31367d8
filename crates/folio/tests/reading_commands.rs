//! Reading commands never write, and an unwritable standard output is an error, not a panic.

use std::path::Path;
use std::process::{Command, Stdio};

/// `folio` with `HOME` at `home` and no store setting from the caller's environment.
fn folio_home(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_folio"));
    for (k, _) in std::env::vars() {
        if k.starts_with("FOLIO_") || k == "XDG_CACHE_HOME" {
            c.env_remove(k);
        }
    }
    c.env("HOME", home);
    c
}

#[test]
fn models_list_and_doctor_leave_a_cache_file_in_place() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join(".cache");
    std::fs::write(&cache, b"not a directory, and not Folio's").unwrap();
    for args in [
        &["models", "list"][..],
        &["models", "list", "--json"],
        &["doctor"],
    ] {
        let o = folio_home(home.path()).args(args).output().unwrap();
        assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
        assert_eq!(
            std::fs::read(&cache).unwrap(),
            b"not a directory, and not Folio's",
            "{args:?} touched ~/.cache"
        );
        let names: Vec<_> = std::fs::read_dir(home.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [".cache"], "{args:?} wrote beside it");
    }
    // doctor says what is wrong and what fixes it.
    let o = folio_home(home.path()).arg("doctor").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("in the model cache's way"), "{out}");
    assert!(out.contains("folio models install"), "{out}");
}

#[test]
fn a_closed_pipe_or_a_full_disk_is_not_a_panic() {
    let home = tempfile::tempdir().unwrap();
    // `folio models list | true`: the reader is gone before the first line.
    let mut child = folio_home(home.path())
        .args(["models", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // `folio doctor > /dev/full`: one error line, exit 2, no panic (101).
    for args in [&["doctor"][..], &["models", "list"]] {
        let o = folio_home(home.path())
            .args(args)
            .stdout(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            )
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains("No space left"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}
