//! The child side: jobs in on standard input, progress and results out on standard output.

use std::io::{self, BufReader, BufWriter};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use folio_engine::{Engine, ExtractResponse};

use crate::protocol::{self, RemoteError};

/// Caps this process's address space at `bytes` (`RLIMIT_AS`), so that an allocation past it
/// fails (and the process aborts) instead of the machine running out of memory. Called by the
/// child before any work.
pub fn limit_own_memory(bytes: u64) -> io::Result<()> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    // Never above a cap the process already has (a container's, or `prlimit`'s): raising it is
    // not allowed, and lowering is all that is wanted.
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
    .map_err(io::Error::from)
}

/// Serves jobs until standard input ends: for each, runs `engine` and answers with progress
/// frames, then a result or an error frame. A document that kills this process is the
/// parent's to report; one that fails is answered as an error and the loop goes on.
pub fn serve_child(engine: &Engine) -> io::Result<()> {
    // A child outlives nothing: if the parent dies (even by SIGKILL), so does the child.
    if let Err(e) =
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
    {
        tracing::debug!(error = %e, "no parent-death signal");
    }
    let mut input = BufReader::new(io::stdin().lock());
    // Shared with the progress callback, which the engine may call from its coordinator.
    let out = Mutex::new(BufWriter::new(io::stdout()));
    let send = |kind: u8, payload: &[u8]| -> io::Result<()> {
        let mut w = out.lock().unwrap_or_else(PoisonError::into_inner);
        protocol::write_frame(&mut *w, kind, &[payload])
    };
    while let Some((kind, payload)) = protocol::read_frame(&mut input)? {
        if kind != protocol::JOB {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unexpected frame {kind}"),
            ));
        }
        let parsed = protocol::parse_job(&payload).and_then(|(job, document)| {
            job.options().map(|(opts, format)| (opts, format, document))
        });
        let (opts, format, document) = match parsed {
            Ok(p) => p,
            Err(message) => {
                let e = RemoteError {
                    code: "bad_option".to_string(),
                    message,
                };
                send(protocol::ERROR, &json(&e)?)?;
                continue;
            }
        };
        let started = Instant::now();
        let result = engine.extract_with_progress(document, &opts, &|done, total| {
            let mut bytes = done.to_le_bytes().to_vec();
            bytes.extend_from_slice(&total.to_le_bytes());
            if let Err(e) = send(protocol::PROGRESS, &bytes) {
                tracing::debug!(error = %e, "progress not delivered");
            }
        });
        let extract_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(doc) => {
                let response = ExtractResponse::new(&doc, format, extract_ms);
                send(protocol::RESULT, &json(&response)?)?;
            }
            Err(e) => send(protocol::ERROR, &json(&RemoteError::from(&e))?)?,
        }
    }
    Ok(())
}

fn json(v: &impl serde::Serialize) -> io::Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(io::Error::other)
}
