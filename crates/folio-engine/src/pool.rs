//! One bounded pool of page threads per process.
//!
//! Every front door (the CLI, each of the server's request slots and job workers, the RunPod
//! worker) extracts through an [`crate::Engine`], and every engine of a process shares one
//! [`PagePool`] unless it is given its own: at most [`PagePool::size`] pages run at once,
//! whatever the number of documents in flight.
//!
//! A page runs under a [`Cancel`] token. When it passes its time limit (or the document's, or the
//! caller cancels), the token is set; the reader, OCR and layout check it in their loops and the
//! page ends soon after. Its thread then goes back to the pool. A page that does not end within
//! [`PagePool::grace`] of its cancellation is *stuck*: its thread is counted (see
//! [`PoolStats::stuck`]) and replaced, so the pool keeps its size, and an engine refuses new work
//! while stuck threads reach [`PagePool::max_stuck`] (`ExtractError::Overloaded`), which the
//! server reports as 503 on `/ready`, rather than let abandoned threads pile up.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use folio_content::Cancel;

/// How long a cancelled page may take to stop before its thread counts as stuck.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// A thread with nothing to do for this long ends; the pool starts threads again on demand.
const IDLE_EXIT: Duration = Duration::from_secs(60);

/// A queued page; it returns whether its thread must leave the pool (it was counted stuck and
/// replaced while the page ran).
type Job = Box<dyn FnOnce() -> bool + Send + 'static>;

/// A pool of threads that run pages; see the module documentation.
#[derive(Debug)]
pub struct PagePool {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    size: usize,
    max_stuck: usize,
    grace: Duration,
    state: Mutex<State>,
    wake: Condvar,
    /// Pages running now, cancelled ones that have not stopped yet included.
    busy: AtomicUsize,
    /// Threads whose cancelled page has not stopped within the grace period.
    stuck: AtomicUsize,
    /// Pages cancelled after their time limit, since the pool started.
    timed_out: AtomicU64,
    /// Cancelled pages whose threads are being watched.
    watched: Mutex<Vec<Arc<Slot>>>,
    watchdog: OnceLock<()>,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Threads counted against the pool's size (stuck ones are not: they have been replaced).
    threads: usize,
    idle: usize,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("queued", &self.jobs.len())
            .field("threads", &self.threads)
            .field("idle", &self.idle)
            .finish()
    }
}

/// A snapshot of the pool, for metrics and readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Most pages run at once.
    pub size: usize,
    /// Pages running now (cancelled ones still stopping included).
    pub busy: usize,
    /// Threads whose cancelled page did not stop within the grace period; they were replaced.
    pub stuck: usize,
    /// The number of stuck threads at which engines refuse new work.
    pub max_stuck: usize,
    /// Pages cancelled after their time limit since the process started.
    pub timed_out: u64,
}

impl PoolStats {
    /// Whether stuck threads have reached the cap: no new extraction should start.
    pub fn overloaded(&self) -> bool {
        self.stuck >= self.max_stuck
    }
}

/// The pool's size was already fixed when [`PagePool::configure_global`] was called.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the process's page pool is already sized ({size} threads)")]
pub struct PoolAlreadySized {
    /// The size in force.
    pub size: usize,
}

static GLOBAL: OnceLock<Arc<PagePool>> = OnceLock::new();

/// The number of CPUs this process may use: the default pool size.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl PagePool {
    /// A pool of `size` threads (at least 1), which refuses work once `max_stuck` threads (at
    /// least 1) are stuck.
    pub fn new(size: usize, max_stuck: usize) -> PagePool {
        PagePool::with_grace(size, max_stuck, DEFAULT_GRACE)
    }

    /// [`PagePool::new`] with the time a cancelled page has to stop before it counts as stuck.
    pub fn with_grace(size: usize, max_stuck: usize, grace: Duration) -> PagePool {
        PagePool {
            shared: Arc::new(Shared {
                size: size.max(1),
                max_stuck: max_stuck.max(1),
                grace,
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
                busy: AtomicUsize::new(0),
                stuck: AtomicUsize::new(0),
                timed_out: AtomicU64::new(0),
                watched: Mutex::new(Vec::new()),
                watchdog: OnceLock::new(),
            }),
        }
    }

    /// The process's pool, sized on first use: [`PagePool::configure_global`]'s size if it was
    /// called first, else one thread per CPU, with as many stuck threads allowed.
    pub fn global() -> Arc<PagePool> {
        Arc::clone(GLOBAL.get_or_init(|| {
            let n = default_threads();
            Arc::new(PagePool::new(n, n))
        }))
    }

    /// Sizes the process's pool once, before any engine uses it (front doors call this at
    /// start-up with their `--page-threads`-style setting). `threads` of `None` means one per CPU.
    pub fn configure_global(
        threads: Option<usize>,
        max_stuck: Option<usize>,
    ) -> Result<Arc<PagePool>, PoolAlreadySized> {
        let threads = threads.unwrap_or_else(default_threads).max(1);
        let pool = Arc::new(PagePool::new(threads, max_stuck.unwrap_or(threads)));
        match GLOBAL.set(Arc::clone(&pool)) {
            Ok(()) => Ok(pool),
            Err(_) => Err(PoolAlreadySized {
                size: PagePool::global().size(),
            }),
        }
    }

    /// Most pages run at once.
    pub fn size(&self) -> usize {
        self.shared.size
    }

    /// The number of stuck threads at which engines refuse new work.
    pub fn max_stuck(&self) -> usize {
        self.shared.max_stuck
    }

    /// How long a cancelled page may take to stop before its thread counts as stuck.
    pub fn grace(&self) -> Duration {
        self.shared.grace
    }

    /// The pool's state now.
    pub fn stats(&self) -> PoolStats {
        self.shared.check_watched();
        PoolStats {
            size: self.shared.size,
            busy: self.shared.busy.load(Ordering::Relaxed),
            stuck: self.shared.stuck.load(Ordering::Relaxed),
            max_stuck: self.shared.max_stuck,
            timed_out: self.shared.timed_out.load(Ordering::Relaxed),
        }
    }

    /// Queues `work` to run on a pool thread under `cancel`; the returned handle says when it
    /// started and lets the caller cancel it. A panic in `work` is caught and becomes `Err` with
    /// the panic's text. `done` is called with the outcome on the pool thread when `work` ends
    /// (also when it ends after being abandoned).
    pub(crate) fn submit<T, W, D>(&self, cancel: Cancel, work: W, done: D) -> Arc<Slot>
    where
        W: FnOnce(&Cancel) -> T + Send + 'static,
        D: FnOnce(Result<T, String>) + Send + 'static,
        T: Send + 'static,
    {
        let slot = Arc::new(Slot {
            cancel,
            started: OnceLock::new(),
            finished: AtomicBool::new(false),
            abandoned: OnceLock::new(),
            stuck: AtomicBool::new(false),
        });
        let job_slot = Arc::clone(&slot);
        let shared = Arc::clone(&self.shared);
        let job: Job = Box::new(move || {
            let _ = job_slot.started.set(Instant::now());
            shared.busy.fetch_add(1, Ordering::Relaxed);
            let cancel = job_slot.cancel.clone();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&cancel)))
                .map_err(|panic| panic_text(&panic));
            shared.busy.fetch_sub(1, Ordering::Relaxed);
            // Under the watch list's lock, so that the watchdog never marks a finished page stuck.
            let leave = {
                let mut watched = shared.watched.lock().unwrap_or_else(|e| e.into_inner());
                job_slot.finished.store(true, Ordering::Release);
                watched.retain(|s| !Arc::ptr_eq(s, &job_slot));
                let stuck = job_slot.stuck.load(Ordering::Relaxed);
                if stuck {
                    shared.stuck.fetch_sub(1, Ordering::Relaxed);
                }
                stuck
            };
            done(outcome);
            leave
        });
        self.shared.push(job);
        slot
    }

    /// Cancels the page of `slot` because it ran out of time, and watches its thread: if the
    /// page has not stopped within the grace period, the thread is counted as stuck and replaced.
    pub(crate) fn abandon(&self, slot: &Arc<Slot>, timed_out: bool) {
        slot.cancel.cancel();
        if timed_out {
            self.shared.timed_out.fetch_add(1, Ordering::Relaxed);
        }
        {
            let mut watched = self
                .shared
                .watched
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if slot.finished.load(Ordering::Acquire) || slot.abandoned.set(Instant::now()).is_err()
            {
                return;
            }
            watched.push(Arc::clone(slot));
        }
        self.shared.start_watchdog();
    }
}

/// A page submitted to the pool.
#[derive(Debug)]
pub(crate) struct Slot {
    cancel: Cancel,
    started: OnceLock<Instant>,
    finished: AtomicBool,
    abandoned: OnceLock<Instant>,
    stuck: AtomicBool,
}

impl Slot {
    /// When the page started running, if it has.
    pub(crate) fn started(&self) -> Option<Instant> {
        self.started.get().copied()
    }
}

impl Shared {
    fn push(self: &Arc<Self>, job: Job) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.jobs.push_back(job);
        if state.idle > 0 {
            self.wake.notify_one();
        } else if state.threads < self.size {
            state.threads += 1;
            drop(state);
            self.spawn_thread();
        }
    }

    fn spawn_thread(self: &Arc<Self>) {
        let shared = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("folio-page".to_string())
            .spawn(move || shared.thread_main());
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a page thread");
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.threads -= 1;
            // Queued jobs wait for a thread that frees up; with none at all, they never
            // would, so run them here, on the caller's thread.
            if state.threads == 0 {
                let jobs: Vec<Job> = state.jobs.drain(..).collect();
                drop(state);
                for job in jobs {
                    let _ = job();
                }
            }
        }
    }

    fn thread_main(self: Arc<Self>) {
        loop {
            let job = {
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    if let Some(job) = state.jobs.pop_front() {
                        break Some(job);
                    }
                    state.idle += 1;
                    let (s, timeout) = self
                        .wake
                        .wait_timeout(state, IDLE_EXIT)
                        .unwrap_or_else(|e| e.into_inner());
                    state = s;
                    state.idle -= 1;
                    if timeout.timed_out() && state.jobs.is_empty() {
                        state.threads -= 1;
                        break None;
                    }
                }
            };
            let Some(job) = job else { return };
            // A thread counted stuck was replaced: it leaves once its page has ended.
            if job() {
                return;
            }
        }
    }

    /// Marks the watched pages that have not stopped within the grace period as stuck, and
    /// starts a thread in place of each.
    fn check_watched(self: &Arc<Self>) {
        let now = Instant::now();
        let mut newly_stuck = 0;
        {
            let watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
            for slot in watched.iter() {
                let overdue = slot
                    .abandoned
                    .get()
                    .is_some_and(|t| now.duration_since(*t) >= self.grace);
                if overdue
                    && slot.started.get().is_some()
                    && !slot.finished.load(Ordering::Acquire)
                    && !slot.stuck.swap(true, Ordering::Relaxed)
                {
                    newly_stuck += 1;
                }
            }
        }
        if newly_stuck == 0 {
            return;
        }
        self.stuck.fetch_add(newly_stuck, Ordering::Relaxed);
        tracing::warn!(
            threads = newly_stuck,
            "page threads did not stop after cancellation; replaced and counted as stuck"
        );
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // The stuck threads no longer count against the size: start others for queued work.
        state.threads = state.threads.saturating_sub(newly_stuck);
        let missing = state
            .jobs
            .len()
            .min(self.size.saturating_sub(state.threads));
        state.threads += missing;
        drop(state);
        for _ in 0..missing {
            self.spawn_thread();
        }
    }

    fn start_watchdog(self: &Arc<Self>) {
        self.watchdog.get_or_init(|| {
            // Holds only a weak reference: a pool that is dropped lets its watchdog end.
            let weak = Arc::downgrade(self);
            let period =
                (self.grace / 4).clamp(Duration::from_millis(10), Duration::from_millis(250));
            let spawned = std::thread::Builder::new()
                .name("folio-page-watchdog".to_string())
                .spawn(move || loop {
                    std::thread::sleep(period);
                    let Some(shared) = weak.upgrade() else { return };
                    shared.check_watched();
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start the page watchdog");
            }
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
        let start = Instant::now();
        while !f() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "timed out waiting: {what}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn runs_at_most_size_pages_at_once() {
        let pool = PagePool::new(2, 2);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        for _ in 0..6 {
            let (running, most, tx) = (Arc::clone(&running), Arc::clone(&most), tx.clone());
            pool.submit(
                Cancel::new(),
                move |_| {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(30));
                    running.fetch_sub(1, Ordering::SeqCst);
                },
                move |r| tx.send(r.is_ok()).unwrap(),
            );
        }
        for _ in 0..6 {
            assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(pool.stats().busy, 0);
    }

    #[test]
    fn a_panic_is_the_page_error() {
        let pool = PagePool::new(1, 1);
        let (tx, rx) = mpsc::channel();
        pool.submit(
            Cancel::new(),
            |_| -> u32 { panic!("bad page") },
            move |r| {
                tx.send(r).unwrap();
            },
        );
        let err = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap()
            .unwrap_err();
        assert!(err.contains("bad page"), "{err}");
    }

    #[test]
    fn a_cancelled_page_that_stops_gives_its_thread_back() {
        let pool = PagePool::with_grace(1, 1, Duration::from_millis(200));
        let (tx, rx) = mpsc::channel();
        let slot = pool.submit(
            Cancel::new(),
            |cancel| {
                while !cancel.is_cancelled() {
                    std::thread::sleep(Duration::from_millis(1));
                }
            },
            move |_| tx.send(()).unwrap(),
        );
        wait_until("the page started", || slot.started().is_some());
        assert_eq!(pool.stats().busy, 1);
        pool.abandon(&slot, true);
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        std::thread::sleep(Duration::from_millis(400));
        let stats = pool.stats();
        assert_eq!((stats.busy, stats.stuck, stats.timed_out), (0, 0, 1));
        // The one thread serves the next page.
        let (tx, rx) = mpsc::channel();
        pool.submit(Cancel::new(), |_| 7, move |r| tx.send(r).unwrap());
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Ok(7));
    }

    #[test]
    fn a_page_that_ignores_cancellation_is_counted_stuck_and_replaced() {
        let pool = PagePool::with_grace(1, 1, Duration::from_millis(50));
        let release = Arc::new(AtomicBool::new(false));
        let slot = {
            let release = Arc::clone(&release);
            pool.submit(
                Cancel::new(),
                move |_| {
                    while !release.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                },
                |_| {},
            )
        };
        wait_until("the page started", || slot.started().is_some());
        pool.abandon(&slot, true);
        wait_until("the thread is counted stuck", || pool.stats().stuck == 1);
        assert!(pool.stats().overloaded());
        // The pool still has its one thread for new work.
        let (tx, rx) = mpsc::channel();
        pool.submit(Cancel::new(), |_| 1, move |r| tx.send(r).unwrap());
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Ok(1));
        // When the stuck page finally ends, its thread leaves and the count goes back.
        release.store(true, Ordering::SeqCst);
        wait_until("the stuck count returns to 0", || pool.stats().stuck == 0);
        assert!(!pool.stats().overloaded());
    }
}
