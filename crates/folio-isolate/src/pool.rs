//! The parent side: a warm pool of child processes, one document at a time each.

use std::ffi::OsString;
use std::io::{self, BufReader, BufWriter};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use folio_api::{ExtractResponse, Failure, PageProgress, RequestOptions};
use folio_engine::{Limits, ModelState};

use crate::protocol::{self, Answer, RemoteError, Request};
use crate::Error;

/// How the pool starts, bounds and recycles its children.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// The program a child runs (the `folio` binary).
    pub program: PathBuf,
    /// Its arguments: the hidden child subcommand and its settings, the memory cap included.
    pub args: Vec<OsString>,
    /// Children kept warm (idle and ready): the number of extractions expected at once.
    pub size: usize,
    /// A child is replaced after this many documents.
    pub max_documents: u32,
    /// A child whose resident memory is above this after a document is replaced; `None`:
    /// never for its size.
    pub max_rss_bytes: Option<u64>,
    /// The child's address-space cap, as its arguments set it: for messages only.
    pub memory_cap_bytes: Option<u64>,
    /// How long past a document's time limit its child may take to answer before it is
    /// killed. The engine stops itself at the limit; this covers a child that cannot.
    pub deadline_grace: Duration,
}

/// How a child that gave no answer ended: the reason of a `document_too_costly` error and the
/// label of the `children_killed` metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Death {
    /// Killed by the parent at the document's deadline.
    Deadline,
    /// An allocation failed under the memory cap (Rust reports it, then aborts).
    Memory,
    /// A thread overflowed its stack (Rust reports it, then aborts).
    StackOverflow,
    /// Another abort or a fault (a crash).
    Crash,
    /// Killed by someone else (the kernel's out-of-memory killer, an operator).
    Killed,
    /// Exited, or broke the protocol, on its own.
    Exited,
}

impl Death {
    /// Every reason, in the order metrics list them.
    pub const ALL: [Death; 6] = [
        Death::Deadline,
        Death::Memory,
        Death::StackOverflow,
        Death::Crash,
        Death::Killed,
        Death::Exited,
    ];

    /// The metric label.
    pub fn name(self) -> &'static str {
        match self {
            Death::Deadline => "deadline",
            Death::Memory => "memory",
            Death::StackOverflow => "stack_overflow",
            Death::Crash => "crash",
            Death::Killed => "killed",
            Death::Exited => "exited",
        }
    }
}

/// Why a live child was replaced after answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recycle {
    /// It had served [`PoolConfig::max_documents`].
    Documents,
    /// Its resident memory was above [`PoolConfig::max_rss_bytes`].
    Memory,
    /// Pages abandoned at their time limit were still running in it.
    AbandonedPages,
    /// It was stopped because its caller cancelled (a client that went away, a shutdown).
    Cancelled,
}

impl Recycle {
    /// Every reason, in the order metrics list them.
    pub const ALL: [Recycle; 4] = [
        Recycle::Documents,
        Recycle::Memory,
        Recycle::AbandonedPages,
        Recycle::Cancelled,
    ];

    /// The metric label.
    pub fn name(self) -> &'static str {
        match self {
            Recycle::Documents => "documents",
            Recycle::Memory => "memory",
            Recycle::AbandonedPages => "abandoned_pages",
            Recycle::Cancelled => "cancelled",
        }
    }
}

/// Counters of the pool since it started, for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Children started.
    pub started: u64,
    /// Children idle now.
    pub idle: usize,
    /// Children that died on a document or were killed at its deadline, by [`Death`] (in
    /// [`Death::ALL`]'s order).
    pub killed: Vec<(Death, u64)>,
    /// Children replaced after answering, by [`Recycle`] (in [`Recycle::ALL`]'s order).
    pub recycled: Vec<(Recycle, u64)>,
}

#[derive(Debug, Default)]
struct Counters {
    started: AtomicU64,
    killed: [AtomicU64; Death::ALL.len()],
    recycled: [AtomicU64; Recycle::ALL.len()],
}

struct Worker {
    child: Child,
    input: BufWriter<ChildStdin>,
    output: BufReader<ChildStdout>,
    documents: u32,
    /// The relay of the child's standard error, and the last lines it relayed.
    stderr: Option<StderrRelay>,
}

impl Worker {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory, from `/proc`.
    fn rss_bytes(&self) -> Option<u64> {
        let status = fs_err::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb * 1024)
    }

    /// Stops the child now and reaps it; with the last lines of its standard error.
    fn kill(mut self) -> (Option<ExitStatus>, Vec<String>) {
        // Already gone (it died on the document) is not an error: the wait reaps it.
        let _ = self.child.kill();
        let status = self.child.wait().ok();
        let tail = self
            .stderr
            .take()
            .map(StderrRelay::finish)
            .unwrap_or_default();
        (status, tail)
    }
}

/// Lines of a child's standard error kept to explain its death.
const STDERR_TAIL: usize = 8;

/// Copies a child's standard error to this process's, line by line, keeping the last lines:
/// Rust's last words before an abort ("memory allocation of N bytes failed", "has overflowed
/// its stack") tell the two apart, which the signal alone does not.
struct StderrRelay {
    tail: Arc<Mutex<std::collections::VecDeque<String>>>,
    thread: std::thread::JoinHandle<()>,
}

impl StderrRelay {
    fn start(stderr: std::process::ChildStderr) -> io::Result<StderrRelay> {
        use std::io::{BufRead, Read, Write};
        let tail = Arc::new(Mutex::new(std::collections::VecDeque::new()));
        let keep = Arc::clone(&tail);
        let thread = std::thread::Builder::new()
            .name("folio-isolate-stderr".to_string())
            .spawn(move || {
                let mut lines = BufReader::new(stderr);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    // Bounded, so that a child writing one endless line cannot grow this.
                    match Read::take(&mut lines, 64 * 1024).read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    // The child's log lines are already formatted as this process's are:
                    // relayed as they are, not logged again. A closed stderr loses them only.
                    let _ = io::stderr().write_all(&line);
                    let mut t = keep.lock().unwrap_or_else(PoisonError::into_inner);
                    if t.len() == STDERR_TAIL {
                        t.pop_front();
                    }
                    t.push_back(String::from_utf8_lossy(&line).trim_end().to_string());
                }
            })?;
        Ok(StderrRelay { tail, thread })
    }

    /// Waits for the child's standard error to close (the child is reaped) and returns the
    /// last lines.
    fn finish(self) -> Vec<String> {
        let _ = self.thread.join();
        let tail = self.tail.lock().unwrap_or_else(PoisonError::into_inner);
        tail.iter().cloned().collect()
    }
}

/// A warm pool of extraction processes; see the crate documentation.
pub struct Pool {
    config: PoolConfig,
    idle: Mutex<Vec<Worker>>,
    counters: Counters,
    spawner: Spawner,
    /// The OCR models' state as the last child to answer reported it.
    models: Mutex<Option<ModelState>>,
}

/// A child's pipes, as the spawner hands them over.
type Spawned = io::Result<Child>;

/// Starts every child from one thread that lives as long as the pool. A child asks for SIGKILL
/// when its parent dies, and Linux sends it when the *thread* that started the child ends: the
/// threads that run documents (tokio's blocking pool, a worker's job loops) come and go, and an
/// idle child started from one would die with it.
struct Spawner {
    requests: Mutex<std::sync::mpsc::Sender<std::sync::mpsc::Sender<Spawned>>>,
}

impl Spawner {
    fn start(program: PathBuf, args: Vec<OsString>) -> io::Result<Spawner> {
        let (tx, rx) = std::sync::mpsc::channel::<std::sync::mpsc::Sender<Spawned>>();
        std::thread::Builder::new()
            .name("folio-isolate-spawn".to_string())
            .spawn(move || {
                // Ends when the pool (the only sender) is dropped.
                for reply in rx {
                    let child = Command::new(&program)
                        .args(&args)
                        // glibc reserves 64 MiB of address space per malloc arena, one per
                        // thread up to eight per core: under an address-space cap they would
                        // use it up before any document does.
                        .env("MALLOC_ARENA_MAX", "2")
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn();
                    if let Err(std::sync::mpsc::SendError(Ok(mut orphan))) = reply.send(child) {
                        // Its asker is gone: nobody will ever use or reap it.
                        let _ = orphan.kill();
                        let _ = orphan.wait();
                    }
                }
            })?;
        Ok(Spawner {
            requests: Mutex::new(tx),
        })
    }

    fn spawn(&self) -> Spawned {
        let (tx, rx) = std::sync::mpsc::channel();
        let sent = self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(tx);
        if sent.is_err() {
            return Err(io::Error::other("the spawning thread has ended"));
        }
        rx.recv()
            .unwrap_or_else(|_| Err(io::Error::other("the spawning thread has ended")))
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("config", &self.config)
            .field("counters", &self.counters)
            .finish()
    }
}

impl Pool {
    /// A pool that starts its children on first need ([`Pool::warm`] starts them now); an
    /// error when the thread that starts them cannot be started.
    pub fn new(config: PoolConfig) -> Result<Pool, Error> {
        let spawner =
            Spawner::start(config.program.clone(), config.args.clone()).map_err(|source| {
                Error::Unavailable {
                    program: config.program.clone(),
                    source,
                }
            })?;
        Ok(Pool {
            config,
            idle: Mutex::new(Vec::new()),
            counters: Counters::default(),
            spawner,
            models: Mutex::new(None),
        })
    }

    /// The OCR models' state as the last child to answer reported it; `None` before any
    /// child answered.
    pub fn model_state(&self) -> Option<ModelState> {
        self.models
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn note_models(&self, models: Option<&protocol::Models>) {
        if let Some(m) = models {
            *self.models.lock().unwrap_or_else(PoisonError::into_inner) = Some(m.state());
        }
    }

    /// The pool's settings.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Worker>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts children until [`PoolConfig::size`] are idle, so the first documents pay no
    /// start-up; an error when one cannot be started (a missing binary, no memory for one).
    pub fn warm(&self) -> Result<(), Error> {
        let missing = self.config.size.saturating_sub(self.idle().len());
        for _ in 0..missing {
            let w = self.spawn()?;
            self.idle().push(w);
        }
        Ok(())
    }

    /// Counters since the pool started.
    pub fn stats(&self) -> PoolStats {
        let c = &self.counters;
        PoolStats {
            started: c.started.load(Ordering::Relaxed),
            idle: self.idle().len(),
            killed: Death::ALL
                .iter()
                .zip(&c.killed)
                .map(|(d, n)| (*d, n.load(Ordering::Relaxed)))
                .collect(),
            recycled: Recycle::ALL
                .iter()
                .zip(&c.recycled)
                .map(|(r, n)| (*r, n.load(Ordering::Relaxed)))
                .collect(),
        }
    }

    fn spawn(&self) -> Result<Worker, Error> {
        let mut child = self.spawner.spawn().map_err(|source| Error::Unavailable {
            program: self.config.program.clone(),
            source,
        })?;
        let stderr = child.stderr.take().map(StderrRelay::start).transpose();
        let (Some(stdin), Some(stdout), Ok(stderr)) =
            (child.stdin.take(), child.stdout.take(), stderr)
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Unavailable {
                program: self.config.program.clone(),
                source: io::Error::other("no pipe to the child"),
            });
        };
        self.counters.started.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(pid = child.id(), "extraction process started");
        Ok(Worker {
            child,
            input: BufWriter::new(stdin),
            output: BufReader::new(stdout),
            documents: 0,
            stderr,
        })
    }

    fn take(&self) -> Result<Worker, Error> {
        loop {
            let w = self.idle().pop();
            match w {
                Some(mut w) => match w.child.try_wait() {
                    Ok(None) => return Ok(w),
                    // One that died while idle (killed from outside) is replaced.
                    _ => {
                        tracing::warn!(pid = w.pid(), "an idle extraction process had ended");
                        let _ = w.kill();
                    }
                },
                None => return self.spawn(),
            }
        }
    }

    /// Replaces `w` with a fresh child in the idle list, so the next document pays no
    /// start-up (and the child has time to load what it loads at start).
    fn replace(&self, w: Worker) {
        let _ = w.kill();
        match self.spawn() {
            Ok(fresh) => self.keep(fresh),
            // The next document tries again, and reports it if it fails then.
            Err(e) => tracing::warn!(error = %e, "cannot start a replacement extraction process"),
        }
    }

    fn keep(&self, w: Worker) {
        let mut idle = self.idle();
        if idle.len() < self.config.size.max(1) {
            idle.push(w);
        } else {
            drop(idle);
            let _ = w.kill();
        }
    }

    fn recycled(&self, why: Recycle, w: &Worker) {
        self.counters.recycled[why as usize].fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            pid = w.pid(),
            documents = w.documents,
            reason = why.name(),
            "extraction process recycled"
        );
    }

    fn give_back(&self, mut w: Worker, pages_running: usize) {
        w.documents += 1;
        let why = if pages_running > 0 {
            Some(Recycle::AbandonedPages)
        } else if w.documents >= self.config.max_documents {
            Some(Recycle::Documents)
        } else if self
            .config
            .max_rss_bytes
            .is_some_and(|max| w.rss_bytes().unwrap_or(0) > max)
        {
            Some(Recycle::Memory)
        } else {
            None
        };
        match why {
            Some(why) => {
                self.recycled(why, &w);
                self.replace(w);
            }
            None => self.keep(w),
        }
    }

    /// Extracts `input` in a child, blocking until it answers, dies, reaches its deadline
    /// (`limits.total_timeout` plus [`PoolConfig::deadline_grace`]; then it is killed) or
    /// `cancel` is raised (then it is killed too). `progress` follows the child's pages.
    pub fn extract(
        &self,
        input: &[u8],
        options: &RequestOptions,
        limits: &Limits,
        cancel: Option<Arc<AtomicBool>>,
        progress: Option<&PageProgress>,
    ) -> Result<ExtractResponse, Error> {
        let header = protocol::job_header(&Request::new(options, limits))
            .map_err(|e| Error::Protocol(e.to_string()))?;
        // `None`: a time limit too far away to be a point in time (`--timeout 1000000d`).
        let deadline = Instant::now().checked_add(
            limits
                .total_timeout
                .saturating_add(self.config.deadline_grace),
        );
        let mut worker = self.take()?;
        let watchdog = Watchdog::start(worker.pid(), deadline, cancel)?;
        let answer = exchange(&mut worker, &header, input, progress);
        let killed_for = watchdog.stop();
        match (answer, killed_for) {
            (Ok(Reply::Done(a)), None) => {
                self.note_models(a.models.as_ref());
                self.give_back(worker, a.pages_running);
                Ok(a.response)
            }
            (Ok(Reply::Failed(e)), None) => {
                self.note_models(e.models.as_ref());
                self.give_back(worker, e.pages_running);
                Err(Error::Extract(Failure::from(e)))
            }
            (_, Some(Kill::Cancel)) => {
                self.recycled(Recycle::Cancelled, &worker);
                self.replace(worker);
                Err(Error::Cancelled)
            }
            (answer, killed_for) => {
                let pid = worker.pid();
                let (status, last_words) = worker.kill();
                let death = match killed_for {
                    Some(_) => Death::Deadline,
                    None => death_of(status, &last_words),
                };
                self.counters.killed[death as usize].fetch_add(1, Ordering::Relaxed);
                let reason = self.describe(death, status, limits, &answer);
                tracing::warn!(pid, reason = death.name(), status = ?status, "extraction process died on a document: {reason}");
                if let Ok(fresh) = self.spawn() {
                    self.keep(fresh);
                }
                Err(Error::TooCostly { death, reason })
            }
        }
    }

    /// What the way a child ended says about the document, for its caller.
    fn describe(
        &self,
        death: Death,
        status: Option<ExitStatus>,
        limits: &Limits,
        answer: &io::Result<Reply>,
    ) -> String {
        let cap = self
            .config
            .memory_cap_bytes
            .map(|b| format!(" of {} MiB", b >> 20))
            .unwrap_or_default();
        match death {
            Death::Deadline => format!(
                "its extraction ran past the time limit of {:?} and its process was stopped",
                limits.total_timeout
            ),
            Death::Memory => format!("its extraction process ran out of memory under its cap{cap}"),
            Death::StackOverflow => "its extraction process overflowed its stack".to_string(),
            Death::Crash => match status.and_then(|s| s.signal()) {
                Some(sig) => format!("its extraction process crashed (signal {sig})"),
                None => "its extraction process crashed".to_string(),
            },
            Death::Killed => {
                "its extraction process was killed from outside (out of memory?)".to_string()
            }
            Death::Exited => match (status.and_then(|s| s.code()), answer) {
                (Some(code), _) => format!("its extraction process exited with code {code}"),
                (None, Err(e)) => format!("its extraction process stopped answering ({e})"),
                (None, Ok(_)) => "its extraction process ended".to_string(),
            },
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        for w in self
            .idle
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            let _ = w.kill();
        }
    }
}

/// How a child ended, from its exit status and the last lines it wrote.
fn death_of(status: Option<ExitStatus>, last_words: &[String]) -> Death {
    let said = |what: &str| last_words.iter().any(|l| l.contains(what));
    let Some(status) = status else {
        return Death::Exited;
    };
    match status.signal() {
        // Rust's words before it aborts on a failed allocation, and on a stack overflow.
        Some(_) if said("memory allocation of") => Death::Memory,
        Some(_) if said("has overflowed its stack") => Death::StackOverflow,
        Some(s)
            if s == signal::ABRT || s == signal::SEGV || s == signal::BUS || s == signal::ILL =>
        {
            Death::Crash
        }
        Some(_) => Death::Killed,
        None => Death::Exited,
    }
}

/// The signal numbers `death_of` tells apart (the same on every Linux architecture Folio
/// builds for).
mod signal {
    pub const ILL: i32 = 4;
    pub const ABRT: i32 = 6;
    pub const BUS: i32 = 7;
    pub const SEGV: i32 = 11;
}

enum Reply {
    Done(Answer),
    Failed(RemoteError),
}

/// Sends the job and reads frames until the answer.
fn exchange(
    w: &mut Worker,
    header: &[u8],
    input: &[u8],
    progress: Option<&PageProgress>,
) -> io::Result<Reply> {
    protocol::write_frame(&mut w.input, protocol::JOB, &[header, input])?;
    loop {
        let Some((kind, payload)) = protocol::read_frame(&mut w.output)? else {
            return Err(io::ErrorKind::UnexpectedEof.into());
        };
        match kind {
            protocol::PROGRESS => {
                if let (Some(p), Some((done, total))) =
                    (progress, protocol::parse_progress(&payload))
                {
                    p.set(done, total);
                }
            }
            protocol::RESULT => {
                return serde_json::from_slice(&payload)
                    .map(Reply::Done)
                    .map_err(io::Error::other)
            }
            protocol::ERROR => {
                return serde_json::from_slice(&payload)
                    .map(Reply::Failed)
                    .map_err(io::Error::other)
            }
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unexpected frame kind {other} from the child"),
                ))
            }
        }
    }
}

/// Why the watchdog killed a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kill {
    Deadline,
    Cancel,
}

/// A thread that kills a child at its deadline or when its caller cancels; the blocked reads
/// and writes of the exchange then end, and [`Watchdog::stop`] says why.
struct Watchdog {
    state: Arc<(Mutex<WatchState>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct WatchState {
    done: bool,
    killed: Option<Kill>,
}

/// How often the watchdog looks at the cancel flag (the deadline wakes it exactly).
const CANCEL_POLL: Duration = Duration::from_millis(50);

impl Watchdog {
    fn start(
        pid: u32,
        deadline: Option<Instant>,
        cancel: Option<Arc<AtomicBool>>,
    ) -> Result<Watchdog, Error> {
        let state = Arc::new((Mutex::new(WatchState::default()), Condvar::new()));
        let shared = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("folio-isolate-watchdog".to_string())
            .spawn(move || {
                let (lock, wake) = &*shared;
                let mut s = lock.lock().unwrap_or_else(PoisonError::into_inner);
                while !s.done {
                    let now = Instant::now();
                    let why = if deadline.is_some_and(|d| now >= d) {
                        Some(Kill::Deadline)
                    } else if cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
                        Some(Kill::Cancel)
                    } else {
                        None
                    };
                    if let Some(why) = why {
                        s.killed = Some(why);
                        kill(pid);
                        return;
                    }
                    let wait = deadline.map_or(CANCEL_POLL, |d| {
                        d.saturating_duration_since(now).min(CANCEL_POLL)
                    });
                    s = wake
                        .wait_timeout(s, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            })
            .map_err(|e| Error::Protocol(format!("cannot start a watchdog thread: {e}")))?;
        Ok(Watchdog {
            state,
            thread: Some(thread),
        })
    }

    /// Stops watching; `Some` when the child was killed, and why.
    fn stop(mut self) -> Option<Kill> {
        let (lock, wake) = &*self.state;
        let killed = {
            let mut s = lock.lock().unwrap_or_else(PoisonError::into_inner);
            s.done = true;
            s.killed
        };
        wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        killed
    }
}

/// SIGKILL to `pid`. The child is not reaped until its `Worker` is, so the pid cannot have
/// been reused by another process meanwhile.
fn kill(pid: u32) {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw);
    if let Some(pid) = pid {
        if let Err(e) = rustix::process::kill_process(pid, rustix::process::Signal::KILL) {
            tracing::debug!(error = %e, "the extraction process was already gone");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signalled(sig: i32) -> Option<ExitStatus> {
        Some(ExitStatus::from_raw(sig))
    }

    #[test]
    fn a_death_is_told_by_its_signal_and_last_words() {
        let oom = ["memory allocation of 108000000 bytes failed".to_string()];
        assert_eq!(death_of(signalled(signal::ABRT), &oom), Death::Memory);
        let overflow = [
            "thread 'page-3' has overflowed its stack".to_string(),
            "fatal runtime error: stack overflow".to_string(),
        ];
        assert_eq!(
            death_of(signalled(signal::ABRT), &overflow),
            Death::StackOverflow
        );
        assert_eq!(death_of(signalled(signal::SEGV), &[]), Death::Crash);
        assert_eq!(death_of(signalled(signal::ABRT), &[]), Death::Crash);
        // SIGKILL from outside: the kernel's OOM killer, say.
        assert_eq!(death_of(signalled(9), &oom[..0]), Death::Killed);
        // An exit code is in the high byte of a wait status.
        assert_eq!(
            death_of(Some(ExitStatus::from_raw(101 << 8)), &[]),
            Death::Exited
        );
        assert_eq!(death_of(None, &[]), Death::Exited);
        let names: std::collections::HashSet<_> = Death::ALL.iter().map(|d| d.name()).collect();
        assert_eq!(names.len(), Death::ALL.len());
    }
}
