//! The page at `/`: drop a file, see its Markdown and a rendering of it. Static HTML and
//! JavaScript, embedded at build time; the rendering is the server's own `html` format, shown
//! in a sandboxed frame (no scripts run from an extracted document).

use axum::response::Html;

pub(crate) async fn index() -> Html<&'static str> {
    Html(include_str!("page/index.html"))
}
