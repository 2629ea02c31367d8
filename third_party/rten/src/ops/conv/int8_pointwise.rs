//! Folio patch: 1x1 convolutions in int8, for models loaded with
//! `ModelOptions::quantize_pointwise_convs`.
//!
//! A recogniser such as PP-OCR's spends most of its time in 1x1 convolutions, which are float
//! GEMMs already running near the CPU's peak; int8 dot products (AVX-512 VNNI, or AVX2's
//! `vpmaddubsw`) do four times the multiplications per instruction. The weights are quantised
//! once, when the graph is optimised: symmetric, one scale per output channel. The input is
//! quantised on every run: symmetric, one scale per pixel (per GEMM column), so that one bright
//! pixel does not coarsen the others. Inputs use 7 bits (-63..=63): two products of a 7-bit
//! input with an 8-bit unsigned weight cannot overflow `vpmaddubsw`'s 16 bits, so every kernel
//! (VNNI, AVX2, Arm, generic) computes the same integers and results do not depend on the CPU.

use std::mem::MaybeUninit;

use rayon::prelude::*;
use rten_gemm::{
    BiasVector, GemmExecutor, GemmInputA, GemmInputB, GemmUninitOptions, PackedAMatrix,
};
use rten_tensor::prelude::*;
use rten_tensor::{NdTensorView, Tensor, TensorView};

use crate::buffer_pool::{AutoReturn, BufferPool};
use crate::operator::{
    IntoOpResult, OpError, OpRunContext, Operator, OutputList, OutputType, OutputTypeList,
    OutputTypesContext,
};

/// Largest magnitude of a quantised input value.
const INPUT_MAX: i32 = 63;
const INPUT_LEVELS: f32 = INPUT_MAX as f32;
/// Largest magnitude of a quantised weight.
const WEIGHT_LEVELS: f32 = 127.;
/// Offset that makes the signed weights the unsigned left-hand side the int8 kernels take.
const WEIGHT_OFFSET: i32 = 128;
/// Columns each parallel task quantises.
const COLUMN_BLOCK: usize = 256;

/// A 1x1, stride-1, unpadded, single-group convolution with int8 weights; input and output
/// are f32 (NCHW). Made by the graph optimiser from a `Conv` with constant weights.
pub struct Int8PointwiseConv {
    out_channels: usize,
    in_channels: usize,
    /// `weight / scale + 128`, packed for `gemm`.
    packed_weights: PackedAMatrix<u8>,
    /// Per output channel: the float value of one quantisation step.
    weight_scales: Vec<f32>,
}

impl std::fmt::Debug for Int8PointwiseConv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Int8PointwiseConv")
            .field("out_channels", &self.out_channels)
            .field("in_channels", &self.in_channels)
            .finish_non_exhaustive()
    }
}

impl Int8PointwiseConv {
    /// Quantises `weights` (`[out_channels, in_channels]`, row-major).
    pub fn new(weights: &[f32], out_channels: usize, in_channels: usize) -> Option<Self> {
        if out_channels == 0 || in_channels == 0 || weights.len() != out_channels * in_channels {
            return None;
        }
        let mut quantised = Vec::with_capacity(weights.len());
        let mut weight_scales = Vec::with_capacity(out_channels);
        for row in weights.chunks_exact(in_channels) {
            let max = row.iter().fold(0f32, |m, w| m.max(w.abs()));
            if !max.is_finite() {
                return None;
            }
            let scale = if max > 0. { max / WEIGHT_LEVELS } else { 1. };
            weight_scales.push(scale);
            quantised.extend(row.iter().map(|w| {
                let q = (w / scale).round().clamp(-WEIGHT_LEVELS, WEIGHT_LEVELS) as i32;
                (q + WEIGHT_OFFSET) as u8
            }));
        }
        let gemm = GemmExecutor::<u8, i8, i32>::default();
        let matrix = NdTensorView::from_data([out_channels, in_channels], quantised.as_slice());
        let packed_weights = gemm.prepack_a(matrix);
        Some(Int8PointwiseConv {
            out_channels,
            in_channels,
            packed_weights,
            weight_scales,
        })
    }

    fn run_f32(
        &self,
        pool: &BufferPool,
        input: TensorView<f32>,
        bias: Option<NdTensorView<f32, 1>>,
    ) -> Result<Tensor<f32>, OpError> {
        let [batch, in_c, in_h, in_w]: [usize; 4] = input
            .shape()
            .try_into()
            .map_err(|_| OpError::invalid_value("input must be NCHW"))?;
        if in_c != self.in_channels {
            return Err(OpError::invalid_value(
                "input channels do not match the weights",
            ));
        }
        if bias
            .as_ref()
            .is_some_and(|b| b.size(0) != self.out_channels)
        {
            return Err(OpError::invalid_value(
                "bias does not match the output channels",
            ));
        }
        let bias = bias.map(|b| b.to_vec());
        let input = input.to_contiguous_in(pool).auto_return(pool);
        let input = input.data();
        let cols = in_h * in_w;
        let out_c = self.out_channels;

        // The executor's kernel is the one `new` packed the weights for: both take the best
        // kernel this CPU supports.
        let gemm = GemmExecutor::<u8, i8, i32>::default();
        let mut output: Vec<f32> = pool.alloc(batch * out_c * cols);
        let mut quantised: Vec<i8> = pool.alloc(in_c * cols);
        let mut acc: Vec<MaybeUninit<i32>> = pool.alloc(out_c * cols);
        let mut col_scale = vec![0f32; cols];
        let mut col_sum = vec![0i32; cols];
        quantised.resize(in_c * cols, 0);
        acc.resize(out_c * cols, MaybeUninit::uninit());
        output.resize(batch * out_c * cols, 0.);

        for (item, out_item) in input
            .chunks_exact(in_c * cols)
            .zip(output.chunks_exact_mut(out_c * cols))
        {
            quantise_columns(
                item,
                in_c,
                cols,
                &mut quantised,
                &mut col_scale,
                &mut col_sum,
            );
            let b = NdTensorView::from_data([in_c, cols], quantised.as_slice());
            let products = gemm
                .gemm_uninit(
                    &mut acc,
                    GemmInputA::Packed(&self.packed_weights),
                    GemmInputB::Unpacked(b),
                    GemmUninitOptions::<u8, i8, i32> {
                        bias: None::<BiasVector<i32>>,
                        ..Default::default()
                    },
                )
                .map_err(|_| OpError::invalid_value("int8 GEMM failed"))?;
            let products: &[i32] = products;
            out_item
                .par_chunks_mut(cols)
                .zip(products.par_chunks(cols))
                .enumerate()
                .for_each(|(o, (out_row, acc_row))| {
                    let row = OutputRow {
                        acc: acc_row,
                        col_scale: &col_scale,
                        col_sum: &col_sum,
                        weight_scale: self.weight_scales[o],
                        bias: bias.as_ref().map_or(0., |b| b[o]),
                    };
                    #[cfg(target_arch = "x86_64")]
                    {
                        if rten_simd::is_avx512_supported() {
                            // Safety: the CPU supports the features the function is compiled for.
                            unsafe { dequantise_row_avx512(&row, out_row) };
                            return;
                        }
                        if std::arch::is_x86_feature_detected!("avx2") {
                            // Safety: as above.
                            unsafe { dequantise_row_avx2(&row, out_row) };
                            return;
                        }
                    }
                    dequantise_row(&row, out_row);
                });
        }
        pool.add(quantised);
        pool.add(acc);
        Ok(Tensor::from_data(&[batch, out_c, in_h, in_w], output))
    }
}

/// One output channel's integer products and what turns them back into floats.
struct OutputRow<'a> {
    acc: &'a [i32],
    col_scale: &'a [f32],
    col_sum: &'a [i32],
    weight_scale: f32,
    bias: f32,
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn dequantise_row_avx512(row: &OutputRow, out: &mut [f32]) {
    dequantise_row(row, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dequantise_row_avx2(row: &OutputRow, out: &mut [f32]) {
    dequantise_row(row, out)
}

/// `sum_c (w + 128) * x = sum_c w * x + 128 * sum_c x`: the column sums undo the offset that
/// made the weights unsigned.
#[inline(always)]
fn dequantise_row(row: &OutputRow, out: &mut [f32]) {
    let OutputRow {
        acc,
        col_scale,
        col_sum,
        weight_scale,
        bias,
    } = *row;
    for (((y, &a), &s), &sum) in out.iter_mut().zip(acc).zip(col_scale).zip(col_sum) {
        *y = (a - WEIGHT_OFFSET * sum) as f32 * (weight_scale * s) + bias;
    }
}

/// Quantises a `[rows, cols]` matrix column by column: `scale[c]` is the float value of one
/// step in column `c`, `sum[c]` the sum of its quantised values.
fn quantise_columns(
    x: &[f32],
    rows: usize,
    cols: usize,
    out: &mut [i8],
    scale: &mut [f32],
    sum: &mut [i32],
) {
    debug_assert!(x.len() == rows * cols && out.len() == rows * cols);
    // Blocks of columns are independent, so they run in parallel; each writes only its own
    // columns of `out`.
    let out_ptr = SendPtr(out.as_mut_ptr());
    scale
        .par_chunks_mut(COLUMN_BLOCK)
        .zip(sum.par_chunks_mut(COLUMN_BLOCK))
        .enumerate()
        .for_each(|(block, (scale, sum))| {
            let block = ColumnBlock {
                x,
                rows,
                cols,
                start: block * COLUMN_BLOCK,
                out: out_ptr,
            };
            #[cfg(target_arch = "x86_64")]
            {
                if rten_simd::is_avx512_supported() {
                    // Safety: the CPU supports the features the function is compiled for.
                    unsafe { quantise_block_avx512(&block, scale, sum) };
                    return;
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // Safety: as above.
                    unsafe { quantise_block_avx2(&block, scale, sum) };
                    return;
                }
            }
            quantise_block(&block, scale, sum);
        });
}

/// The columns `start..start + scale.len()` of a `[rows, cols]` matrix and of its quantised
/// copy.
struct ColumnBlock<'a> {
    x: &'a [f32],
    rows: usize,
    cols: usize,
    start: usize,
    out: SendPtr,
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn quantise_block_avx512(block: &ColumnBlock, scale: &mut [f32], sum: &mut [i32]) {
    quantise_block(block, scale, sum)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn quantise_block_avx2(block: &ColumnBlock, scale: &mut [f32], sum: &mut [i32]) {
    quantise_block(block, scale, sum)
}

/// Finds each column's largest magnitude, then writes its quantised values; plain loops over
/// whole rows of the block, which the compiler vectorises for the caller's target features.
#[inline(always)]
fn quantise_block(block: &ColumnBlock, scale: &mut [f32], sum: &mut [i32]) {
    let ColumnBlock {
        x,
        rows,
        cols,
        start,
        out,
    } = *block;
    let width = scale.len();
    let mut max = [0f32; COLUMN_BLOCK];
    let max = &mut max[..width];
    // `v * 0` is NaN for a NaN or infinite `v`, and NaN stays NaN through the sums.
    let mut poison = [0f32; COLUMN_BLOCK];
    let poison = &mut poison[..width];
    for r in 0..rows {
        let row = &x[r * cols + start..r * cols + start + width];
        for ((m, p), v) in max.iter_mut().zip(poison.iter_mut()).zip(row) {
            *m = m.max(v.abs());
            *p += v * 0.;
        }
    }
    let mut inv = [0f32; COLUMN_BLOCK];
    let inv = &mut inv[..width];
    for (((s, i), &m), &p) in scale
        .iter_mut()
        .zip(inv.iter_mut())
        .zip(max.iter())
        .zip(poison.iter())
    {
        (*s, *i) = if p.is_nan() {
            // A pixel with a NaN or infinite input gets NaN outputs, as in f32.
            (f32::NAN, 0.)
        } else if m > 0. {
            (m / INPUT_LEVELS, INPUT_LEVELS / m)
        } else {
            (0., 0.)
        };
    }
    // Adding 1.5 * 2^23 to a float under 2^22 in magnitude rounds it to an integer (half to
    // even) held in the low mantissa bits: subtracting the constant's bits reads it out with
    // integer arithmetic, no conversion instruction and no libm call.
    const ROUNDER: f32 = 12_582_912.;
    let rounder_bits = ROUNDER.to_bits() as i32;
    sum.fill(0);
    for r in 0..rows {
        let row = &x[r * cols + start..r * cols + start + width];
        // Safety: this block alone writes columns start..start + width of `out`, and
        // r * cols + start + width <= rows * cols == out.len().
        let dst = unsafe { std::slice::from_raw_parts_mut(out.get().add(r * cols + start), width) };
        for (((d, &v), &i), acc) in dst.iter_mut().zip(row).zip(inv.iter()).zip(sum.iter_mut()) {
            // The clamp only matters for a poisoned pixel, whose outputs are NaN anyway.
            let q =
                ((v * i + ROUNDER).to_bits() as i32 - rounder_bits).clamp(-INPUT_MAX, INPUT_MAX);
            *d = q as i8;
            *acc += q;
        }
    }
}

/// A raw pointer that parallel tasks writing disjoint parts of one buffer can share.
#[derive(Clone, Copy)]
struct SendPtr(*mut i8);
// Safety: used only for writes to disjoint ranges (see `quantise_columns`).
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}
impl SendPtr {
    fn get(self) -> *mut i8 {
        self.0
    }
}

impl Operator for Int8PointwiseConv {
    fn name(&self) -> &str {
        "Int8PointwiseConv"
    }

    fn max_inputs(&self) -> Option<usize> {
        Some(2)
    }

    fn run(&self, ctx: &OpRunContext) -> Result<OutputList, OpError> {
        let inputs = ctx.inputs();
        let input: TensorView<f32> = inputs.require_as(0)?;
        let bias: Option<NdTensorView<f32, 1>> = inputs.get_as(1)?;
        self.run_f32(ctx.pool(), input, bias).into_op_result()
    }

    fn output_types(&self, _ctx: &OutputTypesContext) -> Option<OutputTypeList> {
        Some([OutputType::CopyFromInput(0)].into())
    }

    fn as_infer_shapes(&self) -> Option<&dyn crate::infer_shapes::InferShapes> {
        // Made after shape inference, by the optimiser.
        None
    }
}
