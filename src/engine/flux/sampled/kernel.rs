//! The sampler's hot loop: adding signed sums of weight columns to the net inputs.
//!
//! A step needs z_i += c·(Σ_{j∈plus} W_ij − Σ_{j∈minus} W_ij) over roughly N/2 columns, which
//! streams N²/2 weights and is bound by memory and instruction throughput. Rows are processed
//! in tiles whose partial sums stay in registers, so each weight costs one load-convert and
//! one add; on x86-64 the same code is also compiled for AVX2 and chosen at run time. Both
//! versions perform the same IEEE operations in the same order (no fused multiply-add), so
//! the result does not depend on which one runs.

/// Rows per tile: 32 f64 partial sums fill eight 256-bit registers, enough independent add
/// chains to hide the add latency. (An AVX-512 build was tried and was no faster: at
/// N ≈ 1000 the loop is then bound by streaming the weights from the L3 cache.)
const TILE: usize = 32;

/// Column-major f32 weights: `data[j * n + i]` = W_ij.
pub(super) struct Columns {
    n: usize,
    data: Vec<f32>,
}

impl Columns {
    pub fn new(n: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), n * n);
        Columns { n, data }
    }

    pub fn get(&self, i: usize, j: usize) -> f32 {
        self.data[j * self.n + i]
    }

    /// z_i += scale·(Σ_{j∈plus} W_ij − Σ_{j∈minus} W_ij) for every i.
    pub fn add_signed_sums(&self, z: &mut [f64], scale: f64, plus: &[usize], minus: &[usize]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, as checked just above.
            unsafe { add_signed_sums_avx2(self, z, scale, plus, minus) };
            return;
        }
        add_signed_sums_portable(self, z, scale, plus, minus);
    }
}

/// The portable code compiled with AVX2 enabled (wider vectors, same arithmetic).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn add_signed_sums_avx2(w: &Columns, z: &mut [f64], scale: f64, plus: &[usize], minus: &[usize]) {
    add_signed_sums_portable(w, z, scale, plus, minus);
}

#[inline(always)]
fn add_signed_sums_portable(
    w: &Columns,
    z: &mut [f64],
    scale: f64,
    plus: &[usize],
    minus: &[usize],
) {
    let n = w.n;
    let full = n / TILE * TILE;
    for start in (0..full).step_by(TILE) {
        let mut acc = [0.0f64; TILE];
        for &j in plus {
            add_tile(&mut acc, tile(w, j, start), 1.0);
        }
        for &j in minus {
            add_tile(&mut acc, tile(w, j, start), -1.0);
        }
        for (zi, a) in z[start..start + TILE].iter_mut().zip(acc) {
            *zi += scale * a;
        }
    }
    for (i, zi) in z.iter_mut().enumerate().take(n).skip(full) {
        let sum_plus: f64 = plus.iter().map(|&j| f64::from(w.get(i, j))).sum();
        let sum_minus: f64 = minus.iter().map(|&j| f64::from(w.get(i, j))).sum();
        *zi += scale * (sum_plus - sum_minus);
    }
}

/// Rows start..start + TILE of column j.
#[inline(always)]
fn tile(w: &Columns, j: usize, start: usize) -> &[f32; TILE] {
    let offset = j * w.n + start;
    w.data[offset..offset + TILE]
        .try_into()
        .expect("tile inside the column")
}

#[inline(always)]
fn add_tile(acc: &mut [f64; TILE], column: &[f32; TILE], sign: f64) {
    for (a, &x) in acc.iter_mut().zip(column) {
        *a += sign * f64::from(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_sums_match_a_direct_loop() {
        let n = 70; // two full tiles and a tail
        let data: Vec<f32> = (0..n * n)
            .map(|k| ((k * 37 % 101) as f32 - 50.0) / 8.0)
            .collect();
        let w = Columns::new(n, data);
        let (plus, minus) = (vec![0, 5, 69], vec![3, 64]);
        let mut z = vec![1.0; n];
        w.add_signed_sums(&mut z, 2.0, &plus, &minus);
        for (i, zi) in z.iter().enumerate() {
            let p: f64 = plus.iter().map(|&j| f64::from(w.get(i, j))).sum();
            let m: f64 = minus.iter().map(|&j| f64::from(w.get(i, j))).sum();
            assert_eq!(*zi, 1.0 + 2.0 * (p - m));
        }
    }
}
