/*!
Extraction isolated from the front door: `folio serve` and `folio worker` extract each document in
a supervised child process, so that a document that makes the reader abort, overflow its stack,
exhaust its memory or run past its deadline costs that one request an error
(`422 document_too_costly`, with the reason), never the server.

- [`Extractor`]: what the front doors call, [`Extractor::extract`]: in this process
  ([`Extractor::InProcess`], the CLI's way and `--isolate off`) or in a child
  ([`Extractor::Isolated`]), with one error type, [`Error`], that maps to the shared
  [`folio_api::Failure`].
- [`Pool`] (the parent side) keeps warm child processes, hands each one document at a time over
  a small framed protocol on its standard input and output, kills a child at its deadline or
  when its caller cancels, and replaces children after [`PoolConfig::max_documents`], above
  [`PoolConfig::max_rss_bytes`], or when a page abandoned at its time limit still runs in one.
  [`PoolStats`] counts children killed ([`Death`]) and recycled ([`Recycle`]).
- [`serve_child`] (the child side: the same `folio` binary, re-executed with a hidden
  subcommand) reads documents, runs [`folio_api::extract_reporting`], and writes progress and
  the answer; [`limit_own_memory`] caps its address space (`RLIMIT_AS`) before any work.

The protocol: frames of one kind byte, a little-endian `u32` length and the payload. Parent to
child: `J`, a JSON header (the request's options and limits) and the document's bytes. Child to
parent: `P` progress (pages done and selected), then `R` the JSON response or `E` the JSON
error.

Non-goals: a sandbox against code execution (that needs seccomp or a container) and documents
larger than memory. The memory cap is on address space, not resident memory: it bounds what a
document can make the child allocate, with room for the binary, its threads and the OCR models.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod child;
mod pool;
mod protocol;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use folio_api::{ExtractResponse, Failure, PageProgress, RequestOptions};
use folio_engine::{Engine, ExtractError, Limits};

pub use child::{limit_own_memory, serve_child, ChildSetupError};
pub use pool::{Death, Pool, PoolConfig, PoolStats, Recycle};

/// Why an extraction gave no response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine's error, in this process.
    #[error(transparent)]
    Engine(#[from] ExtractError),
    /// The engine's error, as a child reported it.
    #[error("{}", .0.message)]
    Extract(Failure),
    /// The child died on the document or was killed at its deadline.
    #[error("the document is too costly to extract: {reason}")]
    TooCostly {
        /// How the child ended.
        death: Death,
        /// The same, for people.
        reason: String,
    },
    /// The caller cancelled; the child was stopped.
    #[error("extraction cancelled")]
    Cancelled,
    /// No child could be started.
    #[error("cannot start the extraction process {}", program.display())]
    Unavailable {
        /// The program.
        program: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The pool could not set up the exchange (no thread for its watchdog, a request that
    /// does not serialize).
    #[error("cannot hand the document to an extraction process: {0}")]
    Protocol(String),
}

impl Error {
    /// The error as every front door reports it (status, code, message).
    pub fn failure(&self) -> Failure {
        match self {
            Error::Engine(e) => Failure::from(e),
            Error::Extract(f) => f.clone(),
            Error::TooCostly { reason, .. } => Failure::too_costly(reason),
            Error::Cancelled => Failure::from(&ExtractError::Cancelled),
            Error::Unavailable { .. } | Error::Protocol(_) => {
                Failure::new(503, "unavailable", self.to_string())
            }
        }
    }

    /// Whether the caller's cancellation ended it (a job is then requeued or cancelled, not
    /// failed).
    pub fn is_cancelled(&self) -> bool {
        match self {
            Error::Engine(ExtractError::Cancelled) | Error::Cancelled => true,
            Error::Extract(f) => f.code == "cancelled",
            _ => false,
        }
    }

    /// Whether the document ran past its time limit (the engine stopped it cleanly).
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Engine(ExtractError::Timeout(_)) => true,
            Error::Extract(f) => f.code == "timeout",
            _ => false,
        }
    }
}

/// Where documents are extracted: in this process, or in the children of a [`Pool`].
#[derive(Debug, Clone)]
pub enum Extractor {
    /// In this process, with this engine (the CLI; `--isolate off`).
    InProcess(Arc<Engine>),
    /// In child processes.
    Isolated(Arc<Pool>),
}

impl Extractor {
    /// Extracts `input` as `options` ask, within `limits`, and renders the answer: see
    /// [`folio_api::extract`]. Blocks; `cancel` stops it (in a child: kills the child).
    pub fn extract(
        &self,
        input: &[u8],
        options: &RequestOptions,
        limits: Limits,
        cancel: Option<Arc<AtomicBool>>,
        progress: Option<&PageProgress>,
    ) -> Result<ExtractResponse, Error> {
        match self {
            Extractor::InProcess(engine) => {
                folio_api::extract(engine, input, options, limits, cancel, progress)
                    .map_err(Error::Engine)
            }
            Extractor::Isolated(pool) => pool.extract(input, options, &limits, cancel, progress),
        }
    }

    /// The OCR models' state where documents are extracted: the engine's, or as the last
    /// child to answer reported it (`None` before any did).
    pub fn model_state(&self) -> Option<folio_engine::ModelState> {
        match self {
            Extractor::InProcess(engine) => Some(engine.model_state()),
            Extractor::Isolated(pool) => pool.model_state(),
        }
    }

    /// The pool's counters, when documents go to children.
    pub fn pool_stats(&self) -> Option<PoolStats> {
        match self {
            Extractor::InProcess(_) => None,
            Extractor::Isolated(pool) => Some(pool.stats()),
        }
    }
}
