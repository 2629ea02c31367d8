//! Nearest-neighbour Resize of the vendored rten (third_party/rten, patched to gather each
//! output row from one input row through a table of source columns) against a direct gather:
//! the PP-OCR detector upsamples its feature maps six times this way.

mod common;

use common::{fixture, run_x, values};
use rten_tensor::prelude::*;

/// `y[n, c, oy, ox] = x[n, c, floor(oy / sy), floor(ox / sx)]` (ONNX's asymmetric coordinates,
/// rounded down, clamped to the input), with the output `floor(size * scale)`.
fn direct(x: &[f32], [n, c, h, w]: [usize; 4], (sy, sx): (f32, f32)) -> (Vec<f32>, [usize; 2]) {
    let (out_h, out_w) = ((h as f32 * sy) as usize, (w as f32 * sx) as usize);
    let source =
        |o: usize, scale: f32, len: usize| ((o as f32 * (1.0 / scale)) as usize).min(len - 1);
    let mut out = Vec::with_capacity(n * c * out_h * out_w);
    for plane in 0..n * c {
        for oy in 0..out_h {
            let iy = source(oy, sy, h);
            for ox in 0..out_w {
                out.push(x[(plane * h + iy) * w + source(ox, sx, w)]);
            }
        }
    }
    (out, [out_h, out_w])
}

fn check(case: &str, scales: (f32, f32)) {
    let model = fixture(&format!("resize_{case}.onnx"));
    // One channel, a channel group of four and one over, a batch of two, odd and even sizes.
    for shape in [[1, 1, 7, 9], [1, 4, 6, 16], [2, 5, 5, 11], [1, 9, 12, 3]] {
        let [n, c, h, w] = shape;
        let x = values(n * c * h * w, (h * w + c) as u64);
        let y = run_x(&model, &shape, &x);
        let (want, [out_h, out_w]) = direct(&x, shape, scales);
        assert_eq!(y.shape(), &[n, c, out_h, out_w], "{case} {shape:?}");
        assert_eq!(y.data().expect("contiguous"), &want[..], "{case} {shape:?}");
    }
}

#[test]
fn the_detectors_2x_upsampling_matches_a_direct_gather() {
    check("x2", (2.0, 2.0));
}

#[test]
fn uneven_scales_repeat_and_skip_the_right_source_pixels() {
    check("odd", (1.5, 0.75));
}
