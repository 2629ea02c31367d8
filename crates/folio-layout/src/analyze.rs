//! Entry points: one page, then the whole document.

use folio_doc::{Block, Page};

use crate::PageContent;

/// Blocks of one page, in reading order, from its content.
pub fn analyze_page(content: &PageContent, page_number: u32) -> Vec<Block> {
    let _ = (content, page_number);
    Vec::new()
}

/// Document-wide passes once every page is analysed: heading levels from the document's font
/// statistics, and running headers/footers recognised by repetition across pages.
pub fn finish_document(pages: &mut [Page]) {
    let _ = pages;
}
