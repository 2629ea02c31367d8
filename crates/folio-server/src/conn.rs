//! The accept loop and each connection's defences: a bounded number of open connections, a
//! time limit on reading a request's head (which also closes a kept-alive connection left idle
//! between requests), and JSON bodies on the answers hyper itself gives to a malformed head.
//!
//! `axum::serve` sets no timer, so a connection that never finishes its headers was held for
//! ever, and nothing bounded how many there were: 20,000 of them (no key needed) ran the process
//! out of descriptors and `/health` stopped answering.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

/// Connections beyond the limit that are still answered 503 at once (each holds a descriptor
/// for at most [`REFUSAL_TIME`]); beyond these, a connection is closed without a word.
const MAX_REFUSING: usize = 64;
/// How long writing a refusal may take.
const REFUSAL_TIME: Duration = Duration::from_secs(2);
/// Descriptors kept free for everything else (the job database, model files, webhooks).
const SPARE_DESCRIPTORS: u64 = 128;

/// The connection-level limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnLimits {
    /// Time allowed to receive a request's head, counted from when the server starts waiting
    /// for it (so it also bounds the idle time of a kept-alive connection).
    pub header_timeout: Duration,
    /// Open connections served at once.
    pub max_connections: usize,
}

/// Raises the soft descriptor limit to the hard one, and returns how many connections fit in
/// it with [`SPARE_DESCRIPTORS`] left over: the connection cap never exceeds what the process
/// can open.
pub(crate) fn connection_capacity(wanted: usize) -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if let Some(hard) = limit.maximum {
        if limit.current.is_some_and(|soft| soft < hard) {
            limit.current = Some(hard);
            if let Err(e) = setrlimit(Resource::Nofile, limit) {
                tracing::debug!(error = %e, "cannot raise the descriptor limit");
            }
        }
    }
    let soft = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    let fits = soft.saturating_sub(SPARE_DESCRIPTORS).max(16);
    let cap = wanted.min(usize::try_from(fits).unwrap_or(usize::MAX));
    if cap < wanted {
        tracing::warn!(
            wanted,
            cap,
            descriptors = soft,
            "the connection limit is lowered to fit the descriptor limit"
        );
    }
    cap
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, asks every
/// open connection to finish its current request and close, and returns once all have.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        stop_tx.send_replace(true);
    });
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let mut stop = stop_rx.clone();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stopped(&mut stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors (EMFILE, ENFILE) or buffers: the connection waits in the
                // backlog; retrying at once would spin.
                tracing::warn!(error = %e, "accept failed; retrying shortly");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            match Arc::clone(&refusing).try_acquire_owned() {
                Ok(p) => {
                    tokio::spawn(async move {
                        refuse(stream).await;
                        drop(p);
                    });
                }
                Err(_) => drop(stream),
            }
            tracing::warn!(%peer, limit = limits.max_connections, "connection refused: too many open connections");
            continue;
        };
        let router = router.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let io = TokioIo::new(JsonParseErrors::new(stream));
            let service = TowerToHyperService::new(router);
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let conn = builder.serve_connection(io, service).with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "connection ended");
                    }
                }
                _ = stopped(&mut stop) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    // Every connection gives its permit back when it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = open.acquire_many(all).await;
    Ok(())
}

/// Resolves once the stop flag is up (the guard `wait_for` returns is not `Send`, so it is
/// dropped here, inside).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Answers a connection over the limit with a JSON 503 and closes it.
async fn refuse(mut stream: TcpStream) {
    let body = crate::error::json_body(&folio_api::Failure::new(
        503,
        "too_many_connections",
        "the server has too many open connections; retry shortly",
    ));
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(REFUSAL_TIME, write).await;
}

/// A connection whose writes are watched for hyper's own answers to a request head it could
/// not parse (400, 414 URI too long, 431 headers too large): hyper sends those with an empty
/// body, before any handler runs. They are recognised by having no `content-type` (every
/// answer of the router has one) and given the JSON error body every other error has.
struct JsonParseErrors {
    inner: TcpStream,
    /// A rewritten answer not yet fully written.
    pending: Vec<u8>,
    written: usize,
}

impl JsonParseErrors {
    fn new(inner: TcpStream) -> JsonParseErrors {
        JsonParseErrors {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }

    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = std::task::ready!(
                Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..])
            )?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

/// The JSON answer that replaces hyper's bare one, if `buf` is one.
fn rewrite_bare_error(buf: &[u8]) -> Option<Vec<u8>> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    if head_end + 4 != buf.len() {
        return None;
    }
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let code: u16 = status_line
        .strip_prefix("HTTP/1.1 ")?
        .get(..3)?
        .parse()
        .ok()?;
    let headers: Vec<&str> = lines.collect();
    let has = |name: &str| {
        headers.iter().any(|h| {
            h.split_once(':')
                .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        })
    };
    if !matches!(code, 400 | 414 | 431) || has("content-type") {
        return None;
    }
    // hyper's own answers (400, 414, 431) take their code and message from the one table.
    let body = crate::error::json_body(&folio_api::Failure::for_status(code, None));
    let mut out = format!(
        "{status_line}\r\ncontent-type: application/json\r\nconnection: close\r\n\
         content-length: {}\r\n",
        body.len()
    );
    for h in headers {
        let name = h.split_once(':').map_or("", |(k, _)| k.trim());
        if !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("connection")
        {
            out.push_str(h);
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    out.push_str(&body);
    Some(out.into_bytes())
}

impl AsyncRead for JsonParseErrors {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for JsonParseErrors {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.poll_pending(cx))?;
        // hyper writes a bare error answer in one piece (this stream does not take vectored
        // writes, so hyper flattens its buffers); anything else passes through untouched.
        if buf.starts_with(b"HTTP/1.1 4") {
            if let Some(json) = rewrite_bare_error(buf) {
                self.pending = json;
                self.written = 0;
                // The caller's bytes count as written: they were replaced, and the
                // replacement goes out before anything else (or with the flush).
                let _ = self.poll_pending(cx)?;
                return Poll::Ready(Ok(buf.len()));
            }
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_parse_errors_get_json_bodies_and_router_answers_pass() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Sun, 29 Nov 2026 08:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(rewrite_bare_error(bare).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
        assert!(head.contains("content-type: application/json"));
        assert!(head.contains("date: Sun"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "headers_too_large");
        let routed = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n";
        assert!(rewrite_bare_error(routed).is_none());
        // A head with a body after it is an answer being streamed, not hyper's bare one.
        assert!(rewrite_bare_error(b"HTTP/1.1 414 URI Too Long\r\n\r\nx").is_none());
        assert!(rewrite_bare_error(b"HTTP/1.1 404 Not Found\r\n\r\n").is_none());
    }
}
