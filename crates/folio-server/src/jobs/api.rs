//! `/v1/jobs`: create, status, result, cancel.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use folio_api::ExtractResponse;
use serde_json::{json, Value};

use super::store::{CancelOutcome, JobRow, JobStoreError, NewJob, SUCCEEDED};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{respond, upload_timeout};
use crate::form::read_upload;
use crate::negotiate::{reply_for, Reply};
use crate::state::{chain, now_ms, rfc3339, AppState};

/// A store error as the API answers it: 503 while the database is unreachable (the request
/// may be retried as it is), else a generic 500.
pub(crate) fn store_error(e: &JobStoreError) -> ApiError {
    if e.is_unavailable() {
        let mut err = ApiError::unavailable(
            "job_store_unavailable",
            format!(
                "the job database cannot be reached ({}); retry shortly",
                chain(e)
            ),
        );
        err.retry_after = Some(5);
        err
    } else {
        ApiError::internal(chain(e))
    }
}

/// A job's public view: what `GET /v1/jobs/{id}` answers and what webhooks carry.
pub(crate) fn view(row: &JobRow, progress: Option<(u32, u32)>) -> Value {
    let error = match (&row.error_code, &row.error_message) {
        (Some(code), Some(message)) => json!({"code": code, "message": message}),
        _ => Value::Null,
    };
    let webhook = match &row.webhook_url {
        Some(url) => {
            json!({"url": url, "state": row.webhook_state.as_deref().unwrap_or("waiting")})
        }
        None => Value::Null,
    };
    let progress = match progress.or(row.progress) {
        Some((done, total)) => json!({"pages_done": done, "pages_total": total}),
        None => Value::Null,
    };
    let mut links = json!({"self": format!("/v1/jobs/{}", row.id)});
    if row.status == SUCCEEDED {
        links["result"] = json!(format!("/v1/jobs/{}/result", row.id));
    }
    json!({
        "id": row.id,
        "status": row.status,
        "format": row.format,
        "filename": row.filename,
        "attempts": row.attempts,
        "created_at": rfc3339(row.created_ms),
        "started_at": row.started_ms.map(rfc3339),
        "finished_at": row.finished_ms.map(rfc3339),
        "pages_extracted": row.pages,
        "progress": progress,
        "error": error,
        "webhook": webhook,
        "output": row.output,
        "links": links,
    })
}

/// A fresh job id: a random (version 4) UUID as 32 hex digits, neither sequential nor
/// guessable.
fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn valid_id(id: &str) -> Result<(), ApiError> {
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no job {id:?}")))
    }
}

pub(crate) async fn create_job(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    if state.shutting_down() {
        return Err(ApiError::unavailable(
            "shutting_down",
            "the server is shutting down",
        ));
    }
    // A full queue turns the request away before its body is read.
    let (queued, _) = state
        .jobs
        .store
        .counts()
        .await
        .map_err(|e| store_error(&e))?;
    if queued >= state.config.max_queued_jobs as u64 {
        return Err(ApiError::busy(
            format!("{queued} jobs are waiting, the most this server queues; retry later"),
            state.limiter.retry_after().max(5),
        ));
    }
    let limit = state.config.request_timeout;
    let upload = tokio::time::timeout(limit, read_upload(multipart, true))
        .await
        .map_err(|_| upload_timeout(limit))??;
    let objects = &state.config.objects;
    let check = |url: &Option<String>, what: &str| match url {
        Some(u) => objects
            .check(u, what)
            .map(|_| ())
            .map_err(|m| ApiError::bad_request("bad_object_address", m)),
        None => Ok(()),
    };
    check(&upload.source, "source")?;
    check(&upload.output, "output")?;
    if upload.source.is_none() && upload.bytes.is_empty() {
        return Err(folio_engine::ExtractError::Empty.into());
    }
    // Refuse what no run can read now rather than after the queue (a document in object
    // storage is judged when it is read).
    // Judged as the engine judges it (content first, the name only between text formats), so
    // a job takes every format `POST /extract` takes.
    let name = upload.options.filename.as_deref();
    if upload.source.is_none() && folio_engine::sniff_named(&upload.bytes, name).is_none() {
        return Err(ApiError::unsupported_media(
            folio_engine::ExtractError::unsupported_input(&upload.bytes).to_string(),
        ));
    }
    let limit = state.config.limits.max_input_bytes;
    if upload.bytes.len() as u64 > limit {
        return Err(folio_engine::ExtractError::TooLarge {
            size: upload.bytes.len() as u64,
            limit,
        }
        .into());
    }
    let webhook = match &upload.webhook_url {
        Some(url) => Some(
            state
                .config
                .webhooks
                .check_url(url)
                .map_err(|e| ApiError::bad_request("bad_webhook", e))?,
        ),
        None => None,
    };
    let id = new_id();
    let row = state
        .jobs
        .store
        .create(NewJob {
            id: id.clone(),
            format: upload.options.format.name().to_string(),
            filename: upload.options.filename.clone(),
            webhook_url: webhook.map(|t| t.url),
            owner: caller.0,
            fields: upload.fields,
            input: upload.bytes.to_vec(),
            source: upload.source,
            output: upload.output,
            now_ms: now_ms(),
        })
        .await
        .map_err(|e| store_error(&e))?;
    state.metrics.job("created");
    state.jobs.wake.notify_one();
    tracing::info!(job = %id, "job queued");
    let mut response = (StatusCode::ACCEPTED, axum::Json(view(&row, None))).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/jobs/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The job, if it exists and belongs to the caller: another key's job is "no such job", so
/// ids cannot be probed across keys.
async fn load(state: &Arc<AppState>, caller: &Caller, id: &str) -> Result<JobRow, ApiError> {
    valid_id(id)?;
    let missing = || ApiError::not_found(format!("no job {id:?} (finished jobs expire)"));
    let row = state
        .jobs
        .store
        .get(id)
        .await
        .map_err(|e| store_error(&e))?
        .ok_or_else(missing)?;
    if row.owner != caller.0 {
        return Err(missing());
    }
    Ok(row)
}

pub(crate) async fn get_job(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = load(&state, &caller, &id).await?;
    let progress = state.jobs.get_running(&id).and_then(|r| r.progress());
    Ok(axum::Json(view(&row, progress)).into_response())
}

pub(crate) async fn get_result(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let row = load(&state, &caller, &id).await?;
    if row.status != SUCCEEDED {
        let why = match (&row.error_code, &row.error_message) {
            (Some(code), Some(message)) => format!(": {code}: {message}"),
            _ => String::new(),
        };
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_result",
            format!("job {id} is {}{why}", row.status),
        ));
    }
    let body = state
        .jobs
        .store
        .result(&id)
        .await
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| ApiError::not_found("the job's result has expired"))?;
    let reply = reply_for(headers.get(header::ACCEPT));
    if reply == Reply::Json {
        let mut r = body.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Ok(r);
    }
    let response: ExtractResponse = serde_json::from_slice(&body)
        .map_err(|e| ApiError::internal(format!("stored result does not parse: {e}")))?;
    match reply {
        Reply::Raw(f) if f.name() == response.format => Ok(respond(reply, response)),
        Reply::Raw(f) => Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            format!(
                "the job was extracted as {}, not {}; ask for application/json or {}",
                response.format,
                f.name(),
                response.format
            ),
        )),
        Reply::Json => Ok(respond(reply, response)),
    }
}

pub(crate) async fn cancel_job(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    load(&state, &caller, &id).await?;
    let outcome = state
        .jobs
        .store
        .cancel(&id, now_ms())
        .await
        .map_err(|e| store_error(&e))?;
    let body = match outcome {
        CancelOutcome::Missing => return Err(ApiError::not_found(format!("no job {id:?}"))),
        CancelOutcome::Cancelled(row) => {
            state.metrics.job("cancelled");
            view(&row, None)
        }
        CancelOutcome::Running(row) => {
            if let Some(job) = state.jobs.get_running(&id) {
                job.by_client.store(true, Ordering::Relaxed);
                job.cancel.store(true, Ordering::Relaxed);
            }
            let mut v = view(&row, None);
            v["status"] = json!("cancelling");
            v
        }
        CancelOutcome::Deleted(row) => {
            let mut v = view(&row, None);
            v["deleted"] = json!(true);
            v
        }
    };
    Ok(axum::Json(body).into_response())
}
