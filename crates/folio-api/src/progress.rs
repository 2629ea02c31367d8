//! Pages done out of pages selected, shared between the engine's progress callback and whoever
//! reports it (the job status of `folio serve`, the progress updates of `folio worker`).

use std::sync::atomic::{AtomicU64, Ordering};

/// Pages done and pages selected, written after each page and read from another thread.
#[derive(Debug, Default)]
pub struct PageProgress {
    /// `done << 32 | total`, so a reader never sees one without the other.
    packed: AtomicU64,
}

impl PageProgress {
    /// Records that `done` of `total` pages are finished.
    pub fn set(&self, done: u32, total: u32) {
        self.packed.store(
            (u64::from(done) << 32) | u64::from(total),
            Ordering::Relaxed,
        );
    }

    /// `(done, total)`; `(0, 0)` before the first page finished.
    pub fn get(&self) -> (u32, u32) {
        let v = self.packed.load(Ordering::Relaxed);
        ((v >> 32) as u32, v as u32)
    }

    /// `(done, total)` once the first page finished, `None` before.
    pub fn started(&self) -> Option<(u32, u32)> {
        let (done, total) = self.get();
        (total != 0).then_some((done, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_and_total_travel_together() {
        let p = PageProgress::default();
        assert_eq!((p.get(), p.started()), ((0, 0), None));
        p.set(3, u32::MAX);
        assert_eq!(p.get(), (3, u32::MAX));
        p.set(u32::MAX, u32::MAX);
        assert_eq!(p.started(), Some((u32::MAX, u32::MAX)));
    }
}
