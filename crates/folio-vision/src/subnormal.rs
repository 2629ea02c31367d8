//! Subnormal floats treated as zero on the threads that run the models.
//!
//! The PP-OCRv6 detector ships two 1x1 convolutions whose weights are mostly subnormal (70 k
//! and 185 k of 295 k values under `f32::MIN_POSITIVE`), and activations go subnormal too (the
//! recogniser's stem). x86 CPUs take a slow microcode path for every operation on a subnormal:
//! those two layers took 400 ms each on a 1-megapixel receipt where a layer of the same size
//! takes 8 ms, two thirds of the detector's time. With the flush-to-zero (FTZ) and
//! denormals-are-zero (DAZ) bits set, such values count as zero: they are under 1.2e-38, far
//! below anything that moves a probability, and the OCR text of the receipts is unchanged.
//! ONNX Runtime offers the same switch (`session.set_denormal_as_zero`), TensorFlow sets it on
//! its own threads by default.

/// Sets FTZ and DAZ on the calling thread; returns whether this CPU kind has them (x86-64).
/// Call it only on threads that run nothing but model kernels: it changes the arithmetic of
/// everything the thread does afterwards.
pub(crate) fn flush_on_this_thread() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        x86::set_ftz_daz();
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    /// MXCSR's flush-to-zero bit: subnormal results become zero.
    const FTZ: u32 = 1 << 15;
    /// MXCSR's denormals-are-zero bit: subnormal operands read as zero.
    const DAZ: u32 = 1 << 6;

    pub(super) fn set_ftz_daz() {
        let mut csr: u32 = 0;
        // SAFETY: `stmxcsr` stores this thread's SSE control and status register into `csr`, a
        // live, aligned u32; `ldmxcsr` loads it back with two mode bits more. Every x86-64 CPU
        // has MXCSR with both bits (DAZ since SSE2's later steppings, which all x86-64 CPUs
        // are); the register is per thread, so no other thread's arithmetic changes, and AVX and
        // AVX-512 arithmetic follow the same bits.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags));
            csr |= FTZ | DAZ;
            std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags, readonly));
        }
    }
}
