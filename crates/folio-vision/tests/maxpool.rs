//! The 2D max pooling of the vendored rten (third_party/rten, patched to pool one channel plane
//! at a time) against a direct computation: the PP-OCR detector runs one MaxPool on its stem.

mod common;

use common::{fixture, run_x, values};
use rten_tensor::prelude::*;

/// The maximum of each window, padding ignored; windows may hang over the bottom and right
/// edges (ceil mode).
fn direct(
    x: &[f32],
    [n, c, h, w]: [usize; 4],
    k: usize,
    stride: usize,
    pad: usize,
    (out_h, out_w): (usize, usize),
) -> Vec<f32> {
    let mut out = Vec::with_capacity(n * c * out_h * out_w);
    for plane in 0..n * c {
        for oy in 0..out_h {
            for ox in 0..out_w {
                let mut m = f32::NEG_INFINITY;
                for ky in 0..k {
                    for kx in 0..k {
                        let iy = (oy * stride + ky) as isize - pad as isize;
                        let ix = (ox * stride + kx) as isize - pad as isize;
                        if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                            m = m.max(x[(plane * h + iy as usize) * w + ix as usize]);
                        }
                    }
                }
                out.push(m);
            }
        }
    }
    out
}

/// How a case's output size follows from its input size.
#[derive(Clone, Copy)]
enum Size {
    /// Explicit padding of `pad` on every side, in floor or ceil mode.
    Padded { pad: usize, ceil: bool },
    /// ONNX's `SAME_UPPER` at stride 1: the output is the input's size, the window's extra
    /// column and row hang over the right and bottom.
    SameUpper,
}

fn padded(pad: usize, ceil: bool) -> Size {
    Size::Padded { pad, ceil }
}

fn check(case: &str, k: usize, stride: usize, size: Size) {
    let model = fixture(&format!("maxpool_{case}.onnx"));
    // Odd and even sizes, one plane and several, a batch of two.
    for shape in [[1, 3, 9, 37], [2, 5, 6, 16], [1, 1, 11, 70], [1, 4, 5, 4]] {
        let [n, c, h, w] = shape;
        let x = values(n * c * h * w, (h * w) as u64);
        let y = run_x(&model, &shape, &x);
        let (pad, ceil) = match size {
            Size::Padded { pad, ceil } => (pad, ceil),
            Size::SameUpper => (0, false),
        };
        let out = |len: usize| match size {
            Size::SameUpper => len,
            Size::Padded { .. } => {
                let span = len + 2 * pad - k;
                if ceil {
                    span.div_ceil(stride) + 1
                } else {
                    span / stride + 1
                }
            }
        };
        let (out_h, out_w) = (out(h), out(w));
        assert_eq!(y.shape(), &[n, c, out_h, out_w], "{case} {shape:?}");
        let want = direct(&x, shape, k, stride, pad, (out_h, out_w));
        assert_eq!(y.data().expect("contiguous"), &want[..], "{case} {shape:?}");
    }
}

#[test]
fn the_detectors_3x3_stride_2_pooling_matches_the_direct_maximum() {
    check("k3s2p1", 3, 2, padded(1, false));
}

#[test]
fn windows_over_the_edge_in_ceil_mode_match_the_direct_maximum() {
    check("k2s2c", 2, 2, padded(0, true));
}

#[test]
fn stride_1_pooling_matches_the_direct_maximum() {
    check("k3s1p1", 3, 1, padded(1, false));
}

#[test]
fn the_stems_2x2_same_upper_pooling_matches_the_direct_maximum() {
    check("k2s1same", 2, 1, Size::SameUpper);
}
