/*!
Layout analysis: from positioned glyphs (or OCR lines) to the blocks of the document model.

Stages, each a function over plain data: glyphs → words (gap-based) → lines → blocks, then
reading order (columns, positioned labels), block roles (headings from font statistics, lists,
captions, code), tables from rules or alignment, and, across pages, running headers and footers.

Input is [`PageContent`]; output is [`folio_doc::Block`]s. No reader types cross this boundary.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod blocks;
mod content;
mod document;
mod order;
mod stream;
mod tables;
mod words;

pub use content::{FontInfo, Glyph, PageContent, Segment};

mod analyze;
#[cfg(test)]
mod test_support;

pub use analyze::{analyze_page, finish_document};
