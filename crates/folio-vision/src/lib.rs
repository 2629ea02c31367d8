/*!
OCR for Folio: PP-OCR text detection, line direction and recognition, plus page orientation, on
ONNX models behind one inference trait.

The stages are plain functions over an [`RgbImage`] and a loaded [`Session`]:
[`orientation::classify`] (0/90/180/270) → [`det::detect`] (DB probability map, connected
regions, minimum-area rectangles, unclip) → [`cls::upside_down`] (0/180 per line) →
[`rec::Recognizer`] (lines sampled straight from the page to a 48-pixel-high tensor, batched by
width, CTC-decoded with the dictionary from the model's metadata) → [`OcrPage`]: lines and words
with boxes, which layout analysis turns into blocks like any text layer.

Beside OCR, two document models run on the same backends: [`layout::LayoutModel`] (PP-PicoDet
on CDLA: text, title, figure, caption, table, header, footer and equation regions of a page) and
[`table::TableModel`] (SLANet-plus: the rows, columns, spans and cell boxes of a table image).

Backends ([`BackendKind`]): `rten` (pure Rust, the default), `ort` (feature `ort`: ONNX Runtime
loaded at run time) and `ort-cuda` (feature `cuda`).
*/
// The one exception, `subnormal`, sets a control register of the threads that run the models.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod backend;
pub mod cls;
mod cpu;
mod ctc;
pub mod det;
mod geometry;
mod image;
pub mod layout;
mod ocr;
pub mod orientation;
pub mod rec;
mod subnormal;
pub mod table;

pub use backend::{BackendError, BackendKind, Precision, Session, Tensor};
pub use cpu::{cpu_model, vector_unit};
pub use ctc::{ctc_greedy, DecodeError, Decoded, Dictionary};
pub use geometry::Point;
pub use image::{Frame, ImageSizeError, RgbImage};
pub use layout::{LayoutModel, LayoutParams, Region, RegionKind};
pub use ocr::{
    recognizer_precision, Ocr, OcrLine, OcrModelPaths, OcrPage, OcrParams, OcrTimings, OcrWord,
};
pub use table::{TableCell, TableModel, TableStructure};
