//! A loopback server that plays RunPod's side of the serverless protocol, for tests.
//!
//! It serves the endpoints a worker calls, under the paths RunPod uses
//! (`/v2/<endpoint>/job-take/<worker>`, `/job-stop/<worker>`, `/job-done/<worker>/<job>`,
//! `/ping/<worker>`), answers the way the SDK expects (204 for no job, a JSON job object, 401
//! without the right `Authorization`), and records every request so a test can check what the
//! worker sent. It can fail result posts, answer takes with scripted statuses (429, 400, 500),
//! signal stops, and serve documents for `file_url`, optionally slowly.
//!
//! Plain `std::net`, one thread per connection, `Connection: close`: enough for a handful of
//! requests a second, which is all a worker makes.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

/// One request the worker made.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET` or `POST`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

impl Recorded {
    /// A header's value (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Which endpoint: `job-take`, `job-stop`, `job-done`, `ping` or `files`.
    pub fn endpoint(&self) -> &str {
        let parts: Vec<&str> = self.path.split('/').collect();
        match parts.as_slice() {
            ["", "v2", _, kind, ..] => kind,
            ["", "files", ..] => "files",
            _ => "",
        }
    }
}

/// A result the worker posted.
#[derive(Debug, Clone)]
pub struct Posted {
    /// The job id from the URL.
    pub job_id: String,
    /// The body, parsed as JSON.
    pub body: Value,
}

#[derive(Debug, Default)]
struct File {
    bytes: Vec<u8>,
    /// Send this many bytes, then pause, until done.
    trickle: Option<(usize, Duration)>,
}

#[derive(Debug, Default)]
struct State {
    jobs: VecDeque<Value>,
    taken: Vec<String>,
    take_script: VecDeque<u16>,
    post_failures: VecDeque<u16>,
    stops: VecDeque<String>,
    files: HashMap<String, Arc<File>>,
    requests: Vec<Recorded>,
    results: Vec<Posted>,
    progress: Vec<Posted>,
}

#[derive(Debug)]
struct Inner {
    api_key: String,
    state: Mutex<State>,
    changed: Condvar,
    closing: AtomicBool,
    /// How long an empty job take or stop poll is held open, as RunPod long-polls.
    hold: Duration,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The fake RunPod queue. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeRunPod {
    addr: SocketAddr,
    inner: Arc<Inner>,
}

/// The endpoint name in the fake's URLs.
const ENDPOINT: &str = "fake-endpoint";

impl FakeRunPod {
    /// Starts a server on `127.0.0.1` (a free port) that accepts `api_key`.
    pub fn start(api_key: &str) -> std::io::Result<FakeRunPod> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            api_key: api_key.to_string(),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            closing: AtomicBool::new(false),
            hold: Duration::from_millis(200),
        });
        let shared = Arc::clone(&inner);
        std::thread::Builder::new()
            .name("fake-runpod".to_string())
            .spawn(move || {
                for stream in listener.incoming() {
                    if shared.closing.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let conn = Arc::clone(&shared);
                    let _ = std::thread::Builder::new()
                        .name("fake-runpod-conn".to_string())
                        .spawn(move || {
                            let _ = serve(&conn, stream);
                        });
                }
            })?;
        Ok(FakeRunPod { addr, inner })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The environment RunPod gives a worker, pointing at this server.
    pub fn env(&self, pod_id: &str, ping_interval_ms: u64) -> Vec<(String, String)> {
        let base = format!("{}/v2/{ENDPOINT}", self.base_url());
        vec![
            (
                "RUNPOD_WEBHOOK_GET_JOB".into(),
                format!("{base}/job-take/$ID?gpu=cpu"),
            ),
            (
                "RUNPOD_WEBHOOK_POST_OUTPUT".into(),
                format!("{base}/job-done/$RUNPOD_POD_ID/$ID?gpu=cpu"),
            ),
            (
                "RUNPOD_WEBHOOK_PING".into(),
                format!("{base}/ping/$RUNPOD_POD_ID?gpu=cpu"),
            ),
            ("RUNPOD_PING_INTERVAL".into(), ping_interval_ms.to_string()),
            ("RUNPOD_AI_API_KEY".into(), self.inner.api_key.clone()),
            ("RUNPOD_POD_ID".into(), pod_id.into()),
            ("RUNPOD_POD_HOSTNAME".into(), format!("{pod_id}-host")),
        ]
    }

    /// Queues a job `{"id": id, "input": input}`.
    pub fn push_job(&self, id: &str, input: Value) {
        self.push_raw(serde_json::json!({ "id": id, "input": input, "delayTime": 12 }));
    }

    /// Queues a job body as is.
    pub fn push_raw(&self, job: Value) {
        self.inner.state().jobs.push_back(job);
        self.inner.changed.notify_all();
    }

    /// Answers the next job takes with these statuses (429, 400, 500, ...) before serving jobs.
    pub fn script_takes(&self, statuses: &[u16]) {
        self.inner.state().take_script.extend(statuses);
    }

    /// Answers the next result posts with these statuses (e.g. 503) instead of accepting them.
    pub fn fail_posts(&self, statuses: &[u16]) {
        self.inner.state().post_failures.extend(statuses);
    }

    /// Signals the worker, on the stop channel, to stop job `id`.
    pub fn stop(&self, id: &str) {
        self.inner.state().stops.push_back(id.to_string());
        self.inner.changed.notify_all();
    }

    /// Serves `bytes` at `/files/<name>`; with `trickle`, `n` bytes at a time with a pause.
    pub fn serve_file(&self, name: &str, bytes: Vec<u8>, trickle: Option<(usize, Duration)>) {
        self.inner
            .state()
            .files
            .insert(name.to_string(), Arc::new(File { bytes, trickle }));
    }

    /// The URL of a served file.
    pub fn file_url(&self, name: &str) -> String {
        format!("{}/files/{name}", self.base_url())
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.state().requests.clone()
    }

    /// Requests to one endpoint (`job-take`, `job-done`, `ping`, `job-stop`, `files`).
    pub fn requests_to(&self, endpoint: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.endpoint() == endpoint)
            .collect()
    }

    /// Results accepted so far.
    pub fn results(&self) -> Vec<Posted> {
        self.inner.state().results.clone()
    }

    /// Progress updates (`"status": "IN_PROGRESS"`) received so far.
    pub fn progress(&self) -> Vec<Posted> {
        self.inner.state().progress.clone()
    }

    /// Ids of the jobs handed out so far.
    pub fn taken(&self) -> Vec<String> {
        self.inner.state().taken.clone()
    }

    /// Waits until `done` holds for the recorded requests, or `timeout`; returns whether it did.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&[Recorded]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.inner.state();
        loop {
            if done(&state.requests) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = match self.inner.changed.wait_timeout(state, left) {
                Ok((s, _)) => s,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Waits until `n` results were accepted.
    pub fn wait_for_results(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.inner.state();
        while state.results.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = match self.inner.changed.wait_timeout(state, left) {
                Ok((s, _)) => s,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }
}

impl Drop for FakeRunPod {
    fn drop(&mut self) {
        self.inner.closing.store(true, Ordering::SeqCst);
        self.inner.changed.notify_all();
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    trickle: Option<(usize, Duration)>,
}

impl Reply {
    fn status(status: u16) -> Reply {
        Reply {
            status,
            content_type: "text/plain",
            body: Vec::new(),
            trickle: None,
        }
    }

    fn json(value: &Value) -> Reply {
        Reply {
            status: 200,
            content_type: "application/json",
            body: value.to_string().into_bytes(),
            trickle: None,
        }
    }
}

fn serve(inner: &Inner, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), parse_query(q)),
        None => (target.clone(), Vec::new()),
    };
    let request = Recorded {
        method,
        path,
        query,
        headers,
        body,
        at: Instant::now(),
    };
    let reply = route(inner, &request);
    {
        let mut state = inner.state();
        state.requests.push(request);
    }
    inner.changed.notify_all();
    write_reply(stream, reply)
}

fn route(inner: &Inner, req: &Recorded) -> Reply {
    if req.endpoint() == "files" {
        let name = req.path.trim_start_matches("/files/");
        return match inner.state().files.get(name) {
            Some(file) => Reply {
                status: 200,
                content_type: "application/octet-stream",
                body: file.bytes.clone(),
                trickle: file.trickle,
            },
            None => Reply::status(404),
        };
    }
    if req.header("authorization") != Some(inner.api_key.as_str()) {
        return Reply::status(401);
    }
    match (req.method.as_str(), req.endpoint()) {
        ("GET", "job-take") => take(inner),
        ("GET", "job-stop") => stop_poll(inner),
        ("POST", "job-done") => {
            let mut state = inner.state();
            if let Some(status) = state.post_failures.pop_front() {
                return Reply::status(status);
            }
            let job_id = req.path.rsplit('/').next().unwrap_or_default().to_string();
            match serde_json::from_slice::<Value>(&req.body) {
                // The SDK's progress updates go to the same URL, marked IN_PROGRESS.
                Ok(body) if body.get("status").and_then(Value::as_str) == Some("IN_PROGRESS") => {
                    state.progress.push(Posted { job_id, body });
                    Reply::status(200)
                }
                Ok(body) => {
                    state.results.push(Posted { job_id, body });
                    Reply::status(200)
                }
                Err(_) => Reply::status(400),
            }
        }
        ("GET", "ping") => Reply::status(200),
        _ => Reply::status(404),
    }
}

/// A job, a scripted status, or 204 after holding the request open a moment.
fn take(inner: &Inner) -> Reply {
    let deadline = Instant::now() + inner.hold;
    let mut state = inner.state();
    if let Some(status) = state.take_script.pop_front() {
        return Reply::status(status);
    }
    loop {
        if let Some(job) = state.jobs.pop_front() {
            if let Some(id) = job.get("id").and_then(Value::as_str) {
                state.taken.push(id.to_string());
            }
            return Reply::json(&job);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || inner.closing.load(Ordering::SeqCst) {
            return Reply::status(204);
        }
        state = match inner.changed.wait_timeout(state, left) {
            Ok((s, _)) => s,
            Err(p) => p.into_inner().0,
        };
    }
}

fn stop_poll(inner: &Inner) -> Reply {
    let deadline = Instant::now() + inner.hold;
    let mut state = inner.state();
    loop {
        if !state.stops.is_empty() {
            let ids: Vec<String> = state.stops.drain(..).collect();
            return Reply::json(&serde_json::json!({ "jobsToStop": ids }));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || inner.closing.load(Ordering::SeqCst) {
            return Reply::status(204);
        }
        state = match inner.changed.wait_timeout(state, left) {
            Ok((s, _)) => s,
            Err(p) => p.into_inner().0,
        };
    }
}

fn write_reply(mut stream: TcpStream, reply: Reply) -> std::io::Result<()> {
    let reason = match reply.status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nConnection: close\r\n",
        reply.status
    );
    if reply.status != 204 {
        head.push_str(&format!(
            "Content-Type: {}\r\nContent-Length: {}\r\n",
            reply.content_type,
            reply.body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if reply.status == 204 {
        return stream.flush();
    }
    match reply.trickle {
        None => stream.write_all(&reply.body)?,
        Some((n, pause)) => {
            for chunk in reply.body.chunks(n.max(1)) {
                stream.write_all(chunk)?;
                stream.flush()?;
                std::thread::sleep(pause);
            }
        }
    }
    stream.flush()
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Form decoding: `+` is a space, `%XX` a byte.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A born-digital PDF with `pages` pages of `lines` lines of Helvetica text; line 1 of page N
/// reads `Folio worker test page N`. The text starts below the running-header band, so layout
/// analysis keeps it as body text. For tests and benchmarks that need documents of any length.
pub fn text_pdf(pages: usize, lines: usize) -> Vec<u8> {
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    for p in 1..=pages {
        let mut content =
            format!("BT /F1 11 Tf 14 TL 72 680 Td\n(Folio worker test page {p}) Tj T*\n");
        for l in 1..lines {
            content.push_str(&format!(
                "(Line {l} of page {p}: the quick brown fox jumps over the lazy dog again.) Tj T*\n"
            ));
        }
        content.push_str("ET");
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            3 + 2 * p
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len() + 1
        ));
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, obj) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{obj}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}
