/*!
Extraction isolated from the front door: each document is extracted in a supervised child
process, so that a document that makes the reader abort, overflow its stack, exhaust its memory or
run for ever costs that one request an error, never the server.

- [`Pool`] (the parent side) keeps warm child processes, hands each one document at a time over
  a small framed protocol on its standard input and output, kills a child at its deadline or on
  cancellation, and recycles children after a number of documents or above a resident-memory
  threshold. A child that dies is reported as [`Failure::TooCostly`] with the reason read from
  how it ended.
- [`serve_child`] (the child side) reads jobs, runs the engine, and writes progress and the
  result; [`limit_own_memory`] caps the child's address space (`RLIMIT_AS`) before any work.

The protocol (`protocol.rs`): frames of one kind byte, a little-endian `u32` length and the
payload. Parent to child: `J`, a JSON [`Job`] header and the document's bytes. Child to parent:
`P` progress (pages done and total), then `R` a JSON [`folio_engine::ExtractResponse`] or `E` a
JSON [`RemoteError`].

Non-goals: sandboxing against code execution (that needs seccomp or a container), and streaming
documents larger than memory.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod child;
mod pool;
mod protocol;

pub use child::{limit_own_memory, serve_child};
pub use pool::{Failure, Pool, PoolConfig};
pub use protocol::{Job, RemoteError};
