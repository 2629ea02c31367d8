//! CSV and TSV: the delimiter is sniffed, the rows become one table.

use folio_doc::Document;

use crate::build::{DocBuilder, TableBuilder};
use crate::{OfficeError, OfficeOptions};

// Tab first: on a tie it wins, as tabs rarely occur inside text and commas often do.
const CANDIDATES: [u8; 4] = [b'\t', b',', b';', b'|'];

/// The delimiter that splits the first lines into the same number (at least 2) of fields,
/// preferring the one giving most fields; `None` when no candidate is consistent.
pub(crate) fn sniff_delimiter(text: &str) -> Option<u8> {
    let sample: String = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect::<Vec<_>>()
        .join("\n");
    let mut best: Option<(usize, u8)> = None;
    for d in CANDIDATES {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(d)
            .has_headers(false)
            .flexible(true)
            .from_reader(sample.as_bytes());
        let counts: Vec<usize> = reader
            .records()
            .map_while(Result::ok)
            .map(|r| r.len())
            .collect();
        let Some(&first) = counts.first() else {
            continue;
        };
        if counts.len() < 2 || first < 2 || counts.iter().any(|&c| c != first) {
            continue;
        }
        if best.is_none_or(|(n, _)| first > n) {
            best = Some((first, d));
        }
    }
    best.map(|(_, d)| d)
}

/// One page holding the whole file as a table; the first row is taken as the header.
pub(crate) fn read(bytes: &[u8], options: &OfficeOptions) -> Result<Document, OfficeError> {
    let text = crate::text::decode(bytes)?;
    let delimiter = sniff_delimiter(&text).unwrap_or(b',');
    let format = if delimiter == b'\t' { "tsv" } else { "csv" };
    let mut b = DocBuilder::new(
        format,
        options.filename.as_deref(),
        "delimited text: no page geometry",
    );
    b.start_page(0.0, 0.0);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let max = options.limits.max_cells_per_sheet;
    let mut table = TableBuilder::new(max as usize);
    let mut count: u64 = 0;
    for (i, record) in reader.records().enumerate() {
        if i.is_multiple_of(64) {
            options.check(format)?;
        }
        let record = record.map_err(|source| OfficeError::Csv { format, source })?;
        table.start_row();
        for field in record.iter() {
            count += 1;
            if count > max {
                return Err(OfficeError::limit(format, "cells", count, max));
            }
            table.cell(field.trim().to_string(), 1, 1, i == 0);
        }
    }
    b.push_table(table.finish(), folio_doc::BBox::default());
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_sniffed_with_quotes() {
        assert_eq!(sniff_delimiter("a;b;c\n1;\"2;x\";3\n"), Some(b';'));
        assert_eq!(sniff_delimiter("a,b\n1,2\n"), Some(b','));
        assert_eq!(sniff_delimiter("a\tb, c\n1\t2, 3\n"), Some(b'\t'));
        assert_eq!(sniff_delimiter("hello, world\nno commas here\n"), None);
    }
}
