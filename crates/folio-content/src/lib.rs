/*!
Neutral page content: what a reader hands to the later stages of extraction.

A [`PageContent`] holds one page's positioned [`Glyph`]s (each with its [`FontInfo`]), its ruling
[`Segment`]s and the boxes of its images, in page coordinates (points, origin top-left). The PDF
reader (`folio-pdf`) and OCR (recognised lines presented as glyphs) both produce it; layout
analysis (`folio-layout`) reads it. No reader depends on the analyser, and no reader's own types
cross this boundary.

A reader that has to leave content out says so with a typed [`ContentWarning`]; the engine turns
it into a document warning and marks the page `partial`.

[`Cancel`] is the cancellation token every long loop over page content checks (the PDF
interpreter's device callbacks, OCR between model runs, layout between steps).
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cancel;
mod content;

pub use cancel::{Cancel, Cancelled};
pub use content::{ContentWarning, ContentWarningKind, FontInfo, Glyph, PageContent, Segment};
