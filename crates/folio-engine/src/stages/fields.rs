//! The fields stage: the named fields a request asks for (`--fields`, `--schema`, the `fields`
//! and `schema` options), found by `folio-fields` over the finished document: its layout rules
//! first, the operator's model endpoint too when one is configured. Runs on paged and flow
//! documents alike, and only when fields are asked.

use folio_doc::Document;

use super::{DocCx, DocumentStage};

/// Fills `Document::fields`.
pub(crate) struct Fields;

impl DocumentStage for Fields {
    fn name(&self) -> &'static str {
        "fields"
    }

    /// The pages it names are those a field's value was read from: the stage adds to the
    /// document, never changes a page.
    fn run(&self, doc: &mut Document, cx: &DocCx<'_>) -> Vec<u32> {
        let Some(request) = cx.fields else {
            return Vec::new();
        };
        folio_fields::extract(doc, request, cx.llm);
        let mut pages: Vec<u32> = doc
            .fields
            .iter()
            .filter_map(|(_, f)| f.and_then(|f| f.page))
            .collect();
        pages.sort_unstable();
        pages.dedup();
        pages
    }
}

#[cfg(test)]
mod tests {
    use folio_doc::{
        BBox, Block, BlockKind, Line, Metadata, Page, PageProvenance, Provenance, Source, Span,
    };
    use folio_fields::FieldRequest;

    use super::*;
    use crate::stages::run_document;

    fn receipt() -> Document {
        let mut doc = Document::new(Metadata::default());
        let lines = [
            (20.0, "ACME STORES SDN BHD"),
            (40.0, "DATE: 09/01/2019"),
            (60.0, "TOTAL: 31.00"),
        ];
        let blocks = lines
            .iter()
            .map(|(y, text)| {
                let bbox = BBox::new(72.0, *y, 300.0, y + 10.0);
                Block::from_lines(
                    BlockKind::Paragraph,
                    vec![Line {
                        bbox,
                        spans: vec![Span {
                            text: text.to_string(),
                            bbox,
                            font: "Helvetica".into(),
                            size: 10.0,
                            bold: false,
                            italic: false,
                        }],
                    }],
                    Provenance {
                        page: 1,
                        source: Source::TextLayer,
                    },
                )
            })
            .collect();
        doc.pages.push(Page {
            number: 1,
            width: 400.0,
            height: 300.0,
            rotation: 0,
            blocks,
            provenance: PageProvenance::new(Source::TextLayer, "text layer"),
        });
        doc
    }

    #[test]
    fn fields_run_only_when_asked_and_name_the_pages_they_read() {
        let mut plain = receipt();
        run_document(&mut plain, &DocCx::plain(false));
        assert!(plain.fields.is_empty());
        assert!(plain.pages[0].provenance.stages.is_empty());

        let request = FieldRequest::from_names("date,total").unwrap();
        for paged in [true, false] {
            let mut doc = receipt();
            let cx = DocCx {
                paged,
                fields: Some(&request),
                llm: None,
            };
            run_document(&mut doc, &cx);
            let total = doc.fields.get("total").flatten().expect("a total");
            assert_eq!(total.page, Some(1));
            assert!(doc.fields.get("date").flatten().is_some());
            assert!(doc.pages[0]
                .provenance
                .stages
                .contains(&"fields".to_string()));
        }
    }
}
