//! The model store's failure states, built for real and driven through the `folio` binary:
//! permission denied for a non-root user (privileges really dropped), read-only bind mounts (warm
//! and cold), a full disk (a 1 MiB tmpfs), eight installers at once, an installer killed with
//! SIGKILL mid-download, stale locks, a corrupted model, and odd cache roots.
//!
//! Tests that need root (mount, setpriv) live in `mod needs_root` and are `#[ignore]`d: a plain
//! `cargo test` lists them as ignored, and `scripts/test.sh` runs them (`--ignored needs_root::`)
//! when it runs as root with the tools there, as CI does. Run that way without root or without
//! the tools, they fail and say why.

#[path = "../../folio-store/tests/common/http.rs"]
mod http;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

const CLS_SHA: &str = "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c";
const CLS_SIZE: u64 = 585_532;

fn wheels() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/model-wheels");
    assert!(
        dir.join("rapidocr-3.10.0-py3-none-any.whl").is_file(),
        "model wheels missing in {}: run `bash scripts/test.d/20-models.sh` (scripts/test.sh does)",
        dir.display()
    );
    dir.canonicalize().unwrap()
}

/// `folio` with none of the caller's store settings leaking in.
fn folio() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_folio"));
    for k in [
        "FOLIO_CACHE_DIR",
        "FOLIO_VOLUME",
        "FOLIO_MODEL_URL",
        "FOLIO_OFFLINE",
        "FOLIO_LOCK_TIMEOUT",
        "FOLIO_HTTP_TIMEOUT",
        "RUST_LOG",
    ] {
        c.env_remove(k);
    }
    c
}

/// `folio` as user `nobody` (uid/gid 65534, no supplementary groups).
fn folio_as_nobody() -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        env!("CARGO_BIN_EXE_folio"),
    ]);
    for k in [
        "FOLIO_CACHE_DIR",
        "FOLIO_VOLUME",
        "FOLIO_OFFLINE",
        "RUST_LOG",
    ] {
        c.env_remove(k);
    }
    c
}

fn run(c: &mut Command) -> Output {
    let out = c.output().unwrap();
    // A panic would print through the hook as "internal error"; none of these states may.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("internal error") && !err.contains("panicked"),
        "{c:?} panicked: {err}"
    );
    out
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[track_caller]
fn expect(out: &Output, code: i32, needles: &[&str]) {
    let all = text(out);
    assert_eq!(out.status.code(), Some(code), "{all}");
    for n in needles {
        assert!(all.contains(n), "expected {n:?} in\n{all}");
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|u| u.split_whitespace().next() == Some("0"))
        })
        .unwrap_or(false)
}

fn cls_dir(root: &Path) -> PathBuf {
    root.join("models-v1/ocr-cls").join(CLS_SHA)
}

/// Every file under `dir`, with size and mtime: equal before and after means nothing was written.
fn tree(dir: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let m = std::fs::symlink_metadata(e.path()).unwrap();
        out.push((e.path(), m.len(), m.modified().unwrap()));
        if m.is_dir() {
            out.extend(tree(&e.path()));
        }
    }
    out.sort();
    out
}

fn temps_under(dir: &Path) -> Vec<PathBuf> {
    tree(dir)
        .into_iter()
        .map(|(p, _, _)| p)
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".install-")
        })
        .collect()
}

fn install_cls(root: &Path) {
    let out = run(folio()
        .args(["models", "install", "ocr-cls", "--from"])
        .arg(wheels())
        .arg("--cache-dir")
        .arg(root));
    expect(&out, 0, &["ocr-cls"]);
}

/// A mount made for one test, unmounted when the test ends however it ends.
struct Mount(PathBuf);

impl Mount {
    /// Runs the `mount` commands, in order, on `dir`; a failure fails the test, saying why.
    fn new(dir: &Path, steps: &[&[&str]]) -> Mount {
        assert!(
            is_root(),
            "needs root to mount (run the tests as root, as CI does)"
        );
        let mut mounted = None;
        for step in steps {
            let out = Command::new("mount")
                .args(*step)
                .arg(dir)
                .output()
                .unwrap_or_else(|e| panic!("cannot run mount (util-linux): {e}"));
            assert!(
                out.status.success(),
                "mount {step:?} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            // Replacing an earlier guard would unmount what the first step mounted.
            mounted.get_or_insert_with(|| Mount(dir.to_path_buf()));
        }
        mounted.expect("at least one mount step")
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn eight_installers(lock_timeout: &str) -> Vec<Output> {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("cache");
    let children: Vec<_> = (0..8)
        .map(|_| {
            folio()
                .args(["--log-json", "-v", "models", "install", "ocr-cls", "--from"])
                .arg(wheels())
                .arg("--cache-dir")
                .arg(&root)
                .env("FOLIO_LOCK_TIMEOUT", lock_timeout)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outs {
        expect(o, 0, &["ocr-cls"]);
    }
    let mut names: Vec<String> = std::fs::read_dir(cls_dir(&root))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".lock", "model.onnx"]);
    let file = cls_dir(&root).join("model.onnx");
    assert_eq!(std::fs::metadata(&file).unwrap().len(), CLS_SIZE);
    expect(
        &run(folio()
            .args(["models", "verify", "ocr-cls", "--cache-dir"])
            .arg(&root)),
        0,
        &["ok"],
    );
    outs
}

#[test]
fn eight_processes_installing_at_once_leave_one_good_file() {
    let outs = eight_installers("120");
    // With working locks exactly one process does the work; the others find it done.
    let installs = outs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stderr).contains("\"message\":\"installed\""))
        .count();
    assert_eq!(installs, 1);
}

#[test]
fn eight_processes_without_locks_still_leave_one_good_file() {
    // A zero lock timeout: whoever does not get the lock at once goes on without it, as on a
    // filesystem where flock does nothing. Correctness must not depend on the lock.
    eight_installers("0");
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_installer_killed_mid_download_is_cleaned_up_and_the_next_run_completes() {
    let good = {
        let seed = tempfile::tempdir().unwrap();
        install_cls(seed.path());
        std::fs::read(cls_dir(seed.path()).join("model.onnx")).unwrap()
    };
    let half = good.len() / 2;
    let srv = http::serve(move |path| {
        if path.starts_with("/stall/") {
            http::Reply::Stall(good.clone(), half)
        } else {
            http::Reply::Body(good.clone())
        }
    });
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("cache");
    let mut child = folio()
        .args(["models", "install", "ocr-cls", "--url"])
        .arg(format!("{}/stall", srv.base))
        .arg("--cache-dir")
        .arg(&root)
        .env("FOLIO_HTTP_TIMEOUT", "600")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let dir = cls_dir(&root);
    wait_for("half the model in a temp file", || {
        temps_under(&root)
            .first()
            .is_some_and(|t| std::fs::metadata(t).map_or(0, |m| m.len()) >= half as u64)
    });
    // It holds the lock, and says so in the lock file.
    let holder = std::fs::read_to_string(dir.join(".lock")).unwrap();
    assert!(
        holder.starts_with(&format!("pid {} ", child.id())),
        "{holder}"
    );
    // While it lives, gc leaves its work alone.
    expect(
        &run(folio().args(["models", "gc", "--cache-dir"]).arg(&root)),
        0,
        &["kept", "an install in progress", "removed 0 item(s)"],
    );
    assert_eq!(temps_under(&root).len(), 1);

    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let leftover = temps_under(&root);
    assert_eq!(leftover.len(), 1);
    expect(
        &run(folio()
            .args(["models", "gc", "--dry-run", "--cache-dir"])
            .arg(&root)),
        0,
        &[
            "would remove",
            "an abandoned install temp file",
            "would remove 1 item(s)",
        ],
    );
    // The dead process's lock is gone with it: a lock that still held would make this install
    // wait for five minutes.
    let start = Instant::now();
    let out = run(folio()
        .args(["models", "install", "ocr-cls", "--url"])
        .arg(format!("{}/good", srv.base))
        .arg("--cache-dir")
        .arg(&root)
        .env("FOLIO_LOCK_TIMEOUT", "300"));
    expect(&out, 0, &["ocr-cls"]);
    assert!(start.elapsed() < Duration::from_secs(60));
    assert!(temps_under(&root).is_empty(), "{:?}", temps_under(&root));
    expect(
        &run(folio()
            .args(["models", "verify", "ocr-cls", "--cache-dir"])
            .arg(&root)),
        0,
        &["ok"],
    );
}

#[test]
fn a_lock_file_naming_a_dead_process_does_not_block() {
    let base = tempfile::tempdir().unwrap();
    let dir = cls_dir(base.path());
    std::fs::create_dir_all(&dir).unwrap();
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    std::fs::write(dir.join(".lock"), format!("pid {pid} host elsewhere\n")).unwrap();
    let start = Instant::now();
    let out = run(folio()
        .args(["models", "install", "ocr-cls", "--from"])
        .arg(wheels())
        .arg("--cache-dir")
        .arg(base.path())
        .env("FOLIO_LOCK_TIMEOUT", "300"));
    expect(&out, 0, &["ocr-cls"]);
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_corrupted_model_is_quarantined_reinstalled_and_never_served() {
    let base = tempfile::tempdir().unwrap();
    let root = base.path();
    install_cls(root);
    let file = cls_dir(root).join("model.onnx");
    let good = std::fs::read(&file).unwrap();
    let mut bad = good.clone();
    bad[100_000] ^= 0x80;
    std::fs::write(&file, &bad).unwrap();
    let c = |args: &[&str]| {
        let mut cmd = folio();
        cmd.args(args).arg("--cache-dir").arg(root);
        run(&mut cmd)
    };
    // Same size: only the sha256 in verify (or install) can see it.
    expect(
        &c(&["models", "verify", "ocr-cls"]),
        2,
        &[
            "failed",
            "corrupt",
            "quarantined",
            "run `folio models install`",
        ],
    );
    assert!(!file.exists());
    expect(&c(&["models", "path", "ocr-cls"]), 2, &["not installed"]);
    expect(
        &c(&["doctor"]),
        1,
        &[
            "6 of 6 models are not installed",
            "fix:     folio models install",
        ],
    );
    let mut install = folio();
    install
        .args(["models", "install", "ocr-cls", "--from"])
        .arg(wheels())
        .arg("--cache-dir")
        .arg(root);
    expect(&run(&mut install), 0, &["ocr-cls"]);
    assert_eq!(std::fs::read(&file).unwrap(), good);
    expect(&c(&["models", "verify", "ocr-cls"]), 0, &["ok"]);

    // Truncated: the size check on load refuses and quarantines it.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(1000)
        .unwrap();
    expect(
        &c(&["models", "path", "ocr-cls"]),
        2,
        &["corrupt", "1000 bytes, expected 585532"],
    );
    // `models path` only reads (docs/model-store.md): it reports the bad file and leaves it
    // for a load or `install` to quarantine.
    assert!(file.exists());
    expect(&run(&mut install), 0, &["ocr-cls"]);

    // Offline with a local mirror configured, a plain `folio models install` heals by itself.
    std::fs::write(&file, &bad).unwrap();
    let mut heal = folio();
    heal.args(["models", "install", "ocr-cls", "--cache-dir"])
        .arg(root)
        .env("FOLIO_OFFLINE", "1")
        .env("FOLIO_MODEL_URL", format!("file://{}", wheels().display()));
    expect(&run(&mut heal), 0, &["ocr-cls"]);
    assert_eq!(std::fs::read(&file).unwrap(), good);

    // gc frees the three quarantined copies.
    expect(
        &c(&["models", "gc"]),
        0,
        &["a quarantined corrupt model", "removed 3 item(s)"],
    );
    expect(&c(&["models", "verify", "ocr-cls"]), 0, &["ok"]);
}

#[test]
fn odd_cache_roots_through_the_cli() {
    let base = tempfile::tempdir().unwrap();
    // A file where the cache should be: moved aside with its contents, never deleted.
    let root = base.path().join("folio");
    std::fs::write(&root, b"a user's notes").unwrap();
    install_cls(&root);
    let conflict: Vec<_> = std::fs::read_dir(base.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("folio.conflict-"))
        .collect();
    assert_eq!(conflict.len(), 1);
    assert_eq!(std::fs::read(&conflict[0]).unwrap(), b"a user's notes");
    let out = run(folio().arg("doctor").arg("--cache-dir").arg(&root));
    expect(
        &out,
        1,
        &["holds what stood in the cache's way; nothing was deleted"],
    );
    expect(
        &run(folio().args(["models", "gc", "--cache-dir"]).arg(&root)),
        0,
        &["kept", "remove it yourself"],
    );
    assert!(conflict[0].exists());

    // A dangling link: the volume is not mounted.
    let link = base.path().join("dangling");
    std::os::unix::fs::symlink("/runpod-volume-not-here/folio", &link).unwrap();
    let out = run(folio().arg("doctor").arg("--cache-dir").arg(&link));
    expect(
        &out,
        1,
        &[
            "is the volume mounted?",
            "fix:     mount the volume at /runpod-volume-not-here/folio",
        ],
    );
    let out = run(folio()
        .args(["models", "install", "ocr-cls", "--from"])
        .arg(wheels())
        .arg("--cache-dir")
        .arg(&link));
    expect(&out, 2, &["does not exist (is the volume mounted?)"]);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());

    // A link loop.
    let (a, b) = (base.path().join("a"), base.path().join("b"));
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let out = run(folio().arg("doctor").arg("--cache-dir").arg(&a));
    expect(&out, 1, &["symbolic link loop", "fix:     mv "]);

    // FOLIO_VOLUME set but nothing mounted there.
    let vol = base.path().join("runpod-volume");
    let out = run(folio().arg("doctor").env("FOLIO_VOLUME", &vol));
    expect(
        &out,
        1,
        &[
            "is not a mounted directory",
            "fix:     mount the network volume at",
        ],
    );
    assert!(!vol.exists());

    // Offline with a model missing: the fix names the local source.
    let out = run(folio()
        .args(["models", "install", "layout", "--cache-dir"])
        .arg(&root)
        .env("FOLIO_OFFLINE", "1"));
    expect(
        &out,
        2,
        &["FOLIO_OFFLINE=1", "folio models install --from DIR"],
    );
    let out = run(folio()
        .arg("doctor")
        .arg("--cache-dir")
        .arg(&root)
        .env("FOLIO_OFFLINE", "1"));
    expect(&out, 1, &["fix:     folio models install --from DIR"]);
}

#[test]
fn doctor_json_is_machine_readable() {
    let base = tempfile::tempdir().unwrap();
    install_cls(base.path());
    let out = run(folio()
        .args(["doctor", "--json", "--cache-dir"])
        .arg(base.path()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["writable"], true);
    let states: Vec<(&str, &str)> = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["state"].as_str().unwrap()))
        .collect();
    assert!(states.contains(&("ocr-cls", "ok")));
    assert!(states.contains(&("ocr-det", "missing")));
    assert_eq!(v["problems"][0]["fix"], "folio models install");
}

#[test]
fn a_truncated_model_is_named_by_doctor_and_a_single_file_reinstalls_it() {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("cache");
    install_cls(&root);
    let file = cls_dir(&root).join("model.onnx");
    let loose = base.path().join("cls.onnx");
    std::fs::copy(&file, &loose).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(10)
        .unwrap();
    let out = run(folio().arg("doctor").arg("--cache-dir").arg(&root));
    expect(
        &out,
        1,
        &[
            "corrupt and quarantined: ocr-cls",
            "fix:     folio models install",
        ],
    );
    // One .onnx file, no model name: matched to ocr-cls by its sha256.
    let out = run(folio()
        .args(["models", "install", "--from"])
        .arg(&loose)
        .arg("--cache-dir")
        .arg(&root));
    expect(&out, 0, &["ocr-cls "]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ocr-det"));
    expect(
        &run(folio()
            .args(["models", "verify", "ocr-cls", "--cache-dir"])
            .arg(&root)),
        0,
        &["ok"],
    );
}

/// The tests that need root: `#[ignore]`d here, run by `scripts/test.sh` as root with
/// `--ignored needs_root::` (the module's name is the convention that step selects on).
mod needs_root {
    use super::*;

    #[test]
    #[ignore = "needs root: drops privileges with setpriv"]
    fn permission_denied_for_a_non_root_user() {
        assert!(is_root(), "needs root to drop privileges with setpriv");
        let o = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run setpriv (util-linux): {e}"));
        assert!(
            o.status.success(),
            "setpriv cannot drop to uid 65534 here: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        );
        let base = tempfile::tempdir().unwrap();
        std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        // The wheel where nobody can read it.
        let src = base.path().join("wheels");
        std::fs::create_dir(&src).unwrap();
        std::fs::copy(
            wheels().join("rapidocr-3.10.0-py3-none-any.whl"),
            src.join("rapidocr-3.10.0-py3-none-any.whl"),
        )
        .unwrap();

        // Cold: a root-owned 0755 cache that nobody may write.
        let cold = base.path().join("cold");
        std::fs::create_dir(&cold).unwrap();
        let out = run(folio_as_nobody()
            .args(["models", "install", "ocr-cls", "--from"])
            .arg(&src)
            .arg("--cache-dir")
            .arg(&cold));
        expect(
            &out,
            2,
            &[
                "cannot write to the model cache",
                "Permission denied",
                "set FOLIO_CACHE_DIR to a writable directory",
            ],
        );
        assert!(tree(&cold).is_empty(), "{:?}", tree(&cold));
        let out = run(folio_as_nobody()
            .arg("doctor")
            .arg("--cache-dir")
            .arg(&cold));
        expect(
            &out,
            1,
            &[
                "not writable by this user (uid 65534)",
                "6 of 6 models are not installed",
                "fix:     FOLIO_CACHE_DIR=/path/to/writable/dir folio models install",
            ],
        );
        // A root that does not exist under a directory nobody may write: doctor only reads, so
        // it judges the root instead of trying to create it (and failing on the permission).
        let out = run(folio_as_nobody()
            .arg("doctor")
            .arg("--cache-dir")
            .arg(cold.join("sub")));
        expect(
            &out,
            1,
            &[
                "not writable by this user (uid 65534)",
                "fix:     FOLIO_CACHE_DIR=",
            ],
        );
        assert!(!cold.join("sub").exists());

        // Warm: the same user reads a cache root filled.
        let warm = base.path().join("warm");
        install_cls(&warm);
        let out = run(folio_as_nobody()
            .args(["models", "path", "ocr-cls", "--cache-dir"])
            .arg(&warm));
        expect(&out, 0, &["model.onnx"]);
        let out = run(folio_as_nobody()
            .args(["models", "verify", "ocr-cls", "--cache-dir"])
            .arg(&warm));
        expect(&out, 0, &["ok"]);
        let out = run(folio_as_nobody()
            .args(["models", "install", "ocr-cls", "--from"])
            .arg(&src)
            .arg("--cache-dir")
            .arg(&warm));
        expect(&out, 0, &["ocr-cls"]);

        // Shared: directories everyone may write, root's 0644 lock file; another user reinstalls.
        let shared = base.path().join("shared");
        install_cls(&shared);
        for d in [
            shared.clone(),
            shared.join("models-v1"),
            shared.join("models-v1/ocr-cls"),
            cls_dir(&shared),
        ] {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        std::fs::remove_file(cls_dir(&shared).join("model.onnx")).unwrap();
        let out = run(folio_as_nobody()
            .args(["models", "install", "ocr-cls", "--from"])
            .arg(&src)
            .arg("--cache-dir")
            .arg(&shared));
        expect(&out, 0, &["ocr-cls"]);
        expect(
            &run(folio()
                .args(["models", "verify", "ocr-cls", "--cache-dir"])
                .arg(&shared)),
            0,
            &["ok"],
        );
    }

    #[test]
    #[ignore = "needs root: read-only bind mounts"]
    fn a_read_only_cache_warm_is_served_without_writes_and_cold_is_explained() {
        let base = tempfile::tempdir().unwrap();
        let warm = base.path().join("warm");
        let out = run(folio()
            .args(["models", "install", "--from"])
            .arg(wheels())
            .arg("--cache-dir")
            .arg(&warm));
        expect(&out, 0, &["table"]);
        let every_read = |root: &Path, note: &str| {
            let c = |args: &[&str]| {
                let mut cmd = folio();
                cmd.args(args).arg("--cache-dir").arg(root);
                run(&mut cmd)
            };
            expect(&c(&["models", "list"]), 0, &["ocr-det"]);
            expect(&c(&["models", "path", "ocr-cls"]), 0, &["model.onnx"]);
            expect(&c(&["models", "verify"]), 0, &["table"]);
            let mut install = folio();
            install
                .args(["models", "install", "--from"])
                .arg(wheels())
                .arg("--cache-dir")
                .arg(root);
            expect(&run(&mut install), 0, &["layout"]);
            expect(
                &c(&["doctor"]),
                0,
                &["ok: all 6 models are installed", note],
            );
        };
        // Writable first: not a single file (lock, temp, probe) is created or touched.
        let before = tree(&warm);
        every_read(&warm, "");
        assert_eq!(tree(&warm), before);

        let _ro = Mount::new(
            &warm,
            &[
                &["--bind", warm.to_str().unwrap()],
                &["-o", "remount,ro,bind"],
            ],
        );
        assert!(
            std::fs::write(warm.join("probe"), b"x").is_err(),
            "mount is not read-only"
        );
        every_read(&warm, "read-only");
        assert_eq!(tree(&warm), before);

        let cold = base.path().join("cold");
        std::fs::create_dir(&cold).unwrap();
        let _ro_cold = Mount::new(
            &cold,
            &[
                &["--bind", cold.to_str().unwrap()],
                &["-o", "remount,ro,bind"],
            ],
        );
        let out = run(folio().arg("doctor").arg("--cache-dir").arg(&cold));
        expect(
            &out,
            1,
            &[
                "is on a read-only file system",
                "6 of 6 models are not installed",
                "fix:     FOLIO_CACHE_DIR=/path/to/writable/dir folio models install",
            ],
        );
        let out = run(folio()
            .args(["models", "install", "ocr-cls", "--from"])
            .arg(wheels())
            .arg("--cache-dir")
            .arg(&cold));
        expect(&out, 2, &["Read-only file system", "FOLIO_CACHE_DIR"]);
    }

    #[test]
    #[ignore = "needs root: mounts a 1 MiB tmpfs"]
    fn a_full_disk_is_a_clear_error_and_leaves_nothing_behind() {
        let base = tempfile::tempdir().unwrap();
        let small = base.path().join("small");
        std::fs::create_dir(&small).unwrap();
        let _tmpfs = Mount::new(&small, &[&["-t", "tmpfs", "-o", "size=1m", "tmpfs"]]);
        install_cls(&small);
        let cls = cls_dir(&small).join("model.onnx");
        let good = std::fs::read(&cls).unwrap();
        // The orientation model is 6.8 MB: it cannot fit in what is left of 1 MiB.
        let out = run(folio()
            .args(["models", "install", "orientation", "--from"])
            .arg(wheels())
            .arg("--cache-dir")
            .arg(&small));
        expect(
            &out,
            2,
            &[
                "no space left to install orientation",
                "6783084 bytes needed",
            ],
        );
        assert!(temps_under(&small).is_empty(), "{:?}", temps_under(&small));
        let orientation: Vec<_> = tree(&small.join("models-v1/orientation"))
            .into_iter()
            .filter(|(p, _, _)| p.ends_with("model.onnx"))
            .collect();
        assert!(orientation.is_empty());
        assert_eq!(std::fs::read(&cls).unwrap(), good);
        expect(
            &run(folio()
                .args(["models", "verify", "ocr-cls", "--cache-dir"])
                .arg(&small)),
            0,
            &["ok"],
        );
    }
}
