//! Hostile input against the real binary: a decompression bomb under an address-space cap, a
//! page that never ends, a PNG strip refused from its header, and `folio serve` staying up
//! through them. The hostile files are built here; nothing large is kept in the repository.

mod cli_common;
#[path = "../../folio-pdf/tests/common/hostile.rs"]
mod hostile;
#[path = "../../folio-pdf/tests/common/pdf_writer.rs"]
mod pdf_writer;
mod serve_common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use cli_common::*;
use hostile::{flate_bomb_pdf, nested_forms_pdf};
use serve_common::{agent, children_of, post_form, ticks_of};

/// The address-space cap the bomb runs under: a container's memory limit, far below the 8 GiB
/// the bomb used to allocate.
const ADDRESS_SPACE: &str = "3G";

fn prlimit_available() -> bool {
    Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn folio_cmd() -> Command {
    let mut c = Command::new("prlimit");
    c.arg(format!("--as={}", bytes_of(ADDRESS_SPACE)))
        .arg(env!("CARGO_BIN_EXE_folio"));
    for (k, _) in std::env::vars() {
        if k.starts_with("FOLIO_") {
            c.env_remove(k);
        }
    }
    c
}

fn bytes_of(size: &str) -> u64 {
    let gib: u64 = size.trim_end_matches('G').parse().unwrap();
    gib << 30
}

#[test]
fn the_decompression_bomb_is_a_warning_under_a_memory_cap() {
    assert!(prlimit_available(), "prlimit (util-linux) is needed");
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.pdf");
    let bytes = flate_bomb_pdf(512, 16);
    assert!(bytes.len() < 1_000_000, "{} bytes", bytes.len());
    std::fs::write(&bomb, bytes).unwrap();
    let started = Instant::now();
    let o = folio_cmd()
        .args(["extract", "--ocr", "never", "--format", "text"])
        .arg(&bomb)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "stderr: {err}");
    assert!(stdout(&o).contains("Before the bomb"), "{}", stdout(&o));
    assert!(
        err.contains("reader limit"),
        "the page is reported partial: {err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_png_strip_is_refused_from_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let strip = dir.path().join("strip.png");
    std::fs::write(&strip, strip_png(39_000_000)).unwrap();
    assert!(std::fs::metadata(&strip).unwrap().len() < 200_000);
    let started = Instant::now();
    let o = folio(&["extract", strip.to_str().unwrap(), "--ocr", "never"]);
    assert_clean_failure(&o, "over the limit of 32768 pixels on a side");
    // Refused from the header: nothing was inflated (39 M pixels would take seconds).
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

fn strip_png(width: u32) -> Vec<u8> {
    black_png(width, 1)
}

/// A PNG of `width` x `height` black RGB pixels, written chunk by chunk (no encoder would
/// write a 39,000,000-pixel row without holding it).
fn black_png(width: u32, height: u32) -> Vec<u8> {
    use std::io::Write;
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // The strip must stay small (best); the big image must be quick to make (fast).
    let level = if height == 1 {
        flate2::Compression::best()
    } else {
        flate2::Compression::fast()
    };
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), level);
    let row = vec![0u8; width as usize * 3 + 1]; // a filter byte, then the pixels
    for _ in 0..height {
        z.write_all(&row).unwrap();
    }
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

/// `folio serve` under the address-space cap, on a free port.
struct Serve {
    child: Child,
    base: String,
}

impl Serve {
    fn start(data: &Path, extra: &[&str]) -> Serve {
        let mut cmd = folio_cmd();
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(["--max-concurrent", "2"])
            .args(extra);
        let (child, base) = serve_common::spawn_serve(cmd);
        Serve { child, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// CPU time (user + system, in clock ticks) the server and its extraction processes have
    /// used so far.
    fn cpu_ticks(&self) -> u64 {
        // prlimit execs folio in place, so the child's pid is the server's.
        let pid = self.child.id();
        std::iter::once(pid)
            .chain(children_of(pid))
            .map(ticks_of)
            .sum()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs `pdf` to `/extract` and returns the status and the JSON body.
fn extract(s: &Serve, pdf: &[u8]) -> (u16, serde_json::Value) {
    extract_named(s, pdf, "x.pdf")
}

fn extract_named(s: &Serve, pdf: &[u8], name: &str) -> (u16, serde_json::Value) {
    post_form(&s.url("/extract"), (name, pdf), &[("ocr", "never")])
}

fn health(s: &Serve) -> u16 {
    agent()
        .get(&s.url("/health"))
        .call()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[test]
fn the_server_under_a_memory_cap_survives_the_bomb_and_the_endless_page() {
    assert!(prlimit_available(), "prlimit (util-linux) is needed");
    let dir = tempfile::tempdir().unwrap();
    let mut s = Serve::start(dir.path(), &["--page-timeout", "2"]);
    assert_eq!(health(&s), 200);

    // The page either ends with its content cut (200 and a warning) or, on a slow machine,
    // at the page time limit (422): a clean answer either way.
    let (status, body) = extract(&s, &flate_bomb_pdf(512, 16));
    match status {
        200 => assert!(body.to_string().contains("reader limit"), "{body}"),
        422 => assert!(body["error"]["code"].is_string(), "{body}"),
        other => panic!("{other}: {body}"),
    }
    assert!(s.alive(), "the server died on the bomb");
    assert_eq!(health(&s), 200);

    // The endless page: unlimited by its operators for two seconds, then cancelled.
    let (status, body) = extract(&s, &nested_forms_pdf(10, 10));
    assert!(
        status == 422 || status == 200,
        "a clean answer expected, got {status}: {body}"
    );
    assert!(s.alive());
    // Within a second of the answer the page's thread has stopped: the server's CPU time
    // no longer grows (a tick is 10 ms; a thread left spinning would add 100 per second).
    std::thread::sleep(Duration::from_secs(1));
    let before = s.cpu_ticks();
    std::thread::sleep(Duration::from_secs(1));
    let used = s.cpu_ticks() - before;
    assert!(used < 20, "the server used {used} ticks in an idle second");
    assert_eq!(health(&s), 200);
}
