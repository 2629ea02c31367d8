//! A real HTTP/1.1 server on 127.0.0.1 for download tests: each path maps to a reply, including
//! the bad ones (wrong bytes, a body cut short, a server that stalls mid-body).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What the server answers for a path.
#[derive(Clone)]
pub enum Reply {
    /// 200 with these bytes.
    Body(Vec<u8>),
    /// This status, empty body.
    Status(u16),
    /// 200 announcing the full length, sending only `sent` bytes, then closing.
    Truncated(Vec<u8>, usize),
    /// 200 announcing the full length, sending `sent` bytes, then holding the connection open.
    Stall(Vec<u8>, usize),
    /// 200 without a length (read to close), sending these bytes.
    Unsized(Vec<u8>),
}

pub struct Server {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Requests answered.
    pub hits: Arc<AtomicUsize>,
}

impl Server {
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// Starts a server answering `route(path)`.
pub fn serve(route: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let route = Arc::new(route);
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let route = route.clone();
            let counter = counter.clone();
            std::thread::spawn(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = answer(stream, &*route);
            });
        }
    });
    Server { base, hits }
}

fn answer(mut stream: TcpStream, route: &dyn Fn(&str) -> Reply) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
    }
    let head = |status: u16, len: Option<usize>| {
        let reason = match status {
            200 => "OK",
            404 => "Not Found",
            500 => "Internal Server Error",
            _ => "Other",
        };
        let len = len.map_or(String::new(), |n| format!("Content-Length: {n}\r\n"));
        format!("HTTP/1.1 {status} {reason}\r\n{len}Connection: close\r\n\r\n")
    };
    match route(&path) {
        Reply::Body(b) => {
            stream.write_all(head(200, Some(b.len())).as_bytes())?;
            stream.write_all(&b)?;
        }
        Reply::Status(s) => stream.write_all(head(s, Some(0)).as_bytes())?,
        Reply::Truncated(b, sent) => {
            stream.write_all(head(200, Some(b.len())).as_bytes())?;
            stream.write_all(&b[..sent])?;
        }
        Reply::Stall(b, sent) => {
            stream.write_all(head(200, Some(b.len())).as_bytes())?;
            stream.write_all(&b[..sent])?;
            stream.flush()?;
            std::thread::sleep(Duration::from_secs(120));
        }
        Reply::Unsized(b) => {
            stream.write_all(head(200, None).as_bytes())?;
            stream.write_all(&b)?;
        }
    }
    stream.flush()
}
