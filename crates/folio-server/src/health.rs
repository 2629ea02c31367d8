//! `/health` (the process answers), `/ready` (the model store can serve what is required, as
//! `folio doctor` sees it) and `/metrics`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use folio_store::{Health, Store};
use serde_json::json;

use crate::metrics::Gauges;
use crate::state::{blocking, AppState};

pub(crate) async fn health() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

async fn store_health(state: &Arc<AppState>) -> Option<Health> {
    let readiness = state.config.readiness.clone();
    blocking(move || {
        Ok::<_, std::convert::Infallible>(
            Store::open(readiness.store).health(readiness.required.ids()),
        )
    })
    .await
    .ok()
}

pub(crate) async fn ready(State(state): State<Arc<AppState>>) -> Response {
    if state.shutting_down() {
        return not_ready("shutting_down", "the server is shutting down", None);
    }
    // The job store first: without it no job can be taken or recorded. Bounded, so /ready
    // answers while the database hangs.
    let ping =
        tokio::time::timeout(std::time::Duration::from_secs(5), state.jobs.store.ping()).await;
    let store_problem = match ping {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(crate::state::chain(&e)),
        Err(_) => Some("the job database did not answer within 5 s".to_string()),
    };
    if let Some(problem) = store_problem {
        let message = format!("job store {}: {problem}", state.jobs.store.describe());
        return not_ready("job_store_unavailable", &message, None);
    }
    let Some(health) = store_health(&state).await else {
        return not_ready("not_ready", "the model store check did not finish", None);
    };
    if health.ok {
        return axum::Json(json!({
            "status": "ready",
            "required_models": state.config.readiness.required.ids().iter().map(|m| m.name()).collect::<Vec<_>>(),
            "store": health,
        }))
        .into_response();
    }
    let problems: Vec<String> = health
        .problems
        .iter()
        .map(|p| match &p.fix {
            Some(fix) => format!("{} (fix: {fix})", p.message),
            None => p.message.clone(),
        })
        .collect();
    let message = format!(
        "the model store at {} cannot serve: {}",
        health.root.display(),
        problems.join("; ")
    );
    not_ready("not_ready", &message, Some(health))
}

fn not_ready(code: &str, message: &str, health: Option<Health>) -> Response {
    let mut r = (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"error": {"code": code, "message": message}, "store": health})),
    )
        .into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let (jobs_queued, jobs_running) = state.jobs.store.counts().await.unwrap_or_default();
    let ready = store_health(&state).await.is_some_and(|h| h.ok) && !state.shutting_down();
    let gauges = Gauges {
        extractions_running: state.limiter.running(),
        extractions_queued: state.limiter.queued(),
        jobs_queued,
        jobs_running,
        ready,
    };
    let mut r = state.metrics.render(&gauges).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}
