//! Object storage for jobs ([`folio_api::objects`]): a job's document read from its `source`
//! when it runs, and its result written under its `output` prefix.

use std::sync::Arc;

use crate::state::AppState;

/// The document of a job whose input is `source`, within the server's size limit.
pub(crate) async fn get_input(
    state: &Arc<AppState>,
    source: &str,
) -> Result<Vec<u8>, (&'static str, String)> {
    let storage = state.config.objects.clone();
    let at = storage
        .check(source, "source")
        .map_err(|m| ("input_unavailable", m))?;
    let limit = state.config.limits.max_input_bytes;
    tokio::task::spawn_blocking(move || storage.get(&at, limit))
        .await
        .unwrap_or_else(|e| Err(("internal", format!("object storage task failed: {e}"))))
}

/// Writes a finished job's result (the JSON `GET /v1/jobs/{id}/result` answers) to
/// `<output prefix><id>.json`.
pub(crate) async fn put_result(
    state: &Arc<AppState>,
    output: &str,
    id: &str,
    result: &[u8],
) -> Result<(), String> {
    let storage = state.config.objects.clone();
    let mut at = storage.check(output, "output")?;
    if !at.key.ends_with('/') {
        at.key.push('/');
    }
    at.key.push_str(id);
    at.key.push_str(".json");
    let body = result.to_vec();
    tokio::task::spawn_blocking(move || storage.put(&at, &body, "application/json"))
        .await
        .unwrap_or_else(|e| Err(format!("object storage task failed: {e}")))
}
