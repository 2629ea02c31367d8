//! Concat of the vendored rten (third_party/rten, patched to copy large outputs in pieces on the
//! thread pool) against a direct concatenation: the PP-OCR detector concatenates two
//! 32-megabyte maps on its stem.

mod common;

use common::{fixture, values};
use rten_tensor::prelude::*;
use rten_tensor::Tensor;

/// `a` and `b` (NCHW, contiguous) joined along `axis`.
fn direct(a: &[f32], a_shape: [usize; 4], b: &[f32], axis: usize) -> Vec<f32> {
    let outer: usize = a_shape[..axis].iter().product();
    let (a_inner, b_inner) = (a.len() / outer, b.len() / outer);
    let mut out = Vec::with_capacity(a.len() + b.len());
    for o in 0..outer {
        out.extend_from_slice(&a[o * a_inner..][..a_inner]);
        out.extend_from_slice(&b[o * b_inner..][..b_inner]);
    }
    out
}

fn check(axis: usize, a_shape: [usize; 4], b_shape: [usize; 4]) {
    let model = fixture(&format!("concat_axis{axis}.onnx"));
    let id = |name: &str| model.node_id(name).expect("node");
    let len = |s: [usize; 4]| s.iter().product::<usize>();
    let a = values(len(a_shape), 3);
    let b = values(len(b_shape), 5);
    let [y] = model
        .run_n(
            vec![
                (id("a"), Tensor::from_data(&a_shape, a.clone()).into()),
                (id("b"), Tensor::from_data(&b_shape, b.clone()).into()),
            ],
            [id("y")],
            None,
        )
        .expect("run the concatenation");
    let y: Tensor<f32> = y.into_tensor().expect("a float tensor");
    let mut want_shape = a_shape;
    want_shape[axis] += b_shape[axis];
    assert_eq!(
        y.shape(),
        &want_shape,
        "axis {axis} {a_shape:?} {b_shape:?}"
    );
    let want = direct(&a, a_shape, &b, axis);
    assert!(
        y.data().expect("contiguous") == &want[..],
        "axis {axis} {a_shape:?} {b_shape:?}: the output differs from a direct concatenation"
    );
}

#[test]
fn the_detectors_stem_concatenation_matches_a_direct_one() {
    // Large enough (over a million elements) to be copied in parallel pieces, with a piece
    // boundary inside each input.
    check(1, [1, 24, 288, 144], [1, 24, 288, 144]);
    check(1, [1, 9, 433, 217], [1, 3, 433, 217]);
}

#[test]
fn concatenations_inside_each_image_of_a_batch_match_direct_ones() {
    // Axis 2 of a batch of two: each input contributes one slice per image and channel.
    check(2, [2, 3, 400, 300], [2, 3, 257, 300]);
    // Small outputs take rten's own path.
    check(2, [1, 2, 5, 7], [1, 2, 3, 7]);
    check(1, [2, 2, 5, 7], [2, 1, 5, 7]);
}
