//! Load generator for `folio serve` (used by `bench/serve_load.sh`; loopback only).
//!
//! ```text
//! serve_load load  --url http://127.0.0.1:PORT --clients 16 --seconds 20 --label NAME FILE
//! serve_load ready --url http://127.0.0.1:PORT --since-ns <epoch ns when the server was spawned>
//! serve_load pdf   --pages 20 OUT.pdf     (a generated born-digital PDF)
//! ```
//!
//! `load` runs `clients` threads, each POSTing FILE to /extract back to back for `seconds`,
//! then prints one JSON line: requests/s, p50/p99 latency, status counts. Exits 1 on any 5xx.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = arg(&args, "--url").unwrap_or_else(|| "http://127.0.0.1:8000".to_string());
    let loopback = url.starts_with("http://127.") || url.starts_with("http://[::1]");
    if !loopback && args.first().is_none_or(|a| a != "pdf") {
        eprintln!("serve_load: loopback URLs only");
        std::process::exit(2);
    }
    match args.first().map(String::as_str) {
        Some("ready") => ready(&url, &args),
        Some("load") => load(&url, &args),
        Some("pdf") => {
            let pages: usize = arg(&args, "--pages")
                .and_then(|p| p.parse().ok())
                .unwrap_or(20);
            let out = args.last().cloned().unwrap_or_default();
            std::fs::write(&out, folio_worker::fake::text_pdf(pages, 45)).unwrap();
        }
        _ => {
            eprintln!("usage: serve_load load|ready|pdf ...");
            std::process::exit(2);
        }
    }
}

fn ready(url: &str, args: &[String]) {
    let since: u128 = arg(args, "--since-ns")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let agent = agent();
    let start = Instant::now();
    loop {
        if let Ok(r) = agent.get(format!("{url}/ready")).call() {
            if r.status() == 200 {
                break;
            }
        }
        if start.elapsed() > Duration::from_secs(60) {
            eprintln!("serve_load: not ready after 60 s");
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    println!("{:.1}", (now.saturating_sub(since)) as f64 / 1e6);
}

fn load(url: &str, args: &[String]) {
    let clients: usize = arg(args, "--clients")
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let seconds: u64 = arg(args, "--seconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let label = arg(args, "--label").unwrap_or_default();
    let file = args.last().cloned().unwrap_or_default();
    let pdf = std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let boundary = "serve-load-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"doc.pdf\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let body = std::sync::Arc::new(body);
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let key = std::env::var("FOLIO_API_KEY").ok();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (body, content_type, key) = (body.clone(), content_type.clone(), key.clone());
            let url = format!("{url}/extract");
            std::thread::spawn(move || {
                let agent = agent();
                let mut samples = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let mut req = agent.post(&url).header("content-type", &content_type);
                    if let Some(k) = &key {
                        req = req.header("x-api-key", k);
                    }
                    let status = match req.send(&body[..]) {
                        Ok(mut r) => {
                            let _ = r.body_mut().read_to_vec();
                            r.status().as_u16()
                        }
                        Err(_) => 0,
                    };
                    samples.push((t.elapsed(), status));
                }
                samples
            })
        })
        .collect();
    let mut samples: Vec<(Duration, u16)> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap_or_default())
        .collect();
    let wall = started.elapsed().as_secs_f64();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for (_, s) in &samples {
        *statuses.entry(*s).or_default() += 1;
    }
    let ok: Vec<Duration> = {
        samples.retain(|(_, s)| *s == 200);
        let mut v: Vec<Duration> = samples.iter().map(|(d, _)| *d).collect();
        v.sort();
        v
    };
    let pct = |p: f64| -> f64 {
        if ok.is_empty() {
            return f64::NAN;
        }
        let i = ((ok.len() as f64 * p).ceil() as usize).clamp(1, ok.len()) - 1;
        ok[i].as_secs_f64() * 1000.0
    };
    let total: usize = statuses.values().sum();
    let errors_5xx: usize = statuses
        .iter()
        .filter(|(s, _)| **s >= 500 || **s == 0)
        .map(|(_, n)| *n)
        .sum();
    println!(
        "{}",
        serde_json::json!({
            "label": label,
            "clients": clients,
            "seconds": wall,
            "requests": total,
            "ok": ok.len(),
            "requests_per_s": ok.len() as f64 / wall,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "statuses": statuses,
        })
    );
    if errors_5xx > 0 {
        eprintln!("serve_load: {errors_5xx} answers were 5xx or failed connections");
        std::process::exit(1);
    }
}
