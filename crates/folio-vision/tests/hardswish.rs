//! The hard swish fusion of the vendored rten (third_party/rten, patched): Paddle's ONNX export
//! writes hard swish as `x * Clip(x + 3, 0, 6) / 6`, four passes over each activation of the
//! layout model (94 times) and the text-direction classifier (18); rten now runs it as one
//! HardSwish operator. The values must stay those of the unfused graph.

mod common;

use std::path::PathBuf;

use common::values;
use rten::{Model, ModelOptions};
use rten_tensor::prelude::*;
use rten_tensor::Tensor;

fn load(name: &str, optimize: bool) -> Model {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    ModelOptions::with_all_ops()
        .enable_optimization(optimize)
        .load_file(&path)
        .expect("load the fixture")
}

fn run(model: &Model, x: &Tensor<f32>) -> Vec<f32> {
    let id = |name: &str| model.node_id(name).expect("node");
    let [y] = model
        .run_n(vec![(id("x"), x.view().into())], [id("y")], None)
        .expect("run the hard swish");
    let y: Tensor<f32> = y.into_tensor().expect("a float tensor");
    y.to_vec()
}

#[test]
fn paddle_hard_swish_is_fused_and_keeps_its_values() {
    for name in ["hardswish_div.onnx", "hardswish_mul.onnx"] {
        let fused = load(name, true);
        let plain = load(name, false);
        // The Clip between Add and Mul is gone from the optimised graph: one operator remains.
        assert!(plain.find_node("relu6").is_some(), "{name}");
        assert!(fused.find_node("relu6").is_none(), "{name}: not fused");
        // Inputs across every branch of the function: below -3, between, above 3.
        let shape = [1, 3, 7, 29];
        let x: Vec<f32> = values(shape.iter().product(), 7)
            .into_iter()
            .map(|v| v * 5.0)
            .collect();
        let x = Tensor::from_data(&shape, x);
        let (got, want) = (run(&fused, &x), run(&plain, &x));
        for ((g, w), v) in got.iter().zip(&want).zip(x.to_vec()) {
            let direct = v * (v + 3.0).clamp(0.0, 6.0) / 6.0;
            assert!(
                (g - w).abs() <= 1e-6 * (1.0 + w.abs()),
                "{name}: {v}: {g} vs {w}"
            );
            assert!(
                (g - direct).abs() <= 1e-6 * (1.0 + direct.abs()),
                "{name}: {v}"
            );
        }
    }
}
