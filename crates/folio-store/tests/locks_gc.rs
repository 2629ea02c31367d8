//! Install locks (waited for, given up on, never blocked by the dead) and `gc` (removes only
//! what the store made), on real files.

use std::fs::{File, FileTimes, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use folio_store::{ModelId, Source, Store, StoreConfig};

const CLS: ModelId = ModelId::TextLineClassifier;

fn wheels() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/model-wheels");
    assert!(
        dir.join("rapidocr-3.10.0-py3-none-any.whl").is_file(),
        "model wheels missing: run `bash scripts/test.d/20-models.sh` (scripts/test.sh does)"
    );
    dir
}

fn store(root: &Path, lock_timeout: Duration) -> Store {
    Store::open(StoreConfig {
        cache_dir: Some(root.to_path_buf()),
        offline: true,
        lock_timeout,
        ..StoreConfig::default()
    })
}

fn model_dir(root: &Path, id: ModelId) -> PathBuf {
    root.join("models-v1")
        .join(id.name())
        .join(id.spec().sha256)
}

/// The pid of a process that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// The host name as the store writes it into temp file names.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(64)
        .collect()
}

fn age(path: &Path, by: Duration) {
    let f = OpenOptions::new().write(true).open(path).unwrap();
    f.set_times(FileTimes::new().set_modified(SystemTime::now() - by))
        .unwrap();
}

#[test]
fn a_lock_file_left_by_a_dead_process_does_not_block() {
    let cache = tempfile::tempdir().unwrap();
    let dir = model_dir(cache.path(), CLS);
    std::fs::create_dir_all(&dir).unwrap();
    let dead = dead_pid();
    std::fs::write(dir.join(".lock"), format!("pid {dead} host {}\n", host())).unwrap();
    let start = Instant::now();
    // A lock that did block would hold this install for five minutes.
    store(cache.path(), Duration::from_secs(300))
        .install_from(&[CLS], &Source::Local(wheels()))
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(60));
    let holder = std::fs::read_to_string(dir.join(".lock")).unwrap();
    assert_eq!(
        holder,
        format!("pid {} host {}\n", std::process::id(), host())
    );
}

#[test]
fn an_installer_waits_for_a_held_lock() {
    let cache = tempfile::tempdir().unwrap();
    let dir = model_dir(cache.path(), CLS);
    std::fs::create_dir_all(&dir).unwrap();
    let lock = File::create(dir.join(".lock")).unwrap();
    lock.lock().unwrap();
    let root = cache.path().to_path_buf();
    let installer = std::thread::spawn(move || {
        store(&root, Duration::from_secs(300)).install_from(&[CLS], &Source::Local(wheels()))
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !dir.join("model.onnx").exists(),
        "installed while another process held the lock"
    );
    lock.unlock().unwrap();
    installer.join().unwrap().unwrap();
    assert!(store(cache.path(), Duration::ZERO).verify(&[CLS])[0].is_ok());
}

#[test]
fn a_lock_held_past_the_timeout_is_given_up_on_and_the_install_still_verified() {
    let cache = tempfile::tempdir().unwrap();
    let dir = model_dir(cache.path(), CLS);
    std::fs::create_dir_all(&dir).unwrap();
    // A holder that never lets go (a hung process, or NFS flock misbehaving).
    let lock = File::create(dir.join(".lock")).unwrap();
    lock.lock().unwrap();
    let s = store(cache.path(), Duration::from_millis(300));
    s.install_from(&[CLS], &Source::Local(wheels())).unwrap();
    assert!(s.verify(&[CLS])[0].is_ok());
    drop(lock);
}

#[test]
fn an_installer_removes_a_dead_installers_temp_file_but_not_a_live_ones() {
    let cache = tempfile::tempdir().unwrap();
    let dir = model_dir(cache.path(), CLS);
    std::fs::create_dir_all(&dir).unwrap();
    let dead = dir.join(format!(".install-{}-{}.abcdefgh", dead_pid(), host()));
    std::fs::write(&dead, vec![7u8; 1000]).unwrap();
    // Our own pid is alive, and another host's fresh file may be a live download.
    let live = dir.join(format!(
        ".install-{}-{}.ijklmnop",
        std::process::id(),
        host()
    ));
    std::fs::write(&live, b"in progress").unwrap();
    let remote = dir.join(".install-1-otherhost.qrstuvwx");
    std::fs::write(&remote, b"in progress elsewhere").unwrap();
    store(cache.path(), Duration::from_secs(5))
        .install_from(&[CLS], &Source::Local(wheels()))
        .unwrap();
    assert!(!dead.exists());
    assert!(live.exists() && remote.exists());
}

#[test]
fn gc_removes_only_what_the_store_made() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("folio");
    let s = store(&root, Duration::from_secs(5));
    s.install_from(&[CLS], &Source::Local(wheels())).unwrap();
    let dir = model_dir(&root, CLS);
    let dead_temp = dir.join(format!(".install-{}-{}.abcdefgh", dead_pid(), host()));
    std::fs::write(&dead_temp, vec![1u8; 1000]).unwrap();
    let old_remote = dir.join(".install-1-otherhost.abcdefgh");
    std::fs::write(&old_remote, vec![1u8; 2000]).unwrap();
    age(&old_remote, Duration::from_secs(3600));
    let fresh_remote = dir.join(".install-1-otherhost.ijklmnop");
    std::fs::write(&fresh_remote, b"a download on another worker").unwrap();
    let corrupt = dir.join("model.onnx.corrupt-1700000000-42");
    std::fs::write(&corrupt, vec![2u8; 3000]).unwrap();
    let old_version = root.join("models-v1/ocr-cls").join("ab".repeat(32));
    std::fs::create_dir_all(&old_version).unwrap();
    std::fs::write(old_version.join("model.onnx"), vec![3u8; 4000]).unwrap();
    let unknown_model = root.join("models-v1/retired-model").join("cd".repeat(32));
    std::fs::create_dir_all(&unknown_model).unwrap();
    std::fs::write(unknown_model.join("model.onnx"), vec![4u8; 500]).unwrap();
    let old_bucket = root.join("models-v0/ocr-cls");
    std::fs::create_dir_all(&old_bucket).unwrap();
    std::fs::write(old_bucket.join("model.onnx"), vec![5u8; 600]).unwrap();
    let not_ours = root.join("models-v1/ocr-cls/my-notes");
    std::fs::create_dir_all(&not_ours).unwrap();
    std::fs::write(not_ours.join("todo.txt"), b"mine").unwrap();
    let user_file = root.join("README.txt");
    std::fs::write(&user_file, b"a user's file in the cache root").unwrap();
    let conflict = tmp.path().join("folio.conflict-1700000000");
    std::fs::write(&conflict, b"what stood where the cache is now").unwrap();

    let removable = [
        &dead_temp,
        &old_remote,
        &corrupt,
        &old_version,
        &unknown_model,
        &root.join("models-v0"),
    ];
    let dry = s.gc(true);
    assert!(dry.dry_run && dry.errors.is_empty(), "{dry:?}");
    let mut listed: Vec<&PathBuf> = dry.removed.iter().map(|i| &i.path).collect();
    listed.sort();
    let mut expected: Vec<&PathBuf> = removable.to_vec();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(dry.freed, 1000 + 2000 + 3000 + 4000 + 500 + 600);
    assert!(
        removable.iter().all(|p| p.exists()),
        "a dry run removed something"
    );

    let done = s.gc(false);
    assert!(done.errors.is_empty(), "{:?}", done.errors);
    assert_eq!(done.freed, dry.freed);
    assert!(removable.iter().all(|p| !p.exists()));
    assert!(!root.join("models-v1/retired-model").exists());
    // Kept: the model, a download that may be live, what the store did not make, user data.
    assert!(s.verify(&[CLS])[0].is_ok());
    assert!(fresh_remote.exists());
    assert_eq!(std::fs::read(not_ours.join("todo.txt")).unwrap(), b"mine");
    assert!(user_file.exists());
    assert_eq!(
        std::fs::read(&conflict).unwrap(),
        b"what stood where the cache is now"
    );
    assert!(done.kept.iter().any(|i| i.path == conflict));
    assert!(s.health(&[CLS]).conflicts.contains(&conflict));
}

#[test]
fn gc_leaves_the_temp_files_of_a_lock_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path(), Duration::from_secs(5));
    s.install_from(&[CLS], &Source::Local(wheels())).unwrap();
    let dir = model_dir(tmp.path(), CLS);
    // Old and from a "dead" pid, but the lock says an installer is at work.
    let temp = dir.join(format!(".install-{}-{}.abcdefgh", dead_pid(), host()));
    std::fs::write(&temp, b"partial").unwrap();
    age(&temp, Duration::from_secs(3600));
    let lock = File::open(dir.join(".lock")).unwrap();
    lock.lock().unwrap();
    let report = s.gc(false);
    assert!(temp.exists());
    assert!(report.removed.is_empty(), "{report:?}");
    drop(lock);
    s.gc(false);
    assert!(!temp.exists());
}

#[test]
fn things_in_the_way_inside_the_store_are_moved_aside_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // A file where the bucket directory belongs.
    std::fs::write(root.join("models-v1"), b"not a directory, but someone's").unwrap();
    let s = store(root, Duration::from_secs(5));
    s.install_from(&[CLS], &Source::Local(wheels())).unwrap();
    let aside: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("models-v1.conflict-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        std::fs::read(&aside[0]).unwrap(),
        b"not a directory, but someone's"
    );

    // A directory where a model file belongs: never served, never deleted.
    let layout = model_dir(root, ModelId::Layout);
    std::fs::create_dir_all(layout.join("model.onnx")).unwrap();
    std::fs::write(layout.join("model.onnx/keep.txt"), b"mine").unwrap();
    assert!(s.model_path(ModelId::Layout).is_err());
    s.install_from(&[ModelId::Layout], &Source::Local(wheels()))
        .unwrap();
    assert!(s.verify(&[ModelId::Layout])[0].is_ok());
    let report = s.gc(false);
    let kept: Vec<&PathBuf> = report.kept.iter().map(|i| &i.path).collect();
    assert!(kept.contains(&&aside[0]), "{kept:?}");
    let moved_dir = kept
        .iter()
        .find(|p| p.to_string_lossy().contains("model.onnx.conflict-"))
        .expect("the directory is listed as kept");
    assert_eq!(std::fs::read(moved_dir.join("keep.txt")).unwrap(), b"mine");
    assert!(report.removed.is_empty(), "{:?}", report.removed);
}
