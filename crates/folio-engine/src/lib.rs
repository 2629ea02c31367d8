/*!
The extraction engine: bytes in, a [`folio_doc::Document`] out.

[`Engine::extract`] sniffs the input's type from its content (`sniff`), opens it with the
matching backend (`backends`: PDF and images give pages of content, flow formats such as Office
or HTML a finished document), runs the page stages on each page in the process's bounded
[`PagePool`] (the text-layer-or-OCR decision, OCR, layout, tables; `stages`), then the document
stages (running headers and footers, heading levels). A panic or a time-out on one page becomes a
typed warning, not a failure of the document; a page past its time limit is cancelled through
its [`folio_content::Cancel`] token, which the reader, OCR and layout check. Flow formats (DOCX,
PPTX, XLSX/XLS/ODS, HTML, Markdown, CSV and text) go to `folio-office`, which builds the document
directly. The CLI, the HTTP service and the RunPod worker all call this one function (the network
front doors through `folio-api`, which holds what they share).

Limits ([`Limits`]) bound input size, pages, pixels and time; exceeding one is a typed
[`ExtractError`] whose [`ExtractError::code`] the front doors map to exit codes and HTTP statuses.
The OCR models load on first need and a failed load is retried after a short back-off
([`ModelState`], [`Engine::model_state`]).
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod backends;
mod engine;
mod error;
mod layout_models;
mod models;
mod ocr;
mod options;
mod pool;
mod raster;
mod sniff;
mod stages;

pub use engine::{Engine, Progress};
pub use error::{ExtractError, ModelError, PageFailure, ReadError};
pub use folio_vision::{BackendKind, OcrParams};
pub use models::{ModelLocator, ModelState, MODEL_RETRY_BACKOFF};
pub use ocr::{OcrSettings, OCR_PIXEL_BUDGET, OCR_RENDER_DPI};
pub use options::{ExtractOptions, LayoutMode, Limits, OcrMode, PageSelection, PageSelectionError};
pub use pool::{default_threads, PagePool, PoolAlreadySized, PoolStats, DEFAULT_GRACE};
pub use raster::MAX_IMAGE_SIDE;
pub use sniff::{sniff, sniff_named, InputKind};
pub use stages::figures::{FIGURE_RENDER_DPI, MAX_FIGURE_IMAGES};
pub use stages::layout_model::LAYOUT_PIXEL_BUDGET;
pub use stages::PageError;
