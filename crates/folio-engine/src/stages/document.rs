//! The document pass, once every page is analysed (`folio-layout`): running headers and
//! footers recognised by repetition across pages, then heading levels from the whole
//! document's font statistics. Paged inputs only: a flow format (Office, HTML) states its own
//! structure.

use folio_doc::{BlockKind, Document, Page};

use super::{DocCx, DocumentStage};

/// Running headers and footers become page furniture.
pub(crate) struct Furniture;

impl DocumentStage for Furniture {
    fn name(&self) -> &'static str {
        "furniture"
    }

    fn run(&self, doc: &mut Document, cx: &DocCx<'_>) -> Vec<u32> {
        if !cx.paged {
            return Vec::new();
        }
        changed_pages(&mut doc.pages, folio_layout::mark_furniture)
    }
}

/// Heading levels from the document's font statistics.
pub(crate) struct Headings;

impl DocumentStage for Headings {
    fn name(&self) -> &'static str {
        "headings"
    }

    fn run(&self, doc: &mut Document, cx: &DocCx<'_>) -> Vec<u32> {
        if !cx.paged {
            return Vec::new();
        }
        changed_pages(&mut doc.pages, folio_layout::mark_headings)
    }
}

/// Runs `pass` over the pages and returns the numbers of those whose block kinds it changed.
fn changed_pages(pages: &mut [Page], pass: fn(&mut [Page])) -> Vec<u32> {
    let kinds = |p: &Page| p.blocks.iter().map(|b| b.kind).collect::<Vec<BlockKind>>();
    let before: Vec<Vec<BlockKind>> = pages.iter().map(kinds).collect();
    pass(pages);
    pages
        .iter()
        .zip(before)
        .filter(|(p, b)| kinds(p) != *b)
        .map(|(p, _)| p.number)
        .collect()
}

#[cfg(test)]
mod tests {
    use folio_doc::{BBox, Block, Line, Metadata, PageProvenance, Provenance, Source, Span};

    use super::*;
    use crate::stages::run_document;

    fn block(text: &str, y: f32, page: u32) -> Block {
        let bbox = BBox::new(72.0, y, 300.0, y + 10.0);
        Block::from_lines(
            BlockKind::Paragraph,
            vec![Line {
                bbox,
                spans: vec![Span {
                    text: text.to_string(),
                    bbox,
                    font: "Times".into(),
                    size: 10.0,
                    bold: false,
                    italic: false,
                }],
            }],
            Provenance {
                page,
                source: Source::TextLayer,
            },
        )
    }

    fn doc() -> Document {
        let mut doc = Document::new(Metadata::default());
        for n in 1..=4 {
            doc.pages.push(Page {
                number: n,
                width: 612.0,
                height: 792.0,
                rotation: 0,
                blocks: vec![
                    block("ACME Corp annual report", 20.0, n),
                    block(
                        &format!("Body text of page {n} goes on for a while."),
                        300.0,
                        n,
                    ),
                ],
                provenance: PageProvenance::new(Source::TextLayer, "text layer"),
            });
        }
        doc
    }

    #[test]
    fn a_repeated_header_is_furniture_and_the_pages_record_it() {
        let mut d = doc();
        run_document(&mut d, &DocCx::plain(true));
        for page in &d.pages {
            assert_eq!(page.blocks[0].kind, BlockKind::PageHeader);
            assert_eq!(page.provenance.stages, vec!["furniture"]);
        }
    }

    #[test]
    fn a_flow_document_is_left_as_its_format_built_it() {
        let mut d = doc();
        run_document(&mut d, &DocCx::plain(false));
        assert!(d
            .pages
            .iter()
            .all(|p| p.blocks[0].kind == BlockKind::Paragraph && p.provenance.stages.is_empty()));
    }
}
