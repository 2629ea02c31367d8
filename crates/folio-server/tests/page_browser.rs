//! The page at `/` in headless Chromium, driven over W3C WebDriver (chromedriver): a person
//! types the key, picks a PDF, and sees its Markdown and the rendered HTML.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/setup.d/30-browser.sh`), so the test is
//! `#[ignore]`d in `mod needs_browser`, which `scripts/test.sh` runs when they are there (and CI
//! always). Run without them, it fails, saying so: it never passes silently.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use folio_server::ApiKeys;
use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn chromedriver_path() -> String {
    let found = Command::new("sh")
        .args(["-c", "command -v chromedriver"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match found {
        Some(p) if Path::new(CHROMIUM).exists() => p,
        _ => panic!(
            "headless Chromium is not installed ({CHROMIUM} and chromedriver are needed): \
             run `sudo bash .ci/setup.d/30-browser.sh` (CI installs them)"
        ),
    }
}

struct Driver {
    process: Child,
    base: String,
    session: Option<String>,
    agent: ureq::Agent,
}

impl Driver {
    fn start() -> Driver {
        let exe = chromedriver_path();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(exe)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let d = Driver {
            process,
            base: format!("http://127.0.0.1:{port}"),
            session: None,
            agent,
        };
        let start = Instant::now();
        loop {
            if let Ok(mut r) = d.agent.get(format!("{}/status", d.base)).call() {
                let v: Value =
                    serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
                if v["value"]["ready"] == true {
                    break;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        d
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut r = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .header("content-type", "application/json")
                .send(body.unwrap_or(json!({})).to_string()),
        }
        .unwrap();
        let ok = r.status().is_success();
        let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        assert!(ok, "WebDriver {method} {path}: {v}");
        v["value"].clone()
    }

    fn s(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session.as_ref().unwrap())
    }

    fn new_session(&mut self, profile: &Path) {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}});
        let v = self.call("POST", "/session", Some(caps));
        let id = v["sessionId"].as_str();
        self.session = Some(id.unwrap_or_else(|| panic!("no session: {v}")).to_string());
    }

    fn element(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            &self.s("/element"),
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.element(css);
        self.call("POST", &self.s(&format!("/element/{e}/clear")), None);
        self.call(
            "POST",
            &self.s(&format!("/element/{e}/value")),
            Some(json!({"text": text})),
        );
    }

    fn text(&self, css: &str) -> String {
        let e = self.element(css);
        self.call("GET", &self.s(&format!("/element/{e}/text")), None)
            .as_str()
            .unwrap()
            .to_string()
    }

    fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            &self.s("/execute/sync"),
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Picks `file` in the page's file input and waits for the page to finish with it.
    fn upload(&self, file: &Path) -> String {
        // Chromium takes canonical paths only.
        let file = file.canonicalize().unwrap();
        self.type_into("#file", file.to_str().unwrap());
        let start = Instant::now();
        loop {
            let done = self.script("return document.body.dataset.done || '';");
            if done != "" {
                return done.as_str().unwrap().to_string();
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "the page never finished; status: {}",
                self.text("#status")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(id) = self.session.take() {
            let _ = self
                .agent
                .delete(format!("{}/session/{id}", self.base))
                .call();
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// `#[ignore]`d in a plain `cargo test`; `scripts/test.sh` runs it (`--ignored needs_browser::`)
/// where Chromium and chromedriver are installed, as CI does.
mod needs_browser {
    use super::*;

    #[test]
    #[ignore = "needs a browser: headless Chromium and chromedriver"]
    fn a_person_drops_a_pdf_and_sees_its_markdown_and_rendering() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path());
        c.api_keys = ApiKeys::new(["browser-key".to_string()]);
        let s = TestServer::start(c);
        let profile = tempfile::tempdir().unwrap();

        let mut d = Driver::start();
        d.new_session(profile.path());
        d.call("POST", &d.s("/url"), Some(json!({"url": s.url("/")})));
        assert_eq!(d.script("return document.title;"), "Folio");

        // A wrong key: the page says why, and shows no content.
        let two_columns = repo().join("tests/fixtures/pdf/two-columns.pdf");
        d.type_into("#key", "not-the-key");
        assert_eq!(d.upload(&two_columns), "error");
        let status = d.text("#status");
        assert!(
            status.contains("401") && status.contains("unauthorized"),
            "{status}"
        );
        assert_eq!(d.text("#markdown"), "");

        // The right key and a real paper page.
        let paper = repo().join("tests/fixtures").join(PAPER);
        d.type_into("#key", "browser-key");
        assert_eq!(d.upload(&paper), "1", "{}", d.text("#status"));
        let md = d.text("#markdown");
        assert!(md.contains("## 5.1 Hyper Parameter Optimization"), "{md}");
        assert!(md.contains("We have chosen the PubTabNet data set"), "{md}");
        assert!(md.contains("| 6 | 6 | OTSL HTML | 0.965 0.969 |"), "{md}");
        let status = d.text("#status");
        assert!(status.contains("1 pages"), "{status}");

        // The rendering is the server's HTML, in a sandboxed frame.
        let frame = d.element("#rendered");
        assert_eq!(
            d.script("return document.getElementById('rendered').getAttribute('sandbox');"),
            ""
        );
        d.call(
            "POST",
            &d.s("/frame"),
            Some(json!({"id": {(ELEMENT): frame}})),
        );
        let heading = d.text("h2");
        assert_eq!(heading, "5.1 Hyper Parameter Optimization");
        let cells = d.script("return document.querySelectorAll('table td, table th').length;");
        assert!(cells.as_u64().unwrap() > 10, "{cells}");
        d.call("POST", &d.s("/frame/parent"), None);

        // A slide deck with the speaker-notes box ticked: the notes follow each slide.
        let deck = repo().join("tests/fixtures/office/speaker_notes.pptx");
        assert_eq!(d.upload(&deck), "1", "{}", d.text("#status"));
        assert!(!d.text("#markdown").contains("Speaker note"));
        d.script("document.getElementById('notes').checked = true; return null;");
        let book = repo().join("tests/fixtures/office/hidden_sheet.xlsx");
        d.script("document.getElementById('hidden-sheets').checked = true; return null;");
        assert_eq!(d.upload(&book), "1", "{}", d.text("#status"));
        let md = d.text("#markdown");
        assert!(md.contains("| Discount | 0.15 |"), "{md}");
        assert_eq!(d.upload(&deck), "1", "{}", d.text("#status"));
        let md = d.text("#markdown");
        assert!(md.contains("Speaker note 2: mention the budget."), "{md}");
    }
}
