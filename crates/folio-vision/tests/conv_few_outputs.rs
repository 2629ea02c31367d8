//! Dense convolutions with few output channels in the vendored rten (third_party/rten,
//! patched with a direct AVX-512 and AVX2 path for them) against a direct computation: the OCR
//! detector's first layers run through that path, so a wrong sum there would only show as
//! missed text. The widest kernel the CPU has runs; `FOLIO_SIMD=avx2` (scripts/test.sh sets
//! it on an AVX-512 CPU for a second run) picks the AVX2 one. A CPU with neither checks rten's
//! general path instead.

mod common;

use common::{assert_close, fixture, run_conv, values};

const IN_CHANNELS: usize = 7;

struct Case {
    name: &'static str,
    out_c: usize,
    k: usize,
    stride: usize,
    /// Top, left, bottom, right.
    pads: [usize; 4],
}

/// The convolution computed directly, in f64: `[batch, out_c, out_h, out_w]`.
fn direct(
    c: &Case,
    x: &[f32],
    w: &[f32],
    b: &[f32],
    (n, h, wd): (usize, usize, usize),
) -> (Vec<f64>, usize, usize) {
    let [top, left, bottom, right] = c.pads;
    let out_h = (h + top + bottom - c.k) / c.stride + 1;
    let out_w = (wd + left + right - c.k) / c.stride + 1;
    let mut out = vec![0.0; n * c.out_c * out_h * out_w];
    for img in 0..n {
        for oc in 0..c.out_c {
            for oy in 0..out_h {
                for ox in 0..out_w {
                    let mut sum = f64::from(b[oc]);
                    for ic in 0..IN_CHANNELS {
                        for ky in 0..c.k {
                            for kx in 0..c.k {
                                let iy = (oy * c.stride + ky) as isize - top as isize;
                                let ix = (ox * c.stride + kx) as isize - left as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                    continue;
                                }
                                let xv = x[((img * IN_CHANNELS + ic) * h + iy as usize) * wd
                                    + ix as usize];
                                let wv = w[((oc * IN_CHANNELS + ic) * c.k + ky) * c.k + kx];
                                sum += f64::from(xv) * f64::from(wv);
                            }
                        }
                    }
                    out[((img * c.out_c + oc) * out_h + oy) * out_w + ox] = sum;
                }
            }
        }
    }
    (out, out_h, out_w)
}

fn check(c: Case) {
    let model = fixture(&format!("conv_{}.onnx", c.name));
    // Widths around the 32-column blocks exercise the padded last block; a batch of 2 and a
    // single row exercise the image and row loops.
    for (n, h, wd) in [(1, 9, 37), (1, 6, 32), (2, 11, 70), (1, 2, 5), (1, 13, 100)] {
        if h + c.pads[0] + c.pads[2] < c.k || wd + c.pads[1] + c.pads[3] < c.k {
            continue;
        }
        let x = values(n * IN_CHANNELS * h * wd, 1 + wd as u64);
        let w = values(c.out_c * IN_CHANNELS * c.k * c.k, 2);
        let b = values(c.out_c, 3);
        let y = run_conv(
            &model,
            (&[n, IN_CHANNELS, h, wd], &x),
            (&[c.out_c, IN_CHANNELS, c.k, c.k], &w),
            &b,
        );
        let (want, out_h, out_w) = direct(&c, &x, &w, &b, (n, h, wd));
        let case = format!("{} {n}x{h}x{wd}", c.name);
        assert_close(&case, &y, &[n, c.out_c, out_h, out_w], &want);
    }
}

#[test]
fn twelve_outputs_2x2_padded_after_matches_the_direct_sum() {
    check(Case {
        name: "o12k2",
        out_c: 12,
        k: 2,
        stride: 1,
        pads: [0, 0, 1, 1],
    });
}

#[test]
fn twenty_four_outputs_3x3_matches_the_direct_sum() {
    check(Case {
        name: "o24k3",
        out_c: 24,
        k: 3,
        stride: 1,
        pads: [1, 1, 1, 1],
    });
}

#[test]
fn a_partial_block_of_outputs_matches_the_direct_sum() {
    check(Case {
        name: "o5k3",
        out_c: 5,
        k: 3,
        stride: 1,
        pads: [1, 1, 1, 1],
    });
}

#[test]
fn uneven_padding_and_thirty_outputs_match_the_direct_sum() {
    check(Case {
        name: "o30k3",
        out_c: 30,
        k: 3,
        stride: 1,
        pads: [0, 2, 1, 0],
    });
}

#[test]
fn stride_two_3x3_matches_the_direct_sum() {
    check(Case {
        name: "o24k3s2",
        out_c: 24,
        k: 3,
        stride: 2,
        pads: [1, 1, 1, 1],
    });
}

#[test]
fn stride_three_4x4_with_uneven_padding_matches_the_direct_sum() {
    check(Case {
        name: "o7k4s3",
        out_c: 7,
        k: 4,
        stride: 3,
        pads: [2, 0, 0, 1],
    });
}
