//! The depthwise convolution of the vendored rten (third_party/rten, patched with vectorized
//! stride-1 and stride-2 paths) against a direct computation: the OCR models run most of their depthwise
//! layers through that path, so a wrong sum there would only show as worse text.

mod common;

use common::{assert_close, fixture, run_conv, values};

const CHANNELS: usize = 5;

/// The convolution computed directly, in f64: `[channels, out_h, out_w]`.
#[allow(clippy::too_many_arguments)]
fn direct(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    (h, wd): (usize, usize),
    k: usize,
    stride: usize,
    pad: usize,
) -> (Vec<f64>, usize, usize) {
    let out_h = (h + 2 * pad - k) / stride + 1;
    let out_w = (wd + 2 * pad - k) / stride + 1;
    let mut out = vec![0.0; CHANNELS * out_h * out_w];
    for c in 0..CHANNELS {
        for oy in 0..out_h {
            for ox in 0..out_w {
                let mut sum = f64::from(b[c]);
                for ky in 0..k {
                    for kx in 0..k {
                        let iy = (oy * stride + ky) as isize - pad as isize;
                        let ix = (ox * stride + kx) as isize - pad as isize;
                        if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                            continue;
                        }
                        let xv = x[(c * h + iy as usize) * wd + ix as usize];
                        sum += f64::from(xv) * f64::from(w[(c * k + ky) * k + kx]);
                    }
                }
                out[(c * out_h + oy) * out_w + ox] = sum;
            }
        }
    }
    (out, out_h, out_w)
}

fn check(case: &str, k: usize, stride: usize, pad: usize) {
    let model = fixture(&format!("depthwise_{case}.onnx"));
    // Widths around the vector lengths (8 and 16 floats) exercise the loops' remainders.
    for (h, wd) in [(9, 37), (6, 16), (11, 70), (4, 5)] {
        let x = values(CHANNELS * h * wd, 1 + wd as u64);
        let w = values(CHANNELS * k * k, 2);
        let b = values(CHANNELS, 3);
        let y = run_conv(
            &model,
            (&[1, CHANNELS, h, wd], &x),
            (&[CHANNELS, 1, k, k], &w),
            &b,
        );
        let (want, out_h, out_w) = direct(&x, &w, &b, (h, wd), k, stride, pad);
        let case = format!("{case} {h}x{wd}");
        assert_close(&case, &y, &[1, CHANNELS, out_h, out_w], &want);
    }
}

#[test]
fn stride_one_3x3_matches_the_direct_sum() {
    check("k3s1", 3, 1, 1);
}

#[test]
fn stride_one_7x7_matches_the_direct_sum() {
    check("k7s1", 7, 1, 3);
}

#[test]
fn stride_two_5x5_matches_the_direct_sum() {
    check("k5s2", 5, 2, 2);
}

#[test]
fn stride_two_3x3_matches_the_direct_sum() {
    check("k3s2", 3, 2, 1);
}
