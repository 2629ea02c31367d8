//! Hostile input: zip bombs, entity expansion, external entities, deep nesting, and a
//! deterministic fuzz loop of truncated and mutated files of every format. Each must end as a
//! document or a typed error: never a panic, a hang or unbounded memory.

use std::io::Read;

use folio_office::{read, sniff, Format, OfficeError, OfficeLimits, OfficeOptions};

mod common;
use common::{fixture, repack, zip_of};

fn docx_with(document_xml: &[u8]) -> Vec<u8> {
    zip_of(&[("word/document.xml", document_xml)])
}

const W: &str = "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"";

#[test]
fn a_generated_docx_reads() {
    let xml = format!(
        "<w:document {W}><w:body><w:p><w:r><w:t>Hello</w:t></w:r></w:p></w:body></w:document>"
    );
    let bytes = docx_with(xml.as_bytes());
    assert_eq!(sniff(&bytes, None), Some(Format::Docx));
    let doc = read(&bytes, Format::Docx, &OfficeOptions::default()).expect("read");
    assert_eq!(doc.pages[0].blocks[0].text, "Hello");
}

#[test]
fn zip_bomb_by_ratio_is_refused() {
    // 64 MiB of one repeated byte compresses about 1000:1.
    let mut xml = format!("<w:document {W}><w:body><w:p><w:r><w:t>").into_bytes();
    xml.resize(64 << 20, b' ');
    let bytes = docx_with(&xml);
    assert!(
        bytes.len() < 1 << 20,
        "the bomb is small: {} bytes",
        bytes.len()
    );
    match read(&bytes, Format::Docx, &OfficeOptions::default()) {
        Err(OfficeError::Limit { what, .. }) => assert_eq!(what, "compression ratio"),
        other => panic!("expected a ratio limit, got {other:?}"),
    }
}

#[test]
fn zip_bomb_by_total_size_is_refused() {
    let options = OfficeOptions {
        limits: OfficeLimits {
            max_uncompressed: 1 << 20,
            max_ratio: u64::MAX,
            ..OfficeLimits::default()
        },
        ..OfficeOptions::default()
    };
    let filler = vec![b'x'; 600 << 10];
    let bytes = zip_of(&[
        ("word/document.xml", b"<a/>"),
        ("word/media/a.bin", &filler),
        ("word/media/b.bin", &filler),
    ]);
    match read(&bytes, Format::Docx, &options) {
        Err(OfficeError::Limit { what, .. }) => assert_eq!(what, "declared uncompressed size"),
        other => panic!("expected a size limit, got {other:?}"),
    }
}

#[test]
fn entities_are_never_expanded_nor_resolved() {
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">\
         <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\
         <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\
         <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">]>\
         <w:document {W}><w:body><w:p><w:r><w:t>&lol4;</w:t></w:r></w:p></w:body></w:document>"
    );
    let err = read(
        &docx_with(laughs.as_bytes()),
        Format::Docx,
        &OfficeOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, OfficeError::Xml { .. }), "{err:?}");

    let external = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
         <w:document {W}><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>"
    );
    let err = read(
        &docx_with(external.as_bytes()),
        Format::Docx,
        &OfficeOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, OfficeError::Xml { .. }), "{err:?}");

    // The spreadsheet reader has its own XML parser: whatever it does, nothing is fetched.
    let xlsx = fixture("xlsx_09_section_label_header.xlsx");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&xlsx)).expect("zip");
    let mut members = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).expect("member");
        let mut data = Vec::new();
        f.read_to_end(&mut data).expect("read member");
        if f.name().ends_with("sharedStrings.xml") {
            let text = String::from_utf8(data).expect("utf-8");
            let text = text.replacen(
                "?>",
                "?><!DOCTYPE sst [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
                1,
            );
            data = text.replacen("Reading List", "&x;", 1).into_bytes();
        }
        members.push((f.name().to_string(), data));
    }
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    if let Ok(doc) = read(&zip_of(&refs), Format::Xlsx, &OfficeOptions::default()) {
        let md = folio_doc::render(&doc, folio_doc::Format::Markdown, Default::default());
        assert!(!md.contains("root:"), "{md}");
    }
}

#[test]
fn deep_nesting_is_bounded() {
    let n = 100_000;
    let html = format!("{}x{}", "<div>".repeat(n), "</div>".repeat(n));
    let err = read(html.as_bytes(), Format::Html, &OfficeOptions::default()).unwrap_err();
    assert!(matches!(err, OfficeError::Limit { .. }), "{err:?}");

    let xml = format!(
        "<w:document {W}><w:body>{}<w:p/>{}</w:body></w:document>",
        "<w:sdt><w:sdtContent>".repeat(n),
        "</w:sdtContent></w:sdt>".repeat(n)
    );
    let err = read(
        &docx_with(xml.as_bytes()),
        Format::Docx,
        &OfficeOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, OfficeError::Limit { .. }), "{err:?}");

    let md = format!("{}x\n", "> ".repeat(n));
    let _ = read(md.as_bytes(), Format::Markdown, &OfficeOptions::default());
    let md = format!("{}x\n", "- ".repeat(n));
    let _ = read(md.as_bytes(), Format::Markdown, &OfficeOptions::default());
}

#[test]
fn truncated_packages_are_clean_zip_errors() {
    for name in [
        "word_tables.docx",
        "pptx_chart.pptx",
        "xlsx_07_gap_tolerance.xlsx",
    ] {
        let bytes = fixture(name);
        let format = sniff(&bytes, None).expect("sniffed");
        let err = read(&bytes[..bytes.len() / 2], format, &OfficeOptions::default()).unwrap_err();
        assert!(
            matches!(
                err,
                OfficeError::Zip { .. } | OfficeError::Spreadsheet { .. }
            ),
            "{name}: {err:?}"
        );
    }
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for _ in 0..1 + rng.below(8) {
        if out.is_empty() {
            break;
        }
        let at = rng.below(out.len());
        match rng.below(4) {
            0 => out[at] = rng.next() as u8,
            1 => out[at] ^= 1 << rng.below(8),
            2 => {
                out.remove(at);
            }
            _ => out.insert(at, b"<>&\"'\0\xff9"[rng.below(8)]),
        }
    }
    out
}

/// Each member of a zip mutated after decompression, then zipped again: this reaches the XML
/// readers, which mutating the compressed bytes rarely does.
fn mutate_members(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    repack(bytes, |name, data| {
        if name.ends_with(".xml") && rng.below(3) == 0 {
            mutate(&data, rng)
        } else {
            data
        }
    })
}

fn try_all(bytes: &[u8], format: Format) {
    let options = OfficeOptions {
        notes: true,
        hidden_sheets: true,
        ..OfficeOptions::default()
    };
    let _ = read(bytes, format, &options);
    if let Some(sniffed) = sniff(bytes, None) {
        let _ = read(bytes, sniffed, &options);
    }
}

#[test]
fn truncated_and_mutated_files_never_panic() {
    let mut inputs: Vec<(Vec<u8>, Format)> = Vec::new();
    for name in [
        "word_tables.docx",
        "docx_lists.docx",
        "equations.docx",
        "pptx_chart.pptx",
        "powerpoint_comments.pptx",
        "xlsx_07_gap_tolerance.xlsx",
        "xlsx_09_section_label_header.xlsx",
        "example_08.html",
        "table_06.html",
    ] {
        let bytes = fixture(name);
        let format = sniff(&bytes, None).expect("sniffed");
        inputs.push((bytes, format));
    }
    inputs.push((
        b"# T\n\n- a\n  - b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n```\nc\n```\n".to_vec(),
        Format::Markdown,
    ));
    inputs.push((b"a,b,c\n1,\"2,x\",3\n4,5,6\n".to_vec(), Format::Csv));
    inputs.push((
        "Plain text.\n\nd\u{e9}j\u{e0}\n".as_bytes().to_vec(),
        Format::Text,
    ));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut runs = 0;
    for (bytes, format) in &inputs {
        for k in 1..=16 {
            try_all(&bytes[..bytes.len() * k / 17], *format);
            runs += 1;
        }
        for _ in 0..120 {
            try_all(&mutate(bytes, &mut rng), *format);
            runs += 1;
        }
        if bytes.starts_with(b"PK") {
            for _ in 0..60 {
                try_all(&mutate_members(bytes, &mut rng), *format);
                runs += 1;
            }
        }
    }
    assert!(runs > 1500, "{runs} runs");
}
