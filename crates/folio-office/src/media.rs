//! Figure pictures from the file itself (`OfficeOptions::images`): the media a DOCX or PPTX
//! drawing embeds, or an HTML `data:` URI. PNG and JPEG keep their own bytes; GIF, BMP, TIFF and
//! WebP are decoded (within a pixel bound) and written as PNG; anything else (EMF, WMF, SVG) and
//! linked pictures (never fetched) leave the figure without a picture and say so.

use std::collections::HashMap;
use std::io::Cursor;

use folio_doc::{Document, Image, WarningKind};

use crate::OfficeError;

/// Most pixels of a picture decoded to be re-encoded as PNG (GIF, BMP, TIFF, WebP); the bytes
/// kept are bounded by `OfficeLimits::max_image_bytes`.
const MAX_DECODE_PIXELS: u64 = 40_000_000;

/// Pictures kept from one file, however small (as the engine's `MAX_FIGURE_IMAGES` for pages).
pub(crate) const MAX_PICTURES: usize = 1_000;

/// Where a figure's picture is.
#[derive(Debug, Clone)]
pub(crate) enum FigureSource {
    /// A member of the zip package (resolved from the drawing's relationship).
    Member(String),
    /// Bytes found in the document itself (an HTML `data:` URI, decoded).
    Bytes(Vec<u8>),
    /// A link outside the document (a linked picture, an `http:` source): never fetched.
    External,
    /// A picture left out before it was read, and why.
    Refused(String),
}

/// A figure waiting for its picture: its page number, its index on that page, and the source.
pub(crate) type Pending = (u32, usize, FigureSource);

/// Gives each pending figure its picture, in document order, within `max_bytes` in all;
/// `read` fetches a package member (under the package's own decompression budget). What is
/// left out is one `image_skipped` warning per reason.
pub(crate) fn attach(
    doc: &mut Document,
    pending: Vec<Pending>,
    max_bytes: u64,
    mut read: impl FnMut(&str) -> Result<Option<Vec<u8>>, OfficeError>,
) -> Result<(), OfficeError> {
    let mut left = max_bytes;
    // (reason, count), in the order first met.
    let mut skipped: Vec<(String, usize)> = Vec::new();
    let mut skip = |why: String| match skipped.iter_mut().find(|(w, _)| *w == why) {
        Some((_, n)) => *n += 1,
        None => skipped.push((why, 1)),
    };
    // A picture shown many times is one member, read once (each read spends the package's
    // decompression budget).
    let mut members: HashMap<String, Option<Vec<u8>>> = HashMap::new();
    let mut kept = 0usize;
    for (page, index, source) in pending {
        if kept == MAX_PICTURES {
            skip(format!(
                "the document has more than {MAX_PICTURES} figures with pictures"
            ));
            continue;
        }
        if left == 0 {
            skip(format!(
                "the document's pictures are over the budget of {max_bytes} bytes"
            ));
            continue;
        }
        let bytes = match source {
            FigureSource::Member(name) => {
                if !members.contains_key(&name) {
                    // A picture that cannot be read costs the figure its picture, not the
                    // document its text.
                    let got = match read(&name) {
                        Ok(got) => got,
                        Err(e) => {
                            skip(format!("its part cannot be read: {e}"));
                            members.insert(name, None);
                            continue;
                        }
                    };
                    members.insert(name.clone(), got);
                }
                match members.get(&name).cloned().flatten() {
                    Some(bytes) => bytes,
                    None => {
                        skip("its part is missing from the package".to_string());
                        continue;
                    }
                }
            }
            FigureSource::Bytes(bytes) => bytes,
            FigureSource::External => {
                skip("it is linked from outside the document, and never fetched".to_string());
                continue;
            }
            FigureSource::Refused(why) => {
                skip(why);
                continue;
            }
        };
        let image = match picture(bytes) {
            Ok(image) => image,
            Err(why) => {
                skip(why);
                continue;
            }
        };
        let len = image.data.as_ref().map_or(0, |d| d.len() as u64);
        if len > left {
            skip(format!(
                "the document's pictures are over the budget of {max_bytes} bytes"
            ));
            continue;
        }
        left -= len;
        if let Some(block) = doc
            .pages
            .iter_mut()
            .find(|p| p.number == page)
            .and_then(|p| p.blocks.get_mut(index))
        {
            block.image = Some(Box::new(image));
            kept += 1;
        }
    }
    for (why, count) in skipped {
        let what = if count == 1 {
            "1 figure's picture".to_string()
        } else {
            format!("{count} figures' pictures")
        };
        doc.warn(
            WarningKind::ImageSkipped,
            None,
            format!("{what} left out: {why}"),
        );
    }
    Ok(())
}

/// The picture as PNG or JPEG with its size, or why it cannot be one.
fn picture(bytes: Vec<u8>) -> Result<Image, String> {
    let format = image::guess_format(&bytes)
        .map_err(|_| "its format is not one Folio can write (EMF, WMF, SVG...)".to_string())?;
    let reader = || image::ImageReader::with_format(Cursor::new(bytes.as_slice()), format);
    let (width, height) = reader()
        .into_dimensions()
        .map_err(|e| format!("it cannot be read: {e}"))?;
    let mime = match format {
        image::ImageFormat::Png => "image/png",
        image::ImageFormat::Jpeg => "image/jpeg",
        _ => {
            if u64::from(width) * u64::from(height) > MAX_DECODE_PIXELS {
                return Err(format!(
                    "it is {width}x{height} pixels, over {MAX_DECODE_PIXELS} to convert"
                ));
            }
            let mut r = reader();
            let mut limits = image::Limits::default();
            limits.max_alloc = Some(MAX_DECODE_PIXELS * 4);
            r.limits(limits);
            let decoded = r
                .decode()
                .map_err(|e| format!("it cannot be decoded: {e}"))?;
            let mut png = Vec::new();
            decoded
                .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
                .map_err(|e| format!("it cannot be written as PNG: {e}"))?;
            return Ok(Image {
                path: None,
                data: Some(png),
                mime: "image/png".to_string(),
                width,
                height,
            });
        }
    };
    Ok(Image {
        path: None,
        data: Some(bytes),
        mime: mime.to_string(),
        width,
        height,
    })
}

/// The bytes of an `image/*` `data:` URI (base64 or percent-encoded), or `None` for any other
/// source. The URI is at most `max_bytes` long, so decoding is bounded by the caller.
pub(crate) fn data_uri(src: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let rest = src.trim().strip_prefix("data:")?;
    let (meta, payload) = rest.split_once(',')?;
    if !meta.to_ascii_lowercase().starts_with("image/") {
        return None;
    }
    if meta.to_ascii_lowercase().ends_with(";base64") {
        let clean: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(clean.as_bytes())
            .ok()
    } else {
        Some(percent_decode(payload))
    }
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_uris_decode_and_other_sources_do_not() {
        assert_eq!(
            data_uri("data:image/png;base64,iVBO Rw=="),
            Some(vec![0x89, b'P', b'N', b'G'])
        );
        assert_eq!(
            data_uri("data:image/svg+xml,%3Csvg%3E"),
            Some(b"<svg>".to_vec())
        );
        assert_eq!(data_uri("data:text/html;base64,PGI+"), None);
        assert_eq!(data_uri("https://example.invalid/a.png"), None);
    }

    #[test]
    fn unknown_formats_are_refused_and_other_rasters_become_png() {
        let why = picture(b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec()).unwrap_err();
        assert!(why.contains("format"), "{why}");
        // A 2x1 BMP becomes a PNG of the same size.
        let mut bmp = Vec::new();
        image::RgbImage::from_raw(2, 1, vec![255, 0, 0, 0, 0, 255])
            .unwrap()
            .write_to(&mut Cursor::new(&mut bmp), image::ImageFormat::Bmp)
            .unwrap();
        let img = picture(bmp).unwrap();
        assert_eq!(
            (img.mime.as_str(), img.width, img.height),
            ("image/png", 2, 1)
        );
        assert!(img.data.unwrap().starts_with(b"\x89PNG"));
    }
}
