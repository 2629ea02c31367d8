/*!
Folio as a RunPod serverless worker.

# Overview

[`Worker`] speaks RunPod's serverless queue protocol the way RunPod's own Python SDK (`runpod`,
module `runpod/serverless`, release [`RUNPOD_PROTOCOL_VERSION`]) does, so a Folio image is a
first-class RunPod worker without Python:

- **Settings** come from the SDK's environment ([`WorkerConfig::from_env`]):
  `RUNPOD_WEBHOOK_GET_JOB` (`$ID` → worker id), `RUNPOD_WEBHOOK_POST_OUTPUT` (`$RUNPOD_POD_ID` →
  worker id, then `$ID` → job id), `RUNPOD_WEBHOOK_PING`, `RUNPOD_PING_INTERVAL` (ms),
  `RUNPOD_AI_API_KEY` (sent verbatim as `Authorization`), `RUNPOD_POD_ID`, `RUNPOD_POD_HOSTNAME`.
- **Job take**: `GET <take url>&job_in_progress=0|1`; 204 and 400 mean no job, 429 means wait
  5 s, a JSON object (or list) is the job(s).
- **Result post**: `POST <done url>&isStream=false` with the result JSON as the body, the SDK's
  headers (`Content-Type: application/x-www-form-urlencoded`, `charset: utf-8`,
  `X-Request-ID: <job id>`), three attempts (waits of 2 s and 3 s) after transport errors and
  5xx. A success is `{"output": <ExtractResponse>}`; a failure is `{"error": "<JSON text>"}` with
  `error_type`, `error_message`, `error_traceback`, `hostname`, `worker_id`, `runpod_version`,
  exactly as `rp_job.run_job` builds it (`error_type` is Folio's stable error code).
- **Heartbeat**: `GET <ping url>?job_id=<ids, comma-separated>&runpod_version=...` every
  interval from its own thread, which a long extraction cannot starve.
- **Stop**: the SDK's dedicated stop channel (the take URL with `/job-take/` → `/job-stop/`,
  answering `{"jobsToStop": [...]}`) cancels a job between pages; nothing is posted for it, as
  the SDK cancels its task. SIGTERM/SIGINT ([`handle_signals`]) stop job taking and let the jobs
  in progress finish and be answered; a second signal cancels them (answered `cancelled`).
  `refresh_worker` marks the result `stopPod: true` and ends the worker after one job.
- **Fitness check** before any job: a failure is reported as the SDK's unhealthy ping
  (`status=unhealthy&check=...&reason=...`) and [`Worker::run`] returns
  [`WorkerError::Unfit`] without taking a job. [`fitness::check_models`] checks the model store,
  [`fitness::check_ocr`] loads the OCR models with the engine's backend.
- **Local mode** ([`run_local`]): one test job (`test_input.json`), no queue.

Jobs run through the same [`folio_api::extract`] as `POST /extract`, so the output is the HTTP
answer.

# Job input

`{"input": {"file_base64" | "file_url", "filename", "format", "pages", "ocr", "layout",
"images", "password", "fields", "schema", "notes", "hidden_sheets"}}`:
exactly one of `file_base64` (standard or URL-safe base64, optionally a `data:` URL) or
`file_url` (http/https only, size- and time-bounded). Every other member is an option parsed by
[`folio_api::RequestOptions`], exactly as `POST /extract` parses its form fields (same names,
defaults and `bad_option` messages; a number, for `pages` a list like `[1, "4-5"]`, for
`fields` a list of names, for `schema` the JSON Schema object and for `notes` and
`hidden_sheets` a boolean, is accepted as well). Unknown members are refused.

`file_url` reaches public addresses only unless [`WorkerConfig::allow_private_urls`] is set:
the download's resolver ([`folio_net::PublicOnlyResolver`]) refuses a host with any loopback,
private, link-local or otherwise non-public address, on every redirect hop, and the connection
goes to the addresses it checked. A refusal is the job's error (`url_not_allowed`), not the
worker's.

# Scope

Blocking threads and `ureq`: one thread per concurrent job, one heartbeat thread, one stop-poll
thread. Streaming results (`RUNPOD_WEBHOOK_POST_STREAM`), the batch job-take API and the SDK's
local FastAPI server are not implemented: an extraction has one answer.

# Features

- `fake-server`: [`fake::FakeRunPod`], a loopback server playing RunPod's side of the protocol,
  for tests. No extra dependencies.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod config;
#[cfg(feature = "fake-server")]
pub mod fake;
pub mod fitness;
mod handler;
mod protocol;
mod worker;

pub use client::ClientError;
pub use config::{WorkerConfig, RUNPOD_PROTOCOL_VERSION};
pub use protocol::JobFailure;
pub use worker::{
    handle_signals, run_local, LocalRun, RunSummary, ShutdownHandle, Worker, WorkerError,
};
