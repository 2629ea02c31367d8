//! What each reader must get right, checked on real documents (tests/fixtures/office) and on
//! documents generated here.

use folio_doc::{BlockKind, Document};
use folio_office::{read, sniff, Format, OfficeOptions};

mod common;
use common::{blocks, fixture};

fn extract(bytes: &[u8]) -> Document {
    let format = sniff(bytes, None).expect("sniffed");
    read(bytes, format, &OfficeOptions::default()).expect("read")
}

#[test]
fn docx_merged_cells_become_spans() {
    let doc = extract(&fixture("word_tables.docx"));
    assert_eq!(doc.metadata.format, "docx");
    assert!(
        doc.pages.iter().all(|p| p.is_flow()),
        "a DOCX has no page geometry"
    );
    let tables: Vec<_> = doc.tables().map(|(_, t)| t).collect();
    assert!(tables.len() >= 5, "{} tables", tables.len());
    let find = |text: &str| {
        tables
            .iter()
            .flat_map(|t| t.cells.iter())
            .find(|c| c.text == text)
            .unwrap_or_else(|| panic!("no cell {text:?}"))
    };
    assert_eq!(find("Merged Cell 1.1 1.2").col_span, 2);
    assert_eq!(find("Merged Cell 1.1 2.1").row_span, 2);
    // The vertically merged cell appears once per table, at its top-left position.
    for t in &tables {
        assert!(
            t.cells
                .iter()
                .filter(|c| c.text == "Merged Cell 1.1 2.1")
                .count()
                <= 1
        );
    }
}

#[test]
fn docx_lists_keep_numbering_and_nesting() {
    let doc = extract(&fixture("docx_lists.docx"));
    let items: Vec<_> = blocks(&doc)
        .filter_map(|b| match b.kind {
            BlockKind::ListItem { ordered, level } => Some((ordered, level, b.text.as_str())),
            _ => None,
        })
        .collect();
    assert!(items.contains(&(true, 0, "1. List item a")), "{items:?}");
    assert!(items.contains(&(true, 0, "3. List item c")), "{items:?}");
    assert!(items.contains(&(false, 1, "List item 1.1")), "{items:?}");
    assert!(items.contains(&(false, 2, "List item 1.1.1")), "{items:?}");
    assert!(blocks(&doc).any(|b| b.kind == BlockKind::Heading { level: 4 } && b.text == "Test 1:"));
}

#[test]
fn docx_equations_become_latex() {
    let doc = extract(&fixture("equations.docx"));
    let formulas: Vec<_> = blocks(&doc)
        .filter(|b| b.kind == BlockKind::Formula)
        .collect();
    assert!(
        formulas
            .iter()
            .any(|f| f.text.contains("a^{2}+b^{2}=c^{2}")),
        "{formulas:?}"
    );
    assert!(blocks(&doc).any(|b| b.text.contains("$A= \\pi r^{2}$")));
}

#[test]
fn pptx_pages_are_slides_with_geometry() {
    let doc = extract(&fixture("pptx_chart.pptx"));
    assert_eq!(doc.pages.len(), 2);
    let page = &doc.pages[0];
    assert!(
        page.width > 100.0 && page.height > 100.0,
        "{}x{}",
        page.width,
        page.height
    );
    assert_eq!(page.blocks[0].kind, BlockKind::Heading { level: 1 });
    assert_eq!(page.blocks[0].text, "Quarterly Duck Survey");
    // The chart's cached data as a table; the frame's box on the slide.
    let table = page
        .blocks
        .iter()
        .find(|b| b.kind == BlockKind::Table)
        .expect("chart table");
    let grid = table.table.as_ref().expect("cells").grid();
    assert_eq!(grid[0], vec!["", "Freshwater Ducks", "Saltwater Ducks"]);
    assert_eq!(grid[1], vec!["2019", "120", "80"]);
    assert!(table.bbox.x0 > 0.0 && table.bbox.x1 <= page.width);
}

#[test]
fn pptx_comments_and_notes_option() {
    let doc = extract(&fixture("powerpoint_comments.pptx"));
    assert_eq!(doc.pages.len(), 3);
    assert!(blocks(&doc)
        .any(|b| b.text.contains("John Reviewer") && b.text.contains("sample reviewer comment")));
    let items = blocks(&doc)
        .filter(|b| matches!(b.kind, BlockKind::ListItem { .. }))
        .count();
    assert_eq!(items, 3, "the body placeholder's bullets");
}

#[test]
fn xlsx_sheets_tables_and_merges() {
    let doc = extract(&fixture("xlsx_09_section_label_header.xlsx"));
    assert_eq!(doc.metadata.format, "xlsx");
    assert_eq!(doc.pages[0].blocks[0].kind, BlockKind::Heading { level: 2 });
    assert_eq!(doc.pages[0].blocks[0].text, "Library Catalog");
    // The merged title row above the table is a paragraph, not a table row.
    assert!(doc.pages[0]
        .blocks
        .iter()
        .any(|b| b.kind == BlockKind::Paragraph && b.text == "Reading List"));
    let (_, t) = doc.tables().next().expect("a table");
    assert_eq!(t.grid()[0][3], "Title");
    assert_eq!(t.grid()[2][6], "1988");

    let doc = extract(&fixture("xlsx_07_gap_tolerance.xlsx"));
    let merged = doc
        .tables()
        .flat_map(|(_, t)| t.cells.iter())
        .find(|c| c.text == "13156456")
        .expect("merged cell");
    assert_eq!(merged.col_span, 3);
}

#[test]
fn html_tables_code_and_hidden_parts() {
    let doc = extract(&fixture("example_08.html"));
    let (_, t) = doc.tables().next().expect("table");
    let year = t.cells.iter().find(|c| c.text == "2025").expect("2025");
    assert!(year.row_span >= 5 && year.header, "{year:?}");
    assert_eq!(t.spanned_grid()[2][0], "2025");

    let doc = extract(&fixture("html_code_snippets.html"));
    assert_eq!(doc.metadata.title.as_deref(), Some("Code snippets in HTML"));
    let code: Vec<_> = blocks(&doc).filter(|b| b.kind == BlockKind::Code).collect();
    assert!(
        code[0]
            .text
            .contains("converter = DocumentConverter()\nresult"),
        "{code:?}"
    );
    // `<pre hidden>` is not shown by a browser, so it is not text of the document.
    assert!(!blocks(&doc).any(|b| b.text == "$ docling-tools"));
}

#[test]
fn html_charset_scripts_and_nav() {
    let html = b"<html><head><meta charset=\"windows-1252\"><script>var x = 'no';</script>\
        <style>p{}</style></head><body><nav><a href=\"/\">Home</a></nav><h1>Caf\xe9</h1>\
        <p>Price: 5\x80</p><ul><li>one<ul><li>two</li></ul></li></ul>\
        <img src=\"http://127.0.0.1:9/never-fetched.png\"></body></html>";
    let doc = read(html, Format::Html, &OfficeOptions::default()).expect("read");
    let texts: Vec<_> = blocks(&doc).map(|b| (b.kind, b.text.as_str())).collect();
    assert_eq!(texts[0], (BlockKind::Heading { level: 1 }, "Café"));
    assert_eq!(texts[1], (BlockKind::Paragraph, "Price: 5€"));
    assert_eq!(
        texts[2],
        (
            BlockKind::ListItem {
                ordered: false,
                level: 0
            },
            "one"
        )
    );
    assert_eq!(
        texts[3],
        (
            BlockKind::ListItem {
                ordered: false,
                level: 1
            },
            "two"
        )
    );
    assert_eq!(texts[4].0, BlockKind::Figure);
    assert!(!texts
        .iter()
        .any(|(_, t)| t.contains("Home") || t.contains("var x")));
}

#[test]
fn markdown_csv_and_text() {
    let md = b"# Title\n\nSome *text* here.\n\n1. first\n2. second\n   - nested\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode line\n```\n";
    assert_eq!(sniff(md, None), Some(Format::Markdown));
    let doc = extract(md);
    let kinds: Vec<_> = blocks(&doc).map(|b| b.kind).collect();
    assert_eq!(kinds[0], BlockKind::Heading { level: 1 });
    assert!(blocks(&doc).any(|b| b.text == "2. second"));
    assert!(blocks(&doc).any(|b| b.kind
        == BlockKind::ListItem {
            ordered: false,
            level: 1
        }
        && b.text == "nested"));
    assert_eq!(
        doc.tables().next().expect("table").1.grid(),
        vec![vec!["a", "b"], vec!["1", "2"]]
    );
    assert!(blocks(&doc).any(|b| b.kind == BlockKind::Code && b.text == "code line"));

    let csv = b"name;amount\n\"Smith; J\";3,50\nDoe;4,00\n";
    let doc = extract(csv);
    assert_eq!(doc.metadata.format, "csv");
    let (_, t) = doc.tables().next().expect("table");
    assert_eq!(
        t.grid(),
        vec![
            vec!["name", "amount"],
            vec!["Smith; J", "3,50"],
            vec!["Doe", "4,00"]
        ]
    );

    let text = "First paragraph,\nwrapped.\n\nSecond one: d\u{e9}j\u{e0} vu.\n";
    let latin1: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
    let doc = extract(&latin1);
    let paras: Vec<_> = blocks(&doc).map(|b| b.text.as_str()).collect();
    assert_eq!(
        paras,
        vec!["First paragraph, wrapped.", "Second one: déjà vu."]
    );
}

#[test]
fn flow_blocks_have_no_box_in_the_json() {
    let doc = extract(&fixture("table_06.html"));
    let json = folio_doc::render(&doc, folio_doc::Format::Json, Default::default());
    assert!(!json.contains("\"bbox\""), "{json}");
    assert!(json.contains("\"width\": 0.0"));
    let back: Document = serde_json_roundtrip(&json);
    assert_eq!(back, doc);
}

fn serde_json_roundtrip(json: &str) -> Document {
    serde_json::from_str(json).expect("valid JSON document")
}
