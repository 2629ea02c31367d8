//! Model runs treat subnormal floats as zero (flush-to-zero and denormals-are-zero on the
//! threads that run them): the PP-OCRv6 detector's subnormal weights made two of its layers
//! fifty times slower than their size. `scale_half.onnx` multiplies by 0.5.

use std::path::PathBuf;

use folio_vision::{BackendKind, Tensor};
use rten::Model;
use rten_tensor::prelude::*;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scale_half.onnx")
}

/// The smallest normal float (its half is subnormal), a subnormal one, and a plain 1.
fn input() -> Vec<f32> {
    vec![f32::MIN_POSITIVE, f32::MIN_POSITIVE / 4.0, 1.0]
}

#[test]
fn rten_alone_keeps_subnormals() {
    // What the sessions below change: rten on its own pool computes the subnormal halves.
    let model = Model::load_file(fixture()).expect("load the fixture");
    let x = rten_tensor::Tensor::from_data(&[3], input());
    let y: rten_tensor::Tensor<f32> = model
        .run_one(x.into(), None)
        .expect("run")
        .into_tensor()
        .expect("a float tensor");
    let y = y.to_vec();
    assert!(y[0] > 0.0 && y[0] < f32::MIN_POSITIVE, "{y:?}");
    assert!(y[1] > 0.0 && y[1] < f32::MIN_POSITIVE, "{y:?}");
}

#[cfg_attr(
    not(target_arch = "x86_64"),
    ignore = "flush-to-zero is set only on x86-64 so far"
)]
#[test]
fn sessions_flush_subnormals_to_zero() {
    for threads in [1, 2] {
        let session = BackendKind::Rten
            .load(&fixture(), threads)
            .expect("load the fixture");
        let run = |y: Tensor| y.data;
        let input = || Tensor {
            shape: vec![3],
            data: input(),
        };
        // A subnormal result becomes zero (FTZ); a subnormal operand reads as zero (DAZ).
        assert_eq!(run(session.run(input()).expect("run")), [0.0, 0.0, 0.5]);
        for lane in 0..session.lanes() {
            let y = session.run_in_lane(lane, input()).expect("run in a lane");
            assert_eq!(y.data, [0.0, 0.0, 0.5], "lane {lane} of {threads}");
        }
    }
}
