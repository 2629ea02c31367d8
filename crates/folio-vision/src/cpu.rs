//! Which CPU the models run on and which of rten's kernels it gets: speed figures mean little
//! without them (the AVX-512 and AVX2 kernels differ by tens of percent on the OCR models).

/// The CPU's model name, as the kernel reports it (`/proc/cpuinfo`); `unknown` elsewhere.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The vector unit rten's kernels (and Folio's patches to them) run on: `avx512`, `avx2`,
/// `neon` or `generic`. `FOLIO_SIMD=avx2` turns AVX-512 off, to test and measure the AVX2
/// kernels on a CPU that has both.
pub fn vector_unit() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if rten_simd::is_avx512_supported() {
            return "avx512";
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return "avx2";
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        return "neon";
    }
    #[allow(unreachable_code)]
    "generic"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vector_unit_follows_folio_simd() {
        let unit = vector_unit();
        assert!(["avx512", "avx2", "neon", "generic"].contains(&unit));
        if std::env::var("FOLIO_SIMD").is_ok_and(|v| v == "avx2") {
            assert_ne!(unit, "avx512");
        }
        assert!(!cpu_model().is_empty());
    }
}
