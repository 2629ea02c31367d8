//! `POST /extract`: one document in, its extraction out, within the request's time limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use folio_api::ExtractResponse;

use crate::error::ApiError;
use crate::form::read_upload;
use crate::negotiate::{format_for, reply_for, Reply};
use crate::run::{self, CancelOnDrop, RunError};
use crate::state::AppState;

pub(crate) async fn extract(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    if state.shutting_down() {
        return Err(ApiError::unavailable(
            "shutting_down",
            "the server is shutting down",
        ));
    }
    // A full server turns a request away before reading its body.
    let ticket = state.limiter.admit().map_err(|retry| {
        ApiError::busy(
            "every extraction slot is taken and the queue is full; retry later",
            retry,
        )
    })?;
    let reply = reply_for(headers.get(header::ACCEPT));
    let deadline = started + state.config.request_timeout;
    // A client that trickles its upload must not hold a place in the queue for ever.
    let upload = tokio::time::timeout_at(deadline.into(), read_upload(multipart, false))
        .await
        .map_err(|_| upload_timeout(state.config.request_timeout))??;
    let format = format_for(reply, upload.options.format, upload.format_given)?;

    let slot = tokio::select! {
        slot = ticket.slot() => slot,
        _ = tokio::time::sleep_until(deadline.into()) => {
            return Err(ApiError::unavailable(
                "timeout",
                format!(
                    "no extraction slot came free within the request time limit of {:?}; \
                     submit long documents to POST /v1/jobs",
                    state.config.request_timeout
                ),
            ));
        }
        _ = state.until_shutdown() => None,
    };
    let slot =
        slot.ok_or_else(|| ApiError::unavailable("shutting_down", "the server is shutting down"))?;

    let cancel = CancelOnDrop::default();
    let remaining = deadline.saturating_duration_since(Instant::now());
    let mut limits = state.config.limits.clone();
    limits.total_timeout = limits
        .total_timeout
        .min(remaining)
        .max(Duration::from_millis(1));
    let mut options = upload.options;
    options.format = format;
    let extraction = run::extract(
        state.extractor.clone(),
        Arc::clone(&state.limiter),
        slot,
        upload.bytes,
        run::Job {
            options,
            limits,
            cancel: Arc::clone(&cancel.0),
            progress: None,
        },
    );
    // The engine stops itself at the time limit; this outer bound only guards against a
    // blocking task that never returns.
    let result = tokio::time::timeout(remaining + Duration::from_secs(5), extraction)
        .await
        .map_err(|_| {
            ApiError::unavailable(
                "timeout",
                format!(
                    "the extraction ran past the request time limit of {:?}; submit long \
                     documents to POST /v1/jobs",
                    state.config.request_timeout
                ),
            )
        })?;
    let mut response = match result {
        Ok(r) => r,
        Err(RunError::Extract(e)) => return Err(e.into()),
        Err(RunError::Crashed(e)) => return Err(ApiError::internal(e)),
    };
    drop(ticket);
    // The client waited for the upload and the queue too: count them in the total.
    response.timings.total_ms = started.elapsed().as_millis() as u64;
    state.metrics.pages(u64::from(response.pages_extracted));
    Ok(respond(reply, response))
}

pub(crate) fn upload_timeout(limit: Duration) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        "upload_timeout",
        format!("the upload did not finish within the request time limit of {limit:?}"),
    )
}

/// The JSON envelope, or the raw rendering with the metadata in headers.
pub(crate) fn respond(reply: Reply, response: ExtractResponse) -> Response {
    match (reply, &response.content) {
        (Reply::Raw(format), serde_json::Value::String(text)) => {
            let mut r = text.clone().into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.media_type()),
            );
            h.insert("x-folio-page-count", HeaderValue::from(response.page_count));
            h.insert(
                "x-folio-pages-extracted",
                HeaderValue::from(response.pages_extracted),
            );
            let status = match response.status {
                folio_doc::Status::Success => "success",
                folio_doc::Status::Partial => "partial",
            };
            h.insert("x-folio-status", HeaderValue::from_static(status));
            h.insert(
                "x-folio-extract-ms",
                HeaderValue::from(response.timings.extract_ms),
            );
            r
        }
        _ => axum::Json(response).into_response(),
    }
}
