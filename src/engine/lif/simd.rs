//! Run-time choice of the widest vector unit for the hot loops. The loops are written once in
//! portable Rust; the macro compiles them again with AVX-512 and AVX2 enabled and picks a version
//! when called.

/// Defines `$name`, which runs `$portable` compiled for AVX-512 or AVX2 when the CPU has them.
/// Only element-wise adds and multiplies are involved (no fused multiply-add, no reordering), so
/// every version gives bit-identical results.
macro_rules! widest_impl {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) => $portable:ident) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512($($arg: $ty),*) {
                    $portable($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) {
                    $portable($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F, checked just above.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2, checked just above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $portable($($arg),*)
        }
    };
}

pub(crate) use widest_impl as widest;
