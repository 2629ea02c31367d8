//! The child side: jobs in on standard input, progress and answers out on standard output.

use std::io::{self, BufReader, BufWriter, Write};
use std::sync::{Mutex, PoisonError};

use folio_api::Failure;
use folio_engine::Engine;

use crate::protocol::{self, Answer, Models, RemoteError};

/// Why a child could not set itself up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChildSetupError {
    /// The address-space cap could not be set.
    #[error("cannot cap the extraction process's memory at {bytes} bytes")]
    MemoryCap {
        /// The cap asked for.
        bytes: u64,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Caps this process's address space at `bytes` (`RLIMIT_AS`), so that an allocation past it
/// fails (and the process aborts) instead of the machine running short; and turns core dumps
/// off, so that such an abort does not write gigabytes to disk. The child calls this before any
/// work. A cap the process already has (a container's, `prlimit`'s) is never raised.
pub fn limit_own_memory(bytes: u64) -> Result<(), ChildSetupError> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let bytes = getrlimit(Resource::As)
        .maximum
        .map_or(bytes, |hard| hard.min(bytes));
    setrlimit(
        Resource::As,
        Rlimit {
            current: Some(bytes),
            maximum: Some(bytes),
        },
    )
    .map_err(|e| ChildSetupError::MemoryCap {
        bytes,
        source: e.into(),
    })?;
    let no_core = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    if let Err(e) = setrlimit(Resource::Core, no_core) {
        tracing::debug!(error = %e, "core dumps left on");
    }
    Ok(())
}

/// Serves documents until standard input ends (the parent closed it, or died): for each, runs
/// [`folio_api::extract_reporting`] with `engine` and answers with progress frames, then the
/// response or the error. A document that kills this process is the parent's to report; one
/// that fails is answered as an error and the loop goes on. Returns an error only when the
/// parent cannot be spoken to.
pub fn serve_child(engine: &Engine) -> io::Result<()> {
    // A child outlives nothing: if the parent dies (even by SIGKILL), so does the child.
    if let Err(e) =
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
    {
        tracing::debug!(error = %e, "no parent-death signal");
    }
    let mut input = BufReader::new(io::stdin().lock());
    // Shared with the progress callback, which the engine calls from its coordinator thread.
    let out = Mutex::new(BufWriter::new(io::stdout()));
    let send = |kind: u8, payload: &[u8]| -> io::Result<()> {
        let mut w = out.lock().unwrap_or_else(PoisonError::into_inner);
        protocol::write_frame(&mut *w, kind, &[payload])
    };
    while let Some((kind, payload)) = protocol::read_frame(&mut input)? {
        if kind != protocol::JOB {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unexpected frame kind {kind} from the parent"),
            ));
        }
        let parsed = protocol::parse_job(&payload)
            .map_err(|message| Failure::new(400, "bad_request", message))
            .and_then(|(request, document)| {
                let (options, limits) = request.parse().map_err(Failure::from)?;
                Ok((options, limits, document))
            });
        let (options, limits, document) = match parsed {
            Ok(p) => p,
            Err(failure) => {
                send(
                    protocol::ERROR,
                    &json(&RemoteError::new(&failure, 0, None))?,
                )?;
                continue;
            }
        };
        let result =
            folio_api::extract_reporting(engine, document, &options, limits, None, &|d, t| {
                if let Err(e) = send(protocol::PROGRESS, &protocol::progress_payload(d, t)) {
                    tracing::debug!(error = %e, "progress not delivered");
                }
            });
        drop(payload);
        // Pages abandoned at their time limit may still run; the parent replaces this process
        // rather than let them keep a core.
        let stats = engine.pool_stats();
        let pages_running = stats.busy.max(stats.stuck);
        let models = Some(Models::from(&engine.model_state()));
        match result {
            Ok(response) => {
                let answer = Answer {
                    response,
                    pages_running,
                    models,
                };
                send(protocol::RESULT, &json(&answer)?)?;
            }
            Err(e) => {
                let failure = Failure::from(&e);
                let error = RemoteError::new(&failure, pages_running, models);
                send(protocol::ERROR, &json(&error)?)?;
            }
        }
    }
    let flushed = out.lock().unwrap_or_else(PoisonError::into_inner).flush();
    flushed
}

fn json(v: &impl serde::Serialize) -> io::Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(io::Error::other)
}
