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
