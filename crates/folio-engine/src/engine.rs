//! The engine: detect, open with the input's backend, run the stages, assemble.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_content::Cancel;
use folio_doc::{Document, Page, Warning, WarningKind};
use folio_store::Store;

use crate::backends::{Input, Opened, PagedInput};
use crate::error::{ModelError, PageFailure};
use crate::layout_models::LayoutRuntime;
use crate::models::{ModelLocator, ModelState};
use crate::ocr::{OcrRuntime, OcrSettings};
use crate::pool::{PagePool, PoolStats, Slot};
use crate::stages::figures::ImageBudget;
use crate::stages::pictures::{PictureBudget, DOCUMENT_PICTURE_PIXELS};
use crate::stages::{run_document, run_page, DocCx, PageCx, PageError};
use crate::{sniff_named, ExtractError, ExtractOptions, OcrMode};

/// Called after each page with `(pages done, pages total)`.
pub type Progress<'a> = &'a (dyn Fn(u32, u32) + Sync);

/// The extraction engine. Create one and share it (`Arc<Engine>`): it holds what is expensive to
/// load (the OCR models, on first need) and is safe to use from many threads. Its pages run in
/// the process's [`PagePool`] unless it is given its own ([`Engine::with_pool`]).
#[derive(Debug)]
pub struct Engine {
    ocr: Option<Arc<OcrRuntime>>,
    layout: Option<Arc<LayoutRuntime>>,
    llm: Option<Arc<folio_fields::LlmClient>>,
    pool: Arc<PagePool>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

/// A finished page and the warnings about it, or why it failed.
type PageOutcome = Result<(Page, Vec<Warning>), PageError>;

impl Engine {
    /// An engine for born-digital documents only: images and scanned pages are refused with
    /// [`ExtractError::ModelsUnavailable`].
    pub fn new() -> Engine {
        Engine {
            ocr: None,
            layout: None,
            llm: None,
            pool: PagePool::global(),
        }
    }

    /// An engine that also reads scans and images, with OCR models found by `locate`, and
    /// lays pages out with the layout and table models found the same way (`--layout`). The
    /// models are located and loaded on the first page that needs them: OCR never for
    /// born-digital documents, the layout models only for pages that `--layout` sends to them.
    pub fn with_ocr(locate: ModelLocator, settings: OcrSettings) -> Engine {
        let layout = LayoutRuntime::new(Arc::clone(&locate), settings.backend, settings.threads);
        Engine {
            ocr: Some(Arc::new(OcrRuntime::new(locate, settings))),
            layout: Some(Arc::new(layout)),
            llm: None,
            pool: PagePool::global(),
        }
    }

    /// [`Engine::with_ocr`] with the models of an opened store.
    pub fn with_store(store: Arc<Store>, settings: OcrSettings) -> Engine {
        Engine::with_ocr(
            Arc::new(move |id| {
                store
                    .model_path(id)
                    .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })
            }),
            settings,
        )
    }

    /// This engine, asking this model endpoint for fields as well as the built-in rules. The
    /// endpoint is the operator's setting: requests can ask for fields, never name a URL.
    pub fn with_llm(mut self, client: folio_fields::LlmClient) -> Engine {
        self.llm = Some(Arc::new(client));
        self
    }

    /// The document stages' context for a request.
    fn doc_cx<'a>(&'a self, opts: &'a ExtractOptions, paged: bool) -> DocCx<'a> {
        DocCx {
            paged,
            fields: opts.fields.as_deref(),
            llm: self.llm.as_deref(),
        }
    }

    /// This engine with its pages run in `pool` instead of the process's.
    pub fn with_pool(mut self, pool: Arc<PagePool>) -> Engine {
        self.pool = pool;
        self
    }

    /// The pool this engine's pages run in.
    pub fn pool(&self) -> &Arc<PagePool> {
        &self.pool
    }

    /// The page pool's state (busy and stuck threads), for metrics and readiness.
    pub fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }

    /// Loads the OCR models now (a server warms up before it says it is ready), or says why
    /// they cannot be loaded.
    pub fn load_ocr(&self) -> Result<(), ExtractError> {
        self.ocr_runtime()?
            .models()
            .map(|_| ())
            .map_err(ExtractError::ModelsUnavailable)
    }

    /// The state of this engine's OCR models, without loading them.
    pub fn model_state(&self) -> ModelState {
        match &self.ocr {
            None => ModelState::NotNeeded,
            Some(runtime) => runtime.state(),
        }
    }

    /// The state of this engine's layout and table models, without loading them.
    pub fn layout_model_state(&self) -> ModelState {
        match &self.layout {
            None => ModelState::NotNeeded,
            Some(runtime) => runtime.state(),
        }
    }

    fn ocr_runtime(&self) -> Result<&Arc<OcrRuntime>, ExtractError> {
        self.ocr
            .as_ref()
            .ok_or_else(|| ExtractError::ModelsUnavailable(ModelError::NoOcr))
    }

    /// The OCR runtime with its models loaded: what an input that cannot do without OCR needs
    /// before any page runs.
    fn required_ocr(&self) -> Result<Arc<OcrRuntime>, ExtractError> {
        let runtime = Arc::clone(self.ocr_runtime()?);
        runtime.models().map_err(ExtractError::ModelsUnavailable)?;
        Ok(runtime)
    }

    /// Extracts a document from its bytes.
    pub fn extract(&self, input: &[u8], opts: &ExtractOptions) -> Result<Document, ExtractError> {
        self.extract_with_progress(input, opts, &|_, _| {})
    }

    /// Extracts a document, reporting progress after each page.
    pub fn extract_with_progress(
        &self,
        input: &[u8],
        opts: &ExtractOptions,
        progress: Progress<'_>,
    ) -> Result<Document, ExtractError> {
        let started = Instant::now();
        let size = input.len() as u64;
        if size > opts.limits.max_input_bytes {
            return Err(ExtractError::TooLarge {
                size,
                limit: opts.limits.max_input_bytes,
            });
        }
        if input.is_empty() {
            return Err(ExtractError::Empty);
        }
        let stats = self.pool.stats();
        if stats.overloaded() {
            return Err(ExtractError::Overloaded {
                stuck: stats.stuck,
                cap: stats.max_stuck,
            });
        }
        let kind = sniff_named(input, opts.filename.as_deref())
            .ok_or_else(|| ExtractError::Unsupported(describe_unknown(input)))?;
        let bytes = Arc::new(input.to_vec());
        let opened = crate::sniff::backend(kind).open(Input {
            bytes: &bytes,
            kind,
            opts,
            started,
        })?;
        match opened {
            Opened::Flow(mut doc) => {
                if doc.metadata.filename.is_none() {
                    doc.metadata.filename.clone_from(&opts.filename);
                }
                link_captions(&mut doc);
                run_document(&mut doc, &self.doc_cx(opts, false));
                Ok(doc)
            }
            Opened::Paged(input) => self.extract_pages(input.into(), opts, started, progress),
        }
    }

    fn extract_pages(
        &self,
        input: Arc<dyn PagedInput>,
        opts: &ExtractOptions,
        started: Instant,
        progress: Progress<'_>,
    ) -> Result<Document, ExtractError> {
        let mut metadata = input.metadata();
        metadata.filename.clone_from(&opts.filename);
        let pages = select_pages(metadata.page_count, opts)?;
        input.check(&pages, opts)?;
        let ocr = match opts.ocr {
            OcrMode::Never => None,
            // Asked for explicitly, or the only way to read the input: missing models are the
            // document's error, said up front.
            OcrMode::Always => Some(self.required_ocr()?),
            OcrMode::Auto if !input.has_text_layer() => Some(self.required_ocr()?),
            OcrMode::Auto => self.ocr.clone(),
        };
        let mut doc = Document::new(metadata);
        let (mode, layout_mode, max_pixels) = (opts.ocr, opts.layout, opts.limits.max_page_pixels);
        let layout = self.layout.clone();
        let images = opts
            .images
            .then(|| ImageBudget::new(opts.limits.max_image_bytes));
        let pictures = PictureBudget::new(DOCUMENT_PICTURE_PIXELS);
        let outcomes = run_pages(
            &self.pool,
            &pages,
            opts,
            started,
            progress,
            move |number, cancel| {
                run_page(
                    number,
                    &PageCx {
                        input: &*input,
                        mode,
                        ocr: ocr.as_deref(),
                        layout_mode,
                        layout: layout.as_deref(),
                        max_pixels,
                        images: images.as_ref(),
                        pictures: Some(&pictures),
                        cancel,
                    },
                )
            },
        )?;
        collect_pages(&mut doc, &pages, outcomes)?;
        link_captions(&mut doc);
        run_document(&mut doc, &self.doc_cx(opts, true));
        Ok(doc)
    }
}

/// Every figure takes the text of the caption beside it (`folio_doc::Page::link_figure_captions`).
fn link_captions(doc: &mut Document) {
    for page in &mut doc.pages {
        page.link_figure_captions();
    }
}

/// The pages `opts` selects from a document of `count` pages, within the page limit.
pub(crate) fn select_pages(count: u32, opts: &ExtractOptions) -> Result<Vec<u32>, ExtractError> {
    let pages: Vec<u32> = match &opts.pages {
        Some(sel) => sel
            .resolve(count)
            .map_err(|requested| ExtractError::NoSuchPage { requested, count })?,
        None => (1..=count).collect(),
    };
    if pages.len() as u64 > u64::from(opts.limits.max_pages) {
        return Err(ExtractError::TooManyPages {
            count: pages.len() as u32,
            limit: opts.limits.max_pages,
        });
    }
    Ok(pages)
}

/// Puts finished pages into `doc` and failed ones into its warnings; a document none of whose
/// pages could be read is an error.
fn collect_pages(
    doc: &mut Document,
    pages: &[u32],
    outcomes: Vec<PageOutcome>,
) -> Result<(), ExtractError> {
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    for (number, outcome) in pages.iter().zip(outcomes) {
        match outcome {
            Ok((page, warnings)) => {
                doc.pages.push(page);
                notes.extend(warnings);
            }
            Err(e) => failures.push((*number, e)),
        }
    }
    if doc.pages.is_empty() && !pages.is_empty() {
        // The error carries the reason; logging the page as well would say it twice (a bad
        // image is one line on stderr, not a warning and then the same words as an error).
        let (page, error) = failures
            .into_iter()
            .next()
            .unwrap_or((pages[0], PageError::Cancelled));
        return Err(ExtractError::AllPagesFailed(PageFailure { page, error }));
    }
    for (number, e) in failures {
        tracing::warn!(page = number, reason = %e, "page failed");
        let kind = match e {
            PageError::Timeout(_) | PageError::Cancelled => WarningKind::PageTimeout,
            _ => WarningKind::PageFailed,
        };
        doc.warn(kind, Some(number), format!("page {number}: {e}"));
    }
    // A page that lost content, or came out without the OCR it needed, is incomplete: the
    // document is partial.
    for warning in coalesce_layout_warnings(notes) {
        doc.push_warning(warning);
    }
    Ok(())
}

/// The layout models' warnings, one per page with the same message (models not installed on a
/// document of 300 pages), become one warning naming the pages; other warnings pass as they are.
fn coalesce_layout_warnings(notes: Vec<Warning>) -> Vec<Warning> {
    let mut out: Vec<Warning> = Vec::with_capacity(notes.len());
    // (index in `out`, message, pages)
    let mut groups: Vec<(usize, String, Vec<u32>)> = Vec::new();
    for w in notes {
        if w.kind != WarningKind::LayoutUnavailable {
            out.push(w);
            continue;
        }
        match groups.iter_mut().find(|g| g.1 == w.message) {
            Some(group) => group.2.extend(w.page),
            None => {
                groups.push((out.len(), w.message.clone(), w.page.into_iter().collect()));
                out.push(w);
            }
        }
    }
    for (index, message, pages) in groups {
        let w = &mut out[index];
        w.page = match pages.as_slice() {
            [one] => Some(*one),
            _ => None,
        };
        let list: Vec<String> = pages.iter().map(u32::to_string).collect();
        w.message = match pages.len() {
            0 => message,
            1 => format!("page {}: {message}", list[0]),
            _ => format!("pages {}: {message}", list.join(", ")),
        };
    }
    out
}

/// Runs `work` for each page in `pool`, at most the pool's size of this document's pages at a
/// time. A page that panics or runs past the page time limit becomes an `Err` for that page; a
/// page past its limit is cancelled (its token is set, and the pool watches that it stops).
fn run_pages<F, T>(
    pool: &PagePool,
    pages: &[u32],
    opts: &ExtractOptions,
    started: Instant,
    progress: Progress<'_>,
    work: F,
) -> Result<Vec<Result<T, PageError>>, ExtractError>
where
    F: Fn(u32, &Cancel) -> Result<T, PageError> + Send + Sync + 'static,
    T: Send + 'static,
{
    let work = Arc::new(work);
    // A document may ask for fewer pages at once than the pool holds (`--page-workers`), never
    // for more: the pool bounds the process.
    let width = opts
        .limits
        .page_workers
        .map_or(pool.size(), |n| n.get().min(pool.size()));
    let total = pages.len() as u32;
    let page_timeout = opts.limits.page_timeout;
    let mut results: Vec<Option<Result<T, PageError>>> = (0..pages.len()).map(|_| None).collect();
    type Done<T> = (usize, Result<Result<T, PageError>, String>);
    let (tx, rx) = mpsc::channel::<Done<T>>();
    let mut in_flight: HashMap<usize, Arc<Slot>> = HashMap::new();
    let abandon_all = |in_flight: &HashMap<usize, Arc<Slot>>, timed_out: bool| {
        for slot in in_flight.values() {
            pool.abandon(slot, timed_out);
        }
    };
    let mut next = 0usize;
    let mut done = 0u32;
    while (done as usize) < pages.len() {
        if opts.cancelled() {
            abandon_all(&in_flight, false);
            return Err(ExtractError::Cancelled);
        }
        if started.elapsed() > opts.limits.total_timeout {
            abandon_all(&in_flight, true);
            return Err(ExtractError::Timeout(opts.limits.total_timeout));
        }
        while in_flight.len() < width && next < pages.len() {
            let (idx, number) = (next, pages[next]);
            let (tx, work) = (tx.clone(), Arc::clone(&work));
            let slot = pool.submit(
                Cancel::new(),
                move |cancel| work(number, cancel),
                // The receiver is gone when the page was abandoned: nothing to report to.
                move |outcome| {
                    let _ = tx.send((idx, outcome));
                },
            );
            in_flight.insert(idx, slot);
            next += 1;
        }
        let now = Instant::now();
        let page_deadline = in_flight
            .values()
            .filter_map(|s| s.started())
            .min()
            .map(|t| t + page_timeout);
        let total_deadline = started + opts.limits.total_timeout;
        // Wake at least every 100 ms to notice cancellation and pages that have started.
        let wait = page_deadline
            .unwrap_or(total_deadline)
            .min(total_deadline)
            .saturating_duration_since(now)
            .min(Duration::from_millis(100));
        match rx.recv_timeout(wait) {
            Ok((idx, outcome)) => {
                if in_flight.remove(&idx).is_some() {
                    results[idx] =
                        Some(outcome.unwrap_or_else(|panic| Err(PageError::Panic(panic))));
                    done += 1;
                    progress(done, total);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                let expired: Vec<usize> = in_flight
                    .iter()
                    .filter(|(_, s)| {
                        s.started()
                            .is_some_and(|t| now.duration_since(t) >= page_timeout)
                    })
                    .map(|(i, _)| *i)
                    .collect();
                for idx in expired {
                    if let Some(slot) = in_flight.remove(&idx) {
                        pool.abandon(&slot, true);
                    }
                    results[idx] = Some(Err(PageError::Timeout(page_timeout)));
                    done += 1;
                    progress(done, total);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(Err(PageError::Cancelled)))
        .collect())
}

/// Every input format Folio reads, for messages (the 415 answer, the CLI's error).
const FORMATS: &str =
    "PDF, PNG, JPEG, TIFF, BMP, WebP, DOCX, PPTX, XLSX, XLS, ODS, HTML, Markdown, CSV/TSV, plain text";

impl ExtractError {
    /// The error for an input no backend reads, naming the formats Folio reads and what the
    /// input starts with: what [`Engine::extract`] answers, for front doors that judge an
    /// input before queueing it.
    pub fn unsupported_input(input: &[u8]) -> ExtractError {
        ExtractError::Unsupported(describe_unknown(input))
    }
}

/// Names what an unrecognised input looks like, for the error message.
fn describe_unknown(input: &[u8]) -> String {
    let head = &input[..input.len().min(8)];
    if head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        format!(
            "not a format Folio reads ({FORMATS}; starts with {:?})",
            String::from_utf8_lossy(head)
        )
    } else {
        format!("not a format Folio reads ({FORMATS}; unrecognised binary data)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    fn opts(page_timeout_ms: u64) -> ExtractOptions {
        ExtractOptions {
            limits: Limits {
                page_timeout: Duration::from_millis(page_timeout_ms),
                ..Limits::default()
            },
            ..ExtractOptions::default()
        }
    }

    fn pool() -> PagePool {
        PagePool::with_grace(2, 2, Duration::from_millis(100))
    }

    #[test]
    fn layout_warnings_of_many_pages_become_one() {
        let layout = |page| {
            Warning::new(
                WarningKind::LayoutUnavailable,
                Some(page),
                "layout models unavailable: not installed; run `folio models install`",
            )
        };
        let other = Warning::new(WarningKind::ContentDropped, Some(2), "page 2: cut short");
        let out = coalesce_layout_warnings(vec![layout(1), other.clone(), layout(2), layout(5)]);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0].page, None);
        assert_eq!(
            out[0].message,
            "pages 1, 2, 5: layout models unavailable: not installed; run `folio models install`"
        );
        assert_eq!(out[1], other);
        let one = coalesce_layout_warnings(vec![layout(3)]);
        assert_eq!(one[0].page, Some(3));
        assert!(one[0].message.starts_with("page 3: layout models"));
    }

    #[test]
    fn a_panicking_page_fails_alone() {
        let out = run_pages(
            &pool(),
            &[1, 2, 3],
            &opts(10_000),
            Instant::now(),
            &|_, _| {},
            |n, _| {
                if n == 2 {
                    panic!("bad page");
                }
                Ok(n)
            },
        )
        .unwrap();
        assert!(out[0].is_ok() && out[2].is_ok());
        let err = out[1].as_ref().unwrap_err().to_string();
        assert!(
            err.contains("internal error") && err.contains("bad page"),
            "{err}"
        );
    }

    #[test]
    fn a_page_past_its_time_limit_is_cancelled_and_its_thread_comes_back() {
        let pool = pool();
        let started = Instant::now();
        let out = run_pages(
            &pool,
            &[1, 2],
            &opts(200),
            started,
            &|_, _| {},
            |n, cancel| {
                if n == 1 {
                    // A page that would take a minute, checking its token as the readers do.
                    let until = Instant::now() + Duration::from_secs(60);
                    while Instant::now() < until {
                        cancel.check()?;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
                Ok(n)
            },
        )
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(matches!(out[0], Err(PageError::Timeout(_))));
        assert_eq!(*out[1].as_ref().unwrap(), 2);
        let t = Instant::now();
        while pool.stats().busy > 0 {
            assert!(
                t.elapsed() < Duration::from_secs(2),
                "the page did not stop"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(pool.stats().stuck, 0);
        assert_eq!(pool.stats().timed_out, 1);
    }

    #[test]
    fn cancellation_stops_between_pages() {
        let cancel = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let o = ExtractOptions {
            cancel: Some(cancel),
            ..opts(10_000)
        };
        let r = run_pages(&pool(), &[1], &o, Instant::now(), &|_, _| {}, |n, _| Ok(n));
        assert!(matches!(r, Err(ExtractError::Cancelled)));
    }

    #[test]
    fn progress_reports_every_page() {
        let seen = std::sync::Mutex::new(Vec::new());
        let record = |done: u32, total: u32| seen.lock().unwrap().push((done, total));
        run_pages(
            &pool(),
            &[1, 2, 3],
            &opts(10_000),
            Instant::now(),
            &record,
            |n, _| Ok(n),
        )
        .unwrap();
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.last(), Some(&(3, 3)));
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn an_engine_refuses_work_while_stuck_threads_reach_the_cap() {
        let pool = Arc::new(PagePool::with_grace(1, 1, Duration::from_millis(20)));
        let release = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let r = Arc::clone(&release);
        // A page that ignores its token.
        let out = run_pages(
            &pool,
            &[1],
            &opts(50),
            Instant::now(),
            &|_, _| {},
            move |n, _| {
                while !r.load(std::sync::atomic::Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Ok(n)
            },
        )
        .unwrap();
        assert!(matches!(out[0], Err(PageError::Timeout(_))));
        let engine = Engine::new().with_pool(Arc::clone(&pool));
        let t = Instant::now();
        while !engine.pool_stats().overloaded() {
            assert!(t.elapsed() < Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(5));
        }
        let err = engine
            .extract(b"%PDF-1.4", &ExtractOptions::default())
            .unwrap_err();
        assert_eq!(err.code(), "overloaded");
        release.store(true, std::sync::atomic::Ordering::SeqCst);
        let t = Instant::now();
        while engine.pool_stats().overloaded() {
            assert!(t.elapsed() < Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
