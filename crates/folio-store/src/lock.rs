//! Advisory per-model install locks, and telling live installers from dead ones.
//!
//! A lock only saves duplicate work. Correctness comes from the temp file, the checksum and the
//! atomic rename, because `flock` on NFS or MooseFS can silently do nothing; so a lock that cannot
//! be had in time is given up on and the install goes on without it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Name of the lock file in each `models-v1/<name>/<sha256>/` directory.
pub(crate) const LOCK_FILE: &str = ".lock";

/// A held lock; released when dropped (and by the kernel when the process dies).
#[derive(Debug)]
pub(crate) struct InstallLock {
    file: File,
    path: PathBuf,
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        if let Err(e) = self.file.unlock() {
            tracing::debug!(path = %self.path.display(), error = %e, "unlock failed (closing releases it)");
        }
    }
}

/// How taking a lock ended.
#[derive(Debug)]
pub(crate) enum Locked {
    /// This process holds it, until this value is dropped.
    Held(#[allow(dead_code)] InstallLock),
    /// Someone else held it past the timeout, or the filesystem cannot lock: go on without.
    GaveUp,
}

/// Takes the lock at `path`, polling until `timeout`. Errors opening the lock file are returned
/// (a read-only or forbidden directory says more than anything that follows would); errors from
/// `flock` itself mean "this filesystem cannot lock" and are logged, then ignored.
pub(crate) fn acquire(path: &Path, timeout: Duration) -> std::io::Result<Locked> {
    // No truncate on open: the holder's pid in the file must survive until we own the lock.
    let mut file = match OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
    {
        Ok(f) => f,
        // Another user's lock file in a shared, group-writable cache: flock works on a
        // read-only descriptor too; only the holder note is lost.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && path.is_file() => {
            File::open(path)?
        }
        Err(e) => return Err(e),
    };
    let start = Instant::now();
    let mut next_report = Duration::ZERO;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                let waited = start.elapsed();
                if waited >= timeout {
                    tracing::warn!(path = %path.display(), holder = %holder(&mut file), waited_s = waited.as_secs(),
                        "install lock still held; going on without it (the install is verified either way)");
                    return Ok(Locked::GaveUp);
                }
                if waited >= next_report {
                    tracing::info!(path = %path.display(), holder = %holder(&mut file), "waiting for another installer");
                    next_report = waited + Duration::from_secs(10);
                }
                std::thread::sleep(Duration::from_millis(100).min(timeout));
            }
            Err(TryLockError::Error(e)) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot lock (filesystem without flock?); going on without it");
                return Ok(Locked::GaveUp);
            }
        }
    }
    // The pid is for people reading the file; nothing trusts it, since a pid outlives nothing.
    let note = format!("pid {} host {}\n", std::process::id(), hostname());
    let written = file
        .set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(note.as_bytes()));
    if let Err(e) = written {
        tracing::debug!(path = %path.display(), error = %e, "cannot record the lock holder");
    }
    Ok(Locked::Held(InstallLock {
        file,
        path: path.to_path_buf(),
    }))
}

/// Whether someone holds the lock at `path` right now (never blocks; no file means no holder).
pub(crate) fn try_hold(path: &Path) -> Option<InstallLock> {
    let file = OpenOptions::new().read(true).write(true).open(path).ok()?;
    file.try_lock().ok()?;
    Some(InstallLock {
        file,
        path: path.to_path_buf(),
    })
}

fn holder(file: &mut File) -> String {
    let mut s = String::new();
    let _ = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| file.take(200).read_to_string(&mut s));
    let s = s.trim();
    if s.is_empty() {
        "unknown".to_string()
    } else {
        s.to_string()
    }
}

/// This machine's name, to tell our own installers' temp files from other hosts' on a shared
/// volume.
pub(crate) fn hostname() -> String {
    // Kept to [A-Za-z0-9_] so that it parses back out of a temp file's name.
    let name: String = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(64)
        .collect();
    if name.is_empty() {
        "host".to_string()
    } else {
        name
    }
}

/// Whether process `pid` on this host is alive. When unsure, it is.
pub(crate) fn pid_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}
