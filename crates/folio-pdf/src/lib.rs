/*!
The PDF reader: opens a file with hayro (decrypting with the empty or a given password) and turns
each page into [`folio_layout::PageContent`] (glyphs with positions and fonts, ruling segments, image
boxes) or a raster for OCR. No hayro type leaves this crate.

Every read runs under [`ReadLimits`] (decoded bytes per stream, page and document; operators
per page; nesting depth), enforced inside hayro before memory is allocated; a page that runs into
one comes back with a [`LimitHit`] instead of taking the process with it.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod collect;
mod document;
mod limits;

pub use document::{PdfDocument, PdfError, Raster, MAX_GLYPHS_PER_PAGE};
pub use limits::{LimitHit, ReadLimits};
