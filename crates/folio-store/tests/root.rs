//! Cache-root states built for real on the filesystem, and what the store makes of them.

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::fs::symlink;
use std::path::Path;

use folio_store::{
    check_root, inspect, is_mount_point, prepare_root, prepare_volume_root, resolve_root,
    RootOrigin, RootState, StoreError,
};

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let map: HashMap<String, OsString> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn resolution_order() {
    let explicit = resolve_root(Some(Path::new("/x")), &env(&[("FOLIO_CACHE_DIR", "/y")]));
    assert_eq!(
        (explicit.path.as_path(), explicit.origin),
        (Path::new("/x"), RootOrigin::Explicit)
    );
    let e = resolve_root(
        None,
        &env(&[("FOLIO_CACHE_DIR", "/y"), ("XDG_CACHE_HOME", "/z")]),
    );
    assert_eq!(e.path, Path::new("/y"));
    let x = resolve_root(None, &env(&[("XDG_CACHE_HOME", "/z"), ("HOME", "/home/u")]));
    assert_eq!(
        (x.path.as_path(), x.origin),
        (Path::new("/z/folio"), RootOrigin::XdgCacheHome)
    );
    let h = resolve_root(None, &env(&[("HOME", "/home/u")]));
    assert_eq!(h.path, Path::new("/home/u/.cache/folio"));
}

#[test]
fn relative_xdg_cache_home_is_ignored_and_said() {
    let c = resolve_root(
        None,
        &env(&[("XDG_CACHE_HOME", "rel/cache"), ("HOME", "/home/u")]),
    );
    assert_eq!(c.path, Path::new("/home/u/.cache/folio"));
    assert!(
        c.decisions
            .iter()
            .any(|d| d.contains("ignored relative XDG_CACHE_HOME")),
        "{:?}",
        c.decisions
    );
}

#[test]
fn home_unset_falls_back_to_the_passwd_entry() {
    let c = resolve_root(None, &env(&[]));
    assert!(c.decisions.iter().any(|d| d.contains("HOME is unset")));
    // This process's passwd entry has a home directory, so the temp fallback is not needed.
    assert_eq!(c.origin, RootOrigin::Home, "{:?}", c.decisions);
    assert!(c.path.ends_with(".cache/folio"));
}

#[test]
fn a_file_where_dot_cache_should_be_is_moved_aside_with_its_contents() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join(".cache");
    std::fs::write(&cache, b"a user's precious notes").unwrap();
    let root = resolve_root(None, &env(&[("HOME", home.path().to_str().unwrap())])).path;
    let done = prepare_root(&root).unwrap();
    assert!(root.is_dir());
    assert_eq!(done.moved_aside.len(), 1);
    let (from, to) = &done.moved_aside[0];
    assert_eq!(from, &cache);
    assert!(to.to_string_lossy().contains(".cache.conflict-"));
    assert_eq!(std::fs::read(to).unwrap(), b"a user's precious notes");
}

#[test]
fn a_file_at_the_root_itself_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("folio");
    std::fs::write(&root, b"keep me").unwrap();
    let done = prepare_root(&root).unwrap();
    assert!(root.is_dir() && done.created);
    assert_eq!(std::fs::read(&done.moved_aside[0].1).unwrap(), b"keep me");
    // A second run finds a directory and does nothing.
    assert_eq!(prepare_root(&root).unwrap(), Default::default());
}

#[test]
fn directory_and_correct_link_are_used_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("volume");
    std::fs::create_dir(&real).unwrap();
    std::fs::write(real.join("model.onnx"), b"weights").unwrap();
    let link = dir.path().join("cache");
    symlink(&real, &link).unwrap();
    assert_eq!(
        inspect(&link).unwrap(),
        RootState::LinkToDirectory(real.clone())
    );
    assert_eq!(prepare_root(&link).unwrap(), Default::default());
    assert_eq!(prepare_root(&real).unwrap(), Default::default());
    assert_eq!(std::fs::read(link.join("model.onnx")).unwrap(), b"weights");
}

#[test]
fn a_dangling_link_is_reported_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("cache");
    symlink("/runpod-volume-not-mounted/folio", &link).unwrap();
    match prepare_root(&link) {
        Err(StoreError::DanglingLink { target, .. }) => {
            assert_eq!(target, Path::new("/runpod-volume-not-mounted/folio"))
        }
        other => panic!("{other:?}"),
    }
    // The link is still there, untouched.
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_link_loop_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    symlink(&b, &a).unwrap();
    symlink(&a, &b).unwrap();
    assert_eq!(inspect(&a).unwrap(), RootState::LinkLoop);
    assert!(matches!(prepare_root(&a), Err(StoreError::LinkLoop { .. })));
}

#[test]
fn a_missing_root_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("deep/er/folio");
    assert_eq!(inspect(&root).unwrap(), RootState::Missing);
    assert!(prepare_root(&root).unwrap().created);
    assert!(root.is_dir());
}

#[test]
fn a_file_above_an_explicit_root_is_never_moved() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hosts");
    std::fs::write(&file, b"system file").unwrap();
    assert!(matches!(
        prepare_root(&file.join("folio")),
        Err(StoreError::ParentNotADirectory { .. })
    ));
    assert_eq!(std::fs::read(&file).unwrap(), b"system file");
}

#[test]
fn a_volume_is_the_shared_root_and_must_be_mounted() {
    let dir = tempfile::tempdir().unwrap();
    let vol = dir.path().join("runpod-volume");
    let c = resolve_root(
        None,
        &env(&[
            ("FOLIO_VOLUME", vol.to_str().unwrap()),
            ("FOLIO_CACHE_DIR", "/y"),
        ]),
    );
    assert_eq!(
        (c.path.clone(), c.origin),
        (vol.join("folio"), RootOrigin::Volume)
    );
    // Not mounted: refused, and nothing is created in its place.
    assert!(matches!(
        prepare_volume_root(&vol, &c.path, false),
        Err(StoreError::VolumeNotMounted { .. })
    ));
    assert!(!vol.exists());
    // An ordinary directory is not a mounted volume either, unless that is said explicitly.
    std::fs::create_dir(&vol).unwrap();
    assert!(matches!(
        prepare_volume_root(&vol, &c.path, false),
        Err(StoreError::VolumeNotAMountPoint { .. })
    ));
    assert!(!c.path.exists());
    assert!(prepare_volume_root(&vol, &c.path, true).unwrap().created);
    let allowed = resolve_root(
        None,
        &env(&[
            ("FOLIO_VOLUME", vol.to_str().unwrap()),
            ("FOLIO_VOLUME_ALLOW_UNMOUNTED", "1"),
        ]),
    );
    assert!(allowed.allow_unmounted_volume && !c.allow_unmounted_volume);
}

#[test]
fn mount_points_are_read_from_mountinfo() {
    assert_eq!(is_mount_point(std::path::Path::new("/")), Some(true));
    assert_eq!(is_mount_point(std::path::Path::new("/proc")), Some(true));
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(is_mount_point(dir.path()), Some(false));
    assert_eq!(is_mount_point(&dir.path().join("missing")), None);
}

#[test]
fn a_reading_check_moves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join(".cache");
    std::fs::write(&cache, b"a user's file").unwrap();
    let root = cache.join("folio");
    assert!(matches!(
        check_root(&root, None),
        Err(StoreError::InTheWay { path }) if path == cache
    ));
    assert_eq!(std::fs::read(&cache).unwrap(), b"a user's file");
    // A missing root is fine for a reader, and stays missing.
    let fresh = dir.path().join("fresh/folio");
    check_root(&fresh, None).unwrap();
    assert!(!fresh.exists());
}
