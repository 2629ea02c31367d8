//! Hostile PDFs built in the test that needs them (nothing large is kept in the repository):
//! a decompression bomb and a page that never ends. Needs `flate2`; other crates' tests include
//! it with `#[path]` beside `pdf_writer.rs`.
#![allow(dead_code)]

use std::io::Write;

use super::pdf_writer::{pdf, stream};

/// A page whose `/Contents` names one Flate stream of `mib` MiB of spaces `repeats` times (the
/// stream is stored once): about 0.5 MB for 512 MiB, which decodes to `mib * repeats` MiB.
pub fn flate_bomb_pdf(mib: usize, repeats: usize) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..mib {
        z.write_all(&spaces).unwrap();
    }
    let data = z.finish().unwrap();
    let refs = vec!["5 0 R"; repeats].join(" ");
    pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
             /Resources << /Font << /F1 4 0 R >> >> /Contents [6 0 R {refs}] >>"
        )
        .into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        stream("/Filter /FlateDecode", &data),
        stream("", b"BT /F1 12 Tf 72 700 Td (Before the bomb) Tj ET"),
    ])
}

/// A page that never ends: form XObject `i` draws form `i + 1` `fanout` times, `levels` deep,
/// and the last one draws a line of text, so the page executes about `fanout^levels`
/// operators (10^10 for ten levels of ten) from a few kilobytes.
pub fn nested_forms_pdf(levels: usize, fanout: usize) -> Vec<u8> {
    // Objects: 1 catalog, 2 pages, 3 page, 4 font, 5 page content, 6.. forms.
    let form_obj = |i: usize| 6 + i;
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
             /Resources << /Font << /F1 4 0 R >> /XObject << /X0 {} 0 R >> >> /Contents 5 0 R >>",
            form_obj(0)
        )
        .into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        stream(
            "",
            b"BT /F1 12 Tf 72 700 Td (Start of an endless page) Tj ET /X0 Do",
        ),
    ];
    for i in 0..levels {
        let (resources, body) = if i + 1 < levels {
            (
                format!(
                    "/Resources << /XObject << /X{} {} 0 R >> >>",
                    i + 1,
                    form_obj(i + 1)
                ),
                format!("/X{} Do ", i + 1).repeat(fanout),
            )
        } else {
            (
                "/Resources << /Font << /F1 4 0 R >> >>".to_string(),
                "BT /F1 1 Tf 10 10 Td (x) Tj ET 0 0 m 1 1 l S".to_string(),
            )
        };
        objects.push(stream(
            &format!("/Type /XObject /Subtype /Form /BBox [0 0 612 792] {resources}"),
            body.as_bytes(),
        ));
    }
    pdf(&objects)
}
