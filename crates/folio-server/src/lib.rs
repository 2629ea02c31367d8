/*!
Folio's HTTP service.

# Overview

[`Server`] serves one [`folio_engine::Engine`] (built by the caller, so that how models are
loaded stays the caller's choice) over HTTP with axum:

- `POST /extract`: multipart `file` plus `format`, `pages`, `ocr`, `password`, `fields`,
  `schema`; answers the
  shared [`folio_api::ExtractResponse`] as JSON, or the rendering itself when `Accept` asks
  for `text/markdown`, `text/html`, `text/plain` or `text/csv`.
- `/v1/jobs`: durable async jobs in SQLite (WAL) under [`ServerConfig::data_dir`], or in one
  PostgreSQL database shared by many replicas ([`ServerConfig::jobs_db`]): create, status with
  page progress, result, cancel; a running job is leased, and one whose runner died runs again
  (failed after [`ServerConfig::job_max_attempts`]), never stays `running`; results expire
  after [`ServerConfig::job_ttl`]; optional webhook ([`WebhookPolicy`] against SSRF); a job
  belongs to the API key that created it; documents may come from and results go to S3
  ([`ObjectStorage`], allow-listed buckets).
- `GET /health`, `GET /ready` (the model store, as `folio doctor` sees it, for the
  [`RequiredModels`]), `GET /metrics` (Prometheus text), `GET /openapi.json`, and a page at `/`
  to drop a file and see its Markdown and rendering.

Every error is `{"error": {"code", "message"}}` with its status (400, 401, 404, 405, 406, 408,
409, 413, 415, 422, 429, 503); engine errors keep [`folio_engine::ExtractError::code`]. API keys
([`ApiKeys`]) are compared in constant time.

# Limits and back-pressure

Extractions run on the blocking pool, at most [`ServerConfig::max_concurrent`] at once (sync
requests and jobs share the slots), with [`ServerConfig::max_queue`] sync requests waiting;
beyond that, 429 with `Retry-After`. A sync request has [`ServerConfig::request_timeout`],
queueing included, passed to the engine as its time limit; a client that disconnects cancels
its extraction at the next page. The body limit is the engine's `max_input_bytes`.

With [`ServerConfig::isolation`] each extraction runs in a supervised child process instead
(`folio_isolate`: a warm pool, a memory cap and a deadline per child): a document that kills
its child costs its request `422 document_too_costly`, and a job's run counts as an attempt
(failed after [`ServerConfig::job_max_attempts`]).

# Shutdown

[`Server::serve`] stops on its shutdown future ([`shutdown_signal`]: SIGTERM or SIGINT): no new
connections, in-flight requests finish within [`ServerConfig::shutdown_grace`], running jobs
are cancelled and put back in the queue for the next start.

# Scope

With SQLite, one process per data directory; with Postgres, any number of replicas (see
`docs/scale-out.md`). Webhooks are delivered at least once (a delivery cut short by a stop is
retried at the next start, or by another replica's sweep).
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod app;
mod auth;
mod config;
mod conn;
mod error;
mod extract;
mod form;
mod health;
mod jobs;
mod limiter;
mod linger;
mod metrics;
mod negotiate;
mod openapi;
mod page;
mod run;
mod server;
mod state;

pub use app::Route;
pub use auth::ApiKeys;
pub use config::{
    check_bind, default_data_dir, JobsDatabase, Readiness, RequiredModels, ServerConfig,
};
pub use jobs::{JobStoreError, ObjectStorage, PostgresOptions, S3Credentials, WebhookPolicy};
pub use server::{shutdown_signal, Server, ServerError};

/// The OpenAPI document `GET /openapi.json` serves.
pub fn openapi() -> serde_json::Value {
    openapi::spec()
}
