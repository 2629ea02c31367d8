//! The raster type every model stage reads, and the sampling that feeds models.
//!
//! Models see normalised planar (CHW) float tensors; pages arrive as interleaved RGB bytes.
//! Sampling goes straight from the page to the tensor (crop, rotation, resize and normalisation
//! in one pass), so no intermediate image is ever allocated per text line.

/// An 8-bit RGB image, rows top to bottom, pixels interleaved (`r, g, b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

/// Why bytes do not make an image.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("an RGB image of {width}x{height} needs {expected} bytes, got {got}")]
pub struct ImageSizeError {
    width: u32,
    height: u32,
    expected: u64,
    got: u64,
}

impl RgbImage {
    /// Wraps interleaved RGB bytes.
    pub fn new(width: u32, height: u32, data: Vec<u8>) -> Result<RgbImage, ImageSizeError> {
        let expected = u64::from(width) * u64::from(height) * 3;
        if data.len() as u64 != expected {
            return Err(ImageSizeError {
                width,
                height,
                expected,
                got: data.len() as u64,
            });
        }
        Ok(RgbImage {
            width,
            height,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The interleaved bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The image turned by `quarter_turns` × 90° clockwise.
    pub fn rotated(&self, quarter_turns: u8) -> RgbImage {
        let (w, h) = (self.width as usize, self.height as usize);
        let turns = quarter_turns % 4;
        if turns == 0 {
            return self.clone();
        }
        let (nw, nh) = if turns % 2 == 1 { (h, w) } else { (w, h) };
        let mut out = vec![0u8; self.data.len()];
        for y in 0..h {
            for x in 0..w {
                let (nx, ny) = match turns {
                    1 => (h - 1 - y, x),
                    2 => (w - 1 - x, h - 1 - y),
                    _ => (y, w - 1 - x),
                };
                let s = (y * w + x) * 3;
                let d = (ny * nw + nx) * 3;
                out[d..d + 3].copy_from_slice(&self.data[s..s + 3]);
            }
        }
        RgbImage {
            width: nw as u32,
            height: nh as u32,
            data: out,
        }
    }

    /// The image scaled down by area averaging so that it has at most `max_pixels` pixels
    /// (returned unchanged when it already fits), with the factor applied.
    pub fn fit_pixels(self, max_pixels: u64) -> (RgbImage, f32) {
        let pixels = u64::from(self.width) * u64::from(self.height);
        if pixels <= max_pixels || pixels == 0 {
            return (self, 1.0);
        }
        let scale = (max_pixels as f64 / pixels as f64).sqrt() as f32;
        let nw = ((self.width as f32 * scale).floor() as u32).max(1);
        let nh = ((self.height as f32 * scale).floor() as u32).max(1);
        let scaled = self.area_resized(nw, nh);
        (scaled, nw as f32 / self.width as f32)
    }

    /// The image shrunk to `nw × nh` (each at most the current size) by area averaging: every
    /// output pixel is the mean of the source area it covers. Separable (rows, then columns
    /// within each row band), and split across threads by output rows: on a 35-megapixel scan
    /// this used to cost more than detection itself.
    pub(crate) fn area_resized(&self, nw: u32, nh: u32) -> RgbImage {
        let (w, h) = (self.width as usize, self.height as usize);
        let (nw, nh) = (
            nw.clamp(1, self.width) as usize,
            nh.clamp(1, self.height) as usize,
        );
        let cols = area_weights(w, nw);
        let rows = area_weights(h, nh);
        let mut data = vec![0u8; nw * nh * 3];
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        let band = nh.div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            for (chunk_index, out) in data.chunks_mut(band * nw * 3).enumerate() {
                let (cols, rows) = (&cols, &rows);
                scope.spawn(move || {
                    let mut acc = vec![0.0f32; w * 3];
                    for (i, out_row) in out.chunks_mut(nw * 3).enumerate() {
                        let taps = &rows[chunk_index * band + i];
                        acc.fill(0.0);
                        for &(y, wy) in taps {
                            let src = &self.data[y * w * 3..(y + 1) * w * 3];
                            for (a, &v) in acc.iter_mut().zip(src) {
                                *a += wy * f32::from(v);
                            }
                        }
                        for (px, taps) in out_row.chunks_exact_mut(3).zip(cols) {
                            let mut sum = [0.0f32; 3];
                            for &(x, wx) in taps {
                                for k in 0..3 {
                                    sum[k] += wx * acc[x * 3 + k];
                                }
                            }
                            for k in 0..3 {
                                px[k] = sum[k].round().clamp(0.0, 255.0) as u8;
                            }
                        }
                    }
                });
            }
        });
        RgbImage {
            width: nw as u32,
            height: nh as u32,
            data,
        }
    }

    #[inline]
    fn pixel(&self, x: i64, y: i64) -> [f32; 3] {
        let x = x.clamp(0, i64::from(self.width) - 1) as usize;
        let y = y.clamp(0, i64::from(self.height) - 1) as usize;
        let i = (y * self.width as usize + x) * 3;
        [
            f32::from(self.data[i]),
            f32::from(self.data[i + 1]),
            f32::from(self.data[i + 2]),
        ]
    }
}

/// For each of `dst` cells along an axis of `src` pixels, the source pixels it covers and
/// their weights (the covered fraction of each, normalised to sum to one).
fn area_weights(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
    let step = src as f64 / dst.max(1) as f64;
    (0..dst)
        .map(|i| {
            let (start, end) = (i as f64 * step, ((i + 1) as f64 * step).min(src as f64));
            let first = start.floor() as usize;
            let last = (end.ceil() as usize).clamp(first + 1, src);
            let taps: Vec<(usize, f64)> = (first..last)
                .map(|p| (p, (end.min(p as f64 + 1.0) - start.max(p as f64)).max(0.0)))
                .filter(|&(_, cover)| cover > 0.0)
                .collect();
            let total: f64 = taps.iter().map(|t| t.1).sum();
            taps.into_iter()
                .map(|(p, cover)| (p, (cover / total.max(f64::MIN_POSITIVE)) as f32))
                .collect()
        })
        .collect()
}

/// A parallelogram of the source image (usually a rectangle) mapped onto a target grid:
/// target `(u, v)` in `[0, 1]²` lands on `origin + u·along + v·across`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Source point of the target's top-left corner.
    pub origin: (f32, f32),
    /// Source vector of the target's full width.
    pub along: (f32, f32),
    /// Source vector of the target's full height.
    pub across: (f32, f32),
}

impl Frame {
    /// The axis-aligned rectangle `(x, y, w, h)`.
    pub fn axis_aligned(x: f32, y: f32, w: f32, h: f32) -> Frame {
        Frame {
            origin: (x, y),
            along: (w, 0.0),
            across: (0.0, h),
        }
    }

    /// Length of the side that becomes the target's width.
    pub fn width(&self) -> f32 {
        self.along.0.hypot(self.along.1)
    }

    /// Length of the side that becomes the target's height.
    pub fn height(&self) -> f32 {
        self.across.0.hypot(self.across.1)
    }

    /// The source point at fractions `(u, v)` of the frame.
    pub fn at(&self, u: f32, v: f32) -> (f32, f32) {
        (
            self.origin.0 + u * self.along.0 + v * self.across.0,
            self.origin.1 + u * self.along.1 + v * self.across.1,
        )
    }

    /// The same region turned half a turn (what reads upside down becomes upright).
    pub fn turned_half(&self) -> Frame {
        let far = self.at(1.0, 1.0);
        Frame {
            origin: far,
            along: (-self.along.0, -self.along.1),
            across: (-self.across.0, -self.across.1),
        }
    }
}

/// Samples a frame onto a `w × h` grid: bilinear when enlarging, averaged over a grid of
/// sub-samples when shrinking (plain bilinear would alias thin strokes away).
struct Sampler<'a> {
    img: &'a RgbImage,
    frame: Frame,
    w: f32,
    h: f32,
    sub_u: u32,
    sub_v: u32,
}

impl<'a> Sampler<'a> {
    fn new(img: &'a RgbImage, frame: &Frame, w: u32, h: u32, max_sub: u32) -> Sampler<'a> {
        let sub = |src: f32, dst: u32| ((src / dst.max(1) as f32).ceil() as u32).clamp(1, max_sub);
        Sampler {
            img,
            frame: *frame,
            w: w.max(1) as f32,
            h: h.max(1) as f32,
            sub_u: sub(frame.width(), w),
            sub_v: sub(frame.height(), h),
        }
    }

    #[inline]
    fn sample(&self, u: u32, v: u32) -> [f32; 3] {
        let mut acc = [0.0f32; 3];
        for sv in 0..self.sub_v {
            let fv = (v as f32 + (sv as f32 + 0.5) / self.sub_v as f32) / self.h;
            for su in 0..self.sub_u {
                let fu = (u as f32 + (su as f32 + 0.5) / self.sub_u as f32) / self.w;
                let (x, y) = self.frame.at(fu, fv);
                let p = self.bilinear(x - 0.5, y - 0.5);
                acc[0] += p[0];
                acc[1] += p[1];
                acc[2] += p[2];
            }
        }
        let n = (self.sub_u * self.sub_v) as f32;
        [acc[0] / n, acc[1] / n, acc[2] / n]
    }

    #[inline]
    fn bilinear(&self, x: f32, y: f32) -> [f32; 3] {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (xi, yi) = (x0 as i64, y0 as i64);
        let a = self.img.pixel(xi, yi);
        let b = self.img.pixel(xi + 1, yi);
        let c = self.img.pixel(xi, yi + 1);
        let d = self.img.pixel(xi + 1, yi + 1);
        mix([a, b, c, d], fx, fy)
    }
}

/// Bilinear mix of the four neighbours (top-left, top-right, bottom-left, bottom-right) at
/// weights `fx` to the right and `fy` downwards.
#[inline]
fn mix([a, b, c, d]: [[f32; 3]; 4], fx: f32, fy: f32) -> [f32; 3] {
    let mut out = [0.0; 3];
    for k in 0..3 {
        let top = a[k] + (b[k] - a[k]) * fx;
        let bottom = c[k] + (d[k] - c[k]) * fx;
        out[k] = top + (bottom - top) * fy;
    }
    out
}

/// Per-channel normalisation applied while sampling, in the model's channel order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Normalize {
    /// Average over sub-samples when shrinking (`false`: plain bilinear, as OpenCV's default
    /// resize does; the detector was trained on such input and finds weaker text in smoothed
    /// images).
    pub antialias: bool,
    /// Channel order of the model's input: `true` for BGR (what PaddleOCR models were trained
    /// on, since OpenCV decodes to BGR).
    pub bgr: bool,
    /// Subtracted from `value / 255`.
    pub mean: [f32; 3],
    /// Divides the result.
    pub std: [f32; 3],
}

impl Normalize {
    /// `(x / 255 - 0.5) / 0.5` on BGR, as PP-OCR's detection, classifier and recogniser expect.
    pub const PP_OCR: Normalize = Normalize {
        antialias: true,
        bgr: true,
        mean: [0.5; 3],
        std: [0.5; 3],
    };
}

/// Where sampled pixels go: a CHW tensor slot whose planes are `plane` values apart and whose
/// rows are `row` values apart (so a narrow line can sit at the left of a wider, zero-padded
/// batch slot).
pub(crate) struct Slot<'a> {
    pub data: &'a mut [f32],
    pub plane: usize,
    pub row: usize,
}

/// Writes `frame` of `img`, sampled to `size` (width, height), into `slot`.
pub(crate) fn sample_into(
    img: &RgbImage,
    frame: &Frame,
    size: (u32, u32),
    norm: Normalize,
    slot: Slot<'_>,
) {
    sample_into_on(img, frame, size, norm, slot, 1);
}

/// Outputs with fewer pixels than this are sampled on one thread: a thread costs about as
/// much as sampling this many pixels.
const PIXELS_PER_THREAD: usize = 64 * 1024;

/// [`sample_into`] on up to `threads` threads, each writing a band of rows. The detector's
/// input is a megapixel sampled at about 40 ns a pixel, a whole stage's worth of one core.
pub(crate) fn sample_into_on(
    img: &RgbImage,
    frame: &Frame,
    (w, h): (u32, u32),
    norm: Normalize,
    slot: Slot<'_>,
    threads: usize,
) {
    let Slot {
        data: out,
        plane: plane_stride,
        row: row_stride,
    } = slot;
    let sampler = Sampler::new(img, frame, w, h, if norm.antialias { 4 } else { 1 });
    let pixels = w as usize * h as usize;
    let threads = threads.clamp(1, (pixels / PIXELS_PER_THREAD).max(1));
    let band_rows = (h as usize).div_ceil(threads).max(1);
    let band_len = band_rows * row_stride;
    // Each plane cut into bands of rows; band i of every plane goes to thread i.
    let (first, rest) = out.split_at_mut(plane_stride.min(out.len()));
    let (second, third) = rest.split_at_mut(plane_stride.min(rest.len()));
    let bands = first
        .chunks_mut(band_len)
        .zip(second.chunks_mut(band_len))
        .zip(third.chunks_mut(band_len))
        .take(threads)
        .enumerate()
        .map(|(i, ((a, b), c))| (i * band_rows, [a, b, c]));
    let sample_band = |(top, planes): (usize, [&mut [f32]; 3])| {
        let rows = top..(top + band_rows).min(h as usize);
        sample_rows(&sampler, rows, w, norm, planes, row_stride);
    };
    let sample_band = &sample_band;
    if threads == 1 {
        bands.for_each(sample_band);
    } else {
        std::thread::scope(|scope| {
            for band in bands {
                scope.spawn(move || sample_band(band));
            }
        });
    }
}

/// Samples `rows` of the output into `planes`, whose first row is the first of `rows`.
fn sample_rows(
    sampler: &Sampler<'_>,
    rows: std::ops::Range<usize>,
    w: u32,
    norm: Normalize,
    planes: [&mut [f32]; 3],
    row_stride: usize,
) {
    match AxisGrid::new(sampler, rows.clone(), w) {
        Some(grid) => grid.sample(sampler, norm, planes, row_stride),
        None => sample_rows_anywhere(sampler, rows, w, norm, planes, row_stride),
    }
}

/// [`sample_rows`] for any frame (a skewed or turned line), pixel by pixel.
fn sample_rows_anywhere(
    sampler: &Sampler<'_>,
    rows: std::ops::Range<usize>,
    w: u32,
    norm: Normalize,
    planes: [&mut [f32]; 3],
    row_stride: usize,
) {
    let order = channel_order(norm);
    let top = rows.start;
    let [p0, p1, p2] = planes;
    for v in rows {
        for u in 0..w {
            let px = sampler.sample(u, v as u32);
            let at = (v - top) * row_stride + u as usize;
            let value =
                |plane: usize| (px[order[plane]] / 255.0 - norm.mean[plane]) / norm.std[plane];
            p0[at] = value(0);
            p1[at] = value(1);
            p2[at] = value(2);
        }
    }
}

/// Where each of the model's channels comes from in an RGB pixel.
fn channel_order(norm: Normalize) -> [usize; 3] {
    if norm.bgr {
        [2, 1, 0]
    } else {
        [0, 1, 2]
    }
}

/// The source taps of an axis-aligned frame (the detector's whole page, most text lines), worked
/// out once per column and once per row instead of once per pixel: where each sub-sample falls
/// depends only on the column (x) or only on the row (y). The sums are those of
/// [`Sampler::sample`], in the same order, so the values are the same to the bit.
struct AxisGrid {
    /// Per output column, `sub_u` taps: left and right source column, right weight.
    cols: Vec<(usize, usize, f32)>,
    /// Per output row of the band, `sub_v` taps: upper and lower source row, lower weight.
    rows: Vec<(usize, usize, f32)>,
    sub_u: usize,
    sub_v: usize,
}

impl AxisGrid {
    fn new(sampler: &Sampler<'_>, rows: std::ops::Range<usize>, w: u32) -> Option<AxisGrid> {
        let f = &sampler.frame;
        if f.along.1 != 0.0 || f.across.0 != 0.0 {
            return None;
        }
        let (img_w, img_h) = (sampler.img.width as i64, sampler.img.height as i64);
        // Each tap as `Sampler::bilinear` takes it: floor, weight, neighbours clamped to the image.
        let tap = |pos: f32, len: i64| {
            let p0 = pos.floor();
            let i = p0 as i64;
            let clamp = |i: i64| i.clamp(0, len - 1) as usize;
            (clamp(i), clamp(i + 1), pos - p0)
        };
        let (sub_u, sub_v) = (sampler.sub_u as usize, sampler.sub_v as usize);
        let mut cols = Vec::with_capacity(w as usize * sub_u);
        for u in 0..w {
            for su in 0..sampler.sub_u {
                let fu = (u as f32 + (su as f32 + 0.5) / sampler.sub_u as f32) / sampler.w;
                let (x, _) = f.at(fu, 0.0);
                cols.push(tap(x - 0.5, img_w));
            }
        }
        let mut taps = Vec::with_capacity(rows.len() * sub_v);
        for v in rows {
            for sv in 0..sampler.sub_v {
                let fv = (v as f32 + (sv as f32 + 0.5) / sampler.sub_v as f32) / sampler.h;
                let (_, y) = f.at(0.0, fv);
                taps.push(tap(y - 0.5, img_h));
            }
        }
        Some(AxisGrid {
            cols,
            rows: taps,
            sub_u,
            sub_v,
        })
    }

    fn sample(
        &self,
        sampler: &Sampler<'_>,
        norm: Normalize,
        [p0, p1, p2]: [&mut [f32]; 3],
        row_stride: usize,
    ) {
        let order = channel_order(norm);
        let img = sampler.img;
        let stride = img.width as usize * 3;
        let px = |x: usize, y: usize| {
            let i = y * stride + x * 3;
            [
                f32::from(img.data[i]),
                f32::from(img.data[i + 1]),
                f32::from(img.data[i + 2]),
            ]
        };
        let n = (self.sub_u * self.sub_v) as f32;
        for (r, row_taps) in self.rows.chunks_exact(self.sub_v).enumerate() {
            for (u, col_taps) in self.cols.chunks_exact(self.sub_u).enumerate() {
                let mut acc = [0.0f32; 3];
                for &(y0, y1, fy) in row_taps {
                    for &(x0, x1, fx) in col_taps {
                        let p = mix([px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1)], fx, fy);
                        for k in 0..3 {
                            acc[k] += p[k];
                        }
                    }
                }
                let px = [acc[0] / n, acc[1] / n, acc[2] / n];
                let at = r * row_stride + u;
                let value =
                    |plane: usize| (px[order[plane]] / 255.0 - norm.mean[plane]) / norm.std[plane];
                p0[at] = value(0);
                p1[at] = value(1);
                p2[at] = value(2);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> RgbImage {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend([(x * 10) as u8, (y * 10) as u8, 7]);
            }
        }
        RgbImage::new(w, h, data).unwrap()
    }

    #[test]
    fn wrong_byte_count_is_an_error() {
        assert!(RgbImage::new(2, 2, vec![0; 11]).is_err());
    }

    #[test]
    fn rotations_compose_and_move_corners() {
        let img = gradient(3, 2);
        let r = img.rotated(1);
        assert_eq!((r.width(), r.height()), (2, 3));
        // Clockwise: the top-left pixel goes to the top-right corner.
        assert_eq!(&r.as_bytes()[3..6], &img.as_bytes()[0..3]);
        assert_eq!(img.rotated(1).rotated(3), img);
        assert_eq!(img.rotated(2).rotated(2), img);
    }

    #[test]
    fn identity_sampling_reproduces_pixels() {
        let img = gradient(4, 3);
        let frame = Frame::axis_aligned(0.0, 0.0, 4.0, 3.0);
        let mut out = vec![0.0; 3 * 12];
        let norm = Normalize {
            antialias: true,
            bgr: false,
            mean: [0.0; 3],
            std: [1.0 / 255.0; 3],
        };
        let slot = Slot {
            data: &mut out,
            plane: 12,
            row: 4,
        };
        sample_into(&img, &frame, (4, 3), norm, slot);
        // Plane 0 is red = x * 10.
        assert!((out[2] - 20.0).abs() < 1e-3, "{}", out[2]);
        // Plane 1 is green = y * 10, row 2.
        assert!((out[12 + 2 * 4] - 20.0).abs() < 1e-3);
    }

    #[test]
    fn axis_aligned_frames_sample_as_any_frame_does_to_the_bit() {
        let img = gradient(53, 29);
        let frames = [
            Frame::axis_aligned(0.0, 0.0, 53.0, 29.0),
            Frame::axis_aligned(3.5, 2.25, 40.0, 11.0),
            // Reaching past the edges: taps are clamped.
            Frame::axis_aligned(-4.0, -2.0, 60.0, 33.0),
        ];
        for frame in frames {
            // Shrinking with and without sub-samples, and enlarging.
            for ((w, h), antialias) in [((17, 9), true), ((17, 9), false), ((120, 70), true)] {
                let norm = Normalize {
                    antialias,
                    ..Normalize::PP_OCR
                };
                let sampler = Sampler::new(&img, &frame, w, h, if antialias { 4 } else { 1 });
                let row = w as usize + 3;
                let run = |fast: bool| {
                    let mut out = vec![-9.0f32; 3 * h as usize * row];
                    let (p0, rest) = out.split_at_mut(h as usize * row);
                    let (p1, p2) = rest.split_at_mut(h as usize * row);
                    let rows = 1..h as usize;
                    if fast {
                        let grid = AxisGrid::new(&sampler, rows, w).expect("axis-aligned");
                        grid.sample(&sampler, norm, [p0, p1, p2], row);
                    } else {
                        sample_rows_anywhere(&sampler, rows, w, norm, [p0, p1, p2], row);
                    }
                    out
                };
                let (fast, anywhere) = (run(true), run(false));
                let same = fast
                    .iter()
                    .zip(&anywhere)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{frame:?} {w}x{h} antialias {antialias}");
            }
        }
        let skewed = Frame {
            origin: (0.0, 0.0),
            along: (50.0, 2.0),
            across: (0.0, 20.0),
        };
        assert!(AxisGrid::new(&Sampler::new(&img, &skewed, 10, 4, 4), 0..4, 10).is_none());
    }

    #[test]
    fn sampling_in_bands_of_rows_writes_what_one_thread_writes() {
        // Big enough for three threads; an odd row count, a skewed frame, and rows padded
        // past the sampled width, as in a recognition batch.
        let img = gradient(97, 61);
        let frame = Frame {
            origin: (3.0, 2.0),
            along: (90.0, 4.0),
            across: (-3.0, 55.0),
        };
        let (w, h, row) = (500u32, 401u32, 512usize);
        let plane = h as usize * row;
        let sample = |threads: usize| {
            let mut out = vec![-9.0; 3 * plane];
            let slot = Slot {
                data: &mut out,
                plane,
                row,
            };
            sample_into_on(&img, &frame, (w, h), Normalize::PP_OCR, slot, threads);
            out
        };
        let one = sample(1);
        assert_eq!(sample(2), one);
        assert_eq!(sample(3), one);
        // The padding is left alone, and the last row of the last plane was written.
        assert_eq!(one[row - 1], -9.0);
        assert_ne!(one[3 * plane - row], -9.0);
    }

    #[test]
    fn area_resize_is_the_mean_of_the_covered_area() {
        // One row [0, 90, 180] into two cells: [0, 1.5) and [1.5, 3).
        let row =
            RgbImage::new(3, 1, [0u8, 90, 180].iter().flat_map(|&v| [v; 3]).collect()).unwrap();
        let two = row.area_resized(2, 1);
        assert_eq!(two.data, vec![30, 30, 30, 150, 150, 150]);

        // A 2-D case against a direct integral over each output pixel's area.
        let (w, h, nw, nh) = (13usize, 11usize, 5usize, 4usize);
        let data: Vec<u8> = (0..w * h * 3).map(|i| ((i * 37) % 251) as u8).collect();
        let img = RgbImage::new(w as u32, h as u32, data.clone()).unwrap();
        let out = img.area_resized(nw as u32, nh as u32);
        let (sx, sy) = (w as f64 / nw as f64, h as f64 / nh as f64);
        let overlap =
            |a0: f64, a1: f64, p: usize| (a1.min(p as f64 + 1.0) - a0.max(p as f64)).max(0.0);
        for v in 0..nh {
            for u in 0..nw {
                for k in 0..3 {
                    let (x0, x1, y0, y1) = (
                        u as f64 * sx,
                        (u + 1) as f64 * sx,
                        v as f64 * sy,
                        (v + 1) as f64 * sy,
                    );
                    let mut sum = 0.0;
                    for y in 0..h {
                        for x in 0..w {
                            sum += overlap(x0, x1, x)
                                * overlap(y0, y1, y)
                                * f64::from(data[(y * w + x) * 3 + k]);
                        }
                    }
                    let want = sum / (sx * sy);
                    let got = f64::from(out.data[(v * nw + u) * 3 + k]);
                    assert!(
                        (got - want).abs() <= 0.51,
                        "({u}, {v}, {k}): {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn fit_pixels_downscales_within_budget() {
        let img = gradient(20, 10);
        let (small, f) = img.fit_pixels(50);
        assert!(u64::from(small.width()) * u64::from(small.height()) <= 50);
        assert!(f < 1.0);
        let (same, f) = gradient(5, 5).fit_pixels(50);
        assert_eq!((same.width(), f), (5, 1.0));
    }

    #[test]
    fn half_turn_frame_reverses_corners() {
        let f = Frame::axis_aligned(10.0, 20.0, 30.0, 5.0).turned_half();
        assert_eq!(f.at(0.0, 0.0), (40.0, 25.0));
        assert_eq!(f.at(1.0, 1.0), (10.0, 20.0));
    }
}
