/*!
The PDF reader: opens a file with hayro (decrypting with the empty or a given password) and turns
each page into [`folio_content::PageContent`] (glyphs with positions and fonts, ruling segments,
image boxes, typed warnings for what had to be dropped) or a raster for OCR. No hayro type leaves
this crate, and the reader does not depend on layout analysis.

Every read runs under [`ReadLimits`] (decoded bytes per stream, page and document; operators
per page; nesting depth), enforced inside hayro before memory is allocated (the work budget of the
patched `hayro-syntax` and `hayro-interpret`, see `third_party/README.md`); a page that runs into
one comes back with what was read and a warning instead of taking the process with it.

Every page read or render takes a [`folio_content::Cancel`] token, whose flag is the budget's
cancellation flag: decoding and interpretation stop at their next check once it is set, and the
collecting device ignores everything drawn after it.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod collect;
mod document;
mod limits;

pub use document::{PdfDocument, PdfError, Raster, MAX_GLYPHS_PER_PAGE};
pub use limits::{LimitHit, ReadLimits};
