//! The sequence every network front door runs: options → extraction → rendered answer.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use folio_engine::{Engine, ExtractError, Limits, Progress};

use crate::{ExtractResponse, PageProgress, RequestOptions};

/// Extracts `input` as `options` ask, within the front door's `limits`, and renders the answer
/// in the requested format. `cancel` stops the extraction between pages; `progress`, when
/// given, follows the pages. `timings.total_ms` covers the extraction and the rendering: a
/// front door that did more for the caller (an upload, a download, a queue) adds that.
pub fn extract(
    engine: &Engine,
    input: &[u8],
    options: &RequestOptions,
    limits: Limits,
    cancel: Option<Arc<AtomicBool>>,
    progress: Option<&PageProgress>,
) -> Result<ExtractResponse, ExtractError> {
    extract_reporting(engine, input, options, limits, cancel, &|done, total| {
        if let Some(p) = progress {
            p.set(done, total);
        }
    })
}

/// [`extract`], with pages done and selected handed to `progress` after each page (the
/// extraction child of `folio serve` sends them on to its parent as they come).
pub fn extract_reporting(
    engine: &Engine,
    input: &[u8],
    options: &RequestOptions,
    limits: Limits,
    cancel: Option<Arc<AtomicBool>>,
    progress: Progress<'_>,
) -> Result<ExtractResponse, ExtractError> {
    let opts = options.extract_options(limits, cancel);
    let started = Instant::now();
    let doc = engine.extract_with_progress(input, &opts, progress)?;
    let extract_ms = started.elapsed().as_millis() as u64;
    Ok(ExtractResponse::new(&doc, options.format, extract_ms))
}
