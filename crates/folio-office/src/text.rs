//! Plain text: encoding detection and paragraphs.

use encoding_rs::Encoding;
use folio_doc::{BlockKind, Document};

use crate::build::DocBuilder;
use crate::{OfficeError, OfficeOptions};

/// Decodes text of unknown encoding: a byte-order mark decides, then valid UTF-8, then the
/// most likely legacy encoding (`chardetng`). Binary data (NULs, control bytes) is refused.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, OfficeError> {
    decode_with(bytes, None)
}

/// Like [`decode`], with an encoding the document declared (an HTML `charset`) tried after the
/// byte-order mark.
pub(crate) fn decode_with(
    bytes: &[u8],
    declared: Option<&'static Encoding>,
) -> Result<String, OfficeError> {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Ok(text.into_owned());
    }
    if looks_binary(bytes) {
        return Err(OfficeError::Binary { format: "text" });
    }
    if let Some(enc) = declared {
        // A page that says windows-1252 but is valid UTF-8 is (almost always) UTF-8.
        if enc != encoding_rs::UTF_8 && std::str::from_utf8(bytes).is_err() {
            let (text, _) = enc.decode_without_bom_handling(bytes);
            return Ok(text.into_owned());
        }
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let enc = detector.guess(None, chardetng::Utf8Detection::Allow);
    let (text, _) = enc.decode_without_bom_handling(bytes);
    Ok(text.into_owned())
}

/// NUL bytes or many C0 control bytes in the first 8 KiB mean binary, not text.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return true;
    }
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    controls * 100 > head.len().max(1)
}

/// Plain text: blank lines separate paragraphs; the lines of a paragraph are joined.
pub(crate) fn read(bytes: &[u8], options: &OfficeOptions) -> Result<Document, OfficeError> {
    let text = decode(bytes)?;
    let mut b = DocBuilder::new(
        "text",
        options.filename.as_deref(),
        "plain text: no page geometry",
    );
    b.start_page(0.0, 0.0);
    let mut para: Vec<&str> = Vec::new();
    for (i, line) in text.lines().chain(std::iter::once("")).enumerate() {
        if i.is_multiple_of(256) {
            options.check("text")?;
        }
        if line.trim().is_empty() {
            if !para.is_empty() {
                b.push(BlockKind::Paragraph, &folio_doc::join_lines(para.drain(..)));
            }
        } else {
            para.push(line);
        }
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_detected() {
        assert_eq!(decode("héllo".as_bytes()).unwrap(), "héllo");
        // UTF-16 with its BOM.
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("hé".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16).unwrap(), "hé");
        // Latin-1 text that is not UTF-8.
        let latin = b"Caf\xe9 cr\xe8me br\xfbl\xe9e, tr\xe8s d\xe9licieuse";
        assert!(decode(latin).unwrap().contains("Café crème"));
        assert!(decode(&[0x00, 0x01, 0x02, 0x03]).is_err());
    }
}
