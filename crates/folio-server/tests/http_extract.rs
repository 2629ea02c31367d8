//! `POST /extract` against the real server on 127.0.0.1: auth, sync answers, every error code.

mod common;

use std::time::Duration;

use common::*;
use folio_server::ApiKeys;

fn keyed_server(keys: &[&str]) -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.api_keys = ApiKeys::new(keys.iter().map(|k| k.to_string()));
    let s = TestServer::start(c);
    (dir, s)
}

#[test]
fn api_keys_none_wrong_right_and_several() {
    let (_dir, s) = keyed_server(&["first-key", "second-key"]);
    let pdf = fixture("two-columns.pdf");
    let form = [Part::File("two-columns.pdf", &pdf)];
    let url = s.url("/extract");

    let m = post_form(&url, &[], &form).assert_error(401, "unauthorized");
    assert!(m.contains("X-API-Key"), "{m}");
    post_form(&url, &[("x-api-key", "wrong")], &form).assert_error(401, "unauthorized");
    // A prefix of a real key is still wrong.
    post_form(&url, &[("x-api-key", "first")], &form).assert_error(401, "unauthorized");
    assert_eq!(
        post_form(&url, &[("x-api-key", "first-key")], &form).status,
        200
    );
    assert_eq!(
        post_form(&url, &[("x-api-key", "second-key")], &form).status,
        200
    );
    let bearer = post_form(&url, &[("authorization", "Bearer second-key")], &form);
    assert_eq!(bearer.status, 200);
    // Jobs need the key too; health does not.
    get(&s.url("/v1/jobs/00000000000000000000000000000000"), &[]).assert_error(401, "unauthorized");
    assert_eq!(get(&s.url("/health"), &[]).status, 200);
}

#[test]
fn json_answer_has_content_pages_provenance_and_timings() {
    let (_dir, s) = keyed_server(&[]);
    let pdf = doc(PAPER);
    let r = post_form(&s.url("/extract"), &[], &[Part::File("paper.pdf", &pdf)]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let v = r.json();
    assert_eq!(v["format"], "markdown");
    let md = v["content"].as_str().unwrap();
    assert!(md.contains("## 5.1 Hyper Parameter Optimization"), "{md}");
    assert!(md.contains("| 6 | 6 | OTSL HTML | 0.965 0.969 |"), "{md}");
    assert_eq!(v["page_count"], 1);
    assert_eq!(v["pages_extracted"], 1);
    assert_eq!(v["pages"][0]["page"], 1);
    assert_eq!(v["pages"][0]["source"], "text_layer");
    assert!(v["pages"][0]["decision"]
        .as_str()
        .unwrap()
        .contains("text layer"));
    assert_eq!(v["status"], "success");
    assert!(v["timings"]["total_ms"].as_u64().is_some());

    // The document model itself for format=json, and a page selection.
    let pdf = fixture("two-columns.pdf");
    let r = post_form(
        &s.url("/extract"),
        &[],
        &[
            Part::File("two-columns.pdf", &pdf),
            Part::Field("format", "json"),
            Part::Field("pages", "2-3"),
            Part::Field("ocr", "never"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["content"]["schema"], "folio.document.v1");
    assert_eq!(v["page_count"], 3);
    assert_eq!(v["pages_extracted"], 2);
    assert_eq!(v["pages"][0]["page"], 2);
}

#[test]
fn accept_asks_for_the_raw_rendering() {
    let (_dir, s) = keyed_server(&[]);
    let pdf = doc(PAPER);
    let form = [Part::File("paper.pdf", &pdf)];
    let url = s.url("/extract");

    let md = post_form(&url, &[("accept", "text/markdown")], &form);
    assert_eq!(md.status, 200);
    assert_eq!(
        md.header("content-type"),
        Some("text/markdown; charset=utf-8")
    );
    assert!(md.text().contains("## 5.1 Hyper Parameter Optimization"));
    assert!(!md.text().contains("\"content\""));
    assert_eq!(md.header("x-folio-page-count"), Some("1"));

    let html = post_form(&url, &[("accept", "text/html")], &form);
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let h = html.text();
    assert!(
        h.contains("<h2>5.1 Hyper Parameter Optimization</h2>"),
        "{h}"
    );
    assert!(h.contains("<table"), "{h}");

    let text = post_form(&url, &[("accept", "text/plain")], &form);
    assert_eq!(
        text.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(text
        .text()
        .contains("We have chosen the PubTabNet data set"));
    assert!(!text.text().contains("## "));

    // An explicit format that contradicts Accept is refused, not guessed.
    let both = [Part::File("paper.pdf", &pdf), Part::Field("format", "json")];
    post_form(&url, &[("accept", "text/markdown")], &both).assert_error(400, "bad_option");
}

#[test]
fn bad_options_and_bad_requests_are_400() {
    let (_dir, s) = keyed_server(&[]);
    let pdf = fixture("two-columns.pdf");
    let url = s.url("/extract");
    for (field, value, needle) in [
        ("format", "docx", "docx"),
        ("pages", "3-1", "3-1"),
        ("pages", "0", "numbered from 1"),
        ("ocr", "maybe", "maybe"),
        ("fromat", "json", "fromat"),
    ] {
        let m = post_form(
            &url,
            &[],
            &[Part::File("a.pdf", &pdf), Part::Field(field, value)],
        )
        .assert_error(400, "bad_option");
        assert!(m.contains(needle), "{field}={value}: {m}");
    }
    post_form(&url, &[], &[Part::Field("format", "json")]).assert_error(400, "missing_file");
    post_form(
        &url,
        &[],
        &[Part::File("a.pdf", &pdf), Part::File("b.pdf", &pdf)],
    )
    .assert_error(400, "bad_request");
    // A truncated multipart body.
    let (ct, body) = multipart(&[Part::File("a.pdf", &pdf)]);
    post(&url, &[], &ct, &body[..body.len() / 2]).assert_error(400, "bad_multipart");
}

#[test]
fn oversized_bodies_are_413() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.limits.max_input_bytes = 64 * 1024;
    let s = TestServer::start(c);
    // Over the body limit (document limit plus 1 MiB of framing).
    let big = long_pdf(400);
    assert!(big.len() > 1024 * 1024 + 64 * 1024);
    let m = post_form(&s.url("/extract"), &[], &[Part::File("big.pdf", &big)])
        .assert_error(413, "too_large");
    assert!(m.contains("limit"), "{m}");
    // Within the body limit but over the document limit: the engine's own code.
    let mid = long_pdf(40);
    assert!(mid.len() > 64 * 1024);
    let m = post_form(&s.url("/extract"), &[], &[Part::File("mid.pdf", &mid)])
        .assert_error(413, "too_large");
    assert!(m.contains("over the limit"), "{m}");
    post_form(&s.url("/v1/jobs"), &[], &[Part::File("big.pdf", &big)])
        .assert_error(413, "too_large");
    // Several rounds, because the answer racing the upload is what went wrong before the
    // server drained unread bodies: the client saw a broken pipe instead of the 413.
    for _ in 0..5 {
        post_form(&s.url("/extract"), &[], &[Part::File("big.pdf", &big)])
            .assert_error(413, "too_large");
    }
}

#[test]
fn an_early_answer_reaches_a_client_that_is_still_sending() {
    let (_dir, s) = keyed_server(&["the-key"]);
    // Refused before a byte of the 8 MB body is read.
    let big = vec![b'x'; 8 * 1024 * 1024];
    for _ in 0..3 {
        post_form(&s.url("/extract"), &[], &[Part::File("big.pdf", &big)])
            .assert_error(401, "unauthorized");
    }
}

#[test]
fn a_client_that_never_stops_sending_is_cut_off() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.limits.max_input_bytes = 64 * 1024;
    let s = TestServer::start(c);
    let address = s.url("").trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let head = "POST /extract HTTP/1.1\r\nhost: folio\r\n\
                content-type: multipart/form-data; boundary=b\r\n\
                content-length: 4294967296\r\n\r\n\
                --b\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    let mut sent = 0usize;
    let error = loop {
        match stream.write(&chunk) {
            Ok(n) => sent += n,
            Err(e) => break e,
        }
        assert!(sent < 256 * 1024 * 1024, "the server read {sent} bytes");
    };
    // Closed by the server, not stalled: a stall would end in a write timeout.
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
        ),
        "{error}"
    );
    // Past the 1 MiB body limit the server drained its 32 MiB, then cut the client off.
    let mib = sent / (1024 * 1024);
    assert!((32..96).contains(&mib), "the server took {mib} MiB");
}

#[test]
fn office_web_and_text_documents_are_extracted() {
    let (_dir, s) = keyed_server(&[]);
    let url = s.url("/extract");
    let office =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/office");
    let docx = std::fs::read(office.join("word_tables.docx")).expect("fixture");
    // Detected by content: the name says nothing.
    let r = post_form(
        &url,
        &[],
        &[
            Part::File("report.bin", &docx),
            Part::Field("format", "json"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["content"]["metadata"]["format"], "docx", "{v}");
    assert_eq!(v["content"]["pages"][0]["width"], 0.0, "a flow page");
    let r = post_form(&url, &[], &[Part::File("notes.txt", b"just some notes\n")]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.json()["content"]
            .as_str()
            .unwrap_or("")
            .contains("just some notes"),
        "{}",
        r.text()
    );
}

#[test]
fn unsupported_types_are_415() {
    let (_dir, s) = keyed_server(&[]);
    let url = s.url("/extract");
    // Not multipart at all.
    let pdf = fixture("two-columns.pdf");
    post(&url, &[], "application/pdf", &pdf).assert_error(415, "unsupported_media_type");
    // Binary data that is no format Folio reads; the message lists those it does.
    let noise: Vec<u8> = (0..512u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let m = post_form(&url, &[], &[Part::File("blob.bin", &noise)])
        .assert_error(415, "unsupported_type");
    assert!(
        m.contains("not a format Folio reads") && m.contains("DOCX"),
        "{m}"
    );
    // An image is a supported type; this server has no OCR models, which is the service's
    // state, not the document's fault.
    let jpg = doc(RECEIPT);
    let m =
        post_form(&url, &[], &[Part::File("r.jpg", &jpg)]).assert_error(503, "models_unavailable");
    assert!(m.contains("OCR"), "{m}");
}

#[test]
fn unreadable_documents_are_422_with_the_reason() {
    let (_dir, s) = keyed_server(&[]);
    let url = s.url("/extract");
    let damaged = doc(DAMAGED);
    let m = post_form(&url, &[], &[Part::File("d.pdf", &damaged)]).assert_error(422, "unreadable");
    assert!(m.contains("cannot read the document"), "{m}");
    post_form(&url, &[], &[Part::File("e.pdf", b"")]).assert_error(422, "empty_input");

    let enc = doc(ENCRYPTED);
    let m =
        post_form(&url, &[], &[Part::File("enc.pdf", &enc)]).assert_error(422, "password_required");
    assert!(m.contains("encrypted"), "{m}");
    post_form(
        &url,
        &[],
        &[
            Part::File("enc.pdf", &enc),
            Part::Field("password", "wrong"),
        ],
    )
    .assert_error(422, "wrong_password");
    let ok = post_form(
        &url,
        &[],
        &[
            Part::File("enc.pdf", &enc),
            Part::Field("password", "openpassword"),
        ],
    );
    assert_eq!(ok.status, 200, "{}", ok.text());

    let pdf = fixture("two-columns.pdf");
    let m = post_form(
        &url,
        &[],
        &[Part::File("a.pdf", &pdf), Part::Field("pages", "9")],
    )
    .assert_error(422, "no_such_page");
    assert!(m.contains("3 pages"), "{m}");
}

#[test]
fn malformed_files_never_get_a_5xx() {
    let (_dir, s) = keyed_server(&[]);
    let dir = repo().join("tests/fixtures/robust");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() > 50);
    for path in files.iter().step_by(3) {
        let bytes = std::fs::read(path).unwrap();
        let r = post_form(&s.url("/extract"), &[], &[Part::File("x.pdf", &bytes)]);
        assert!(
            r.status == 200 || (400..500).contains(&r.status),
            "{}: {} {}",
            path.display(),
            r.status,
            r.text()
        );
        if r.status != 200 {
            r.json()["error"]["code"].as_str().unwrap();
        }
    }
}

#[test]
fn a_full_server_answers_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.max_concurrent = 1;
    c.max_queue = 1;
    let s = TestServer::start(c);
    let slow = long_pdf(1500);
    let url = s.url("/extract");
    let busy: Vec<_> = (0..2)
        .map(|_| {
            let (url, slow) = (url.clone(), slow.clone());
            std::thread::spawn(move || post_form(&url, &[], &[Part::File("slow.pdf", &slow)]))
        })
        .collect();
    // One running, one waiting: the next one has no place.
    wait_until(
        Duration::from_secs(60),
        "a running and a queued extraction",
        || {
            let m = get(&s.url("/metrics"), &[]).text();
            m.contains("folio_extractions_running 1") && m.contains("folio_extractions_queued 1")
        },
    );
    let pdf = fixture("two-columns.pdf");
    let r = post_form(&url, &[], &[Part::File("a.pdf", &pdf)]);
    r.assert_error(429, "busy");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    // The turned-away request did not disturb the admitted ones.
    for t in busy {
        let r = t.join().unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["pages_extracted"], 1500);
    }
}

#[test]
fn the_request_time_limit_is_503_timeout_and_points_to_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.request_timeout = Duration::from_millis(300);
    let s = TestServer::start(c);
    let slow = long_pdf(1500);
    let m = post_form(&s.url("/extract"), &[], &[Part::File("slow.pdf", &slow)])
        .assert_error(503, "timeout");
    assert!(m.contains("/v1/jobs"), "{m}");
    // The slot was given back: a quick document still goes through.
    let pdf = fixture("two-columns.pdf");
    wait_until(Duration::from_secs(30), "the slot to come back", || {
        post_form(&s.url("/extract"), &[], &[Part::File("a.pdf", &pdf)]).status == 200
    });
}

#[test]
fn a_client_that_disconnects_cancels_its_extraction() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(config(dir.path()));
    // Long enough that finishing it would take far longer than the bound below.
    let slow = long_pdf(4000);
    let (ct, body) = multipart(&[Part::File("slow.pdf", &slow)]);
    let mut conn = std::net::TcpStream::connect(s.addr).unwrap();
    write!(
        conn,
        "POST /extract HTTP/1.1\r\nHost: {}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        s.addr,
        body.len()
    )
    .unwrap();
    conn.write_all(&body).unwrap();
    wait_until(Duration::from_secs(60), "the extraction to start", || {
        get(&s.url("/metrics"), &[])
            .text()
            .contains("folio_extractions_running 1")
    });
    drop(conn);
    wait_until(
        Duration::from_secs(10),
        "the extraction to stop after the client left",
        || {
            let m = get(&s.url("/metrics"), &[]).text();
            m.contains("folio_extractions_running 0")
                && m.contains("folio_http_requests_in_flight 1")
        },
    );
    let m = get(&s.url("/metrics"), &[]).text();
    assert!(m.contains("folio_pages_extracted_total 0"), "{m}");
}

#[test]
fn an_upload_that_trickles_past_the_time_limit_is_408() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.request_timeout = Duration::from_millis(500);
    let s = TestServer::start(c);
    let pdf = fixture("two-columns.pdf");
    let (ct, body) = multipart(&[Part::File("a.pdf", &pdf)]);
    let mut conn = std::net::TcpStream::connect(s.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        conn,
        "POST /extract HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    // Half the body, then silence.
    conn.write_all(&body[..body.len() / 2]).unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(r#"{"error":{"code":"upload_timeout""#),
        "{answer}"
    );
}
