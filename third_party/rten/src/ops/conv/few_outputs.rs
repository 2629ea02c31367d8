//! Folio patch: direct convolution for layers with few output channels, on CPUs with AVX-512
//! or AVX2 and FMA.
//!
//! The im2col + GEMM path packs every input value once per kernel tap before the arithmetic
//! starts. With 12 or 24 output channels each packed value is used only 12 or 24 times, so the
//! packing costs more than the multiplications: on the PP-OCR detector's first layers (full
//! resolution, 2x2 and 3x3 kernels) it took 4 to 9 ns per input element. Here a block of
//! output channels by columns stays in vector registers while every tap of every input channel
//! is added in, each input vector loaded once per tap and used once per channel of the block:
//! 12 channels by 32 columns in 24 of AVX-512's 32 registers, 6 channels by 16 columns in 12 of
//! AVX2's 16.

use rayon::prelude::*;
use rten_tensor::prelude::*;
use rten_tensor::{NdTensor, NdTensorView, TensorView};

use crate::buffer_pool::BufferPool;
use crate::ops::Padding;
use crate::ops::pooling::{RoundMode, calc_output_size_and_padding};

/// Layers with more output channels than this reuse packed input enough for GEMM to win.
const MAX_OUT_CHANNELS: usize = 32;
/// Output channels computed together by the AVX-512 kernel (two vectors of accumulators each);
/// the AVX2 kernel takes them in two halves.
const OC_BLOCK: usize = 12;
/// Output columns computed together by the AVX-512 kernel: two 16-float vectors; the AVX2 kernel
/// takes them in two halves of two 8-float vectors.
const X_BLOCK: usize = 32;
/// Output channels and columns of the AVX2 kernel's block.
const OC_BLOCK_AVX2: usize = OC_BLOCK / 2;
const X_BLOCK_AVX2: usize = X_BLOCK / 2;
/// Output rows each parallel task computes.
const ROWS_PER_TASK: usize = 4;

/// Runs the convolution directly when the layer is one this path is for (f32, one group,
/// dilation 1, a kernel larger than 1x1, at most [`MAX_OUT_CHANNELS`] outputs, a CPU with
/// AVX-512 or AVX2 and FMA); returns `None` to leave it to the general path, which also reports malformed inputs.
///
/// A horizontal stride is handled by splitting each padded input row into `stride` phases
/// (every `stride`-th column), so that every tap still reads contiguous columns.
#[allow(clippy::too_many_arguments)]
pub(crate) fn try_conv_few_outputs(
    pool: &BufferPool,
    input: &TensorView<f32>,
    kernel: &TensorView<f32>,
    bias: Option<NdTensorView<f32, 1>>,
    padding: &Padding,
    groups: usize,
    strides: &[usize],
    dilations: &[usize],
) -> Option<NdTensor<f32, 4>> {
    let isa = Simd::detect()?;
    if groups != 1
        || input.ndim() != 4
        || kernel.ndim() != 4
        || strides.len() != 2
        || strides.iter().any(|&s| s == 0 || s > 4)
        || dilations.iter().any(|&d| d != 1)
    {
        return None;
    }
    let [batch, in_c, in_h, in_w] = <[usize; 4]>::try_from(input.shape()).ok()?;
    let [out_c, k_in_c, k_h, k_w] = <[usize; 4]>::try_from(kernel.shape()).ok()?;
    if out_c == 0 || out_c > MAX_OUT_CHANNELS || k_in_c != in_c || k_h * k_w == 1 {
        return None;
    }
    if bias.is_some_and(|b| b.size(0) != out_c) {
        return None;
    }
    let (stride_y, stride_x) = (strides[0], strides[1]);
    let (out_h, out_w, [pad_top, pad_left, _, _]) = calc_output_size_and_padding(
        (in_h, in_w),
        (k_h, k_w),
        (stride_y, stride_x),
        padding.clone(),
        Some((1, 1)),
        RoundMode::default(),
    )
    .ok()?;
    if out_h == 0 || out_w == 0 {
        return None;
    }

    let input = input.to_contiguous_in(pool);
    let input = input.data();
    let kernel = kernel.to_contiguous_in(pool);
    let kernel = kernel.data();

    // Weights as [tap][output channel], channels padded with zeros to whole blocks.
    let taps = in_c * k_h * k_w;
    let padded_out_c = out_c.div_ceil(OC_BLOCK) * OC_BLOCK;
    let mut weights = vec![0.0f32; taps * padded_out_c];
    for oc in 0..out_c {
        for tap in 0..taps {
            weights[tap * padded_out_c + oc] = kernel[oc * taps + tap];
        }
    }
    let mut biases = vec![0.0f32; padded_out_c];
    if let Some(b) = bias {
        for (dst, src) in biases.iter_mut().zip(b.iter()) {
            *dst = *src;
        }
    }
    // Columns rounded up to whole blocks; padded input rows hold every column a block reads.
    let block_w = out_w.div_ceil(X_BLOCK) * X_BLOCK;
    let row_len = block_w + (k_w - 1) / stride_x;
    let layer = Layer {
        isa,
        in_c,
        in_h,
        in_w,
        k_h,
        stride_y,
        stride_x,
        pad_top,
        pad_left,
        row_len,
        block_w,
        padded_out_c,
        weights: &weights,
        biases: &biases,
        offsets: (0..in_c * k_h)
            .flat_map(|row| {
                (0..k_w)
                    .map(move |k_x| (row * stride_x + k_x % stride_x) * row_len + k_x / stride_x)
            })
            .collect(),
    };

    let plane = out_h * out_w;
    let mut output = vec![0.0f32; batch * out_c * plane];
    for (image, out_image) in input
        .chunks_exact(in_c * in_h * in_w)
        .zip(output.chunks_mut(out_c * plane))
    {
        // Band `t` of every output channel's plane, so that one task owns rows of all channels.
        let mut bands: Vec<Vec<&mut [f32]>> = Vec::new();
        for channel in out_image.chunks_mut(plane) {
            for (t, rows) in channel.chunks_mut(ROWS_PER_TASK * out_w).enumerate() {
                if bands.len() <= t {
                    bands.push(Vec::with_capacity(out_c));
                }
                bands[t].push(rows);
            }
        }
        bands.into_par_iter().enumerate().for_each(|(t, mut band)| {
            let mut rows = vec![0.0f32; in_c * k_h * stride_x * row_len];
            let mut sums = vec![0.0f32; padded_out_c * block_w];
            for row in 0..ROWS_PER_TASK {
                let out_y = t * ROWS_PER_TASK + row;
                if out_y >= out_h {
                    break;
                }
                layer.gather_rows(image, out_y, &mut rows);
                layer.sum_row(&rows, &mut sums);
                for (dst, src) in band.iter_mut().zip(sums.chunks_exact(block_w)) {
                    dst[row * out_w..(row + 1) * out_w].copy_from_slice(&src[..out_w]);
                }
            }
        });
    }
    Some(NdTensor::from_data([batch, out_c, out_h, out_w], output))
}

/// The vector unit the kernel runs on.
#[derive(Clone, Copy)]
enum Simd {
    Avx512,
    Avx2,
}

impl Simd {
    /// The widest unit this CPU has (AVX-512 unless `FOLIO_SIMD=avx2` turns it off, see
    /// rten-simd), or `None` to leave the layer to the general path.
    fn detect() -> Option<Simd> {
        #[cfg(target_arch = "x86_64")]
        {
            if rten_simd::is_avx512_supported() {
                return Some(Simd::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Some(Simd::Avx2);
            }
        }
        None
    }
}

struct Layer<'a> {
    isa: Simd,
    in_c: usize,
    in_h: usize,
    in_w: usize,
    k_h: usize,
    stride_y: usize,
    stride_x: usize,
    pad_top: usize,
    pad_left: usize,
    /// Length of a zero-padded input row (of one phase).
    row_len: usize,
    /// Output columns rounded up to a whole number of blocks.
    block_w: usize,
    padded_out_c: usize,
    /// `[tap][padded_out_c]`.
    weights: &'a [f32],
    biases: &'a [f32],
    /// Where tap (ic, k_y, k_x) starts in the padded rows.
    offsets: Vec<usize>,
}

impl Layer<'_> {
    /// Copies the input rows output row `out_y` reads into `rows`, zero-padded: phase p of
    /// row (ic, k_y) holds input column j * stride_x + p - pad_left at j, zeros where that is
    /// outside the image.
    fn gather_rows(&self, image: &[f32], out_y: usize, rows: &mut [f32]) {
        rows.fill(0.0);
        for ic in 0..self.in_c {
            let in_plane = &image[ic * self.in_h * self.in_w..][..self.in_h * self.in_w];
            for k_y in 0..self.k_h {
                let in_y = out_y * self.stride_y + k_y;
                if in_y < self.pad_top || in_y - self.pad_top >= self.in_h {
                    continue;
                }
                let src = &in_plane[(in_y - self.pad_top) * self.in_w..][..self.in_w];
                let row = (ic * self.k_h + k_y) * self.stride_x;
                if self.stride_x == 1 {
                    let dst = &mut rows[row * self.row_len..][..self.row_len];
                    let n = self.in_w.min(self.row_len.saturating_sub(self.pad_left));
                    dst[self.pad_left..self.pad_left + n].copy_from_slice(&src[..n]);
                    continue;
                }
                for phase in 0..self.stride_x {
                    let dst = &mut rows[(row + phase) * self.row_len..][..self.row_len];
                    for (j, d) in dst.iter_mut().enumerate() {
                        let col = j * self.stride_x + phase;
                        if col >= self.pad_left && col - self.pad_left < self.in_w {
                            *d = src[col - self.pad_left];
                        }
                    }
                }
            }
        }
    }

    /// Sums every tap into `sums` (`[padded_out_c][block_w]`, bias included).
    fn sum_row(&self, rows: &[f32], sums: &mut [f32]) {
        let taps = self.offsets.len();
        assert!(self.weights.len() >= taps * self.padded_out_c);
        assert!(self.biases.len() >= self.padded_out_c);
        assert!(sums.len() >= self.padded_out_c * self.block_w);
        assert!(
            self.offsets
                .iter()
                .all(|&off| off + self.block_w <= rows.len())
        );
        #[cfg(target_arch = "x86_64")]
        // Safety: `Simd::detect` checked that the CPU has the kernel's features, and the
        // asserts above keep every access in bounds.
        unsafe {
            match self.isa {
                Simd::Avx512 => sum_row_avx512(self, rows, sums),
                Simd::Avx2 => sum_row_avx2(self, rows, sums),
            }
        };
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sum_row_avx512(layer: &Layer, rows: &[f32], sums: &mut [f32]) {
    use std::arch::x86_64::*;
    let stride = layer.padded_out_c;
    for oc0 in (0..layer.padded_out_c).step_by(OC_BLOCK) {
        for x0 in (0..layer.block_w).step_by(X_BLOCK) {
            let mut acc = [[_mm512_setzero_ps(); 2]; OC_BLOCK];
            for (o, a) in acc.iter_mut().enumerate() {
                let b = _mm512_set1_ps(layer.biases[oc0 + o]);
                *a = [b, b];
            }
            for (tap, &off) in layer.offsets.iter().enumerate() {
                // Safety: off + x0 + 32 <= rows.len(), checked by the caller.
                let (v0, v1) = unsafe {
                    let p = rows.as_ptr().add(off + x0);
                    (_mm512_loadu_ps(p), _mm512_loadu_ps(p.add(16)))
                };
                // Safety: tap * stride + oc0 + OC_BLOCK <= weights.len(), checked by the caller.
                let w = unsafe { layer.weights.as_ptr().add(tap * stride + oc0) };
                for (o, a) in acc.iter_mut().enumerate() {
                    let wv = _mm512_set1_ps(unsafe { *w.add(o) });
                    a[0] = _mm512_fmadd_ps(wv, v0, a[0]);
                    a[1] = _mm512_fmadd_ps(wv, v1, a[1]);
                }
            }
            for (o, a) in acc.iter().enumerate() {
                // Safety: (oc0 + o) * block_w + x0 + 32 <= sums.len(), checked by the caller.
                unsafe {
                    let q = sums.as_mut_ptr().add((oc0 + o) * layer.block_w + x0);
                    _mm512_storeu_ps(q, a[0]);
                    _mm512_storeu_ps(q.add(16), a[1]);
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sum_row_avx2(layer: &Layer, rows: &[f32], sums: &mut [f32]) {
    use std::arch::x86_64::*;
    let stride = layer.padded_out_c;
    for oc0 in (0..layer.padded_out_c).step_by(OC_BLOCK_AVX2) {
        for x0 in (0..layer.block_w).step_by(X_BLOCK_AVX2) {
            let mut acc = [[_mm256_setzero_ps(); 2]; OC_BLOCK_AVX2];
            for (o, a) in acc.iter_mut().enumerate() {
                let b = _mm256_set1_ps(layer.biases[oc0 + o]);
                *a = [b, b];
            }
            for (tap, &off) in layer.offsets.iter().enumerate() {
                // Safety: off + x0 + 16 <= off + block_w <= rows.len(), checked by the caller.
                let (v0, v1) = unsafe {
                    let p = rows.as_ptr().add(off + x0);
                    (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)))
                };
                // Safety: tap * stride + oc0 + 6 <= weights.len(), checked by the caller.
                let w = unsafe { layer.weights.as_ptr().add(tap * stride + oc0) };
                for (o, a) in acc.iter_mut().enumerate() {
                    let wv = _mm256_set1_ps(unsafe { *w.add(o) });
                    a[0] = _mm256_fmadd_ps(wv, v0, a[0]);
                    a[1] = _mm256_fmadd_ps(wv, v1, a[1]);
                }
            }
            for (o, a) in acc.iter().enumerate() {
                // Safety: (oc0 + o) * block_w + x0 + 16 <= sums.len(), checked by the caller.
                unsafe {
                    let q = sums.as_mut_ptr().add((oc0 + o) * layer.block_w + x0);
                    _mm256_storeu_ps(q, a[0]);
                    _mm256_storeu_ps(q.add(8), a[1]);
                }
            }
        }
    }
}
