//! The int8 1x1 convolution of the vendored rten (third_party/rten, `rten-int8.patch`),
//! which the text recogniser runs on: against a direct f64 computation, within the error that
//! rounding weights to 8 bits per output channel and inputs to 7 bits per pixel allows, and
//! never exact (so the int8 path is the one that ran). The widest kernel the CPU has runs;
//! `FOLIO_SIMD=avx2` (scripts/test.sh sets it on an AVX-512 CPU for a second run) picks the
//! AVX2 one, whose `vpmaddubsw` would saturate on 8-bit inputs.

mod common;

use std::path::PathBuf;

use common::{run_x, values};
use rten::{Model, ModelOptions};
use rten_tensor::prelude::*;

const OUT_C: usize = 64;
const IN_C: usize = 96;

/// The fixture's constants (see `fixtures/make_pointwise.py`).
fn weights() -> Vec<f32> {
    let mut w = values(OUT_C * IN_C, 2);
    for (o, row) in w.chunks_mut(IN_C).enumerate() {
        row.iter_mut().for_each(|v| *v *= (o % 4 + 1) as f32);
    }
    w
}

fn load(min_channels: Option<usize>) -> Model {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pointwise_o64c96.onnx");
    ModelOptions::with_all_ops()
        .quantize_pointwise_convs(min_channels)
        .load_file(path)
        .expect("load the fixture")
}

/// For each output: the exact value (f64), how far int8 rounding may move it, and how far f32
/// rounding may (`sum_c |w x|` times a few ulps). A weight
/// moves by at most half its row's step (`max |w| / 127`), an input by half its pixel's step
/// (`max |x| / 63`), so `|error| <= sum_c |dw| |x| + |w| |dx| + |dw| |dx|`.
fn exact_and_bound(shape: [usize; 4], x: &[f32]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let [n, c, h, wd] = shape;
    let (w, b) = (weights(), values(OUT_C, 3));
    let cols = h * wd;
    let mut exact = vec![0.0; n * OUT_C * cols];
    let mut bound = vec![0.0; n * OUT_C * cols];
    let mut f32_bound = vec![0.0; n * OUT_C * cols];
    for img in 0..n {
        for p in 0..cols {
            let xs: Vec<f64> = (0..c)
                .map(|ch| f64::from(x[(img * c + ch) * cols + p]))
                .collect();
            let dx = xs.iter().fold(0f64, |m, v| m.max(v.abs())) / 63.0 / 2.0;
            for o in 0..OUT_C {
                let row = &w[o * IN_C..(o + 1) * IN_C];
                let dw = row.iter().fold(0f32, |m, v| m.max(v.abs())) as f64 / 127.0 / 2.0;
                let mut sum = f64::from(b[o]);
                let mut err = 0.0;
                let mut magnitude = f64::from(b[o].abs());
                for (&wv, &xv) in row.iter().zip(&xs) {
                    sum += f64::from(wv) * xv;
                    magnitude += (f64::from(wv) * xv).abs();
                    err += dw * xv.abs() + f64::from(wv).abs() * dx + dw * dx;
                }
                let at = (img * OUT_C + o) * cols + p;
                exact[at] = sum;
                f32_bound[at] = 1e-6 * magnitude + 1e-7;
                // Float rounding of the scales and the final multiply-add on top.
                bound[at] = err * 1.001 + f32_bound[at];
            }
        }
    }
    (exact, bound, f32_bound)
}

/// Inputs whose magnitude varies from pixel to pixel, as feature maps do.
fn input(shape: [usize; 4], seed: u64) -> Vec<f32> {
    let [_, c, h, wd] = shape;
    let cols = h * wd;
    values(shape.iter().product(), seed)
        .into_iter()
        .enumerate()
        .map(|(i, v)| v * (1 + (i % cols) % 7) as f32 * if (i / cols) % c == 5 { 4.0 } else { 1.0 })
        .collect()
}

#[test]
fn int8_pointwise_stays_within_the_rounding_bound_and_is_not_exact() {
    let model = load(Some(48));
    // Widths around the 256-column blocks and the kernels' tiles, a batch of 3 and one pixel.
    for shape in [
        [1, IN_C, 6, 160],
        [3, IN_C, 3, 37],
        [1, IN_C, 1, 1],
        [2, IN_C, 2, 300],
    ] {
        let x = input(shape, 7 + shape[3] as u64);
        let y = run_x(&model, &shape, &x);
        assert_eq!(y.shape(), [shape[0], OUT_C, shape[2], shape[3]]);
        let (exact, bound, _) = exact_and_bound(shape, &x);
        let y = y.data().expect("contiguous");
        let mut inexact = 0;
        for (i, ((&got, &want), &bound)) in y.iter().zip(&exact).zip(&bound).enumerate() {
            let err = (f64::from(got) - want).abs();
            assert!(
                err <= bound,
                "{shape:?}: output {i} is {got}, exact {want}, bound {bound}"
            );
            if err > 1e-4 * (1.0 + want.abs()) {
                inexact += 1;
            }
        }
        assert!(
            inexact > y.len() / 4,
            "{shape:?}: only {inexact} outputs moved: not int8?"
        );
    }
}

#[test]
fn layers_narrower_than_the_threshold_stay_f32() {
    let shape = [2, IN_C, 3, 37];
    let x = input(shape, 11);
    let y = run_x(&load(Some(OUT_C + 1)), &shape, &x);
    let (exact, _, f32_bound) = exact_and_bound(shape, &x);
    let y = y.data().expect("contiguous");
    for (i, ((&got, &want), &bound)) in y.iter().zip(&exact).zip(&f32_bound).enumerate() {
        assert!(
            (f64::from(got) - want).abs() <= bound,
            "output {i} is {got}, expected {want}"
        );
    }
}

#[test]
fn a_pixel_with_a_nan_or_infinite_input_gives_nan_and_leaves_the_others_alone() {
    let shape = [1, IN_C, 1, 40];
    let mut x = input(shape, 13);
    let cols = 40;
    x[3 * cols + 7] = f32::NAN;
    x[10 * cols + 20] = f32::INFINITY;
    let y = run_x(&load(Some(48)), &shape, &x);
    let y = y.data().expect("contiguous");
    let (exact, bound, _) = exact_and_bound(shape, &input(shape, 13));
    for o in 0..OUT_C {
        for p in 0..cols {
            let got = y[o * cols + p];
            if p == 7 || p == 20 {
                assert!(got.is_nan(), "output {o} at pixel {p} is {got}, not NaN");
            } else {
                let at = o * cols + p;
                assert!(
                    (f64::from(got) - exact[at]).abs() <= bound[at],
                    "output {o} at {p}"
                );
            }
        }
    }
}
