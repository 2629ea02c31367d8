//! What the rten convolution tests share: inputs, the model run and the comparison.
// Each test binary uses a part of what is here.
#![allow(dead_code)]

use std::path::PathBuf;

use rten::Model;
use rten_tensor::prelude::*;
use rten_tensor::Tensor;

/// Deterministic values in [-1, 1).
pub fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// A one-convolution fixture from `tests/fixtures`, with inputs `x`, `w`, `b` and output `y`.
pub fn fixture(name: &str) -> Model {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    Model::load_file(&path).expect("load the fixture")
}

/// Runs the fixture on input `x`, weights `w` and bias `b`, each with its shape.
pub fn run_conv(
    model: &Model,
    x: (&[usize], &[f32]),
    w: (&[usize], &[f32]),
    b: &[f32],
) -> Tensor<f32> {
    let id = |name: &str| model.node_id(name).expect("node");
    let inputs = vec![
        (id("x"), Tensor::from_data(x.0, x.1.to_vec()).into()),
        (id("w"), Tensor::from_data(w.0, w.1.to_vec()).into()),
        (id("b"), Tensor::from_data(&[b.len()], b.to_vec()).into()),
    ];
    let [y] = model
        .run_n(inputs, [id("y")], None)
        .expect("run the convolution");
    y.into_tensor().expect("a float tensor")
}

/// Runs a one-input fixture on `x` (of `shape`) and returns its output `y`.
pub fn run_x(model: &Model, shape: &[usize], x: &[f32]) -> Tensor<f32> {
    let id = |name: &str| model.node_id(name).expect("node");
    let [y] = model
        .run_n(
            vec![(id("x"), Tensor::from_data(shape, x.to_vec()).into())],
            [id("y")],
            None,
        )
        .expect("run the fixture");
    y.into_tensor().expect("a float tensor")
}

/// Asserts that `got` has `shape` and is within float rounding of `want`.
pub fn assert_close(case: &str, got: &Tensor<f32>, shape: &[usize], want: &[f64]) {
    assert_eq!(got.shape(), shape, "{case}");
    for (i, (&got, &want)) in got.data().expect("contiguous").iter().zip(want).enumerate() {
        assert!(
            (f64::from(got) - want).abs() <= 1e-5 * (1.0 + want.abs()),
            "{case}: element {i} is {got}, expected {want}"
        );
    }
}
