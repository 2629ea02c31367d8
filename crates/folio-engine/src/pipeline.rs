//! The pipeline: detect, open, run pages in isolation, assemble.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_doc::{Block, Document, Metadata, Page, PageProvenance, Source};
use folio_layout::PageContent;
use folio_pdf::{PdfDocument, PdfError};
use folio_store::Store;
use folio_vision::RgbImage;

use crate::ocr::{
    page_content, ModelLocator, OcrRuntime, OcrSettings, OCR_PIXEL_BUDGET, OCR_RENDER_DPI,
};
use crate::raster::ImageSource;
use crate::{sniff, ExtractError, ExtractOptions, InputKind, OcrMode};

/// A page with fewer letters and digits than this in its text layer has no usable text.
const MIN_TEXT_CHARS: usize = 10;
/// Images covering less than this share of a page are not worth reading.
const MIN_SCAN_AREA: f32 = 0.05;

/// Called after each page with `(pages done, pages total)`.
pub type Progress<'a> = &'a (dyn Fn(u32, u32) + Sync);

/// The extraction engine. Create one and share it (`Arc<Engine>`): it holds what is expensive to
/// load (the OCR models, on first need) and is safe to use from many threads.
#[derive(Debug, Default)]
pub struct Engine {
    ocr: Option<Arc<OcrRuntime>>,
}

/// What one page produced: its finished page, or why it failed.
type PageOutcome = Result<Page, String>;

/// A finished page with what its reader has to report about it (OCR that the page needed but
/// that could not run), or why the page failed.
type ReportedPage = Result<(Page, Option<String>), String>;

impl Engine {
    /// An engine for born-digital documents only: images and scanned pages are refused with
    /// [`ExtractError::ModelsUnavailable`].
    pub fn new() -> Engine {
        Engine::default()
    }

    /// An engine that also reads scans and images, with OCR models found by `locate`. The
    /// models are located and loaded on the first page that needs them, never for born-digital
    /// documents.
    pub fn with_ocr(locate: ModelLocator, settings: OcrSettings) -> Engine {
        Engine {
            ocr: Some(Arc::new(OcrRuntime::new(locate, settings))),
        }
    }

    /// [`Engine::with_ocr`] with the models of an opened store.
    pub fn with_store(store: Arc<Store>, settings: OcrSettings) -> Engine {
        Engine::with_ocr(
            Arc::new(move |id| store.model_path(id).map_err(|e| e.to_string())),
            settings,
        )
    }

    /// Loads the OCR models now (a server warms up before it says it is ready), or says why
    /// they cannot be loaded.
    pub fn load_ocr(&self) -> Result<(), ExtractError> {
        self.ocr_runtime()?.models().map(|_| ())
    }

    fn ocr_runtime(&self) -> Result<&Arc<OcrRuntime>, ExtractError> {
        self.ocr.as_ref().ok_or_else(|| {
            ExtractError::ModelsUnavailable(
                "this engine was started without OCR models".to_string(),
            )
        })
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
        match sniff(input) {
            Some(InputKind::Pdf) => self.extract_pdf(input, opts, progress),
            Some(kind) => self.extract_image(input, kind, opts, progress),
            None => Err(ExtractError::Unsupported(describe_unknown(input))),
        }
    }

    fn extract_image(
        &self,
        input: &[u8],
        kind: InputKind,
        opts: &ExtractOptions,
        progress: Progress<'_>,
    ) -> Result<Document, ExtractError> {
        let started = Instant::now();
        let source = ImageSource::open(input, kind)?;
        let count = source.page_count();
        let pages = select_pages(count, opts)?;
        if !source.is_multi_page() {
            // One image: its size is the document's, so a bad one is the document's error.
            source.check_page(0, opts.limits.max_page_pixels)?;
        }
        let runtime = match opts.ocr {
            OcrMode::Never => None,
            _ => {
                let runtime = Arc::clone(self.ocr_runtime()?);
                runtime.models()?;
                Some(runtime)
            }
        };
        let mut doc = Document::new(Metadata {
            filename: opts.filename.clone(),
            format: kind.name().to_string(),
            page_count: count,
            title: None,
        });
        let bytes = Arc::new(input.to_vec());
        let max_pixels = opts.limits.max_page_pixels;
        let outcomes = run_isolated(&pages, opts, started, progress, move |number, _cancel| {
            // Counted already: each page decodes only its own part of the input.
            let source = ImageSource::reopen(&bytes, kind, count);
            let img = source
                .page(number - 1, max_pixels)
                .map_err(|e| format!("page {number}: {e}"))?;
            let page = match &runtime {
                Some(runtime) => ocr_page(runtime, img, number, 1.0, "image"),
                None => Ok(empty_page(
                    number,
                    img.width() as f32,
                    img.height() as f32,
                    "image; OCR disabled (--ocr never), nothing extracted",
                )),
            };
            // The decoder fills what a cut JPEG lacks: the page is there, but incomplete.
            let note = (kind == InputKind::Jpeg && crate::raster::jpeg_is_truncated(&bytes))
                .then(|| format!("page {number}: the JPEG data ends early (a truncated file?); the rest of the image is blank"));
            page.map(|p| (p, note))
        })?;
        collect_pages(&mut doc, &pages, outcomes)?;
        Ok(doc)
    }

    fn extract_pdf(
        &self,
        input: &[u8],
        opts: &ExtractOptions,
        progress: Progress<'_>,
    ) -> Result<Document, ExtractError> {
        let started = Instant::now();
        let pdf =
            PdfDocument::open(Arc::new(input.to_vec()), opts.password.as_deref()).map_err(|e| {
                match e {
                    PdfError::PasswordRequired if opts.password.is_some() => {
                        ExtractError::WrongPassword
                    }
                    PdfError::PasswordRequired => ExtractError::PasswordRequired,
                    other => ExtractError::Unreadable(other.to_string()),
                }
            })?;
        let count = pdf.page_count();
        if count == 0 {
            // A truncated file can still parse into an empty page tree: nothing was extracted.
            return Err(ExtractError::Unreadable(
                "the document has no readable pages".to_string(),
            ));
        }
        let pages = select_pages(count, opts)?;
        let runtime = match opts.ocr {
            OcrMode::Never => None,
            // Asked for explicitly: missing models are the document's error, said up front.
            OcrMode::Always => {
                let runtime = Arc::clone(self.ocr_runtime()?);
                runtime.models()?;
                Some(runtime)
            }
            OcrMode::Auto => self.ocr.clone(),
        };
        let mut doc = Document::new(Metadata {
            filename: opts.filename.clone(),
            format: "pdf".to_string(),
            page_count: count,
            title: pdf.title(),
        });
        let mode = opts.ocr;
        let max_pixels = opts.limits.max_page_pixels;
        let outcomes = run_isolated(&pages, opts, started, progress, move |number, cancel| {
            pdf_page(&pdf, number, mode, runtime.as_deref(), max_pixels, cancel)
        })?;
        collect_pages(&mut doc, &pages, outcomes)?;
        Ok(doc)
    }
}

/// The pages `opts` selects from a document of `count` pages, within the page limit.
fn select_pages(count: u32, opts: &ExtractOptions) -> Result<Vec<u32>, ExtractError> {
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
    outcomes: Vec<ReportedPage>,
) -> Result<(), ExtractError> {
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    for (number, outcome) in pages.iter().zip(outcomes) {
        match outcome {
            Ok((page, note)) => {
                doc.pages.push(page);
                notes.push((*number, note));
            }
            Err(reason) => failures.push((*number, reason)),
        }
    }
    if doc.pages.is_empty() && !pages.is_empty() {
        // The error carries the reason; logging the page as well would say it twice (a bad
        // image is one line on stderr, not a warning and then the same words as an error).
        return Err(ExtractError::AllPagesFailed(
            failures
                .into_iter()
                .next()
                .map(|(_, reason)| reason)
                .unwrap_or_default(),
        ));
    }
    for (number, reason) in failures {
        tracing::warn!(page = number, %reason, "page failed");
        doc.warn(Some(number), reason);
    }
    // A page that came out without the OCR it needed is incomplete: the document is partial.
    for (number, note) in notes {
        if let Some(note) = note {
            doc.warn(Some(number), note);
        }
    }
    folio_layout::finish_document(&mut doc.pages);
    Ok(())
}

fn empty_page(number: u32, width: f32, height: f32, decision: &str) -> Page {
    Page {
        number,
        width,
        height,
        rotation: 0,
        blocks: Vec::new(),
        provenance: PageProvenance {
            source: Source::Ocr,
            decision: decision.to_string(),
        },
    }
}

/// OCR of one page image; `px_per_point` maps the image's pixels back to page points.
fn ocr_page(
    runtime: &OcrRuntime,
    img: RgbImage,
    number: u32,
    px_per_point: f32,
    why: &str,
) -> PageOutcome {
    let (w, h) = (img.width(), img.height());
    let (found, fit) = runtime
        .recognize(img)
        .map_err(|e| format!("page {number}: {e}"))?;
    let content = page_content(&found, px_per_point * fit);
    let blocks = folio_layout::analyze_page(&content, number, Source::Ocr);
    let t = found.timings;
    let turned = match found.turned {
        0 => String::new(),
        q => format!(", turned upright by {}°", u32::from(q) * 90),
    };
    // The page is the image as given (turned upright): its size comes from the image's own
    // dimensions, not from the scaled-down copy OCR read, whose whole-pixel rounding would make
    // a downscaled page a fraction of a pixel shorter than the image.
    let (upright_w, upright_h) = if found.turned % 2 == 1 {
        (h, w)
    } else {
        (w, h)
    };
    Ok(Page {
        number,
        width: upright_w as f32 / px_per_point,
        height: upright_h as f32 / px_per_point,
        rotation: 0,
        blocks,
        provenance: PageProvenance {
            source: Source::Ocr,
            decision: format!(
                "{why}; OCR of {w}x{h} pixels: {} lines{turned} (detection {} ms, recognition {} ms)",
                found.lines.len(),
                t.det_ms,
                t.rec_ms,
            ),
        },
    })
}

/// Whether a text layer is usable, and a description of it for the page's provenance.
fn assess_text_layer(content: &PageContent) -> (bool, String) {
    let glyphs = content.glyphs.len();
    let chars = content
        .glyphs
        .iter()
        .filter(|g| g.text.chars().any(|c| c.is_alphanumeric()))
        .count();
    // Fonts without a Unicode mapping give empty, replacement or private-use characters.
    let unmapped = content
        .glyphs
        .iter()
        .filter(|g| {
            g.text.is_empty()
                || g.text
                    .chars()
                    .any(|c| c == '\u{FFFD}' || ('\u{E000}'..='\u{F8FF}').contains(&c))
        })
        .count();
    if glyphs >= 20 && unmapped * 2 > glyphs {
        return (
            false,
            format!("text layer unusable ({unmapped} of {glyphs} glyphs have no Unicode)"),
        );
    }
    if chars < MIN_TEXT_CHARS {
        return (false, format!("no text layer ({chars} characters)"));
    }
    (true, format!("text layer ({chars} characters)"))
}

/// Reads and analyses one PDF page (1-based `number`), deciding between its text layer and OCR.
fn pdf_page(
    pdf: &PdfDocument,
    number: u32,
    mode: OcrMode,
    runtime: Option<&OcrRuntime>,
    max_pixels: u64,
    cancel: &Arc<AtomicBool>,
) -> ReportedPage {
    let (content, hit) = pdf
        .page_content_bounded(number - 1, Some(cancel))
        .map_err(|e| format!("page {number}: {e}"))?;
    // A reader limit (decoded size, operators, nesting) left content out: the page is kept
    // with what was read, and the document says what is missing.
    let limit_note = hit.map(|h| format!("page {number}: content left out by a reader limit: {h}"));
    let with_limit_note = |note: Option<String>| match (&limit_note, note) {
        (Some(l), Some(n)) => Some(format!("{l}; {n}")),
        (Some(l), None) => Some(l.clone()),
        (None, n) => n,
    };
    let (usable, layer) = assess_text_layer(&content);
    let page_area = (content.width * content.height).max(1.0);
    let scanned_area: f32 = content
        .images
        .iter()
        .map(|b| b.width().max(0.0) * b.height().max(0.0))
        .sum::<f32>()
        / page_area;
    let wants_ocr = match mode {
        OcrMode::Never => false,
        OcrMode::Always => true,
        OcrMode::Auto => !usable && (scanned_area >= MIN_SCAN_AREA || !content.glyphs.is_empty()),
    };
    let text_layer_page = |decision: String| {
        let blocks: Vec<Block> = folio_layout::analyze_page(&content, number, Source::TextLayer);
        Page {
            number,
            width: content.width,
            height: content.height,
            rotation: content.rotation,
            blocks,
            provenance: PageProvenance {
                source: Source::TextLayer,
                decision,
            },
        }
    };
    if !wants_ocr {
        let decision = match mode {
            OcrMode::Never => format!("{layer}; OCR disabled"),
            _ if !usable => format!("{layer}; no scanned image to read"),
            _ => layer,
        };
        return Ok((text_layer_page(decision), with_limit_note(None)));
    }
    let why = match mode {
        OcrMode::Always => format!("{layer}; --ocr always"),
        _ => layer.clone(),
    };
    // Without models, auto mode on a document whose other pages may be fine: the page keeps
    // what its text layer has, says why it was not read, and the document reports it.
    let Some(runtime) = runtime else {
        let why = "OCR needed but this engine has no OCR models";
        return Ok((
            text_layer_page(format!("{layer}; {why}")),
            with_limit_note(Some(format!("page {number}: {why}"))),
        ));
    };
    if let Err(e) = runtime.models() {
        return Ok((
            text_layer_page(format!("{layer}; OCR unavailable: {e}")),
            with_limit_note(Some(format!(
                "page {number}: OCR needed but unavailable: {e}"
            ))),
        ));
    }
    let points = page_area;
    let budget = (OCR_PIXEL_BUDGET.min(max_pixels)) as f32;
    let scale = (OCR_RENDER_DPI / 72.0).min((budget / points).sqrt());
    let raster = pdf
        .render_page(number - 1, scale, max_pixels)
        .map_err(|e| format!("page {number}: cannot render for OCR: {e}"))?;
    let img = RgbImage::new(raster.width, raster.height, raster.rgb)
        .map_err(|e| format!("page {number}: {e}"))?;
    ocr_page(runtime, img, number, scale, &why).map(|p| (p, with_limit_note(None)))
}

/// Runs `work` for each page on worker threads, at most one per core at a time. A page that
/// panics or runs past the page time limit becomes an `Err` for that page; the thread of a page
/// that timed out is told to stop through its cancel flag (which the PDF reader checks as it
/// decodes and interprets) and its result is dropped if it ever ends. The flags of pages still
/// running are raised too when the whole extraction stops early.
fn run_isolated<F, T>(
    pages: &[u32],
    opts: &ExtractOptions,
    started: Instant,
    progress: Progress<'_>,
    work: F,
) -> Result<Vec<Result<T, String>>, ExtractError>
where
    F: Fn(u32, &Arc<AtomicBool>) -> Result<T, String> + Send + Sync + 'static,
    T: Send + 'static,
{
    /// Raises every flag still in the map when the loop ends, however it ends.
    struct StopAll(HashMap<usize, (Instant, Arc<AtomicBool>)>);
    impl Drop for StopAll {
        fn drop(&mut self) {
            for (_, flag) in self.0.values() {
                flag.store(true, Ordering::Relaxed);
            }
        }
    }
    let work = Arc::new(work);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let total = pages.len() as u32;
    let mut results: Vec<Option<Result<T, String>>> = (0..pages.len()).map(|_| None).collect();
    let (tx, rx) = mpsc::channel::<(usize, Result<T, String>)>();
    let mut in_flight = StopAll(HashMap::new());
    let mut next = 0usize;
    let mut done = 0u32;
    while (done as usize) < pages.len() {
        if opts.cancelled() {
            return Err(ExtractError::Cancelled);
        }
        if started.elapsed() > opts.limits.total_timeout {
            return Err(ExtractError::Timeout(opts.limits.total_timeout));
        }
        while in_flight.0.len() < workers && next < pages.len() {
            let (idx, number) = (next, pages[next]);
            let (tx, work) = (tx.clone(), Arc::clone(&work));
            let cancel = Arc::new(AtomicBool::new(false));
            let page_cancel = Arc::clone(&cancel);
            let spawned = std::thread::Builder::new()
                .name(format!("folio-page-{number}"))
                .spawn(move || {
                    let outcome =
                        std::panic::catch_unwind(AssertUnwindSafe(|| work(number, &page_cancel)))
                            .unwrap_or_else(|panic| {
                                Err(format!(
                                    "page {number}: internal error: {}",
                                    panic_text(&panic)
                                ))
                            });
                    // The receiver is gone when the page was abandoned: nothing to report to.
                    let _ = tx.send((idx, outcome));
                });
            match spawned {
                Ok(_) => {
                    in_flight.0.insert(idx, (Instant::now(), cancel));
                }
                Err(e) => {
                    results[idx] = Some(Err(format!("page {number}: cannot start a thread: {e}")));
                    done += 1;
                }
            }
            next += 1;
        }
        let oldest = in_flight
            .0
            .values()
            .map(|(t, _)| *t)
            .min()
            .unwrap_or_else(Instant::now);
        let page_deadline = oldest + opts.limits.page_timeout;
        let total_deadline = started + opts.limits.total_timeout;
        // Wake at least every 100 ms to notice cancellation.
        let wait = page_deadline
            .min(total_deadline)
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(100));
        match rx.recv_timeout(wait) {
            Ok((idx, outcome)) => {
                if in_flight.0.remove(&idx).is_some() {
                    results[idx] = Some(outcome);
                    done += 1;
                    progress(done, total);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                let expired: Vec<usize> = in_flight
                    .0
                    .iter()
                    .filter(|(_, (t, _))| now.duration_since(*t) >= opts.limits.page_timeout)
                    .map(|(i, _)| *i)
                    .collect();
                for idx in expired {
                    if let Some((_, flag)) = in_flight.0.remove(&idx) {
                        flag.store(true, Ordering::Relaxed);
                    }
                    results[idx] = Some(Err(format!(
                        "page {}: abandoned after the page time limit of {:?}",
                        pages[idx], opts.limits.page_timeout
                    )));
                    done += 1;
                    progress(done, total);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("page was not processed".to_string())))
        .collect())
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
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
            "not a PDF or image (starts with {:?})",
            String::from_utf8_lossy(head)
        )
    } else {
        "not a PDF or image (unrecognised binary data)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    fn page(number: u32) -> Page {
        Page {
            number,
            width: 100.0,
            height: 100.0,
            rotation: 0,
            blocks: Vec::new(),
            provenance: PageProvenance {
                source: Source::TextLayer,
                decision: String::new(),
            },
        }
    }

    fn opts(page_timeout_ms: u64) -> ExtractOptions {
        ExtractOptions {
            limits: Limits {
                page_timeout: Duration::from_millis(page_timeout_ms),
                ..Limits::default()
            },
            ..ExtractOptions::default()
        }
    }

    #[test]
    fn a_panicking_page_fails_alone() {
        let out = run_isolated(
            &[1, 2, 3],
            &opts(10_000),
            Instant::now(),
            &|_, _| {},
            |n, _| {
                if n == 2 {
                    panic!("bad page");
                }
                Ok(page(n))
            },
        )
        .unwrap();
        assert!(out[0].is_ok() && out[2].is_ok());
        let err = out[1].as_ref().unwrap_err();
        assert!(err.contains("page 2") && err.contains("bad page"), "{err}");
    }

    #[test]
    fn a_page_past_its_time_limit_is_abandoned() {
        let started = Instant::now();
        let out = run_isolated(&[1, 2], &opts(200), started, &|_, _| {}, |n, _| {
            if n == 1 {
                std::thread::sleep(Duration::from_secs(5));
            }
            Ok(page(n))
        })
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(out[0].as_ref().unwrap_err().contains("time limit"));
        assert!(out[1].is_ok());
    }

    #[test]
    fn cancellation_stops_between_pages() {
        let cancel = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let o = ExtractOptions {
            cancel: Some(cancel),
            ..opts(10_000)
        };
        let r = run_isolated(&[1], &o, Instant::now(), &|_, _| {}, |n, _| Ok(page(n)));
        assert!(matches!(r, Err(ExtractError::Cancelled)));
    }

    #[test]
    fn progress_reports_every_page() {
        let seen = std::sync::Mutex::new(Vec::new());
        let record = |done: u32, total: u32| seen.lock().unwrap().push((done, total));
        run_isolated(
            &[1, 2, 3],
            &opts(10_000),
            Instant::now(),
            &record,
            |n, _| Ok(page(n)),
        )
        .unwrap();
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.last(), Some(&(3, 3)));
        assert_eq!(seen.len(), 3);
    }
}
