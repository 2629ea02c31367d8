//! Bounds on the work one document may cause: decoded bytes per stream, per page and per
//! document, operators per page, and nesting depth, enforced inside the reader (through the
//! work budget of Folio's patched hayro, `third_party/README.md`) before memory is allocated.
//!
//! A 0.5 MB PDF whose page names one 512 MiB Flate stream sixteen times used to make the reader
//! allocate 8 GiB; nested form XObjects drawing each other ten times over kept a core busy for
//! ever. Under these limits the first is a page with its content left out and the second a page
//! cut short, each with a [`LimitHit`] saying so.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use hayro::hayro_syntax::limits::{with_budget, Budget, BudgetReport};

/// The reader's bounds. The defaults leave every real document alone: the largest content
/// stream in the evaluation corpus is a few megabytes, a 600 dpi A4 RGB scan decodes to 100 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Most bytes one decoded stream may hold.
    pub max_stream_bytes: usize,
    /// Most decoded bytes one page may cause (its content, forms, fonts and images).
    pub max_page_bytes: usize,
    /// Most decoded bytes the whole document may cause, pages together.
    pub max_document_bytes: usize,
    /// Most content-stream operators executed for one page, nested forms included.
    pub max_operations: u64,
    /// Deepest nesting of form XObjects, patterns and Type3 glyphs.
    pub max_nesting: u32,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_stream_bytes: 128 << 20,
            max_page_bytes: 512 << 20,
            max_document_bytes: 4 << 30,
            max_operations: 10_000_000,
            max_nesting: 24,
        }
    }
}

/// Which bound a page ran into: its content was left out or cut short, not misread.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitHit {
    /// Streams refused for decoding to more than a limit allows.
    #[error("{streams} stream(s) left out: they decode to more than the limit ({limit} bytes per stream, {page} per page, {document} per document)")]
    DecodedSize {
        /// Streams refused.
        streams: u32,
        /// The per-stream limit.
        limit: usize,
        /// The per-page limit.
        page: usize,
        /// The per-document limit.
        document: usize,
    },
    /// The page executed more operators than allowed, and was cut short.
    #[error("the page was cut short after {0} operators")]
    Operations(u64),
    /// Content nested deeper than allowed was left out.
    #[error("content nested more than {0} levels deep was left out")]
    Nesting(u32),
    /// The read was cancelled (the page ran out of time).
    #[error("cancelled")]
    Cancelled,
}

/// The bounds of one document, shared by its pages.
#[derive(Debug, Default)]
pub(crate) struct DocumentBudget {
    pub limits: ReadLimits,
    /// Decoded bytes the document's pages have used so far.
    used: AtomicUsize,
}

impl DocumentBudget {
    pub fn new(limits: ReadLimits) -> DocumentBudget {
        DocumentBudget {
            limits,
            used: AtomicUsize::new(0),
        }
    }

    /// Runs `f` (the reading of one page) under the page's share of the budget, then counts
    /// what it used against the document.
    pub fn run<R>(
        &self,
        cancel: Option<&Arc<AtomicBool>>,
        f: impl FnOnce() -> R,
    ) -> (R, Option<LimitHit>) {
        let l = self.limits;
        let left = l
            .max_document_bytes
            .saturating_sub(self.used.load(Ordering::Relaxed));
        let budget = Budget {
            max_stream_bytes: l.max_stream_bytes,
            max_total_bytes: l.max_page_bytes.min(left),
            max_operations: l.max_operations,
            max_nesting: l.max_nesting,
            cancel: cancel.cloned(),
        };
        let (result, report) = with_budget(budget, f);
        self.used.fetch_add(report.decoded_bytes, Ordering::Relaxed);
        (result, self.judge(&report))
    }

    fn judge(&self, r: &BudgetReport) -> Option<LimitHit> {
        let l = self.limits;
        if r.cancelled {
            Some(LimitHit::Cancelled)
        } else if r.streams_refused > 0 {
            Some(LimitHit::DecodedSize {
                streams: r.streams_refused,
                limit: l.max_stream_bytes,
                page: l.max_page_bytes,
                document: l.max_document_bytes,
            })
        } else if r.operations_exhausted {
            Some(LimitHit::Operations(r.operations))
        } else if r.nesting_cut {
            Some(LimitHit::Nesting(l.max_nesting))
        } else {
            None
        }
    }
}
