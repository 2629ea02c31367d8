//! Lingering close: when the server answers before it has read the whole request body (a 413
//! over the size limit, a 401 without a key), the rest of the body is read and thrown away in
//! the background while the answer goes out.
//!
//! Without this the connection closes with unread bytes in the kernel's buffer, the kernel
//! answers them with a reset, and a client that is still sending sees a broken pipe instead of
//! the JSON error it should read. Draining is bounded in bytes and time, so a client that keeps
//! sending is still cut off; Apache and nginx bound their lingering close the same way.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

/// At most this much of an unread body is drained.
const LINGER_BYTES: u64 = 32 * 1024 * 1024;
/// Draining stops after this long, whatever is left.
const LINGER_TIME: Duration = Duration::from_secs(10);

/// Where a body that was dropped before its end is left for [`drain_unread_body`].
type Leftover = Arc<Mutex<Option<Body>>>;

/// Middleware: hands whatever the handler left of the request body to a bounded drain.
pub(crate) async fn drain_unread_body(request: Request, next: Next) -> Response {
    let leftover = Leftover::default();
    let request = request.map(|body| {
        Body::new(Unread {
            body: Some(body),
            leftover: Arc::clone(&leftover),
        })
    });
    let response = next.run(request).await;
    let unread = leftover
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    // A 408 is the answer to a client that sends too slowly: waiting on it again is the
    // opposite of what that answer is for.
    if let Some(body) = unread.filter(|_| response.status() != StatusCode::REQUEST_TIMEOUT) {
        tokio::spawn(drain(body));
    }
    response
}

async fn drain(mut body: Body) {
    let deadline = tokio::time::Instant::now() + LINGER_TIME;
    let mut drained = 0u64;
    while drained <= LINGER_BYTES {
        let next = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx));
        match tokio::time::timeout_at(deadline, next).await {
            Ok(Some(Ok(frame))) => {
                drained += frame.data_ref().map_or(0, |d| d.len() as u64);
            }
            // The end, a broken connection, or the deadline: nothing more to wait for.
            Ok(Some(Err(_)) | None) | Err(_) => break,
        }
    }
    tracing::debug!(drained, "drained an unread request body");
}

/// A request body that, dropped before its end, leaves the rest in `leftover`.
struct Unread {
    /// `None` once the body has ended, so a finished body is never drained.
    body: Option<Body>,
    leftover: Leftover,
}

impl HttpBody for Unread {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.body = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body
            .as_ref()
            .map_or_else(|| http_body::SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for Unread {
    fn drop(&mut self) {
        if let Some(body) = self.body.take().filter(|b| !b.is_end_stream()) {
            *self.leftover.lock().unwrap_or_else(PoisonError::into_inner) = Some(body);
        }
    }
}
