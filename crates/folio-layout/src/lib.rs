/*!
Layout analysis: from positioned glyphs (or OCR lines) to the blocks of the document model.

Stages, each a function over plain data: glyphs → words (gap-based) → lines → blocks, then
reading order (columns, positioned labels), block roles (headings from font statistics, lists,
captions, code), tables from rules or alignment, and, across pages, running headers and footers.

Input is [`folio_content::PageContent`] (from `folio-content`, which readers produce without
depending on this crate); output is [`folio_doc::Block`]s. [`PageLayout`] splits one page's work
into the steps the engine runs as stages (words, tables, reading order and blocks).
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod blocks;
mod document;
mod order;
mod regions;
mod stream;
mod tables;
mod words;

mod analyze;
#[cfg(test)]
mod test_support;

pub use analyze::{analyze_page, finish_document, mark_furniture, mark_headings, PageLayout};
pub use regions::{ModelRegion, RegionRole, MODEL_STAGE};
