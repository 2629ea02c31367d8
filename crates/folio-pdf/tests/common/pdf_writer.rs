//! A minimal PDF writer for tests that need a PDF built to measure (std only, so that the
//! tests of other crates can include it with `#[path]`).
#![allow(dead_code)]

/// A PDF from its objects: `objects[i]` is object `i + 1` (the text between `obj` and
/// `endobj`), object 1 is the catalog. The cross-reference table has exact offsets, so readers
/// take the file as it is rather than repairing it.
pub fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A stream object with `dict` entries (without `/Length`) and raw `data`.
pub fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

/// A one-page PDF (a few KB) whose content never finishes in practice: the page draws a form
/// that draws the next one ten times, ten levels deep, so the innermost rectangle is drawn ten
/// billion times. A line of text comes first, so the page has content before the forms.
pub fn never_ending_page() -> Vec<u8> {
    const LEVELS: usize = 10;
    // Objects: 1 catalog, 2 pages, 3 page, 4 contents, 5 font, 6.. the forms, the last the leaf.
    let first_form = 6;
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Contents 4 0 R \
             /Resources << /Font << /F1 5 0 R >> /XObject << /X {first_form} 0 R >> >> >>"
        )
        .into_bytes(),
        stream(
            "",
            b"BT /F1 12 Tf 20 260 Td (A page that never ends) Tj ET /X Do",
        ),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    for level in 0..LEVELS {
        let next = first_form + level + 1;
        objects.push(stream(
            &format!(
                "/Type /XObject /Subtype /Form /BBox [0 0 300 300] \
                 /Resources << /XObject << /X {next} 0 R >> >>"
            ),
            "q /X Do Q ".repeat(10).as_bytes(),
        ));
    }
    objects.push(stream(
        "/Type /XObject /Subtype /Form /BBox [0 0 300 300]",
        b"0 0 1 1 re f",
    ));
    pdf(&objects)
}
