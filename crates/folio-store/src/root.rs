//! Choosing the cache root and making it a directory.

use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the chosen root came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootOrigin {
    /// An explicit path (`--cache-dir`).
    Explicit,
    /// `FOLIO_VOLUME`: a shared network volume.
    Volume,
    /// `FOLIO_CACHE_DIR`.
    FolioCacheDir,
    /// `$XDG_CACHE_HOME/folio`.
    XdgCacheHome,
    /// `~/.cache/folio`.
    Home,
    /// The temp-dir fallback: nothing better was available.
    Temp,
}

/// The chosen root and the reasoning behind it.
#[derive(Debug, Clone)]
pub struct RootChoice {
    /// The cache root.
    pub path: PathBuf,
    /// Which rule chose it.
    pub origin: RootOrigin,
    /// Each decision taken, in order, for logs and `folio doctor`.
    pub decisions: Vec<String>,
    /// For a `FOLIO_VOLUME` root: whether an ordinary directory is accepted as the volume
    /// (`FOLIO_VOLUME_ALLOW_UNMOUNTED=1`); otherwise the volume must be a mount point.
    pub allow_unmounted_volume: bool,
}

/// Picks the cache root. `env` reads an environment variable (the process environment in
/// production, a map in tests).
pub fn resolve_root(explicit: Option<&Path>, env: &dyn Fn(&str) -> Option<OsString>) -> RootChoice {
    let mut decisions = Vec::new();
    let allow_unmounted_volume = env("FOLIO_VOLUME_ALLOW_UNMOUNTED").is_some_and(|v| v == "1");
    let choose = |path: PathBuf, origin: RootOrigin, why: String, decisions: &mut Vec<String>| {
        decisions.push(why);
        tracing::info!(root = %path.display(), ?origin, "model store root chosen");
        RootChoice {
            path,
            origin,
            decisions: std::mem::take(decisions),
            allow_unmounted_volume,
        }
    };
    if let Some(p) = explicit {
        return choose(
            p.to_path_buf(),
            RootOrigin::Explicit,
            format!("--cache-dir {}", p.display()),
            &mut decisions,
        );
    }
    if let Some(v) = env("FOLIO_VOLUME").filter(|v| !v.is_empty()) {
        // The network volume is the persistent root every worker on it shares.
        let v = PathBuf::from(v);
        return choose(
            v.join("folio"),
            RootOrigin::Volume,
            format!("FOLIO_VOLUME={}", v.display()),
            &mut decisions,
        );
    }
    if let Some(p) = env("FOLIO_CACHE_DIR").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        return choose(
            p.clone(),
            RootOrigin::FolioCacheDir,
            format!("FOLIO_CACHE_DIR={}", p.display()),
            &mut decisions,
        );
    }
    match env("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
    {
        Some(x) if x.is_absolute() => {
            return choose(
                x.join("folio"),
                RootOrigin::XdgCacheHome,
                format!("XDG_CACHE_HOME={}", x.display()),
                &mut decisions,
            );
        }
        // The XDG spec says relative paths are invalid and must be ignored.
        Some(x) => decisions.push(format!("ignored relative XDG_CACHE_HOME={}", x.display())),
        None => {}
    }
    let home = match env("HOME").filter(|v| !v.is_empty()) {
        Some(h) => Some(PathBuf::from(h)),
        None => {
            decisions.push("HOME is unset; looking up the passwd entry".to_string());
            home_from_passwd()
        }
    };
    match home {
        Some(h) if h.is_absolute() => {
            let p = h.join(".cache").join("folio");
            choose(
                p,
                RootOrigin::Home,
                format!("home directory {}", h.display()),
                &mut decisions,
            )
        }
        _ => {
            let p = std::env::temp_dir().join("folio-cache");
            choose(
                p,
                RootOrigin::Temp,
                "no home directory found: using the temp dir (not persistent)".to_string(),
                &mut decisions,
            )
        }
    }
}

/// The home directory of the current user from /etc/passwd (uid from /proc/self/status), for
/// processes started without HOME (some container runtimes and service managers).
fn home_from_passwd() -> Option<PathBuf> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() >= 6 && fields[2] == uid && !fields[5].is_empty())
            .then(|| PathBuf::from(fields[5]))
    })
}

/// What stands at a path, judged from `lstat` without following anything blindly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootState {
    /// Nothing there.
    Missing,
    /// A directory.
    Directory,
    /// A symbolic link that resolves to a directory.
    LinkToDirectory(PathBuf),
    /// A symbolic link whose target does not exist (for example a volume that is not mounted).
    DanglingLink(PathBuf),
    /// A symbolic link that resolves, through some chain, back to itself.
    LinkLoop,
    /// A symbolic link to something that is not a directory.
    LinkToOther(PathBuf),
    /// A regular file or anything else that is not a directory.
    NotADirectory,
}

/// Inspects `path` with `lstat`, following a link only to classify it.
pub fn inspect(path: &Path) -> std::io::Result<RootState> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(RootState::Missing),
        Err(e) => return Err(e),
    };
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path)?;
        return Ok(match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => RootState::LinkToDirectory(target),
            Ok(_) => RootState::LinkToOther(target),
            Err(e) if e.kind() == ErrorKind::NotFound => RootState::DanglingLink(target),
            // ELOOP has no stable ErrorKind; its raw code is 40 on Linux.
            Err(e) if e.raw_os_error() == Some(40) => RootState::LinkLoop,
            Err(e) => return Err(e),
        });
    }
    Ok(if meta.is_dir() {
        RootState::Directory
    } else {
        RootState::NotADirectory
    })
}

/// Why the root cannot be made usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The root is a link to a target that does not exist: a volume not mounted, most likely.
    #[error(
        "model cache {path} is a link to {target}, which does not exist (is the volume mounted?)"
    )]
    DanglingLink {
        /// The root.
        path: PathBuf,
        /// Where the link points.
        target: PathBuf,
    },
    /// The root is a link that loops.
    #[error("model cache {path} is a symbolic link loop")]
    LinkLoop {
        /// The root.
        path: PathBuf,
    },
    /// `FOLIO_VOLUME` names a path that is not a mounted directory.
    #[error("FOLIO_VOLUME {path} is not a mounted directory")]
    VolumeNotMounted {
        /// The volume path.
        path: PathBuf,
    },
    /// `FOLIO_VOLUME` names an ordinary directory of the local disk, not a mount point: models
    /// put there would be one worker's, not the volume's.
    #[error(
        "FOLIO_VOLUME {path} is a directory but not a mount point (set \
         FOLIO_VOLUME_ALLOW_UNMOUNTED=1 if that is intended)"
    )]
    VolumeNotAMountPoint {
        /// The volume path.
        path: PathBuf,
    },
    /// A file stands where the cache (or its `.cache` parent) must be, and this reading command
    /// may not move it aside.
    #[error("{path} is in the model cache's way (not a directory); `folio models install` moves it aside")]
    InTheWay {
        /// What stands in the way.
        path: PathBuf,
    },
    /// The directory above the root is a file, and not one Folio may move aside.
    #[error("cannot use a model cache under {path}: it is not a directory")]
    ParentNotADirectory {
        /// The parent.
        path: PathBuf,
    },
    /// The root cannot be created or moved aside.
    // `error`, not `source`: the message already says it, and a source would print it twice.
    #[error("cannot prepare model cache {path}: {error}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
}

/// What [`prepare_root`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prepared {
    /// Things moved aside to make room (old path, new path): never deleted.
    pub moved_aside: Vec<(PathBuf, PathBuf)>,
    /// Whether directories had to be created.
    pub created: bool,
}

/// Makes `root` a usable directory. A file (or a link to a file) at the root, or at its parent
/// when the parent is a cache directory like `~/.cache`, is moved aside to
/// `<name>.conflict-<unix time>`; a dangling link or a loop is an error, left untouched.
pub fn prepare_root(root: &Path) -> Result<Prepared, StoreError> {
    prepare(root, None, Act::Repair)
}

/// Like [`prepare_root`] for a root on a volume: the volume itself must already be a mounted
/// directory (a mount point, unless `allow_unmounted`), since creating it, or using a plain
/// directory of the local disk, would put "shared" models on one worker's disk.
pub fn prepare_volume_root(
    volume: &Path,
    root: &Path,
    allow_unmounted: bool,
) -> Result<Prepared, StoreError> {
    prepare(root, Some((volume, allow_unmounted)), Act::Repair)
}

/// Judges `root` as [`prepare_root`] would, without writing anything: what `prepare_root`
/// would move aside is [`StoreError::InTheWay`], and a missing root is fine. For reading
/// commands (`folio models list`, `folio doctor`), which never write.
pub fn check_root(root: &Path, volume: Option<(&Path, bool)>) -> Result<(), StoreError> {
    prepare(root, volume, Act::Judge).map(|_| ())
}

/// Whether [`prepare`] may change the file system.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Act {
    Repair,
    Judge,
}

/// Whether `path` is a mount point: listed as one in `/proc/self/mountinfo`, or (where that
/// cannot be read) on another device than its parent. `None` when the path cannot be resolved.
pub fn is_mount_point(path: &Path) -> Option<bool> {
    use std::os::unix::fs::MetadataExt;
    let real = std::fs::canonicalize(path).ok()?;
    if let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") {
        return Some(
            info.lines()
                .filter_map(|l| l.split(' ').nth(4))
                .any(|m| Path::new(&unescape_mount(m)) == real),
        );
    }
    let parent = real.parent().unwrap_or(&real);
    let (a, b) = (
        std::fs::metadata(&real).ok()?,
        std::fs::metadata(parent).ok()?,
    );
    Some(a.dev() != b.dev() || a.ino() == b.ino())
}

/// A mount point as `mountinfo` writes it: space, tab, newline and backslash as `\ooo`.
fn unescape_mount(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push(d.iter().fold(0u8, |n, c| n.wrapping_mul(8) + (c - b'0')));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn prepare(root: &Path, volume: Option<(&Path, bool)>, act: Act) -> Result<Prepared, StoreError> {
    if let Some((v, allow_unmounted)) = volume {
        match inspect(v) {
            Ok(RootState::Directory | RootState::LinkToDirectory(_)) => {}
            _ => {
                return Err(StoreError::VolumeNotMounted {
                    path: v.to_path_buf(),
                })
            }
        }
        if !allow_unmounted && is_mount_point(v) == Some(false) {
            return Err(StoreError::VolumeNotAMountPoint {
                path: v.to_path_buf(),
            });
        }
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| StoreError::Io { path, error }
    };
    let mut done = Prepared::default();
    // The root's parent is looked at too: `~/.cache` being a file is the original incident.
    let parent = root.parent().filter(|p| !p.as_os_str().is_empty());
    for path in parent.into_iter().chain(std::iter::once(root)) {
        match inspect(path).map_err(io(path))? {
            RootState::Directory | RootState::LinkToDirectory(_) | RootState::Missing => {}
            RootState::DanglingLink(target) => {
                return Err(StoreError::DanglingLink {
                    path: path.to_path_buf(),
                    target,
                });
            }
            RootState::LinkLoop => {
                return Err(StoreError::LinkLoop {
                    path: path.to_path_buf(),
                })
            }
            // Only the root, or a `.cache` directory above it, is ever moved: an explicit
            // `--cache-dir /etc/hosts/folio` must not move a system file.
            RootState::NotADirectory | RootState::LinkToOther(_)
                if path != root && path.file_name().is_none_or(|n| n != ".cache") =>
            {
                return Err(StoreError::ParentNotADirectory {
                    path: path.to_path_buf(),
                });
            }
            RootState::NotADirectory | RootState::LinkToOther(_) if act == Act::Judge => {
                return Err(StoreError::InTheWay {
                    path: path.to_path_buf(),
                });
            }
            RootState::NotADirectory | RootState::LinkToOther(_) => {
                let aside = conflict_name(path);
                std::fs::rename(path, &aside).map_err(io(path))?;
                tracing::info!(from = %path.display(), to = %aside.display(), "moved aside what stood in the way of the model cache");
                done.moved_aside.push((path.to_path_buf(), aside));
            }
        }
    }
    if act == Act::Repair && inspect(root).map_err(io(root))? == RootState::Missing {
        std::fs::create_dir_all(root).map_err(io(root))?;
        done.created = true;
    }
    Ok(done)
}

/// Makes `root/<parts...>` a chain of directories inside a prepared root, judging each level from
/// `lstat` as [`prepare_root`] judges the root: a file or a link to one in the way is moved aside
/// (never deleted); a dangling link or a loop is reported (it may point at a volume to be mounted).
/// Returns what was moved aside.
pub(crate) fn ensure_dirs(
    root: &Path,
    parts: &[&str],
) -> Result<Vec<(PathBuf, PathBuf)>, StoreError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| StoreError::Io { path, error }
    };
    let mut moved = Vec::new();
    let mut path = root.to_path_buf();
    for part in parts {
        path.push(part);
        match inspect(&path).map_err(io(&path))? {
            RootState::Directory | RootState::LinkToDirectory(_) => continue,
            RootState::Missing => {}
            RootState::DanglingLink(target) => {
                return Err(StoreError::DanglingLink { path, target });
            }
            RootState::LinkLoop => return Err(StoreError::LinkLoop { path }),
            RootState::NotADirectory | RootState::LinkToOther(_) => {
                let aside = conflict_name(&path);
                std::fs::rename(&path, &aside).map_err(io(&path))?;
                tracing::warn!(from = %path.display(), to = %aside.display(), "moved aside what stood in the model store's way");
                moved.push((path.clone(), aside));
            }
        }
        match std::fs::create_dir(&path) {
            Ok(()) => {}
            // Another installer made it between the look and the create.
            Err(e) if e.kind() == ErrorKind::AlreadyExists && path.is_dir() => {}
            Err(e) => return Err(io(&path)(e)),
        }
    }
    Ok(moved)
}

/// `<path>.conflict-<unix seconds>`, with a counter if that name is taken too.
pub(crate) fn conflict_name(path: &Path) -> PathBuf {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let base = path.as_os_str().to_os_string();
    let mut n = 0u32;
    loop {
        let mut name = base.clone();
        name.push(if n == 0 {
            format!(".conflict-{secs}")
        } else {
            format!(".conflict-{secs}-{n}")
        });
        let candidate = PathBuf::from(name);
        if std::fs::symlink_metadata(&candidate).is_err() {
            return candidate;
        }
        n += 1;
    }
}
