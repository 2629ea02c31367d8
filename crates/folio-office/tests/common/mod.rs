//! What the reader tests share: fixtures from `tests/fixtures/office`, packages built in memory,
//! and a document's blocks in order.

// Each test file uses its own share of these.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

use folio_doc::{Block, Document};

/// The bytes of `tests/fixtures/office/NAME`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/office")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A zip package of `members` (name, bytes), deflated, with zip64 sizes allowed (so that a
/// bomb's member can claim more than 4 GiB).
pub fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, data) in members {
        w.start_file(*name, opts).expect("start member");
        w.write_all(data).expect("write member");
    }
    w.finish().expect("finish zip").into_inner()
}

/// Every block of `doc`, page by page.
pub fn blocks(doc: &Document) -> impl Iterator<Item = &Block> {
    doc.pages.iter().flat_map(|p| p.blocks.iter())
}

/// The zip package `bytes` with each member's (decompressed) bytes replaced by what
/// `change(name, bytes)` returns, zipped again with [`zip_of`].
pub fn repack(bytes: &[u8], mut change: impl FnMut(&str, Vec<u8>) -> Vec<u8>) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut members = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).expect("member");
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut data).expect("read member");
        let name = f.name().to_string();
        let data = change(&name, data);
        members.push((name, data));
    }
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    zip_of(&refs)
}
