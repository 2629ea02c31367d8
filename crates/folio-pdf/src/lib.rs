/*!
The PDF reader: opens a file with hayro (decrypting with the empty or a given password) and turns
each page into [`folio_layout::PageContent`] (glyphs with positions and fonts, ruling segments, image
boxes) or a raster for OCR. No hayro type leaves this crate.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod collect;
mod document;

pub use document::{PdfDocument, PdfError, Raster, MAX_GLYPHS_PER_PAGE};
