//! Clearing the upper halves of the vector registers after faer calls.
//!
//! faer's AVX-512 kernels can return with the upper vector state dirty (no `vzeroupper`);
//! every legacy-SSE instruction after that (all Rust code compiled for the x86-64 baseline:
//! the sigmoid, entropy and normalisation loops around the solvers) then pays a false
//! dependency on the whole register. Measured on this machine's Xeon (AVX-512): 2,048 sigmoid
//! and h2 evaluations took 800–860 µs after one 64 × 64 faer `matmul` and 35 µs after
//! `vzeroupper` (as without any matmul).

/// Executes `vzeroupper` when the CPU has AVX (a no-op elsewhere). Call it after faer
/// routines, before scalar code.
#[inline]
pub(crate) fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, as checked just above.
        unsafe { zero_upper() }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn zero_upper() {
    std::arch::x86_64::_mm256_zeroupper();
}
