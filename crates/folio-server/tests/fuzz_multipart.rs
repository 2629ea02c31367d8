//! Bounded mutation fuzzing of the multipart upload (`fuzz/mutate.rs`): mutated bodies sent to
//! `POST /extract` through the router, without a socket. Every answer must be a status below
//! 500 with a JSON body, and never a panic. `FOLIO_FUZZ_SECS` sets the time (default 10 s).

mod common;
#[path = "../../../fuzz/mutate.rs"]
mod mutate;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use common::{config, multipart, Part};
use folio_engine::Engine;
use folio_server::Server;
use tower::ServiceExt;

#[test]
fn fuzz_multipart_upload() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(async {
        let mut c = config(dir.path());
        c.limits.max_input_bytes = 1 << 20;
        Server::new(Arc::new(Engine::new()), c).unwrap()
    });
    let router = server.router();
    let pdf = folio_worker::fake::text_pdf(1, 2);
    let (content_type, seed) = multipart(&[
        Part::Field("format", "json"),
        Part::Field("pages", "1"),
        Part::Field("ocr", "never"),
        Part::File("a.pdf", &pdf),
    ]);
    let (_, minimal) = multipart(&[Part::File("a.txt", b"hello")]);
    let tokens: [&[u8]; 8] = [
        b"--folio-test-boundary-7d1c\r\n",
        b"--folio-test-boundary-7d1c--\r\n",
        b"Content-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n",
        b"Content-Disposition: form-data; name=\"pages\"\r\n\r\n",
        b"\r\n\r\n",
        b"Content-Type: text/plain\r\n",
        b"name=\"password\"",
        b"filename*=UTF-8''%ff",
    ];
    let runs = mutate::run(
        "multipart",
        &[seed, minimal],
        &tokens,
        mutate::budget(Duration::from_secs(10)),
        |input| {
            let request = Request::post("/extract")
                .header("content-type", &content_type)
                .body(Body::from(input.to_vec()))
                .unwrap();
            let router = router.clone();
            let (status, body) = rt.block_on(async move {
                let response = router.oneshot(request).await.unwrap();
                let status = response.status();
                let body = axum::body::to_bytes(response.into_body(), 64 << 20)
                    .await
                    .unwrap();
                (status, body)
            });
            if status.is_server_error() {
                return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
            }
            if !status.is_success() && serde_json::from_slice::<serde_json::Value>(&body).is_err() {
                return Err(format!(
                    "{status} without JSON: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            Ok(())
        },
    );
    assert!(runs > 0);
}
