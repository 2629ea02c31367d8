//! The parent side: a warm pool of child processes, one document at a time each.

use std::ffi::OsString;
use std::io::{self, BufReader, BufWriter};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use folio_doc::Format;
use folio_engine::{ExtractOptions, ExtractResponse};

use crate::protocol::{self, Job, RemoteError};

/// How the pool starts and recycles its children.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// The program a child runs (the `folio` binary).
    pub program: PathBuf,
    /// Its arguments (the hidden child subcommand and its settings, the memory cap included).
    pub args: Vec<OsString>,
    /// Children kept warm.
    pub size: usize,
    /// A child is replaced after this many documents.
    pub max_documents: u32,
    /// A child whose resident memory is above this after a document is replaced.
    pub max_rss_bytes: u64,
}

/// Why an isolated extraction gave no response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The engine in the child reported an error (a bad document, a limit, a time-out).
    #[error("{}", .0.message)]
    Extract(RemoteError),
    /// The child died on the document, or was killed at its deadline: the document costs more
    /// than this service gives one document.
    #[error("the document is too costly to extract: {0}")]
    TooCostly(String),
    /// The caller cancelled (the child was stopped).
    #[error("extraction cancelled")]
    Cancelled,
    /// No child could be started or spoken to.
    #[error("cannot run the extraction process: {0}")]
    Unavailable(String),
}

struct Worker {
    child: Child,
    input: BufWriter<ChildStdin>,
    output: BufReader<ChildStdout>,
    documents: u32,
}

impl Worker {
    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Resident memory, from `/proc`.
    fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
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

    /// Stops the child now and reaps it.
    fn kill(mut self) -> Option<ExitStatus> {
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

/// A warm pool of extraction processes.
pub struct Pool {
    config: PoolConfig,
    idle: Mutex<Vec<Worker>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("config", &self.config)
            .finish()
    }
}

impl Pool {
    /// A pool that starts its children on first need ([`Pool::warm`] starts them now).
    pub fn new(config: PoolConfig) -> Pool {
        Pool {
            config,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Starts children until `size` are idle, so the first documents pay no start-up.
    pub fn warm(&self) -> Result<(), Failure> {
        let missing = self.config.size.saturating_sub(
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len(),
        );
        for _ in 0..missing {
            let w = self.spawn()?;
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(w);
        }
        Ok(())
    }

    fn spawn(&self) -> Result<Worker, Failure> {
        let mut child = Command::new(&self.config.program)
            .args(&self.config.args)
            // glibc reserves 64 MiB of address space per thread arena: under an address-space
            // cap a few arenas would use it up before any document does.
            .env("MALLOC_ARENA_MAX", "2")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| Failure::Unavailable(format!("{}: {e}", self.config.program.display())))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err(Failure::Unavailable("no pipe to the child".to_string()));
        };
        tracing::debug!(pid = child.id(), "extraction process started");
        Ok(Worker {
            child,
            input: BufWriter::new(stdin),
            output: BufReader::new(stdout),
            documents: 0,
        })
    }

    fn take(&self) -> Result<Worker, Failure> {
        loop {
            let w = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            match w {
                // One that died while idle (killed from outside) is replaced.
                Some(mut w) => match w.child.try_wait() {
                    Ok(None) => return Ok(w),
                    _ => continue,
                },
                None => return self.spawn(),
            }
        }
    }

    fn give_back(&self, mut w: Worker) {
        w.documents += 1;
        let rss = w.rss_bytes().unwrap_or(0);
        if w.documents >= self.config.max_documents || rss > self.config.max_rss_bytes {
            tracing::debug!(
                pid = w.pid(),
                documents = w.documents,
                rss,
                "extraction process recycled"
            );
            // Closing its input ends the child's loop; it is reaped here.
            let _ = w.kill();
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.config.size {
            idle.push(w);
        } else {
            drop(idle);
            let _ = w.kill();
        }
    }

    /// Extracts `input` in a child, blocking until it answers, dies, reaches `deadline` (then
    /// it is killed: [`Failure::TooCostly`]) or `cancel` is raised (killed: [`Failure::Cancelled`]).
    /// `progress` receives pages done and total as the child reports them.
    pub fn extract(
        &self,
        input: &[u8],
        opts: &ExtractOptions,
        format: Format,
        deadline: Instant,
        progress: &dyn Fn(u32, u32),
    ) -> Result<ExtractResponse, Failure> {
        let mut worker = self.take()?;
        let header = protocol::job_payload(&Job::new(opts, format))
            .map_err(|e| Failure::Unavailable(e.to_string()))?;
        // The watchdog kills the child at the deadline or on cancellation; the reads below
        // then end, and the reason is read from the flags.
        let done = Arc::new(AtomicBool::new(false));
        let killed_for = Arc::new(Mutex::new(None::<&'static str>));
        let watchdog = {
            let (done, killed_for) = (Arc::clone(&done), Arc::clone(&killed_for));
            let cancel = opts.cancel.clone();
            let pid = worker.pid();
            std::thread::Builder::new()
                .name("folio-isolate-watchdog".to_string())
                .spawn(move || {
                    while !done.load(Ordering::Relaxed) {
                        let why = if Instant::now() >= deadline {
                            Some("deadline")
                        } else if cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
                            Some("cancel")
                        } else {
                            None
                        };
                        if let Some(why) = why {
                            *killed_for.lock().unwrap_or_else(PoisonError::into_inner) = Some(why);
                            if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                                let _ = rustix::process::kill_process(
                                    pid,
                                    rustix::process::Signal::KILL,
                                );
                            }
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                })
                .map_err(|e| Failure::Unavailable(format!("cannot start a watchdog: {e}")))?
        };
        let answer = exchange(&mut worker, &header, input, progress);
        done.store(true, Ordering::Relaxed);
        let _ = watchdog.join();
        let killed_for = *killed_for.lock().unwrap_or_else(PoisonError::into_inner);
        match answer {
            Ok(Answer::Result(r)) if killed_for.is_none() => {
                self.give_back(worker);
                Ok(r)
            }
            Ok(Answer::Error(e)) if killed_for.is_none() => {
                self.give_back(worker);
                Err(Failure::Extract(e))
            }
            _ => {
                let status = worker.kill();
                Err(match killed_for {
                    Some("cancel") => Failure::Cancelled,
                    Some(_) => Failure::TooCostly(format!(
                        "it ran past its deadline of {:?} and its process was stopped",
                        opts.limits.total_timeout
                    )),
                    None => Failure::TooCostly(describe_death(status)),
                })
            }
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

enum Answer {
    Result(ExtractResponse),
    Error(RemoteError),
}

fn exchange(
    w: &mut Worker,
    header: &[u8],
    input: &[u8],
    progress: &dyn Fn(u32, u32),
) -> io::Result<Answer> {
    protocol::write_frame(&mut w.input, protocol::JOB, &[header, input])?;
    loop {
        let Some((kind, payload)) = protocol::read_frame(&mut w.output)? else {
            return Err(io::ErrorKind::UnexpectedEof.into());
        };
        match kind {
            protocol::PROGRESS if payload.len() == 8 => {
                let n = |i: usize| {
                    u32::from_le_bytes([payload[i], payload[i + 1], payload[i + 2], payload[i + 3]])
                };
                progress(n(0), n(4));
            }
            protocol::RESULT => {
                return serde_json::from_slice(&payload)
                    .map(Answer::Result)
                    .map_err(io::Error::other)
            }
            protocol::ERROR => {
                return serde_json::from_slice(&payload)
                    .map(Answer::Error)
                    .map_err(io::Error::other)
            }
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unexpected frame {other}"),
                ))
            }
        }
    }
}

/// What the way a child ended says about the document.
fn describe_death(status: Option<ExitStatus>) -> String {
    let Some(status) = status else {
        return "its process stopped answering".to_string();
    };
    match (status.signal(), status.code()) {
        // Rust aborts when an allocation fails, and after reporting a stack overflow.
        (Some(6), _) => {
            "its process aborted (memory exhausted under the cap, or a stack overflow)".to_string()
        }
        (Some(11 | 7), _) => "its process crashed (a stack overflow or a fault)".to_string(),
        (Some(9), _) => "its process was killed (out of memory?)".to_string(),
        (Some(sig), _) => format!("its process died of signal {sig}"),
        (None, Some(code)) => format!("its process exited with code {code}"),
        (None, None) => "its process ended".to_string(),
    }
}
