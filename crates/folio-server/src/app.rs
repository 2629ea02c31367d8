//! The router: every route is registered through [`Routes::add`], which also records it, so
//! the OpenAPI document can be tested against the routes that really exist.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::routing::{on, MethodFilter};
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::error::{self, ApiError};
use crate::state::AppState;
use crate::{auth, extract, health, jobs, linger, metrics, openapi, page};

/// One route: method and path template, as axum and OpenAPI write them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    /// `GET`, `POST`, `DELETE`.
    pub method: &'static str,
    /// Path template, e.g. `/v1/jobs/{id}`.
    pub path: &'static str,
}

struct Routes {
    router: Router<Arc<AppState>>,
    list: Vec<Route>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            router: Router::new(),
            list: Vec::new(),
        }
    }

    fn add<H, T>(mut self, method: &'static str, path: &'static str, handler: H) -> Routes
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        let filter = match method {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "DELETE" => MethodFilter::DELETE,
            _ => MethodFilter::PUT,
        };
        self.router = self.router.route(path, on(filter, handler));
        self.list.push(Route { method, path });
        self
    }
}

/// The routes and the router serving them.
pub(crate) fn router(state: Arc<AppState>) -> (Router, Vec<Route>) {
    let public = Routes::new()
        .add("GET", "/", page::index)
        .add("GET", "/health", health::health)
        .add("GET", "/ready", health::ready)
        .add("GET", "/metrics", health::metrics)
        .add("GET", "/openapi.json", openapi::document);
    let keyed = Routes::new()
        .add("POST", "/extract", extract::extract)
        .add("POST", "/v1/jobs", jobs::create_job)
        .add("GET", "/v1/jobs/{id}", jobs::get_job)
        .add("DELETE", "/v1/jobs/{id}", jobs::cancel_job)
        .add("GET", "/v1/jobs/{id}/result", jobs::get_result);
    let mut list = public.list;
    list.extend(keyed.list);
    // Multipart framing on top of the largest document.
    let body_limit = usize::try_from(state.config.limits.max_input_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024);
    // Each `.layer` wraps what is above it: tracing sees everything, metrics every answer
    // (auth refusals included), auth only the keyed routes; an answer given before the body
    // was read (401, 413) still reaches a client that is sending, through the lingering drain.
    let router = public
        .router
        .merge(
            keyed
                .router
                .route_layer(axum::middleware::from_fn_with_state(
                    Arc::clone(&state),
                    auth::require_key,
                )),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(error::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            body_limit as u64,
            refuse_declared_oversize,
        ))
        .layer(axum::middleware::from_fn(linger::drain_unread_body))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            metrics::track,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    (router, list)
}

/// Middleware: a body whose declared `Content-Length` is over the limit is refused before a
/// byte of it is read (it used to be read up to the limit first: twelve 300 MiB uploads held
/// 2.6 GB before their 413s).
async fn refuse_declared_oversize(
    axum::extract::State(limit): axum::extract::State<u64>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > limit => ApiError::too_large(format!(
            "the request body is {n} bytes, over this server's limit of {limit} bytes"
        ))
        .into_response(),
        _ => next.run(request).await,
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; see GET /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route; see GET /openapi.json",
    )
}
