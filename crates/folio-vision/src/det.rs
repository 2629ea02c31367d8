//! Text detection: PP-OCR's DB model and its post-processing.
//!
//! The model predicts, per pixel, the probability of lying in a *shrunk* text region. Pixels over
//! a threshold are grouped into connected regions; each region's minimum-area rectangle is kept
//! when the mean probability inside it is high enough, then grown back ("unclipped") by
//! `area × ratio / perimeter` to cover the whole line.

use crate::backend::{BackendError, Session, Tensor};
use crate::geometry::{inside_quad, min_area_rect, Point, RotatedRect};
use crate::image::{sample_into_on, Frame, Normalize, RgbImage, Slot};

/// Tuning of detection; the defaults are PP-OCR's (as rapidocr configures them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetParams {
    /// The shorter side is scaled up to at least this many pixels.
    pub min_side: u32,
    /// The longer side is never scaled beyond this many pixels.
    pub max_side: u32,
    /// Probability over which a pixel is text.
    pub pixel_threshold: f32,
    /// Mean probability a box needs to be kept.
    pub box_threshold: f32,
    /// How far boxes grow back: offset = area × ratio / perimeter.
    pub unclip_ratio: f32,
    /// Most regions considered.
    pub max_candidates: usize,
}

impl Default for DetParams {
    fn default() -> Self {
        DetParams {
            // PP-OCR scales the short side to 736 and caps the long side at 2000. The detector's
            // time grows with its input's pixels, and text lines stay findable well below that:
            // on the SROIE receipts (bench/ocr.sh) a long side of 1536, 1408, 1280, 1152 and
            // 1024 read at case-insensitive CER 0.0970, 0.0952, 0.0965, 0.0961 and 0.0989; on
            // eight whole document pages scanned at 150 and 300 dpi, word recall was the same
            // at 1152 as at 1536. 1152 spends 56 % of 1536's pixels on a tall receipt.
            // Scaling small images up to a short side of 640 read no better than leaving them
            // (the recogniser's raw lines on the receipts: case-insensitive CER 0.1008 at 640,
            // 0.0992 at 576, 0.0993 at 512 and 448) and cost up to 1.8 times the detector's
            // pixels on the smallest receipts (463 pixels wide); 512 keeps a floor for smaller
            // crops.
            min_side: 512,
            max_side: 1152,
            pixel_threshold: 0.3,
            box_threshold: 0.5,
            // PP-OCR grows boxes by 1.6; on the receipts 1.4 reads better (case-insensitive
            // CER 0.0982 against 0.1012: looser boxes catch the edges of the lines around them).
            unclip_ratio: 1.4,
            max_candidates: 1000,
        }
    }
}

/// A detected text line: a rotated rectangle in image pixels, and its mean probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextBox {
    /// Top-left, top-right, bottom-right, bottom-left.
    pub quad: [Point; 4],
    /// Mean text probability inside the box.
    pub score: f32,
}

/// The model's input size for an image: scaled so the short side reaches `min_side` unless the
/// long side would pass `max_side`, each side a multiple of 32.
pub(crate) fn input_size(width: u32, height: u32, p: &DetParams) -> (u32, u32) {
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    let mut ratio = if w.min(h) < p.min_side as f32 {
        p.min_side as f32 / w.min(h)
    } else {
        1.0
    };
    if w.max(h) * ratio > p.max_side as f32 {
        ratio = p.max_side as f32 / w.max(h);
    }
    let snap = |v: f32| (((v * ratio) / 32.0).round() as u32).max(1) * 32;
    (snap(w), snap(h))
}

/// Runs detection on `img` and returns the text boxes in its pixel coordinates; the input is
/// prepared on up to `threads` threads.
pub fn detect(
    session: &dyn Session,
    img: &RgbImage,
    p: &DetParams,
    threads: usize,
) -> Result<Vec<TextBox>, BackendError> {
    let (dw, dh) = input_size(img.width(), img.height(), p);
    let plane = dw as usize * dh as usize;
    let mut input = Tensor::zeros(&[1, 3, dh as usize, dw as usize]);
    let frame = Frame::axis_aligned(0.0, 0.0, img.width() as f32, img.height() as f32);
    let norm = Normalize {
        antialias: false,
        ..Normalize::PP_OCR
    };
    let slot = Slot {
        data: &mut input.data,
        plane,
        row: dw as usize,
    };
    sample_into_on(img, &frame, (dw, dh), norm, slot, threads);
    let out = session.run(input)?;
    if out.shape.len() != 4 || out.shape[2] != dh as usize || out.shape[3] != dw as usize {
        return Err(BackendError::Output(format!(
            "detection map is {:?}, expected [1, 1, {dh}, {dw}]",
            out.shape
        )));
    }
    let prob = &out.data[..plane];
    let sx = img.width() as f32 / dw as f32;
    let sy = img.height() as f32 / dh as f32;
    Ok(boxes_from_map(prob, dw as usize, dh as usize, p)
        .into_iter()
        .filter_map(|(rect, score)| {
            let quad = rect.corners().map(|(x, y)| {
                (
                    (x * sx).round().clamp(0.0, img.width() as f32 - 1.0),
                    (y * sy).round().clamp(0.0, img.height() as f32 - 1.0),
                )
            });
            let dist = |a: Point, b: Point| (a.0 - b.0).hypot(a.1 - b.1);
            // As PP-OCR does: boxes that collapse after clipping to the image are noise.
            (dist(quad[0], quad[1]) > 3.0 && dist(quad[0], quad[3]) > 3.0)
                .then_some(TextBox { quad, score })
        })
        .collect())
}

/// DB post-processing on a probability map of `w × h`: the rotated boxes (in map pixels) and
/// their scores.
pub(crate) fn boxes_from_map(
    prob: &[f32],
    w: usize,
    h: usize,
    p: &DetParams,
) -> Vec<(RotatedRect, f32)> {
    let bitmap = threshold_dilated(prob, w, h, p.pixel_threshold);
    let mut out = Vec::new();
    for region in regions(&bitmap, w, h).into_iter().take(p.max_candidates) {
        let Some(rect) = min_area_rect(region) else {
            continue;
        };
        if rect.short_side() < 3.0 {
            continue;
        }
        let score = mean_inside(prob, w, h, &rect.corners());
        if score < p.box_threshold {
            continue;
        }
        let perimeter = 2.0 * (rect.width + rect.height);
        if perimeter <= 0.0 {
            continue;
        }
        let grown = rect.grown(rect.width * rect.height * p.unclip_ratio / perimeter);
        if grown.short_side() < 5.0 {
            continue;
        }
        out.push((grown, score));
    }
    out
}

/// Thresholds the map, then dilates it with a 2×2 kernel anchored as OpenCV anchors an even
/// kernel: each pixel takes the maximum of itself and its left, upper and upper-left neighbours.
fn threshold_dilated(prob: &[f32], w: usize, h: usize, t: f32) -> Vec<bool> {
    let bits: Vec<bool> = prob.iter().map(|&v| v > t).collect();
    let mut out = bits.clone();
    for y in 0..h {
        let row = y * w;
        for x in 0..w {
            if out[row + x] {
                continue;
            }
            let left = x > 0 && bits[row + x - 1];
            let up = y > 0 && (bits[row - w + x] || (x > 0 && bits[row - w + x - 1]));
            out[row + x] = left || up;
        }
    }
    out
}

/// 8-connected regions of set pixels, each as the leftmost and rightmost pixel of every row it
/// covers: the same convex hull as all its pixels, at a fraction of the points.
fn regions(bits: &[bool], w: usize, h: usize) -> Vec<Vec<Point>> {
    let mut seen = vec![false; bits.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    // Per-row extent of the region being filled, and the rows it touched (to reset them).
    let mut extent: Vec<(usize, usize)> = vec![(usize::MAX, 0); h];
    let mut touched: Vec<usize> = Vec::new();
    for start in 0..bits.len() {
        if !bits[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            let e = &mut extent[y];
            if e.0 == usize::MAX {
                touched.push(y);
                *e = (x, x);
            } else {
                e.0 = e.0.min(x);
                e.1 = e.1.max(x);
            }
            let (x0, x1) = (x.saturating_sub(1), (x + 1).min(w - 1));
            let (y0, y1) = (y.saturating_sub(1), (y + 1).min(h - 1));
            for ny in y0..=y1 {
                for nx in x0..=x1 {
                    let j = ny * w + nx;
                    if bits[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        touched.sort_unstable();
        let mut pts = Vec::with_capacity(touched.len() * 2);
        for &y in &touched {
            let (a, b) = extent[y];
            pts.push((a as f32, y as f32));
            if b != a {
                pts.push((b as f32, y as f32));
            }
            extent[y] = (usize::MAX, 0);
        }
        touched.clear();
        out.push(pts);
    }
    out
}

/// Mean of `prob` over the pixels inside `quad` (PP-OCR's "fast" box score).
fn mean_inside(prob: &[f32], w: usize, h: usize, quad: &[Point; 4]) -> f32 {
    let clamp = |v: f32, hi: usize| (v.max(0.0) as usize).min(hi - 1);
    let xs = quad.iter().map(|p| p.0);
    let ys = quad.iter().map(|p| p.1);
    let x0 = clamp(xs.clone().fold(f32::MAX, f32::min).floor(), w);
    let x1 = clamp(xs.fold(f32::MIN, f32::max).ceil(), w);
    let y0 = clamp(ys.clone().fold(f32::MAX, f32::min).floor(), h);
    let y1 = clamp(ys.fold(f32::MIN, f32::max).ceil(), h);
    let (mut sum, mut n) = (0.0f64, 0u32);
    for y in y0..=y1 {
        for x in x0..=x1 {
            if inside_quad(quad, (x as f32, y as f32)) {
                sum += f64::from(prob[y * w + x]);
                n += 1;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        (sum / f64::from(n)) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_size_follows_pp_ocr_limits() {
        let p = DetParams::default();
        // A small receipt is scaled up so its short side is 512.
        assert_eq!(input_size(463, 605, &p), (512, 672));
        // A large scan is capped by its long side.
        let (w, h) = input_size(2481, 3508, &p);
        assert!(h <= p.max_side && w % 32 == 0 && h % 32 == 0, "{w}x{h}");
    }

    #[test]
    fn one_bar_becomes_one_grown_box() {
        let (w, h) = (100, 40);
        let mut prob = vec![0.0f32; w * h];
        for y in 15..21 {
            for x in 10..80 {
                prob[y * w + x] = 0.9;
            }
        }
        let boxes = boxes_from_map(&prob, w, h, &DetParams::default());
        assert_eq!(boxes.len(), 1);
        let (r, score) = boxes[0];
        // Dilation adds a zero-probability row and column to the region, as in PP-OCR.
        assert!(score > 0.7, "{score}");
        // The shrunk kernel is 70 x 6; unclipping adds about 2 x 4.8 on each axis.
        assert!(
            r.width.max(r.height) > 75.0 && r.width.min(r.height) > 12.0,
            "{r:?}"
        );
    }

    #[test]
    fn faint_or_tiny_regions_are_dropped() {
        let (w, h) = (50, 50);
        let mut prob = vec![0.0f32; w * h];
        prob[10 * w + 10] = 0.9; // a single pixel
        for y in 30..40 {
            for x in 5..45 {
                prob[y * w + x] = 0.35; // over the pixel threshold, under the box threshold
            }
        }
        assert!(boxes_from_map(&prob, w, h, &DetParams::default()).is_empty());
    }

    #[test]
    fn separate_regions_stay_separate() {
        let (w, h) = (100, 60);
        let mut prob = vec![0.0f32; w * h];
        for (y0, y1) in [(5, 12), (30, 37)] {
            for y in y0..y1 {
                for x in 10..90 {
                    prob[y * w + x] = 0.95;
                }
            }
        }
        assert_eq!(boxes_from_map(&prob, w, h, &DetParams::default()).len(), 2);
    }
}
