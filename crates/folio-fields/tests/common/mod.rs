//! What the fields tests share: a page as OCR reads a receipt, one text box per printed line.

use folio_doc::{
    BBox, Block, BlockKind, Document, Line, Metadata, Page, PageProvenance, Provenance, Source,
    Span,
};

/// A one-page scan of `width` x `height` points holding one OCR line per `(text, box)`.
pub fn ocr_page(lines: &[(&str, BBox)], width: f32, height: f32) -> Document {
    let mut doc = Document::new(Metadata {
        format: "png".into(),
        page_count: 1,
        ..Metadata::default()
    });
    let blocks = lines
        .iter()
        .map(|&(text, bbox)| {
            let line = Line {
                bbox,
                spans: vec![Span {
                    text: text.into(),
                    bbox,
                    // OCR knows no font.
                    font: String::new(),
                    size: 12.0,
                    bold: false,
                    italic: false,
                }],
            };
            Block::from_lines(
                BlockKind::Paragraph,
                vec![line],
                Provenance {
                    page: 1,
                    source: Source::Ocr,
                },
            )
        })
        .collect();
    doc.pages.push(Page {
        number: 1,
        width,
        height,
        rotation: 0,
        blocks,
        provenance: PageProvenance::new(Source::Ocr, ""),
    });
    doc
}
