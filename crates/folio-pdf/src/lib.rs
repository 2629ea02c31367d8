/*!
The PDF reader: opens a file with hayro (decrypting with the empty or a given password) and turns
each page into [`folio_content::PageContent`] (glyphs with positions and fonts, ruling segments,
image boxes, typed warnings for what had to be dropped) or a raster for OCR. No hayro type leaves
this crate, and the reader does not depend on layout analysis.

Every page read or render takes a [`folio_content::Cancel`] token: the interpreter checks it
between operators (a stop hook in the patched `hayro-interpret`, see `third_party/README.md`)
and the collecting device ignores everything drawn after it is set.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod collect;
mod document;

pub use document::{PdfDocument, PdfError, Raster, MAX_GLYPHS_PER_PAGE};
