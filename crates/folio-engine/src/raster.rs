//! Image inputs: decoding under limits, one page per image (a TIFF may hold several).
//!
//! Dimensions are read from the header and checked against the pixel limit and the side limit
//! before any pixel is decoded, so a small file that claims a huge image (a decompression bomb,
//! or a 39,000,000 x 1 strip that passes any pixel count) is refused without allocating for it.

use std::io::Cursor;

use folio_vision::RgbImage;
use image::ImageDecoder;

use crate::error::ReadError;
use crate::{ExtractError, InputKind};

/// TIFF pages are counted up to this many, whatever the page limit, so that the count (and the
/// error for a document over the limit) is the real one: multi-page scans are far below it, and
/// a chain of tiny page headers cannot keep the count going for long.
const MAX_TIFF_PAGES: u32 = 100_000;

/// Longest side accepted, in pixels, whatever the pixel count: an A0 sheet scanned at 600 dpi
/// is 28,087 pixels high, and a strip far longer than that is no page but a way to make every
/// later stage (scaling, detection, line recognition) work on a degenerate shape.
pub const MAX_IMAGE_SIDE: u32 = 32_768;

/// A decoded-on-demand image document.
pub(crate) struct ImageSource<'a> {
    bytes: &'a [u8],
    kind: InputKind,
    pages: u32,
}

fn unreadable(
    kind: InputKind,
    e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> ExtractError {
    ExtractError::Unreadable(ReadError::Image {
        format: kind.name(),
        source: e.into(),
    })
}

impl<'a> ImageSource<'a> {
    /// Opens an image input and counts its pages (without decoding them).
    pub(crate) fn open(bytes: &'a [u8], kind: InputKind) -> Result<ImageSource<'a>, ExtractError> {
        let pages = match kind {
            InputKind::Tiff => count_tiff_pages(bytes)?,
            _ => 1,
        };
        Ok(ImageSource { bytes, kind, pages })
    }

    /// An input already opened (and counted) once, to decode one of its pages.
    pub(crate) fn reopen(bytes: &'a [u8], kind: InputKind, pages: u32) -> ImageSource<'a> {
        ImageSource { bytes, kind, pages }
    }

    /// Pages in the input.
    pub(crate) fn page_count(&self) -> u32 {
        self.pages
    }

    /// Whether the input can hold several pages (a TIFF).
    pub(crate) fn is_multi_page(&self) -> bool {
        self.kind == InputKind::Tiff
    }

    /// Checks page `index`'s dimensions from its header alone.
    pub(crate) fn check_page(&self, index: u32, max_pixels: u64) -> Result<(), ExtractError> {
        let (w, h) = match self.kind {
            InputKind::Tiff => {
                let mut dec = tiff_decoder(self.bytes)?;
                dec.seek_to_image(index as usize)
                    .map_err(|e| unreadable(self.kind, e))?;
                dec.dimensions().map_err(|e| unreadable(self.kind, e))?
            }
            kind => single_decoder(self.bytes, kind, max_pixels)?.dimensions(),
        };
        check_pixels(w, h, max_pixels)
    }

    /// Decodes page `index` (0-based) as RGB, refusing images over `max_pixels`.
    pub(crate) fn page(&self, index: u32, max_pixels: u64) -> Result<RgbImage, ExtractError> {
        match self.kind {
            InputKind::Tiff => decode_tiff_page(self.bytes, index, max_pixels),
            kind => decode_single(self.bytes, kind, max_pixels),
        }
    }
}

/// Whether a JPEG stops before its end-of-image marker: the decoder then keeps the rows it has
/// and leaves the rest grey, which would pass for a complete page. The marker must follow the
/// last start-of-scan (inside scan data a 0xFF byte is always followed by 0x00 or a restart
/// marker, and an embedded thumbnail comes before the main image's scans).
pub(crate) fn jpeg_is_truncated(bytes: &[u8]) -> bool {
    let Some(last_scan) = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    !bytes[last_scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Judges dimensions read from a header: empty, too long on a side, or too many pixels.
fn check_pixels(width: u32, height: u32, limit: u64) -> Result<(), ExtractError> {
    if width == 0 || height == 0 {
        return Err(ExtractError::Unreadable(ReadError::EmptyImage {
            width,
            height,
        }));
    }
    if u64::from(width) * u64::from(height) > limit {
        return Err(ExtractError::TooManyPixels {
            width,
            height,
            limit,
        });
    }
    // Few pixels can still mean a costly image: a 39,000,000 x 1 PNG passed the pixel cap and
    // cost 2.9 GB in the decoder's row buffers.
    if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(ExtractError::ImageSideTooLong {
            width,
            height,
            limit: MAX_IMAGE_SIDE,
        });
    }
    Ok(())
}

fn single_decoder(
    bytes: &[u8],
    kind: InputKind,
    max_pixels: u64,
) -> Result<impl ImageDecoder + '_, ExtractError> {
    let format = match kind {
        InputKind::Png => image::ImageFormat::Png,
        InputKind::Jpeg => image::ImageFormat::Jpeg,
        InputKind::Bmp => image::ImageFormat::Bmp,
        InputKind::Webp => image::ImageFormat::WebP,
        other => return Err(ExtractError::Unsupported(other.name().to_string())),
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    // The decoder's own allocation cap: the RGBA worst case of the largest image allowed.
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(4).saturating_add(1 << 20));
    reader.limits(limits);
    reader.into_decoder().map_err(|e| unreadable(kind, e))
}

fn decode_single(bytes: &[u8], kind: InputKind, max_pixels: u64) -> Result<RgbImage, ExtractError> {
    let decoder = single_decoder(bytes, kind, max_pixels)?;
    let (w, h) = decoder.dimensions();
    check_pixels(w, h, max_pixels)?;
    let img = image::DynamicImage::from_decoder(decoder).map_err(|e| unreadable(kind, e))?;
    let rgb = flatten_alpha(img);
    RgbImage::new(w, h, rgb).map_err(|e| unreadable(kind, e))
}

/// RGB bytes of an image, with any transparency composed over white (a transparent
/// background would otherwise turn black and swallow dark text).
fn flatten_alpha(img: image::DynamicImage) -> Vec<u8> {
    if !img.color().has_alpha() {
        return img.into_rgb8().into_raw();
    }
    img.into_rgba8()
        .into_raw()
        .chunks_exact(4)
        .flat_map(|p| {
            let a = u16::from(p[3]);
            let over = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
            [over(p[0]), over(p[1]), over(p[2])]
        })
        .collect()
}

fn tiff_decoder(bytes: &[u8]) -> Result<tiff::decoder::Decoder<Cursor<&[u8]>>, ExtractError> {
    tiff::decoder::Decoder::new(Cursor::new(bytes)).map_err(|e| unreadable(InputKind::Tiff, e))
}

fn count_tiff_pages(bytes: &[u8]) -> Result<u32, ExtractError> {
    let mut dec = tiff_decoder(bytes)?;
    let mut pages = 1u32;
    while dec.more_images() {
        // The decoder refuses a page chain that loops; one that runs on is cut short here.
        if pages >= MAX_TIFF_PAGES {
            return Err(unreadable(
                InputKind::Tiff,
                format!("more than {MAX_TIFF_PAGES} pages"),
            ));
        }
        dec.next_image()
            .map_err(|e| unreadable(InputKind::Tiff, e))?;
        pages += 1;
    }
    Ok(pages)
}

fn decode_tiff_page(bytes: &[u8], index: u32, max_pixels: u64) -> Result<RgbImage, ExtractError> {
    use tiff::decoder::DecodingResult;
    use tiff::ColorType;
    let mut dec = tiff_decoder(bytes)?;
    dec.seek_to_image(index as usize)
        .map_err(|e| unreadable(InputKind::Tiff, e))?;
    let (w, h) = dec
        .dimensions()
        .map_err(|e| unreadable(InputKind::Tiff, e))?;
    check_pixels(w, h, max_pixels)?;
    let color = dec
        .colortype()
        .map_err(|e| unreadable(InputKind::Tiff, e))?;
    let mut limits = tiff::decoder::Limits::default();
    limits.decoding_buffer_size = (max_pixels.saturating_mul(8)).min(usize::MAX as u64) as usize;
    let mut dec = dec.with_limits(limits);
    let data = dec
        .read_image()
        .map_err(|e| unreadable(InputKind::Tiff, e))?;
    let n = w as usize * h as usize;
    // Samples as 8-bit values, whatever their depth.
    let samples: Vec<u8> = match data {
        DecodingResult::U8(v) => v,
        DecodingResult::U16(v) => v.into_iter().map(|s| (s >> 8) as u8).collect(),
        _ => {
            return Err(unreadable(
                InputKind::Tiff,
                format!("unsupported sample format for {color:?}"),
            ))
        }
    };
    let rgb: Vec<u8> = match color {
        ColorType::Gray(1) => {
            // Bilevel rows are packed eight pixels to a byte, each row padded to a byte.
            let row_bytes = (w as usize).div_ceil(8);
            let mut out = Vec::with_capacity(n * 3);
            for y in 0..h as usize {
                for x in 0..w as usize {
                    let byte = samples.get(y * row_bytes + x / 8).copied().unwrap_or(0);
                    // TIFF's default photometric for bilevel scans is WhiteIsZero, but
                    // decoders hand back BlackIsZero-style values; 1 is white here.
                    let v = if byte & (0x80 >> (x % 8)) != 0 {
                        255
                    } else {
                        0
                    };
                    out.extend([v, v, v]);
                }
            }
            out
        }
        ColorType::Gray(_) => samples.iter().take(n).flat_map(|&g| [g, g, g]).collect(),
        ColorType::GrayA(_) => samples
            .chunks_exact(2)
            .take(n)
            .flat_map(|p| [p[0], p[0], p[0]])
            .collect(),
        ColorType::RGB(_) => samples.into_iter().take(n * 3).collect(),
        ColorType::RGBA(_) => samples
            .chunks_exact(4)
            .take(n)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        ColorType::CMYK(_) => samples
            .chunks_exact(4)
            .take(n)
            .flat_map(|p| {
                let k = 255 - u16::from(p[3]);
                let c = |v: u8| ((255 - u16::from(v)) * k / 255) as u8;
                [c(p[0]), c(p[1]), c(p[2])]
            })
            .collect(),
        other => {
            return Err(unreadable(
                InputKind::Tiff,
                format!("unsupported colour type {other:?}"),
            ))
        }
    };
    RgbImage::new(w, h, rgb).map_err(|e| unreadable(InputKind::Tiff, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 10, 10]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn decodes_a_png() {
        let bytes = png(7, 5);
        let src = ImageSource::open(&bytes, InputKind::Png).unwrap();
        assert_eq!(src.page_count(), 1);
        let img = src.page(0, 1000).unwrap();
        assert_eq!((img.width(), img.height()), (7, 5));
        assert_eq!(&img.as_bytes()[..3], &[200, 10, 10]);
    }

    #[test]
    fn refuses_too_many_pixels_before_decoding() {
        let bytes = png(100, 100);
        let src = ImageSource::open(&bytes, InputKind::Png).unwrap();
        assert!(matches!(
            src.page(0, 9_999),
            Err(ExtractError::TooManyPixels {
                width: 100,
                height: 100,
                ..
            })
        ));
    }

    /// A real PNG of `width` x 1 black pixels, written chunk by chunk: a 39,000,000-pixel row
    /// of zeros deflates to about 38 KB, and no image library would encode it without first
    /// holding it.
    fn strip_png(width: u32) -> Vec<u8> {
        use std::io::Write;
        fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let mut crc = crc32fast::Hasher::new();
            crc.update(kind);
            crc.update(data);
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            out.extend_from_slice(&crc.finalize().to_be_bytes());
        }
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&1u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
        chunk(&mut out, b"IHDR", &ihdr);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&[0]).unwrap(); // the row's filter byte
        let zeros = vec![0u8; 1 << 20];
        let mut left = u64::from(width) * 3;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            z.write_all(&zeros[..n]).unwrap();
            left -= n as u64;
        }
        chunk(&mut out, b"IDAT", &z.finish().unwrap());
        chunk(&mut out, b"IEND", &[]);
        out
    }

    #[test]
    fn a_strip_within_the_pixel_limit_is_refused_from_its_header() {
        let bytes = strip_png(39_000_000);
        assert!(bytes.len() < 200_000, "{} bytes", bytes.len());
        let src = ImageSource::open(&bytes, InputKind::Png).unwrap();
        let limit = crate::Limits::default().max_page_pixels;
        assert!(39_000_000 <= limit, "the strip must pass the pixel count");
        for result in [src.check_page(0, limit), src.page(0, limit).map(|_| ())] {
            assert!(
                matches!(
                    result,
                    Err(ExtractError::ImageSideTooLong {
                        width: 39_000_000,
                        height: 1,
                        limit: MAX_IMAGE_SIDE,
                    })
                ),
                "{result:?}"
            );
        }
        // The same shape just under the side limit is an ordinary (if odd) image.
        let ok = strip_png(MAX_IMAGE_SIDE);
        let img = ImageSource::open(&ok, InputKind::Png)
            .unwrap()
            .page(0, limit)
            .unwrap();
        assert_eq!((img.width(), img.height()), (MAX_IMAGE_SIDE, 1));
    }

    #[test]
    fn a_tall_tiff_is_refused_from_its_header() {
        let mut out = Cursor::new(Vec::new());
        {
            let mut enc = tiff::encoder::TiffEncoder::new(&mut out).unwrap();
            let h = MAX_IMAGE_SIDE + 1;
            enc.write_image::<tiff::encoder::colortype::Gray8>(1, h, &vec![0u8; h as usize])
                .unwrap();
        }
        let bytes = out.into_inner();
        let src = ImageSource::open(&bytes, InputKind::Tiff).unwrap();
        assert!(matches!(
            src.page(0, 1 << 30),
            Err(ExtractError::ImageSideTooLong { width: 1, .. })
        ));
    }

    #[test]
    fn truncated_image_is_unreadable() {
        let bytes = png(50, 50);
        let src = ImageSource::open(&bytes[..40], InputKind::Png).unwrap();
        assert!(matches!(
            src.page(0, 1 << 20),
            Err(ExtractError::Unreadable(_))
        ));
    }

    #[test]
    fn a_jpeg_cut_inside_its_scan_data_is_truncated() {
        let img =
            image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, 0]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        let bytes = out.into_inner();
        assert!(!jpeg_is_truncated(&bytes));
        assert!(jpeg_is_truncated(&bytes[..bytes.len() - 40]));
        // Bytes after the end-of-image marker (some cameras append data) are not a cut.
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0u8; 16]);
        assert!(!jpeg_is_truncated(&padded));
    }

    #[test]
    fn multi_page_tiff_pages_are_counted_and_decoded() {
        let mut out = Cursor::new(Vec::new());
        {
            let mut enc = tiff::encoder::TiffEncoder::new(&mut out).unwrap();
            enc.write_image::<tiff::encoder::colortype::Gray8>(4, 3, &[9u8; 12])
                .unwrap();
            enc.write_image::<tiff::encoder::colortype::RGB8>(2, 2, &[1u8; 12])
                .unwrap();
        }
        let bytes = out.into_inner();
        let src = ImageSource::open(&bytes, InputKind::Tiff).unwrap();
        assert_eq!(src.page_count(), 2);
        let p0 = src.page(0, 100).unwrap();
        assert_eq!((p0.width(), p0.height(), p0.as_bytes()[0]), (4, 3, 9));
        let p1 = src.page(1, 100).unwrap();
        assert_eq!((p1.width(), p1.as_bytes()[0]), (2, 1));
    }
}
