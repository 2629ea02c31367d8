//! Bounds on the work done for untrusted input, set by the caller for the current thread.
//!
//! A small PDF can make a reader do unbounded work: a Flate stream of a few kilobytes inflates
//! to gigabytes and a page can name it many times; nested form XObjects, each drawing the next
//! ten times, multiply the operators executed. [`with_budget`] runs a closure under a
//! [`Budget`]:
//!
//! - every stream decoded on this thread inside it counts its output against the budget; a
//!   stream whose output would pass the per-stream limit, or what is left of the total, fails
//!   to decode (as a corrupt stream does) as soon as it passes, so the memory for the rest is
//!   never allocated, and the attempt is charged in full, so that naming the same bomb again and
//!   again soon finds nothing left;
//! - each content-stream operator executed costs one unit of the operator budget, and nested
//!   interpretation (form XObjects, patterns, Type3 glyphs) is limited in depth (both checked by
//!   `hayro-interpret`);
//! - a cancellation flag, when given, stops decoding and interpretation at the next check.
//!
//! Outside any budget nothing is limited. What was used, and which limit was hit, comes back
//! in a [`BudgetReport`]. Budgets are per thread: a page interpreted on a thread of its own
//! gets its own.

#[cfg(feature = "std")]
use std::sync::Arc;
#[cfg(feature = "std")]
use std::sync::atomic::{AtomicBool, Ordering};

/// The limits of one [`with_budget`] scope.
#[derive(Clone, Debug)]
pub struct Budget {
    /// Most bytes one decoded stream may hold.
    pub max_stream_bytes: usize,
    /// Most bytes all streams decoded in the scope may hold together.
    pub max_total_bytes: usize,
    /// Most content-stream operators executed in the scope.
    pub max_operations: u64,
    /// Deepest nesting of form XObjects, patterns and Type3 glyphs.
    pub max_nesting: u32,
    /// Raised by another thread to stop the work at the next check.
    #[cfg(feature = "std")]
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for Budget {
    /// No limit at all.
    fn default() -> Self {
        Self {
            max_stream_bytes: usize::MAX,
            max_total_bytes: usize::MAX,
            max_operations: u64::MAX,
            max_nesting: u32::MAX,
            #[cfg(feature = "std")]
            cancel: None,
        }
    }
}

/// What a [`with_budget`] scope used, and which limits it hit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BudgetReport {
    /// Bytes of decoded stream data (refused attempts counted at the limit they hit).
    pub decoded_bytes: usize,
    /// Content-stream operators executed.
    pub operations: u64,
    /// Streams refused for passing the per-stream limit or the rest of the total.
    pub streams_refused: u32,
    /// Whether the operator budget ran out.
    pub operations_exhausted: bool,
    /// Whether nested interpretation was cut at the depth limit.
    pub nesting_cut: bool,
    /// Whether the cancellation flag stopped the work.
    pub cancelled: bool,
}

impl BudgetReport {
    /// Whether any limit was hit (content was left out).
    pub fn hit_limit(&self) -> bool {
        self.streams_refused > 0 || self.operations_exhausted || self.nesting_cut || self.cancelled
    }
}

#[cfg(feature = "std")]
mod imp {
    use super::*;
    use core::cell::RefCell;

    struct Scope {
        budget: Budget,
        report: BudgetReport,
    }

    std::thread_local! {
        static SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
    }

    pub(super) fn with_budget<R>(budget: Budget, f: impl FnOnce() -> R) -> (R, BudgetReport) {
        let outer = SCOPE.with(|s| {
            s.borrow_mut().replace(Scope {
                budget,
                report: BudgetReport::default(),
            })
        });
        // Restores the outer scope even if `f` unwinds.
        struct Restore(Option<Option<Scope>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                if let Some(outer) = self.0.take() {
                    SCOPE.with(|s| *s.borrow_mut() = outer);
                }
            }
        }
        let mut restore = Restore(Some(outer));
        let result = f();
        let report = SCOPE.with(|s| s.borrow().as_ref().map(|s| s.report.clone()));
        if let Some(outer) = restore.0.take() {
            SCOPE.with(|s| *s.borrow_mut() = outer);
        }
        (result, report.unwrap_or_default())
    }

    fn with_scope<T>(default: T, f: impl FnOnce(&mut Scope) -> T) -> T {
        SCOPE.with(|s| match s.borrow_mut().as_mut() {
            Some(scope) => f(scope),
            None => default,
        })
    }

    fn cancelled(scope: &mut Scope) -> bool {
        let c = scope
            .budget
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed));
        scope.report.cancelled |= c;
        c
    }

    pub(crate) fn stream_limit() -> usize {
        with_scope(usize::MAX, |s| {
            if cancelled(s) {
                return 0;
            }
            let left = s
                .budget
                .max_total_bytes
                .saturating_sub(s.report.decoded_bytes);
            s.budget.max_stream_bytes.min(left)
        })
    }

    pub(crate) fn charge_decoded(bytes: usize) {
        with_scope((), |s| {
            s.report.decoded_bytes = s.report.decoded_bytes.saturating_add(bytes);
        });
    }

    pub(crate) fn refuse_stream(limit: usize) {
        with_scope((), |s| {
            s.report.streams_refused = s.report.streams_refused.saturating_add(1);
            // Charged in full (at least a byte): the same bomb named again finds less room.
            s.report.decoded_bytes = s.report.decoded_bytes.saturating_add(limit.max(1));
        });
    }

    pub(crate) fn keep_going() -> bool {
        with_scope(true, |s| !cancelled(s))
    }

    pub(super) fn charge_operation() -> bool {
        with_scope(true, |s| {
            // Once stopped, stopped for good: every level of nesting must unwind.
            if s.report.cancelled {
                return false;
            }
            if s.report.operations >= s.budget.max_operations {
                s.report.operations_exhausted = true;
                return false;
            }
            s.report.operations += 1;
            // The flag is an atomic load: look at it every few thousand operators only.
            !(s.report.operations % 4096 == 0 && cancelled(s))
        })
    }

    pub(super) fn may_nest(depth: u32) -> bool {
        with_scope(true, |s| {
            let ok = depth < s.budget.max_nesting;
            s.report.nesting_cut |= !ok;
            ok
        })
    }
}

#[cfg(not(feature = "std"))]
mod imp {
    use super::*;

    pub(super) fn with_budget<R>(_budget: Budget, f: impl FnOnce() -> R) -> (R, BudgetReport) {
        (f(), BudgetReport::default())
    }
    pub(crate) fn stream_limit() -> usize {
        usize::MAX
    }
    pub(crate) fn charge_decoded(_bytes: usize) {}
    pub(crate) fn refuse_stream(_limit: usize) {}
    pub(crate) fn keep_going() -> bool {
        true
    }
    pub(super) fn charge_operation() -> bool {
        true
    }
    pub(super) fn may_nest(_depth: u32) -> bool {
        true
    }
}

pub(crate) use imp::{charge_decoded, keep_going, refuse_stream, stream_limit};

/// Runs `f` under `budget` on this thread (an enclosing budget is set aside meanwhile and
/// restored after), and reports what it used.
pub fn with_budget<R>(budget: Budget, f: impl FnOnce() -> R) -> (R, BudgetReport) {
    imp::with_budget(budget, f)
}

/// Counts one content-stream operator against the current budget; `false` when the budget is
/// spent or the work was cancelled, and the interpreter should stop.
pub fn charge_operation() -> bool {
    imp::charge_operation()
}

/// Whether interpretation may go one level deeper than `depth`.
pub fn may_nest(depth: u32) -> bool {
    imp::may_nest(depth)
}

/// A decode stopped by the budget (not a corrupt stream: no other decoder should try it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused;

/// Reads everything from `reader` up to `limit` bytes: `Ok(None)` when the reader fails (a
/// corrupt stream, which another decoder may still read), `Err(Refused)` when the output would
/// pass the limit or the work was cancelled, with the refusal recorded.
#[cfg(feature = "std")]
pub(crate) fn read_limited(
    reader: impl std::io::Read,
    limit: usize,
) -> Result<Option<Vec<u8>>, Refused> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut reader = reader.take((limit as u64).saturating_add(1));
    let mut chunk = alloc::vec![0u8; 1 << 16];
    loop {
        let Ok(n) = reader.read(&mut chunk) else {
            return Ok(None);
        };
        if n == 0 {
            return Ok(Some(out));
        }
        if out.len() + n > limit {
            refuse_stream(limit);
            return Err(Refused);
        }
        // Once a megabyte, a look at the cancellation flag.
        if (out.len() >> 20) != ((out.len() + n) >> 20) && !keep_going() {
            return Err(Refused);
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

/// Whether `len` decoded bytes are still within `limit`; records the refusal when not.
pub(crate) fn within(len: usize, limit: usize) -> bool {
    if len > limit {
        refuse_stream(limit);
        false
    } else {
        true
    }
}
