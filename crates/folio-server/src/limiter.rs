//! Admission control: a fixed number of extractions at once, a bounded queue of sync requests
//! waiting for one, and an honest `Retry-After` for the requests turned away.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The shared extraction slots. Sync requests pass through [`Limiter::admit`]; async jobs wait
/// in the job store instead and take a slot with [`Limiter::slot`].
#[derive(Debug)]
pub(crate) struct Limiter {
    slots: Arc<Semaphore>,
    max_concurrent: usize,
    max_queue: usize,
    /// Sync requests admitted and not yet finished (waiting or running).
    admitted: AtomicUsize,
    /// Sync requests waiting for a slot.
    waiting: AtomicUsize,
    /// Moving average of an extraction's duration, for `Retry-After`.
    avg_ms: AtomicU64,
}

/// A sync request's place: in the queue until [`Ticket::slot`] returns, then running.
#[derive(Debug)]
pub(crate) struct Ticket {
    limiter: Arc<Limiter>,
}

impl Limiter {
    pub fn new(max_concurrent: usize, max_queue: usize) -> Arc<Limiter> {
        let max_concurrent = max_concurrent.max(1);
        Arc::new(Limiter {
            slots: Arc::new(Semaphore::new(max_concurrent)),
            max_concurrent,
            max_queue,
            admitted: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            avg_ms: AtomicU64::new(500),
        })
    }

    /// A place for one sync request, or `Err(retry_after_secs)` when every slot is taken and
    /// the queue is full.
    pub fn admit(self: &Arc<Self>) -> Result<Ticket, u64> {
        let cap = self.max_concurrent + self.max_queue;
        let taken = self
            .admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < cap).then_some(n + 1)
            });
        match taken {
            Ok(_) => Ok(Ticket {
                limiter: Arc::clone(self),
            }),
            Err(_) => Err(self.retry_after()),
        }
    }

    /// An extraction slot for an async job; jobs queue in the store, not here.
    pub async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.slots).acquire_owned().await.ok()
    }

    /// Seconds until a slot is likely free: the queue ahead, spread over the slots.
    pub fn retry_after(&self) -> u64 {
        let waiting = self.queued() as u64 + 1;
        let avg = self.avg_ms.load(Ordering::Relaxed);
        (waiting * avg / self.max_concurrent as u64 / 1000).clamp(1, 60)
    }

    /// Records how long an extraction took (exponential moving average, weight 1/8).
    pub fn record(&self, ms: u64) {
        let old = self.avg_ms.load(Ordering::Relaxed);
        self.avg_ms.store((old * 7 + ms) / 8, Ordering::Relaxed);
    }

    /// Extractions running now.
    pub fn running(&self) -> usize {
        self.max_concurrent - self.slots.available_permits()
    }

    /// Sync requests waiting for a slot.
    pub fn queued(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

impl Ticket {
    /// Waits for a slot. The slot is owned, so it can travel to the blocking thread and stay
    /// taken until the extraction really ends, even when the client has gone.
    pub async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        let waiting = Waiting::new(&self.limiter.waiting);
        let slot = self.limiter.slot().await;
        drop(waiting);
        slot
    }
}

/// Counts a waiter for as long as it waits, including when its future is dropped mid-wait.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(counter: &'a AtomicUsize) -> Waiting<'a> {
        counter.fetch_add(1, Ordering::AcqRel);
        Waiting(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.limiter.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn admits_slots_plus_queue_then_refuses_with_a_retry_hint() {
        let l = Limiter::new(1, 1);
        let a = l.admit().unwrap();
        let _slot = a.slot().await.unwrap();
        let b = l.admit().unwrap();
        let waiter = tokio::spawn(async move {
            let _s = b.slot().await;
        });
        tokio::task::yield_now().await;
        assert_eq!((l.running(), l.queued()), (1, 1));
        let retry = l.admit().unwrap_err();
        assert!((1..=60).contains(&retry));
        waiter.abort();
        let _ = waiter.await;
        assert_eq!(l.queued(), 0);
        let _c = l.admit().unwrap();
    }
}
