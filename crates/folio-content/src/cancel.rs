//! The cancellation token long loops check: the PDF interpreter, OCR and layout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A shared flag that asks work to stop. Cheap to clone and to check (one relaxed atomic load),
/// so hot loops check it often; whoever owns the deadline (the engine's page pool) sets it when
/// the time is up, and the work returns early with what it has, or with [`Cancelled`].
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
}

impl Cancel {
    /// A token that is not cancelled yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks every holder of this token (and its clones) to stop.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    /// Whether the work should stop.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// The shared flag itself, for code that takes a plain `Arc<AtomicBool>`: the PDF reader's
    /// work budget (in the patched `hayro-syntax`) checks it while it decodes and interprets,
    /// so one token stops a page's reading at every level.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.flag)
    }

    /// `Err(Cancelled)` once cancelled, for `?` between the steps of a loop.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

/// The error of work stopped by its [`Cancel`] token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let a = Cancel::new();
        let b = a.clone();
        assert!(a.check().is_ok() && !b.is_cancelled());
        b.cancel();
        assert!(a.is_cancelled());
        assert_eq!(a.check(), Err(Cancelled));
    }
}
