//! Integrity on load: a model is hashed before a process first uses it, unless a marker left by
//! an earlier hash still describes the very same file.
//!
//! The size check alone let a file corrupted at the right size through (and OCR then returned
//! garbage with exit 0). Hashing every model on every start costs tens of milliseconds per
//! short-lived `folio extract`, so a successful hash leaves `model.onnx.verified` beside the
//! model: the sha256 plus the file's device, inode, size, modification and change times. Any
//! write to the file changes its change time (which, unlike the modification time, no
//! unprivileged `touch` can set back), and a replaced file has another inode, so a marker that
//! still matches describes bytes that were hashed. A read-only cache cannot hold a marker: its
//! models are hashed once per process instead.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::catalog::ModelId;
use crate::store::{io_err, sha256_file, ModelError, Store};

/// Suffix of the marker beside a model file.
pub(crate) const MARKER_SUFFIX: &str = ".verified";

/// Files this process has hashed (or found a valid marker for), by identity.
static VERIFIED: Mutex<Option<HashSet<Identity>>> = Mutex::new(None);

/// What identifies one version of a file on disk.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Identity {
    path: PathBuf,
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Identity {
    fn of(path: &Path) -> std::io::Result<Identity> {
        let m = std::fs::metadata(path)?;
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        Ok(Identity {
            path: path.to_path_buf(),
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: ns(m.mtime(), m.mtime_nsec()),
            ctime_ns: ns(m.ctime(), m.ctime_nsec()),
        })
    }

    /// The marker's one line for this file with `sha256`.
    fn marker_line(&self, sha256: &str) -> String {
        format!(
            "v1 {sha256} {} {} {} {} {}\n",
            self.dev, self.ino, self.size, self.mtime_ns, self.ctime_ns
        )
    }
}

fn marker_path(model: &Path) -> PathBuf {
    let mut p = model.as_os_str().to_os_string();
    p.push(MARKER_SUFFIX);
    PathBuf::from(p)
}

fn remembered(id: &Identity) -> bool {
    VERIFIED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .is_some_and(|set| set.contains(id))
}

fn remember(id: Identity) {
    VERIFIED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(HashSet::new)
        .insert(id);
}

impl Store {
    /// A model ready to load: the right size, and its sha256 checked once in this process (or
    /// vouched for by a marker that still describes the same file). A corrupt file is
    /// quarantined and reported, never returned. Use this, not [`Store::model_path`], before
    /// handing a model to an inference runtime.
    pub fn load_path(&self, model: ModelId) -> Result<PathBuf, ModelError> {
        let path = self.model_path(model)?;
        let spec = model.spec();
        let id = Identity::of(&path).map_err(io_err(&path))?;
        if remembered(&id) {
            return Ok(path);
        }
        let marker = marker_path(&path);
        let expected = id.marker_line(spec.sha256);
        if std::fs::read_to_string(&marker).is_ok_and(|m| m == expected) {
            remember(id);
            return Ok(path);
        }
        let started = std::time::Instant::now();
        let digest = sha256_file(&path).map_err(io_err(&path))?;
        if digest != spec.sha256 {
            self.quarantine(&path);
            return Err(ModelError::Corrupt {
                model: spec.name,
                path,
                reason: format!("sha256 {digest}, expected {}", spec.sha256),
            });
        }
        tracing::debug!(
            model = spec.name,
            ms = started.elapsed().as_millis() as u64,
            "model hashed on first load"
        );
        // The file may have changed while it was hashed; the marker only vouches for what
        // was read if the identity is still the one taken before.
        if Identity::of(&path).is_ok_and(|now| now == id) && !self.config.read_only {
            if let Err(e) = write_marker(&marker, &expected) {
                tracing::debug!(path = %marker.display(), error = %e, "no verified marker (read-only cache?)");
            }
        }
        remember(id);
        Ok(path)
    }
}

/// Writes the marker through a temp file and a rename, so a reader never sees half of one.
fn write_marker(marker: &Path, line: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = marker.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".verified-")
        .tempfile_in(dir)?;
    tmp.write_all(line.as_bytes())?;
    tmp.persist(marker).map_err(|e| e.error)?;
    Ok(())
}
