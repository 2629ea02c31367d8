//! The HTTP(S) source against a real server on 127.0.0.1: good file, wrong bytes, a body cut
//! short, a missing file, too many bytes, a server that stalls; and offline refusals.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::http::{serve, Reply};
use folio_store::{ModelError, ModelId, Source, Store, StoreConfig};

const CLS: ModelId = ModelId::TextLineClassifier;

/// The real ocr-cls model, from the wheel `scripts/test.d/20-models.sh` fetched.
fn cls_bytes() -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/model-wheels");
    let wheel = dir.join("rapidocr-3.10.0-py3-none-any.whl");
    assert!(
        wheel.is_file(),
        "model wheels missing: run `bash scripts/test.d/20-models.sh` (scripts/test.sh does)"
    );
    let mut zip = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
    let mut bytes = Vec::new();
    zip.by_name(CLS.spec().member)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

fn store(root: &Path, offline: bool) -> Store {
    Store::open(StoreConfig {
        cache_dir: Some(root.to_path_buf()),
        offline,
        http_timeout: Duration::from_secs(2),
        ..StoreConfig::default()
    })
}

/// Every file under `dir` (the cache must hold nothing but what a good install leaves).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn temps(dir: &Path) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with(".install-")
        })
        .collect()
}

/// One server for all cases: `/good/`, `/wrong/`, `/short/`, `/big/`, `/stall/`, else 404.
fn server() -> common::http::Server {
    let good = cls_bytes();
    serve(move |path| {
        let mut wrong = good.clone();
        wrong[4096] ^= 0x55;
        let mut big = good.clone();
        big.extend_from_slice(b"trailing junk");
        match path.rsplit_once('/').map(|(dir, _)| dir) {
            Some("/good") => Reply::Body(good.clone()),
            Some("/wrong") => Reply::Body(wrong),
            Some("/short") => Reply::Truncated(good.clone(), good.len() / 2),
            Some("/big") => Reply::Unsized(big),
            Some("/stall") => Reply::Stall(good.clone(), good.len() / 2),
            _ => Reply::Status(404),
        }
    })
}

#[test]
fn a_good_download_is_installed_and_verified() {
    let srv = server();
    let cache = tempfile::tempdir().unwrap();
    let s = store(cache.path(), false);
    let paths = s
        .install_from(&[CLS], &Source::Url(format!("{}/good", srv.base)))
        .unwrap();
    assert_eq!(std::fs::read(&paths[0]).unwrap(), cls_bytes());
    assert!(s.verify(&[CLS])[0].is_ok());
    assert!(temps(cache.path()).is_empty());
    // Installed and intact: a second install asks the server nothing.
    let before = srv.hits();
    s.install_from(&[CLS], &Source::Url(format!("{}/good", srv.base)))
        .unwrap();
    assert_eq!(srv.hits(), before);
}

#[test]
fn a_url_template_names_each_file() {
    let srv = server();
    let cache = tempfile::tempdir().unwrap();
    let s = store(cache.path(), false);
    // `{name}` is not the file name, so the server's route sees `/good/<name>.bin`.
    s.install_from(
        &[CLS],
        &Source::Url(format!("{}/good/{{name}}.bin", srv.base)),
    )
    .unwrap();
    assert!(s.model_path(CLS).is_ok());
    assert_eq!(
        folio_store::model_url("http://h/m/", CLS.spec()),
        "http://h/m/ch_ppocr_mobile_v2.0_cls_mobile.onnx"
    );
}

fn refused(case: &str) -> (String, PathBuf) {
    let srv = server();
    let cache = tempfile::tempdir().unwrap();
    let s = store(cache.path(), false);
    let err = s
        .install_from(&[CLS], &Source::Url(format!("{}/{case}", srv.base)))
        .unwrap_err();
    assert!(
        matches!(err, ModelError::Download { .. }),
        "{case}: {err:?}"
    );
    // Nothing installed, nothing left behind but the lock file.
    assert!(s.model_path(CLS).is_err(), "{case}");
    let left: Vec<PathBuf> = files(cache.path())
        .into_iter()
        .filter(|p| !p.ends_with(".lock"))
        .collect();
    assert!(left.is_empty(), "{case}: {left:?}");
    (err.to_string(), cache.keep())
}

#[test]
fn wrong_bytes_are_refused() {
    let (msg, _) = refused("wrong");
    assert!(msg.contains("sha256") && msg.contains("expected"), "{msg}");
}

#[test]
fn a_truncated_body_is_refused() {
    let (msg, _) = refused("short");
    assert!(
        msg.contains("/short/") && msg.contains("of 585532 bytes"),
        "{msg}"
    );
}

#[test]
fn a_missing_file_names_the_http_status() {
    let (msg, _) = refused("nothing-here");
    assert!(msg.contains("404"), "{msg}");
}

#[test]
fn a_body_longer_than_the_model_is_cut_off() {
    let (msg, _) = refused("big");
    assert!(msg.contains("more than the expected 585532 bytes"), "{msg}");
}

#[test]
fn a_stalled_server_times_out() {
    let start = Instant::now();
    let (msg, _) = refused("stall");
    // The store's read timeout is 2 s; the server would hold the connection for 120 s.
    assert!(start.elapsed() < Duration::from_secs(60), "{msg}");
    assert!(
        msg.to_lowercase().contains("timeout") || msg.contains("timed out"),
        "{msg}"
    );
}

#[test]
fn offline_refuses_url_and_pip_without_a_request() {
    let srv = server();
    let cache = tempfile::tempdir().unwrap();
    let s = store(cache.path(), true);
    for source in [Source::Url(format!("{}/good", srv.base)), Source::Pip] {
        let err = s.install_from(&[CLS], &source).unwrap_err();
        assert!(matches!(err, ModelError::Offline { .. }), "{err:?}");
        assert!(
            err.to_string().contains("folio models install --from DIR"),
            "{err}"
        );
    }
    assert_eq!(srv.hits(), 0);
    // A missing model names the offline fix too.
    let missing = s.model_path(CLS).unwrap_err().to_string();
    assert!(
        missing.contains("folio models install --from DIR"),
        "{missing}"
    );
}

#[test]
fn folio_model_url_is_the_default_source() {
    let cfg = StoreConfig::from_vars(&|k| match k {
        "FOLIO_MODEL_URL" => Some("http://127.0.0.1:1/m".into()),
        "FOLIO_HTTP_TIMEOUT" => Some("5".into()),
        _ => None,
    });
    assert_eq!(cfg.source, Source::Url("http://127.0.0.1:1/m".into()));
    assert_eq!(cfg.http_timeout, Duration::from_secs(5));
    assert!(!cfg.offline);
    // A local mirror keeps an offline machine able to heal itself.
    let local = StoreConfig::from_vars(&|k| match k {
        "FOLIO_MODEL_URL" => Some("file:///srv/folio-wheels".into()),
        "FOLIO_OFFLINE" => Some("1".into()),
        _ => None,
    });
    assert_eq!(local.source, Source::Local("/srv/folio-wheels".into()));
    let cache = tempfile::tempdir().unwrap();
    let s = Store::open(StoreConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..local
    });
    assert_eq!(s.install_hint(), "folio models install");
}
