//! Telling the formats apart by content: zip member names, OLE streams, markup, delimiters.

use std::io::Cursor;

use crate::Format;

/// Decides the format of `bytes` from their content; `name` (a file name) only breaks ties
/// between text formats that content cannot tell apart (Markdown or plain text, CSV or text).
/// `None` for content none of the readers takes (PDF and images are the engine's business).
pub fn sniff(bytes: &[u8], name: Option<&str>) -> Option<Format> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return sniff_zip(bytes);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // An OLE compound file: a legacy workbook has a "Workbook" (or "Book") stream, named
        // in UTF-16 in the directory. Legacy .doc/.ppt are not read.
        let wide = |s: &str| {
            s.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>()
        };
        let has = |s: &str| {
            let w = wide(s);
            bytes.windows(w.len()).any(|win| win == w.as_slice())
        };
        return (has("Workbook") || has("Book")).then_some(Format::Xls);
    }
    let ext = name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    let text = crate::text::decode(bytes).ok()?;
    sniff_text(&text, ext.as_deref())
}

fn sniff_zip(bytes: &[u8]) -> Option<Format> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    for n in zip.file_names() {
        match n.trim_start_matches('/').to_ascii_lowercase().as_str() {
            "word/document.xml" => return Some(Format::Docx),
            "ppt/presentation.xml" => return Some(Format::Pptx),
            "xl/workbook.xml" => return Some(Format::Xlsx),
            _ => {}
        }
    }
    // OpenDocument: a `mimetype` member names the kind; only spreadsheets are read.
    let mut file = zip.by_name("mimetype").ok()?;
    let mut head = [0u8; 64];
    let n = std::io::Read::read(&mut file, &mut head).ok()?;
    head[..n]
        .starts_with(b"application/vnd.oasis.opendocument.spreadsheet")
        .then_some(Format::Ods)
}

fn sniff_text(text: &str, ext: Option<&str>) -> Option<Format> {
    let head: String = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(4096)
        .collect::<String>()
        .to_ascii_lowercase();
    if looks_like_html(&head) {
        return Some(Format::Html);
    }
    match ext {
        Some("md" | "markdown" | "mdown" | "mkd") => return Some(Format::Markdown),
        Some("txt" | "text" | "log") => return Some(Format::Text),
        Some("csv") if crate::csv::sniff_delimiter(text).is_some() => return Some(Format::Csv),
        Some("tsv" | "tab") => return Some(Format::Csv),
        _ => {}
    }
    if crate::csv::sniff_delimiter(text).is_some() {
        return Some(Format::Csv);
    }
    if looks_like_markdown(text) {
        return Some(Format::Markdown);
    }
    Some(Format::Text)
}

fn looks_like_html(head: &str) -> bool {
    let head = head
        .trim_start_matches("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
        .trim_start();
    head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || head.starts_with("<head")
        || head.starts_with("<body")
        || (head.starts_with('<')
            && [
                "<html", "<body", "<div", "<p>", "<p ", "<table", "<h1", "<h2", "<ul", "<span",
            ]
            .iter()
            .any(|t| head.contains(t)))
}

/// Markdown when enough lines use block syntax: ATX headings, list markers, fences, links.
fn looks_like_markdown(text: &str) -> bool {
    let mut score = 0usize;
    let mut lines = 0usize;
    for line in text.lines().take(400) {
        lines += 1;
        let t = line.trim_start();
        let heading =
            t.starts_with('#') && t.trim_start_matches('#').starts_with(' ') && t.len() > 2;
        if heading || t.starts_with("```") || t.starts_with("- [") {
            score += 3;
        } else if t.starts_with("- ") || t.starts_with("* ") || t.starts_with("> ") {
            score += 1;
        }
        if t.contains("](") || t.contains("**") {
            score += 1;
        }
    }
    lines > 0 && score >= 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_kinds_are_told_apart_by_content() {
        assert_eq!(sniff(b"<!DOCTYPE html><p>x</p>", None), Some(Format::Html));
        assert_eq!(
            sniff(b"  <div><p>x</p></div>", Some("a.txt")),
            Some(Format::Html)
        );
        assert_eq!(
            sniff(b"# Title\n\nSome *text*.\n", None),
            Some(Format::Markdown)
        );
        assert_eq!(sniff(b"a,b,c\n1,2,3\n4,5,6\n", None), Some(Format::Csv));
        assert_eq!(sniff(b"a\tb\n1\t2\n", None), Some(Format::Csv));
        assert_eq!(
            sniff(b"Just a note.\nTwo lines.\n", None),
            Some(Format::Text)
        );
        assert_eq!(
            sniff(b"Just a note.\n", Some("notes.md")),
            Some(Format::Markdown)
        );
        assert_eq!(sniff(&[0, 159, 146, 150, 0, 0, 1, 2, 3, 0, 0], None), None);
    }
}
