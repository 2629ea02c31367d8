//! What every handler shares.

use std::sync::Arc;

use folio_engine::Engine;
use folio_isolate::Extractor;
use tokio::sync::watch;

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::jobs::Jobs;
use crate::limiter::Limiter;
use crate::metrics::Metrics;

pub(crate) struct AppState {
    /// The engine of this process: it extracts when `extractor` is in-process, and answers
    /// for the page pool and the models in `/ready` and `/metrics`.
    pub engine: Arc<Engine>,
    /// Where documents are extracted: this process, or its children.
    pub extractor: Extractor,
    pub config: ServerConfig,
    pub limiter: Arc<Limiter>,
    pub metrics: Metrics,
    pub jobs: Jobs,
    /// Flips to `true` once, when shutdown starts.
    pub shutdown: watch::Sender<bool>,
}

impl AppState {
    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Resolves when shutdown starts (at once if it has).
    pub async fn until_shutdown(&self) {
        let mut rx = self.shutdown.subscribe();
        // An error means the sender is gone, which only happens once the state is dropped.
        let _ = rx.wait_for(|down| *down).await;
    }
}

/// Runs blocking work (SQLite, the model store) off the async runtime.
pub(crate) async fn blocking<T, E>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: std::error::Error + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ApiError::internal(chain(&e))),
        Err(e) => Err(ApiError::internal(format!("blocking task failed: {e}"))),
    }
}

/// An error and its causes on one line, for the log.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// RFC 3339 UTC time of a Unix-epoch millisecond count.
pub(crate) fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::rfc3339(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(
            super::rfc3339(1_795_000_000_000),
            "2026-11-18T11:06:40.000Z"
        );
    }
}
