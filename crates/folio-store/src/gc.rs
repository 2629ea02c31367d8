//! `gc`: removes only what the store made and no longer needs, and never what a user put down.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::ModelId;
use crate::install::stale_temps;
use crate::lock::{self, LOCK_FILE};
use crate::store::{Store, BUCKET};

/// One thing `gc` removed (or would remove), or left alone.
#[derive(Debug, Clone, Serialize)]
pub struct GcItem {
    /// The path.
    pub path: PathBuf,
    /// Its size (a directory's total).
    pub bytes: u64,
    /// Why it goes, or why it stays.
    pub why: String,
}

/// What [`Store::gc`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GcReport {
    /// Whether this was a dry run (nothing removed).
    pub dry_run: bool,
    /// Removed (or, in a dry run, to be removed).
    pub removed: Vec<GcItem>,
    /// Bytes freed (or that would be).
    pub freed: u64,
    /// Left alone on purpose: user data moved aside, files in use, things the store did not make.
    pub kept: Vec<GcItem>,
    /// What could not be removed, and why.
    pub errors: Vec<String>,
}

impl Store {
    /// Removes abandoned install temp files (no live writer), quarantined `*.corrupt-*` files,
    /// model directories whose sha256 the catalog no longer names, and old `models-v*` buckets.
    /// `*.conflict-*` (what stood in the cache's way) is only listed: it may be a user's data.
    pub fn gc(&self, dry_run: bool) -> GcReport {
        let mut report = GcReport {
            dry_run,
            ..GcReport::default()
        };
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            report
                .errors
                .push(format!("cannot read {}", self.root.display()));
            return report;
        };
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if name == BUCKET {
                continue;
            }
            let old_bucket = name
                .strip_prefix("models-v")
                .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()));
            if old_bucket && is_dir {
                remove(&mut report, e.path(), "an old layout version".into());
            }
        }
        let bucket = self.root.join(BUCKET);
        for name_dir in read_dirs(&bucket) {
            let name = file_name(&name_dir);
            let known = ModelId::ALL.into_iter().find(|m| m.name() == name);
            for sha_dir in read_dirs(&name_dir) {
                let sha = file_name(&sha_dir);
                let is_sha = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit());
                if known.is_some_and(|m| m.spec().sha256 == sha) {
                    self.gc_model_dir(&sha_dir, &mut report);
                } else if is_sha {
                    remove(
                        &mut report,
                        sha_dir,
                        "a model version the catalog no longer names".into(),
                    );
                } else {
                    keep(&mut report, sha_dir, "not made by the store".into());
                }
            }
            if known.is_none() && !dry_run && std::fs::remove_dir(&name_dir).is_ok() {
                tracing::info!(path = %name_dir.display(), "removed an empty model directory");
            }
        }
        for c in conflicts(&self.root)
            .into_iter()
            .chain(inner_conflicts(&bucket))
        {
            let bytes = size_of(&c);
            keep(
                &mut report,
                c,
                format!("moved aside because it stood in the cache's way ({bytes} bytes); remove it yourself if you do not need it"),
            );
        }
        report
    }

    fn gc_model_dir(&self, dir: &Path, report: &mut GcReport) {
        let temps: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|it| {
                it.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| file_name(p).starts_with(crate::install::TEMP_PREFIX))
                    .collect()
            })
            .unwrap_or_default();
        // A live installer holds the lock; its temp file is its work in progress.
        let lock_path = dir.join(LOCK_FILE);
        let held = lock::try_hold(&lock_path);
        let busy = lock_path.exists() && held.is_none();
        let stale = stale_temps(dir);
        for t in temps {
            if !busy && stale.contains(&t) {
                remove(report, t, "an abandoned install temp file".into());
            } else {
                keep(report, t, "an install in progress".into());
            }
        }
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if file_name(&e.path()).contains(".corrupt-") {
                remove(report, e.path(), "a quarantined corrupt model".into());
            }
        }
        drop(held);
    }
}

fn remove(report: &mut GcReport, path: PathBuf, why: String) {
    let bytes = size_of(&path);
    if !report.dry_run {
        let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        // remove_dir_all does not follow links out of the tree.
        let done = if is_dir {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if let Err(e) = done {
            report
                .errors
                .push(format!("cannot remove {}: {e}", path.display()));
            return;
        }
        tracing::info!(path = %path.display(), bytes, "gc removed");
    }
    report.freed += bytes;
    report.removed.push(GcItem { path, bytes, why });
}

fn keep(report: &mut GcReport, path: PathBuf, why: String) {
    let bytes = size_of(&path);
    report.kept.push(GcItem { path, bytes, why });
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// Bytes under `path`, without following links.
fn size_of(path: &Path) -> u64 {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| size_of(&e.path()))
            .sum(),
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}

/// What was moved aside inside the store (a file where one of its directories belongs, a
/// directory where a model belongs), without following links.
fn inner_conflicts(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = e.path();
        if e.file_name().to_string_lossy().contains(".conflict-") {
            found.push(path);
        } else if e.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(inner_conflicts(&path));
        }
    }
    found.sort();
    found
}

/// What was moved aside: by `prepare_root`, `<root>.conflict-*` beside the root, and
/// `<parent>.conflict-*` beside its parent (`~/.cache` being a file was the original incident);
/// and inside the root.
pub(crate) fn conflicts(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let dot_cache = root
        .parent()
        .filter(|p| p.file_name().is_some_and(|n| n == ".cache"));
    for p in [Some(root), dot_cache].into_iter().flatten() {
        let (Some(dir), Some(name)) = (p.parent(), p.file_name()) else {
            continue;
        };
        let prefix = format!("{}.conflict-", name.to_string_lossy());
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                found.push(e.path());
            }
        }
    }
    found.extend(inner_conflicts(root));
    found.sort();
    found
}
