/*!
What Folio's network front doors share: `folio serve` (HTTP, sync requests and async jobs) and
`folio worker` (RunPod) take the same options, run the same sequence and answer the same body.

- [`RequestOptions`]: the options a request carries as named text fields (form fields, JSON
  members), parsed with one set of names, defaults and messages.
- [`extract`]: the request → extraction → [`ExtractResponse`] sequence, with page progress
  ([`PageProgress`]) and timings.
- [`Failure`]: an engine or option error as every front door reports it: the stable code, the
  message, the causes, and the HTTP status that fits ([`ErrorBody`] is its JSON shape).
- [`store_problems`]: the one sentence that says why the model store cannot serve, for `/ready`
  and for the worker's fitness check.
- [`objects`]: documents read from and results written to `s3://` addresses, within the
  operator's bucket allow-list.

Scope: no transport of its own (`folio-server` and `folio-worker` own those); the only I/O is
[`objects`]' blocking S3 requests, which callers run off their async threads.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod health;
pub mod objects;
mod progress;
mod request;
mod response;
mod run;

pub use error::{ErrorBody, ErrorDetail, Failure, DOCUMENT_TOO_COSTLY};
pub use health::store_problems;
pub use progress::PageProgress;
pub use request::{OptionError, RequestOptions, INLINE_IMAGE_BYTES};
pub use response::{ExtractResponse, PageSummary, Timings};
pub use run::{extract, extract_reporting};
