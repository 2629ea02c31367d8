//! The pipeline: detect, open, run pages in isolation, assemble.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_doc::{Block, Document, Metadata, Page, PageProvenance, Source};
use folio_pdf::{PdfDocument, PdfError};

use crate::{sniff, ExtractError, ExtractOptions, InputKind, OcrMode};

/// Called after each page with `(pages done, pages total)`.
pub type Progress<'a> = &'a (dyn Fn(u32, u32) + Sync);

/// The extraction engine. Create one and share it (`Arc<Engine>`): it holds what is expensive to
/// load (OCR models, later) and is safe to use from many threads.
#[derive(Debug, Default)]
pub struct Engine {
    _private: (),
}

/// What one page produced: its finished page, or why it failed.
type PageOutcome = Result<Page, String>;

impl Engine {
    /// An engine for born-digital documents.
    pub fn new() -> Engine {
        Engine::default()
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
            Some(kind) => Err(ExtractError::Unsupported(format!(
                "{} images need OCR, which this build does not include yet",
                kind.name()
            ))),
            None => Err(ExtractError::Unsupported(describe_unknown(input))),
        }
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
        let pages = match &opts.pages {
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
        let mut doc = Document::new(Metadata {
            filename: opts.filename.clone(),
            format: "pdf".to_string(),
            page_count: count,
            title: pdf.title(),
        });
        let ocr = opts.ocr;
        let outcomes = run_isolated(&pages, opts, started, progress, move |number| {
            pdf_page(&pdf, number, ocr)
        })?;
        let mut failures = Vec::new();
        for (number, outcome) in pages.iter().zip(outcomes) {
            match outcome {
                Ok(page) => doc.pages.push(page),
                Err(reason) => {
                    tracing::warn!(page = number, %reason, "page failed");
                    doc.warn(Some(*number), reason.clone());
                    failures.push(reason);
                }
            }
        }
        if doc.pages.is_empty() && !pages.is_empty() {
            return Err(ExtractError::AllPagesFailed(
                failures.into_iter().next().unwrap_or_default(),
            ));
        }
        folio_layout::finish_document(&mut doc.pages);
        Ok(doc)
    }
}

/// Reads and analyses one PDF page (1-based `number`).
fn pdf_page(pdf: &PdfDocument, number: u32, ocr: OcrMode) -> PageOutcome {
    let content = pdf
        .page_content(number - 1)
        .map_err(|e| format!("page {number}: {e}"))?;
    let chars: usize = content
        .glyphs
        .iter()
        .filter(|g| g.text.chars().any(|c| c.is_alphanumeric()))
        .count();
    let decision = match ocr {
        OcrMode::Never => format!("text layer ({chars} characters); OCR disabled"),
        OcrMode::Always => {
            format!("text layer ({chars} characters); OCR requested but not in this build")
        }
        OcrMode::Auto => format!("text layer ({chars} characters)"),
    };
    let blocks: Vec<Block> = folio_layout::analyze_page(&content, number, Source::TextLayer);
    Ok(Page {
        number,
        width: content.width,
        height: content.height,
        rotation: content.rotation,
        blocks,
        provenance: PageProvenance {
            source: Source::TextLayer,
            decision,
        },
    })
}

/// Runs `work` for each page on worker threads, at most one per core at a time. A page that
/// panics or runs past the page time limit becomes an `Err` for that page; the thread of a page
/// that timed out is abandoned (it cannot be killed) and its result is dropped if it ever ends.
fn run_isolated<F>(
    pages: &[u32],
    opts: &ExtractOptions,
    started: Instant,
    progress: Progress<'_>,
    work: F,
) -> Result<Vec<PageOutcome>, ExtractError>
where
    F: Fn(u32) -> PageOutcome + Send + Sync + 'static,
{
    let work = Arc::new(work);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let total = pages.len() as u32;
    let mut results: Vec<Option<PageOutcome>> = (0..pages.len()).map(|_| None).collect();
    let (tx, rx) = mpsc::channel::<(usize, PageOutcome)>();
    let mut in_flight: HashMap<usize, Instant> = HashMap::new();
    let mut next = 0usize;
    let mut done = 0u32;
    while (done as usize) < pages.len() {
        if opts.cancelled() {
            return Err(ExtractError::Cancelled);
        }
        if started.elapsed() > opts.limits.total_timeout {
            return Err(ExtractError::Timeout(opts.limits.total_timeout));
        }
        while in_flight.len() < workers && next < pages.len() {
            let (idx, number) = (next, pages[next]);
            let (tx, work) = (tx.clone(), Arc::clone(&work));
            let spawned = std::thread::Builder::new()
                .name(format!("folio-page-{number}"))
                .spawn(move || {
                    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| work(number)))
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
                    in_flight.insert(idx, Instant::now());
                }
                Err(e) => {
                    results[idx] = Some(Err(format!("page {number}: cannot start a thread: {e}")));
                    done += 1;
                }
            }
            next += 1;
        }
        let oldest = in_flight
            .values()
            .min()
            .copied()
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
                if in_flight.remove(&idx).is_some() {
                    results[idx] = Some(outcome);
                    done += 1;
                    progress(done, total);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                let expired: Vec<usize> = in_flight
                    .iter()
                    .filter(|(_, t)| now.duration_since(**t) >= opts.limits.page_timeout)
                    .map(|(i, _)| *i)
                    .collect();
                for idx in expired {
                    in_flight.remove(&idx);
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
        let out = run_isolated(&[1, 2, 3], &opts(10_000), Instant::now(), &|_, _| {}, |n| {
            if n == 2 {
                panic!("bad page");
            }
            Ok(page(n))
        })
        .unwrap();
        assert!(out[0].is_ok() && out[2].is_ok());
        let err = out[1].as_ref().unwrap_err();
        assert!(err.contains("page 2") && err.contains("bad page"), "{err}");
    }

    #[test]
    fn a_page_past_its_time_limit_is_abandoned() {
        let started = Instant::now();
        let out = run_isolated(&[1, 2], &opts(200), started, &|_, _| {}, |n| {
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
        let r = run_isolated(&[1], &o, Instant::now(), &|_, _| {}, |n| Ok(page(n)));
        assert!(matches!(r, Err(ExtractError::Cancelled)));
    }

    #[test]
    fn progress_reports_every_page() {
        let seen = std::sync::Mutex::new(Vec::new());
        let record = |done: u32, total: u32| seen.lock().unwrap().push((done, total));
        run_isolated(&[1, 2, 3], &opts(10_000), Instant::now(), &record, |n| {
            Ok(page(n))
        })
        .unwrap();
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.last(), Some(&(3, 3)));
        assert_eq!(seen.len(), 3);
    }
}
