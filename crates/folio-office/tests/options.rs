//! The reading options (speaker notes, hidden sheets), hyperlinks in the document model, and
//! the cancel flag and deadline every reader honours in its long loops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_doc::{render, Block, Document, Format as Out, Link, RenderOptions};
use folio_office::{read, sniff, Format, OfficeError, OfficeOptions};

mod common;
use common::{blocks, fixture, repack, zip_of};

fn read_with(bytes: &[u8], options: &OfficeOptions) -> Result<Document, OfficeError> {
    let format = sniff(bytes, None).expect("sniffed");
    read(bytes, format, options)
}

fn links(doc: &Document) -> Vec<(String, String)> {
    blocks(doc)
        .flat_map(|b| b.links.iter())
        .map(|Link { text, url }| (text.clone(), url.clone()))
        .collect()
}

fn pair(text: &str, url: &str) -> (String, String) {
    (text.to_string(), url.to_string())
}

#[test]
fn speaker_notes_only_when_asked() {
    let bytes = fixture("speaker_notes.pptx");
    let plain = read_with(&bytes, &OfficeOptions::default()).expect("read");
    assert!(!blocks(&plain).any(|b| b.text.contains("Speaker note")));
    let with = read_with(
        &bytes,
        &OfficeOptions {
            notes: true,
            ..OfficeOptions::default()
        },
    )
    .expect("read");
    // Each slide's notes on its own page, after its content.
    for (page, n) in with.pages.iter().zip(1..) {
        let last = page.blocks.last().expect("blocks");
        assert_eq!(last.text, format!("Speaker note {n}: mention the budget."));
    }
}

#[test]
fn hidden_sheets_only_when_asked() {
    let bytes = fixture("hidden_sheet.xlsx");
    let plain = read_with(&bytes, &OfficeOptions::default()).expect("read");
    assert_eq!(plain.pages.len(), 1);
    assert!(!blocks(&plain).any(|b| b.text.contains("Discount")));
    let with = read_with(
        &bytes,
        &OfficeOptions {
            hidden_sheets: true,
            ..OfficeOptions::default()
        },
    )
    .expect("read");
    assert_eq!(with.pages.len(), 2);
    assert_eq!(with.pages[1].blocks[0].text, "Workings");
    let (_, t) = with.tables().nth(1).expect("the hidden sheet's table");
    assert_eq!(t.grid()[1], vec!["Discount", "0.15"]);
}

#[test]
fn pptx_links_keep_external_targets_and_drop_scripts() {
    let doc = read_with(&fixture("speaker_notes.pptx"), &OfficeOptions::default()).expect("read");
    assert_eq!(
        links(&doc),
        vec![pair(
            "the project site",
            "https://example.org/folio/figures"
        )]
    );
    let block = blocks(&doc)
        .find(|b| !b.links.is_empty())
        .expect("a linked block");
    assert_eq!(block.text, "Figures are on the project site and nowhere");
}

const W: &str = "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" \
                 xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"";

fn docx(body: &str, rels: &str) -> Vec<u8> {
    let document = format!("<w:document {W}><w:body>{body}</w:body></w:document>");
    let rels = format!(
        "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         {rels}</Relationships>"
    );
    zip_of(&[
        ("word/document.xml", document.as_bytes()),
        ("word/_rels/document.xml.rels", rels.as_bytes()),
    ])
}

fn hyperlink_rel(id: &str, target: &str) -> String {
    format!(
        "<Relationship Id=\"{id}\" Type=\"http://schemas.openxmlformats.org/officeDocument/\
         2006/relationships/hyperlink\" Target=\"{target}\" TargetMode=\"External\"/>"
    )
}

#[test]
fn docx_hyperlinks_fields_and_anchors() {
    let run = |t: &str| format!("<w:r><w:t xml:space=\"preserve\">{t}</w:t></w:r>");
    let body = [
        // An external relationship, a bookmark, a script URL.
        format!(
            "<w:p>{}<w:hyperlink r:id=\"rId1\">{}{}</w:hyperlink>{}\
             <w:hyperlink w:anchor=\"budget\">{}</w:hyperlink>{}\
             <w:hyperlink r:id=\"rId2\">{}</w:hyperlink></w:p>",
            run("See "),
            run("the "),
            run("report"),
            run(", "),
            run("the budget"),
            run(" and "),
            run("this")
        ),
        // A simple field and a complex one.
        format!(
            "<w:p><w:fldSimple w:instr=\" HYPERLINK &quot;https://example.org/simple&quot; \">{}\
             </w:fldSimple>{}<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>\
             <w:r><w:instrText xml:space=\"preserve\"> HYPERLINK \\l &quot;intro&quot; </w:instrText></w:r>\
             <w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>{}\
             <w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>",
            run("simple"),
            run(" and "),
            run("complex")
        ),
        // A link in a table cell belongs to the table's block.
        format!(
            "<w:tbl><w:tr><w:tc><w:p>{}</w:p></w:tc><w:tc><w:p>\
             <w:hyperlink r:id=\"rId1\">{}</w:hyperlink></w:p></w:tc></w:tr>\
             <w:tr><w:tc><w:p>{}</w:p></w:tc><w:tc><w:p>{}</w:p></w:tc></w:tr></w:tbl>",
            run("Source"),
            run("report"),
            run("a"),
            run("b")
        ),
    ]
    .concat();
    let rels = hyperlink_rel("rId1", "https://example.org/report")
        + &hyperlink_rel("rId2", "javascript:alert(1)");
    let doc = read_with(&docx(&body, &rels), &OfficeOptions::default()).expect("read");
    let paragraphs: Vec<&Block> = blocks(&doc).collect();
    assert_eq!(paragraphs[0].text, "See the report, the budget and this");
    assert_eq!(
        paragraphs[0]
            .links
            .iter()
            .map(|l| (l.text.clone(), l.url.clone()))
            .collect::<Vec<_>>(),
        vec![
            pair("the report", "https://example.org/report"),
            pair("the budget", "#budget"),
        ]
    );
    assert_eq!(paragraphs[1].text, "simple and complex");
    assert_eq!(
        paragraphs[1]
            .links
            .iter()
            .map(|l| (l.text.clone(), l.url.clone()))
            .collect::<Vec<_>>(),
        vec![
            pair("simple", "https://example.org/simple"),
            pair("complex", "#intro"),
        ]
    );
    assert!(paragraphs[2].table.is_some());
    assert_eq!(
        paragraphs[2].links,
        vec![Link {
            text: "report".into(),
            url: "https://example.org/report".into()
        }]
    );
    // Markdown stays as it was: text only, no link syntax.
    let md = render(&doc, Out::Markdown, RenderOptions::default());
    assert!(md.contains("See the report, the budget and this"), "{md}");
    assert!(!md.contains("example.org") && !md.contains("]("), "{md}");
    // The JSON carries them.
    let json = render(&doc, Out::Json, RenderOptions::default());
    assert!(json.contains("\"url\": \"#budget\""), "{json}");
}

#[test]
fn html_links_in_text_headings_and_cells() {
    let html = br#"<html><body>
        <h2>About <a href="/about">us</a></h2>
        <p>Read <a href="https://example.org/a">the <b>guide</b></a>, not
           <a href=" javascript:alert(1)">this</a> or <a href="data:text/html,x">that</a>;
           <a href="mailto:team@example.org">write</a>. <a name="here">An anchor</a>.</p>
        <table><tr><th>Name</th><th>Site</th></tr>
               <tr><td>Folio</td><td><a href="https://example.org/folio">home</a></td></tr></table>
        </body></html>"#;
    let doc = read(html, Format::Html, &OfficeOptions::default()).expect("read");
    assert_eq!(
        links(&doc),
        vec![
            pair("us", "/about"),
            pair("the guide", "https://example.org/a"),
            pair("write", "mailto:team@example.org"),
            pair("home", "https://example.org/folio"),
        ]
    );
    let md = render(&doc, Out::Markdown, RenderOptions::default());
    assert!(
        md.contains("Read the guide, not this or that; write."),
        "{md}"
    );
    assert!(!md.contains("]("), "{md}");
}

/// A workbook whose first sheet holds `rows` rows of 15 numbers: long enough to read that a
/// deadline or a cancel flag can stop it midway.
fn big_xlsx(rows: usize) -> Vec<u8> {
    let cells = (1..=rows).flat_map(|r| (0..15).map(move |c| (r, c)));
    xlsx_with_cells(cells)
}

/// The column letters of a 0-based column (A, B, ..., Z, AA, ...).
fn column(mut c: usize) -> String {
    let mut out = Vec::new();
    c += 1;
    while c > 0 {
        out.push(b'A' + ((c - 1) % 26) as u8);
        c = (c - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

/// A workbook whose first sheet holds a number at each `(row, col)` (1-based rows, 0-based
/// columns, row-major order).
fn xlsx_with_cells(cells: impl Iterator<Item = (usize, usize)>) -> Vec<u8> {
    let mut sheet = String::from(
        "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>",
    );
    let mut row = 0;
    for (r, c) in cells {
        if r != row {
            if row != 0 {
                sheet.push_str("</row>");
            }
            sheet.push_str(&format!("<row r=\"{r}\">"));
            row = r;
        }
        sheet.push_str(&format!("<c r=\"{}{r}\"><v>{}</v></c>", column(c), r * c));
    }
    if row != 0 {
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    repack(&fixture("hidden_sheet.xlsx"), |name, data| {
        if name == "xl/worksheets/sheet1.xml" {
            sheet.clone().into_bytes()
        } else {
            data
        }
    })
}

/// A DOCX of `n` paragraphs.
fn big_docx(n: usize) -> Vec<u8> {
    let body: String = (0..n)
        .map(|i| format!("<w:p><w:r><w:t>Paragraph {i} of a long report.</w:t></w:r></w:p>"))
        .collect();
    docx(&body, "")
}

/// Reads `bytes` once to time it, then with a deadline a fifth of that time away, then with a
/// cancel flag set after that long from another thread: both must stop midway with their
/// typed error (the first check, before any work, passes: only the loops can stop them).
fn stops_midway(bytes: &[u8]) {
    let started = Instant::now();
    read_with(bytes, &OfficeOptions::default()).expect("a full read");
    let full = started.elapsed();
    let budget = full / 5;

    let started = Instant::now();
    let options = OfficeOptions {
        deadline: Some(started + budget),
        ..OfficeOptions::default()
    };
    let e = read_with(bytes, &options).expect_err("past the deadline");
    assert!(matches!(e, OfficeError::TimedOut { .. }), "{e}");
    assert!(e.to_string().contains("time limit"), "{e}");

    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let setter = std::thread::spawn(move || {
        std::thread::sleep(budget);
        flag.store(true, Ordering::Relaxed);
    });
    let options = OfficeOptions {
        cancel: Some(cancel),
        ..OfficeOptions::default()
    };
    let e = read_with(bytes, &options).expect_err("cancelled");
    assert!(matches!(e, OfficeError::Cancelled { .. }), "{e}");
    setter.join().expect("setter");
}

#[test]
fn a_large_workbook_stops_at_its_deadline_or_when_cancelled() {
    stops_midway(&big_xlsx(10_000));
}

#[test]
fn a_large_docx_stops_at_its_deadline_or_when_cancelled() {
    stops_midway(&big_docx(20_000));
}

#[test]
fn a_deadline_already_past_stops_every_format_before_any_work() {
    let options = OfficeOptions {
        deadline: Some(Instant::now() - Duration::from_millis(1)),
        ..OfficeOptions::default()
    };
    for (bytes, format) in [
        (fixture("speaker_notes.pptx"), Format::Pptx),
        (b"<p>x</p>".to_vec(), Format::Html),
        (b"# x".to_vec(), Format::Markdown),
        (b"a,b\n1,2\n".to_vec(), Format::Csv),
        (b"x".to_vec(), Format::Text),
    ] {
        let e = read(&bytes, format, &options).expect_err("past the deadline");
        assert!(matches!(e, OfficeError::TimedOut { .. }), "{format}: {e}");
    }
}

#[test]
fn many_lone_cells_read_in_linear_time() {
    // 40,000 cells with an empty row and column between any two: 40,000 regions. Each region
    // once scanned every cell of the sheet (10,000 such cells took 6 s in a debug build, these
    // would take minutes); read row by row from the sorted cells they take about a second.
    let bytes = xlsx_with_cells(
        (1..=400)
            .step_by(2)
            .flat_map(|r| (0..400).step_by(2).map(move |c| (r, c))),
    );
    let options = OfficeOptions {
        deadline: Some(Instant::now() + Duration::from_secs(30)),
        ..OfficeOptions::default()
    };
    let doc = read_with(&bytes, &options).expect("read well within the deadline");
    let paragraphs = blocks(&doc)
        .filter(|b| b.kind == folio_doc::BlockKind::Paragraph)
        .count();
    assert_eq!(paragraphs, 40_000);
}
