//! `/health` (the process answers), `/ready` (the page pool is not clogged by stuck threads, the
//! model store can serve what is required, as `folio doctor` sees it, and the engine has loaded
//! the required models) and `/metrics`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use folio_engine::ModelState;
use folio_store::{Health, RequiredModels, Store};
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

/// The engine's model state as `/ready` reports it.
/// The OCR models' state where documents are extracted: this process's engine, or the
/// extraction children as the last one to answer reported it (this process's engine until one
/// has: it loaded them too when `/ready` requires them).
fn model_state(state: &AppState) -> ModelState {
    state
        .extractor
        .model_state()
        .unwrap_or_else(|| state.engine.model_state())
}

fn models_json(state: &ModelState) -> serde_json::Value {
    match state {
        ModelState::NotNeeded => json!({"state": "not_needed"}),
        ModelState::NotLoaded => json!({"state": "not_loaded"}),
        ModelState::Loaded => json!({"state": "loaded"}),
        ModelState::Failed { reason, retry_in } => json!({
            "state": "failed", "reason": reason, "retry_in_ms": retry_in.as_millis() as u64,
        }),
        _ => json!({"state": "unknown"}),
    }
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
    // Page threads that did not stop after their time limit: the engine refuses new work
    // until they end, so the server is not ready either.
    let pool = state.engine.pool_stats();
    if pool.overloaded() {
        let message = format!(
            "{} page threads are stuck after their time limit (cap {}); not accepting work until they end",
            pool.stuck, pool.max_stuck
        );
        return not_ready("overloaded", &message, None);
    }
    let Some(health) = store_health(&state).await else {
        return not_ready("not_ready", "the model store check did not finish", None);
    };
    let required = state.config.readiness.required;
    if health.ok && required != RequiredModels::None {
        // The store can serve the files; the engine must also load them (a load that failed
        // before, with the files since installed, is retried here).
        let engine = Arc::clone(&state.engine);
        let loaded = blocking(move || Ok::<_, std::convert::Infallible>(engine.load_ocr().err()))
            .await
            .ok()
            .flatten();
        if let Some(e) = loaded {
            return not_ready(e.code(), &e.to_string(), Some(health));
        }
    }
    if health.ok {
        return axum::Json(json!({
            "status": "ready",
            "required_models": required.ids().iter().map(|m| m.name()).collect::<Vec<_>>(),
            "models": models_json(&model_state(&state)),
            "page_pool": {"size": pool.size, "busy": pool.busy, "stuck": pool.stuck, "max_stuck": pool.max_stuck},
            "store": health,
        }))
        .into_response();
    }
    let message = folio_api::store_problems(&health);
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
    let ready = store_health(&state).await.is_some_and(|h| h.ok)
        && !state.shutting_down()
        && !state.engine.pool_stats().overloaded();
    let pool = state.engine.pool_stats();
    let gauges = Gauges {
        page_threads: pool.size,
        page_threads_busy: pool.busy,
        page_threads_stuck: pool.stuck,
        page_threads_max_stuck: pool.max_stuck,
        pages_timed_out: pool.timed_out,
        models_loaded: model_state(&state) == ModelState::Loaded,
        extractions_running: state.limiter.running(),
        extractions_queued: state.limiter.queued(),
        jobs_queued,
        jobs_running,
        ready,
        isolation: state.extractor.pool_stats(),
    };
    let mut r = state.metrics.render(&gauges).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}
