//! One pass of the triangular solves for several vectors (siblings whose GMRES runs in lock
//! step): every load of the factors serves all of them, and their substitution chains
//! interleave, so one vector's latency hides behind the others'. Each vector gets exactly the
//! bits a solve of its own would give it (the same fused multiply-adds in the same order).
//!
//! The vectors are held across lanes (`sums[r][q]` is row b0 + r of vector q), so a step is
//! one 4-wide multiply-add per row with the factor entry broadcast. LLVM does not keep such
//! arrays in registers when they are also indexed at run time (the solve within a block), and
//! a store and reload per step cost more than the multiply-add, so on x86-64 with AVX2 the
//! kernel is written with `std::arch` intrinsics; elsewhere the same order runs as plain loops.
//! CPUs with AVX-512 take the `wide` kernel instead (rows across lanes, eight terms per
//! multiply-add).

use super::{BLOCK, Preconditioner};
use crate::engine::flux::exact::PRECONDITIONER_MAX_N;

/// Vectors solved together: one 256-bit register holds a row of all four.
pub const LOCKSTEP: usize = 4;

impl Preconditioner {
    /// `v ← A⁻¹·v` for every vector, [`LOCKSTEP`] at a time, each getting the bits
    /// [`Preconditioner::solve_in_place`] would give it. (Callers compiled for AVX2 and FMA
    /// solve a lone vector faster with `solve_in_place` itself.)
    ///
    /// # Panics
    /// If a vector's length is not the number of states.
    pub(in crate::engine::flux::exact) fn solve_many_in_place(&self, vectors: &mut [&mut [f64]]) {
        #[cfg(target_arch = "x86_64")]
        if self.states.is_multiple_of(super::wide::TILE) {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("fma") {
                for group in vectors.chunks_mut(LOCKSTEP) {
                    self.swap_rows(group);
                    // SAFETY: the CPU supports AVX-512F and FMA (checked above), the states
                    // are a multiple of the tile, and the group holds its count of vectors.
                    unsafe {
                        match group.len() {
                            1 => self.substitute_avx512::<1>(group),
                            2 => self.substitute_avx512::<2>(group),
                            3 => self.substitute_avx512::<3>(group),
                            _ => self.substitute_avx512::<4>(group),
                        }
                    }
                }
                return;
            }
        }
        for group in vectors.chunks_mut(LOCKSTEP) {
            self.swap_rows(group);
            // A single vector also goes through the vector kernel (three idle lanes): this
            // function is not compiled for FMA, so the one-vector loops would call libm's fma.
            if !self.states.is_multiple_of(BLOCK) {
                for v in group.iter_mut() {
                    self.forward(v);
                    self.backward(v);
                }
                continue;
            }
            #[cfg(target_arch = "x86_64")]
            {
                use std::arch::is_x86_feature_detected as has;
                if has!("avx2") && has!("fma") {
                    // SAFETY: the CPU supports AVX2 and FMA, as checked just above.
                    unsafe { self.substitute_avx2(group) };
                    continue;
                }
            }
            self.substitute_portable(group);
        }
    }

    /// The row swaps of the factorisation, applied to every vector.
    fn swap_rows(&self, vectors: &mut [&mut [f64]]) {
        for v in vectors.iter_mut() {
            self.permute(v);
        }
    }

    /// Forward then backward substitution of up to four vectors, with plain loops.
    fn substitute_portable(&self, vectors: &mut [&mut [f64]]) {
        let n = self.states;
        let mut finished = [[0.0; LOCKSTEP]; 1 << PRECONDITIONER_MAX_N];
        for b0 in (0..n).step_by(BLOCK) {
            let mut sums = load_rows(vectors, b0);
            for (k, f) in finished[..b0].iter().enumerate() {
                update(&mut sums, f, self.panel_block(k, b0));
            }
            for k in 0..BLOCK {
                let l = self.panel_block(b0 + k, b0);
                let f = sums[k].map(|x| -x);
                for (row, &lr) in sums[k + 1..].iter_mut().zip(&l[k + 1..]) {
                    lanes_update(row, &f, lr);
                }
            }
            store_rows(vectors, &sums, b0, &mut finished);
        }
        for b0 in (0..n).step_by(BLOCK).rev() {
            let mut sums = load_rows(vectors, b0);
            for (i, f) in finished[b0 + BLOCK..n].iter().enumerate().rev() {
                update(&mut sums, f, self.panel_block(b0 + BLOCK + i, b0));
            }
            for k in (0..BLOCK).rev() {
                let u = self.panel_block(b0 + k, b0);
                let inverse = self.inverse_diagonal[b0 + k];
                sums[k] = sums[k].map(|x| x * inverse);
                let f = sums[k].map(|x| -x);
                for (row, &ur) in sums[..k].iter_mut().zip(u) {
                    lanes_update(row, &f, ur);
                }
            }
            store_rows(vectors, &sums, b0, &mut finished);
        }
    }

    /// [`Preconditioner::substitute_portable`] with the rows of a block in eight 256-bit
    /// registers; lane q is vector q (unused lanes hold zeros and are discarded).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn substitute_avx2(&self, vectors: &mut [&mut [f64]]) {
        use std::arch::x86_64::{
            __m256d, _mm256_fmadd_pd, _mm256_mul_pd, _mm256_set1_pd, _mm256_setzero_pd,
            _mm256_xor_pd,
        };
        let n = self.states;
        let sign = _mm256_set1_pd(-0.0);
        let mut finished = [_mm256_setzero_pd(); 1 << PRECONDITIONER_MAX_N];
        for b0 in (0..n).step_by(BLOCK) {
            let mut s: [__m256d; BLOCK] = std::array::from_fn(|r| gather(vectors, b0 + r));
            for (k, &f) in finished[..b0].iter().enumerate() {
                let column = self.panel_block(k, b0);
                for (sr, &c) in s.iter_mut().zip(column) {
                    *sr = _mm256_fmadd_pd(f, _mm256_set1_pd(c), *sr);
                }
            }
            for k in 0..BLOCK {
                let l = self.panel_block(b0 + k, b0);
                let f = _mm256_xor_pd(s[k], sign);
                for j in k + 1..BLOCK {
                    s[j] = _mm256_fmadd_pd(f, _mm256_set1_pd(l[j]), s[j]);
                }
            }
            for (r, &sr) in s.iter().enumerate() {
                finished[b0 + r] = _mm256_xor_pd(sr, sign);
                scatter(vectors, b0 + r, sr);
            }
        }
        for b0 in (0..n).step_by(BLOCK).rev() {
            let mut s: [__m256d; BLOCK] = std::array::from_fn(|r| gather(vectors, b0 + r));
            for (i, &f) in finished[b0 + BLOCK..n].iter().enumerate().rev() {
                let column = self.panel_block(b0 + BLOCK + i, b0);
                for (sr, &c) in s.iter_mut().zip(column) {
                    *sr = _mm256_fmadd_pd(f, _mm256_set1_pd(c), *sr);
                }
            }
            for k in (0..BLOCK).rev() {
                let u = self.panel_block(b0 + k, b0);
                let inverse = _mm256_set1_pd(self.inverse_diagonal[b0 + k]);
                s[k] = _mm256_mul_pd(s[k], inverse);
                let f = _mm256_xor_pd(s[k], sign);
                for j in 0..k {
                    s[j] = _mm256_fmadd_pd(f, _mm256_set1_pd(u[j]), s[j]);
                }
            }
            for (r, &sr) in s.iter().enumerate() {
                finished[b0 + r] = _mm256_xor_pd(sr, sign);
                scatter(vectors, b0 + r, sr);
            }
        }
    }
}

/// Row `r` of every vector as the lanes of one register (zeros for missing vectors).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gather(vectors: &[&mut [f64]], r: usize) -> std::arch::x86_64::__m256d {
    let mut lanes = [0.0; LOCKSTEP];
    for (x, v) in lanes.iter_mut().zip(vectors) {
        *x = v[r];
    }
    // SAFETY: `_mm256_loadu_pd` reads four doubles from an unaligned pointer, and `lanes` is
    // an array of four doubles; the function is compiled for (and only runs with) AVX2.
    unsafe { std::arch::x86_64::_mm256_loadu_pd(lanes.as_ptr()) }
}

/// Writes the lanes of `row` back to row `r` of the vectors.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn scatter(vectors: &mut [&mut [f64]], r: usize, row: std::arch::x86_64::__m256d) {
    let mut lanes = [0.0; LOCKSTEP];
    // SAFETY: `_mm256_storeu_pd` writes four doubles to an unaligned pointer, and `lanes` is
    // an array of four doubles; the function is compiled for (and only runs with) AVX2.
    unsafe { std::arch::x86_64::_mm256_storeu_pd(lanes.as_mut_ptr(), row) };
    for (v, &x) in vectors.iter_mut().zip(&lanes) {
        v[r] = x;
    }
}

/// Rows b0..b0 + BLOCK of the vectors, across the vectors (zeros for missing vectors).
fn load_rows(vectors: &[&mut [f64]], b0: usize) -> [[f64; LOCKSTEP]; BLOCK] {
    std::array::from_fn(|r| std::array::from_fn(|q| vectors.get(q).map_or(0.0, |v| v[b0 + r])))
}

/// Writes a solved block back to its vectors and, negated, to `finished`.
fn store_rows(
    vectors: &mut [&mut [f64]],
    sums: &[[f64; LOCKSTEP]; BLOCK],
    b0: usize,
    finished: &mut [[f64; LOCKSTEP]],
) {
    for (r, row) in sums.iter().enumerate() {
        finished[b0 + r] = row.map(|x| -x);
        for (v, &x) in vectors.iter_mut().zip(row) {
            v[b0 + r] = x;
        }
    }
}

/// `sums[r][q] += f[q]·column[r]` for every row.
fn update(sums: &mut [[f64; LOCKSTEP]; BLOCK], f: &[f64; LOCKSTEP], column: &[f64; BLOCK]) {
    for (row, &c) in sums.iter_mut().zip(column) {
        lanes_update(row, f, c);
    }
}

/// `row[q] += f[q]·c`, one fused multiply-add per lane.
fn lanes_update(row: &mut [f64; LOCKSTEP], f: &[f64; LOCKSTEP], c: f64) {
    for (x, &fq) in row.iter_mut().zip(f) {
        *x = fq.mul_add(c, *x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::flux::ensemble::Gaussian;
    use crate::engine::flux::network::Network;
    use crate::engine::rng::stream;

    fn preconditioner(n: usize, std: f64) -> Preconditioner {
        let spec = Gaussian::iid(n, std);
        Preconditioner::new(&Network::new(spec.sample(&mut stream(15, &[n as u64]))))
    }

    fn inputs(n: usize, count: usize) -> Vec<Vec<f64>> {
        let entry = |k: usize, c: usize| ((k * 29 + c * 7) % 19) as f64 - 9.0;
        (0..count)
            .map(|c| (0..1 << n).map(|k| entry(k, c)).collect())
            .collect()
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn vectors_solved_together_get_the_bits_of_solving_each_alone() {
        for (n, std) in [(2, 1.0), (3, 2.0), (6, 2.0), (8, 2.5)] {
            let pre = preconditioner(n, std);
            for count in 1..=2 * LOCKSTEP + 1 {
                let inputs = inputs(n, count);
                let mut together = inputs.clone();
                let mut views: Vec<&mut [f64]> =
                    together.iter_mut().map(|v| v.as_mut_slice()).collect();
                pre.solve_many_in_place(&mut views);
                for (input, got) in inputs.iter().zip(&together) {
                    let mut alone = input.clone();
                    pre.solve_in_place(&mut alone);
                    assert_eq!(bits(got), bits(&alone), "N = {n}, {count} vectors");
                }
            }
        }
    }

    #[test]
    fn the_portable_loops_give_the_bits_of_the_vector_kernel() {
        let pre = preconditioner(7, 2.0);
        for count in 2..=LOCKSTEP {
            let inputs = inputs(7, count);
            let mut portable = inputs.clone();
            let mut views: Vec<&mut [f64]> =
                portable.iter_mut().map(|v| v.as_mut_slice()).collect();
            for v in views.iter_mut() {
                for (k, &p) in pre.swaps.iter().enumerate() {
                    v.swap(k, p);
                }
            }
            pre.substitute_portable(&mut views);
            for (input, got) in inputs.iter().zip(&portable) {
                let mut alone = input.clone();
                pre.solve_in_place(&mut alone);
                assert_eq!(bits(got), bits(&alone), "{count} vectors");
            }
        }
    }
}
