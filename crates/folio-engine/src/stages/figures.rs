//! Figure pictures (`--images`, `images=inline`): each figure block's box cropped from the page
//! and encoded as PNG, kept on the block ([`folio_doc::Image`]) for the front doors to write out
//! or return inline.
//!
//! The picture is the page as rendered (a PDF page at [`FIGURE_RENDER_DPI`] within the pixel
//! budget, or the image input's own pixels, upright after OCR), so what was drawn over the
//! picture (labels, a chart's lines) is in it. The document's [`ImageBudget`] bounds the bytes
//! and the number of pictures kept; past it, a figure keeps its box and caption, and an
//! `image_skipped` warning says what was left out.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use folio_doc::{BBox, BlockKind, Image, Warning, WarningKind};
use folio_vision::RgbImage;

use super::{PageCx, PageError, PageStage, PageState};

/// Resolution a PDF page is rendered at for its figures' pictures: screen resolution twice over,
/// sharp enough to read a chart's labels, a quarter of the pixels of OCR's rendering.
pub const FIGURE_RENDER_DPI: f32 = 144.0;

/// Most pixels of a page rendered for its figures (within the request's `max_pixels`).
const FIGURE_PIXEL_BUDGET: u64 = 12_000_000;

/// Pictures kept in one document, whatever their size: past this, figures keep their box only.
pub const MAX_FIGURE_IMAGES: u32 = 1_000;

/// A figure's box smaller than this many pixels on a side gives no picture worth keeping.
const MIN_SIDE_PX: u32 = 4;

/// What is left of a document's budget for pictures, shared by its pages.
#[derive(Debug)]
pub(crate) struct ImageBudget {
    bytes: AtomicU64,
    count: AtomicU32,
    max_bytes: u64,
}

impl ImageBudget {
    pub(crate) fn new(max_bytes: u64) -> ImageBudget {
        ImageBudget {
            bytes: AtomicU64::new(max_bytes),
            count: AtomicU32::new(MAX_FIGURE_IMAGES),
            max_bytes,
        }
    }

    /// Takes `len` bytes and one picture from the budget, or says why it cannot.
    fn take(&self, len: u64) -> Result<(), String> {
        let taken = self
            .count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if taken.is_err() {
            return Err(format!(
                "the document has more than {MAX_FIGURE_IMAGES} figures with pictures"
            ));
        }
        let bytes = self
            .bytes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(len)
            });
        if bytes.is_err() {
            self.count.fetch_add(1, Ordering::SeqCst);
            return Err(format!(
                "the document's pictures are over the budget of {} bytes",
                self.max_bytes
            ));
        }
        Ok(())
    }
}

/// The figure-picture stage.
pub(crate) struct FigureImages;

impl PageStage for FigureImages {
    fn name(&self) -> &'static str {
        "figure_images"
    }

    fn run(&self, page: &mut PageState, cx: &PageCx<'_>) -> Result<bool, PageError> {
        let Some(budget) = cx.images else {
            return Ok(false);
        };
        let figures: Vec<usize> = page
            .blocks
            .iter()
            .enumerate()
            .filter(|(_, b)| b.kind == BlockKind::Figure && !b.bbox.is_zero() && b.bbox.is_finite())
            .map(|(i, _)| i)
            .collect();
        if figures.is_empty() {
            return Ok(false);
        }
        cx.cancel.check()?;
        let (img, px_x, px_y) = match page_picture(page, cx) {
            Ok(found) => found,
            Err(PageError::Cancelled) => return Err(PageError::Cancelled),
            Err(e) => {
                page.warnings.push(skipped(
                    page.number,
                    figures.len(),
                    &format!("the page cannot be rendered: {e}"),
                ));
                return Ok(false);
            }
        };
        let mut kept = 0usize;
        let mut left_out: Vec<String> = Vec::new();
        for i in figures {
            cx.cancel.check()?;
            let bbox = page.blocks[i].bbox;
            let Some(crop) = crop(&img, &bbox, px_x, px_y) else {
                continue;
            };
            let (width, height) = (crop.width(), crop.height());
            let data = match encode_png(&crop) {
                Ok(data) => data,
                Err(e) => {
                    left_out.push(format!("cannot encode a PNG: {e}"));
                    continue;
                }
            };
            if let Err(why) = budget.take(data.len() as u64) {
                left_out.push(why);
                continue;
            }
            page.blocks[i].image = Some(Box::new(Image {
                path: None,
                data: Some(data),
                mime: "image/png".to_string(),
                width,
                height,
            }));
            kept += 1;
        }
        if let Some(why) = left_out.first() {
            page.warnings
                .push(skipped(page.number, left_out.len(), why.as_str()));
        }
        Ok(kept > 0)
    }
}

fn skipped(number: u32, count: usize, why: &str) -> Warning {
    let what = if count == 1 {
        "1 figure's picture".to_string()
    } else {
        format!("{count} figures' pictures")
    };
    Warning::new(
        WarningKind::ImageSkipped,
        Some(number),
        format!("page {number}: {what} left out: {why}"),
    )
}

/// The page's pixels and how many of them make a page unit, across and down: the image OCR or
/// the layout model read (an image input's own pixels, upright), or the page rendered within
/// the pixel budget. The page's own raster is taken, not copied: no stage after this one
/// reads it.
fn page_picture(page: &mut PageState, cx: &PageCx<'_>) -> Result<(RgbImage, f32, f32), PageError> {
    let (w, h) = (page.content.width.max(1.0), page.content.height.max(1.0));
    let img = match page.raster.take() {
        Some(img) => img,
        None => {
            let budget = FIGURE_PIXEL_BUDGET.min(cx.max_pixels) as f32;
            let scale = (FIGURE_RENDER_DPI / 72.0).min((budget / (w * h)).sqrt());
            cx.input
                .render_page(page.number, scale, cx.max_pixels, cx.cancel)?
        }
    };
    // Measured rather than assumed: an image re-read from its file is at one pixel per unit,
    // a rendering at its scale rounded to whole pixels.
    let (px_x, px_y) = (img.width() as f32 / w, img.height() as f32 / h);
    if (px_x - px_y).abs() > 0.05 * px_x.max(px_y) {
        // The blocks are in another frame than these pixels (a page OCR turned upright whose
        // turned image is gone): a crop would show the wrong part.
        return Err(PageError::NoRaster);
    }
    Ok((img, px_x, px_y))
}

/// The box's pixels, clamped to the image; `None` when too little of it is on the image.
pub(crate) fn crop(img: &RgbImage, bbox: &BBox, px_x: f32, px_y: f32) -> Option<RgbImage> {
    let clamp = |v: f32, max: u32| (v.max(0.0) as u32).min(max);
    let x0 = clamp((bbox.x0 * px_x).floor(), img.width());
    let y0 = clamp((bbox.y0 * px_y).floor(), img.height());
    let x1 = clamp((bbox.x1 * px_x).ceil(), img.width());
    let y1 = clamp((bbox.y1 * px_y).ceil(), img.height());
    let (w, h) = (x1.saturating_sub(x0), y1.saturating_sub(y0));
    if w < MIN_SIDE_PX || h < MIN_SIDE_PX {
        return None;
    }
    let stride = img.width() as usize * 3;
    let src = img.as_bytes();
    let mut data = Vec::with_capacity(w as usize * h as usize * 3);
    for row in y0..y1 {
        let start = row as usize * stride + x0 as usize * 3;
        data.extend_from_slice(src.get(start..start + w as usize * 3)?);
    }
    RgbImage::new(w, h, data).ok()
}

fn encode_png(img: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    use image::ImageEncoder as _;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(
        img.as_bytes(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crop_takes_the_box_in_pixels_and_stays_on_the_image() {
        // 10x8 pixels, each pixel's red channel its column, green its row.
        let (w, h) = (10u32, 8u32);
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[x as u8, y as u8, 0]);
            }
        }
        let img = RgbImage::new(w, h, data).unwrap();
        // Two pixels per unit: the box (1,1)-(3,3) is pixels 2..6 both ways.
        let c = crop(&img, &BBox::new(1.0, 1.0, 3.0, 3.0), 2.0, 2.0).unwrap();
        assert_eq!((c.width(), c.height()), (4, 4));
        assert_eq!(&c.as_bytes()[..3], &[2, 2, 0]);
        // Off the right edge: clamped.
        let c = crop(&img, &BBox::new(3.0, 0.0, 50.0, 4.0), 2.0, 2.0).unwrap();
        assert_eq!((c.width(), c.height()), (4, 8));
        // Too small, or off the image entirely.
        assert!(crop(&img, &BBox::new(0.0, 0.0, 1.0, 1.0), 2.0, 2.0).is_none());
        assert!(crop(&img, &BBox::new(20.0, 20.0, 30.0, 30.0), 2.0, 2.0).is_none());
    }

    #[test]
    fn the_budget_bounds_bytes_and_gives_back_a_refused_count() {
        let budget = ImageBudget::new(100);
        assert!(budget.take(60).is_ok());
        let err = budget.take(60).unwrap_err();
        assert!(err.contains("budget of 100 bytes"), "{err}");
        assert!(budget.take(40).is_ok());
        assert_eq!(budget.count.load(Ordering::SeqCst), MAX_FIGURE_IMAGES - 2);
        // However small, no more than MAX_FIGURE_IMAGES pictures.
        let budget = ImageBudget::new(u64::MAX);
        for _ in 0..MAX_FIGURE_IMAGES {
            budget.take(1).unwrap();
        }
        let err = budget.take(1).unwrap_err();
        assert!(err.contains("more than 1000 figures"), "{err}");
    }
}
