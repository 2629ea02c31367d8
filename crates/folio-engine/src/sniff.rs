//! Input type detection, and the one place where an input type meets the backend that reads it.
//!
//! Detection looks at the content (magic bytes, a PDF header within the first kilobyte, the
//! objects of a PDF that lost its header, zip members and markup for the flow formats). The file
//! name only breaks ties between text formats that content cannot tell apart (Markdown or plain
//! text, CSV or text): a wrong or missing extension never changes how a PDF, an image or an
//! Office file is read.
//!
//! A new format is a new [`InputKind`], a rule in [`sniff`] and an arm in [`backend`] naming its
//! module in `crate::backends`.

use crate::backends::{self, Backend};

/// A kind of input Folio knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// PDF.
    Pdf,
    /// PNG image.
    Png,
    /// JPEG image.
    Jpeg,
    /// TIFF image (possibly several pages).
    Tiff,
    /// BMP image.
    Bmp,
    /// WebP image.
    Webp,
    /// A flow format read by `folio-office` (Office, HTML, Markdown, CSV, text).
    Flow(folio_office::Format),
}

impl InputKind {
    /// Short lowercase name, as stored in document metadata.
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Pdf => "pdf",
            InputKind::Png => "png",
            InputKind::Jpeg => "jpeg",
            InputKind::Tiff => "tiff",
            InputKind::Bmp => "bmp",
            InputKind::Webp => "webp",
            InputKind::Flow(format) => format.name(),
        }
    }

    /// Whether the input is a raster image.
    pub fn is_image(self) -> bool {
        !matches!(self, InputKind::Pdf | InputKind::Flow(_))
    }
}

/// Detects the input type from its content, with `name` (a file name) as the tie-breaker between
/// text formats.
pub fn sniff_named(bytes: &[u8], name: Option<&str>) -> Option<InputKind> {
    sniff(bytes).or_else(|| folio_office::sniff(bytes, name).map(InputKind::Flow))
}

/// Detects a PDF or an image from its content. PDF headers may sit after some junk (readers accept
/// up to 1024 bytes of it), so the start of the file is searched rather than only its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<InputKind> {
    let head = &bytes[..bytes.len().min(1024)];
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(InputKind::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(InputKind::Jpeg)
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some(InputKind::Tiff)
    } else if bytes.starts_with(b"BM") && bytes.len() > 14 {
        Some(InputKind::Bmp)
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(InputKind::Webp)
    } else if head.windows(5).any(|w| w == b"%PDF-") || looks_like_headerless_pdf(bytes) {
        Some(InputKind::Pdf)
    } else {
        None
    }
}

/// The backend that reads `kind`.
pub(crate) fn backend(kind: InputKind) -> &'static dyn Backend {
    match kind {
        InputKind::Pdf => &backends::pdf::Pdf,
        InputKind::Png | InputKind::Jpeg | InputKind::Tiff | InputKind::Bmp | InputKind::Webp => {
            &backends::image::Image
        }
        InputKind::Flow(_) => &backends::office::Office,
    }
}

/// A damaged PDF may have lost its header yet keep its objects; the reader can rebuild the
/// cross-reference table from them, so such a file is worth opening.
fn looks_like_headerless_pdf(bytes: &[u8]) -> bool {
    let window = &bytes[..bytes.len().min(64 * 1024)];
    let has = |needle: &[u8]| window.windows(needle.len()).any(|w| w == needle);
    (has(b" obj") || has(b"xref") || has(b"trailer"))
        && (has(b"endobj") || has(b"/Type") || has(b"startxref") || has(b"/Root"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(InputKind::Pdf));
        assert_eq!(sniff(b"junk\n%PDF-1.4"), Some(InputKind::Pdf));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some(InputKind::Png));
        assert_eq!(sniff(b"hello world"), None);
        assert_eq!(
            sniff(b"1 0 obj << /Type /Catalog >> endobj"),
            Some(InputKind::Pdf)
        );
        assert_eq!(sniff(b""), None);
    }
}
