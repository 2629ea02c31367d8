/*!
The extraction pipeline: bytes in, a [`folio_doc::Document`] out.

[`Engine::extract`] detects the input type, opens it with the matching reader, runs each page in
isolation (a panic or a time-out on one page becomes a warning, not a failure of the document),
decides per page between the text layer and OCR, runs layout analysis and returns the document.
The CLI, the HTTP service and the RunPod worker all call this one function.

Limits ([`Limits`]) bound input size, pages, pixels and time; exceeding one is a typed
[`ExtractError`] whose [`ExtractError::code`] the front doors map to exit codes and HTTP statuses.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod ocr;
mod options;
mod pipeline;
mod raster;
mod request;
mod response;
mod sniff;

pub use error::ExtractError;
pub use folio_vision::{BackendKind, OcrParams};
pub use ocr::{ModelLocator, OcrSettings, OCR_PIXEL_BUDGET, OCR_RENDER_DPI};
pub use options::{ExtractOptions, Limits, OcrMode, PageSelection, PageSelectionError};
pub use pipeline::{Engine, Progress};
pub use raster::MAX_IMAGE_SIDE;
pub use request::{OptionError, RequestOptions};
pub use response::{ExtractResponse, PageSummary, Timings};
pub use sniff::{sniff, InputKind};
