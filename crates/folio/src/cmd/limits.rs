//! The limit flags `extract`, `serve` and `worker` share: one struct, flattened into each, so
//! the three take the same names, units and defaults.

use std::num::NonZeroUsize;
use std::time::Duration;

use folio_engine::{Limits, PagePool};

/// Bounds on what one document may consume.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Largest document accepted, in MiB.
    #[arg(
        long,
        default_value_t = 256,
        value_name = "MIB",
        env = "FOLIO_MAX_SIZE_MB"
    )]
    pub max_size_mb: u64,
    /// Most pages processed per document.
    #[arg(long, default_value_t = 5000, env = "FOLIO_MAX_PAGES")]
    pub max_pages: u32,
    /// Time one page may take before it is skipped with a warning (e.g. 60s, 2m; a bare number
    /// is seconds).
    #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = parse_duration)]
    pub page_timeout: Duration,
    /// Time one document may take [default: 15m; for `serve`, 2m per POST /extract, its queueing
    /// included, while jobs have --job-timeout].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Pages extracted at once in this process: the size of its one page pool, shared by every
    /// document it serves [default: one per CPU].
    #[arg(long, value_name = "N", env = "FOLIO_PAGE_WORKERS")]
    pub page_workers: Option<NonZeroUsize>,
}

/// The document time limit of `extract` and `worker` when `--timeout` is not given.
pub const DOCUMENT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

impl LimitArgs {
    /// The engine's limits, with `timeout` as the whole document's time limit.
    pub fn limits(&self, timeout: Duration) -> Limits {
        Limits {
            max_input_bytes: self.max_size_mb.saturating_mul(1024 * 1024),
            max_pages: self.max_pages,
            page_timeout: self.page_timeout.max(Duration::from_secs(1)),
            total_timeout: timeout.max(Duration::from_secs(1)),
            page_workers: self.page_workers,
            ..Limits::default()
        }
    }
}

impl LimitArgs {
    /// Sizes the process's page pool from `--page-workers`; called once at start-up, before
    /// any engine exists.
    pub fn configure_pool(&self) {
        let threads = self.page_workers.map(NonZeroUsize::get);
        if let Err(e) = PagePool::configure_global(threads, None) {
            tracing::warn!("--page-workers not applied: {e}");
        }
    }
}

/// A duration as people write it (`90s`, `15m`, `1h 30m`, `7d`), or a bare number of seconds,
/// as these flags took before.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(s)
        .map_err(|e| format!("invalid duration {s:?}: {e} (write e.g. 90s, 15m, 24h, 7d)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_or_bare_seconds() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        for bad in ["", "m", "5w x", "-3", "ten seconds"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains(&format!("{:?}", bad.trim())), "{e}");
        }
    }
}
