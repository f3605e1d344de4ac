//! The lock-step triangular solves with AVX-512: rows across the lanes of a 512-bit register
//! (eight rows of one vector), so a factor load serves every vector and each multiply-add does
//! eight terms. Tiles of four blocks (32 rows) of up to four vectors keep sixteen sums in
//! registers while the finished entries above (or below) are applied; a block's own 8 × 8
//! triangle runs with the vectors across lanes instead (one 256-bit register per row), where
//! the step-by-step substitution needs no lane shuffles. Every entry receives the fused
//! multiply-adds of [`Preconditioner::solve_in_place`] in the same order, so each vector gets
//! the bits a solve of its own would give it.

#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::{
    __m256d, __m512d, _mm256_fmadd_pd, _mm256_mul_pd, _mm256_set1_pd, _mm256_setr_pd,
    _mm256_storeu_pd, _mm256_xor_pd, _mm512_fmadd_pd, _mm512_loadu_pd, _mm512_set1_pd,
    _mm512_storeu_pd,
};

use super::{BLOCK, Preconditioner};
use crate::engine::flux::exact::PRECONDITIONER_MAX_N;

/// Blocks of BLOCK rows per register tile.
const TILE_BLOCKS: usize = 4;
/// Rows per register tile.
pub(super) const TILE: usize = TILE_BLOCKS * BLOCK;

/// `finished[k][q]` = −(solved entry k of vector q), the factor a later row's update uses.
type Finished = [[f64; 4]; 1 << PRECONDITIONER_MAX_N];

/// Partial sums of a tile: `tile[blk][q]` = rows of block blk of vector q.
type Tile<const Q: usize> = [[[f64; BLOCK]; Q]; TILE_BLOCKS];

impl Preconditioner {
    /// Forward then backward substitution of Q ≤ 4 vectors (rows already swapped).
    ///
    /// # Safety
    /// The CPU must support AVX-512F and FMA; the number of states must be a multiple of
    /// [`TILE`], and `vectors` must hold Q vectors of that length.
    #[target_feature(enable = "avx512f,fma")]
    pub(super) unsafe fn substitute_avx512<const Q: usize>(&self, vectors: &mut [&mut [f64]]) {
        let n = self.states;
        assert!(n.is_multiple_of(TILE) && vectors.len() == Q && Q <= 4);
        let mut finished: Finished = [[0.0; 4]; 1 << PRECONDITIONER_MAX_N];
        for t0 in (0..n).step_by(TILE) {
            let mut tile = self.tile_sums::<Q, false>(vectors, t0, &finished, 0..t0);
            for blk in 0..TILE_BLOCKS {
                let b0 = t0 + blk * BLOCK;
                let mut s = transpose::<Q>(&tile[blk]);
                for k in 0..BLOCK {
                    let l = self.panel_block(b0 + k, b0);
                    let f = negate(s[k]);
                    for j in k + 1..BLOCK {
                        s[j] = _mm256_fmadd_pd(f, _mm256_set1_pd(l[j]), s[j]);
                    }
                }
                finish::<Q>(vectors, &s, b0, &mut finished);
                for (later, sums) in tile.iter_mut().enumerate().skip(blk + 1) {
                    let rows = t0 + later * BLOCK;
                    self.block_update::<Q, false>(sums, &finished, b0, rows);
                }
            }
        }
        for t0 in (0..n).step_by(TILE).rev() {
            let mut tile = self.tile_sums::<Q, true>(vectors, t0, &finished, t0 + TILE..n);
            for blk in (0..TILE_BLOCKS).rev() {
                let b0 = t0 + blk * BLOCK;
                let mut s = transpose::<Q>(&tile[blk]);
                for k in (0..BLOCK).rev() {
                    let u = self.panel_block(b0 + k, b0);
                    let inverse = _mm256_set1_pd(self.inverse_diagonal[b0 + k]);
                    s[k] = _mm256_mul_pd(s[k], inverse);
                    let f = negate(s[k]);
                    for j in 0..k {
                        s[j] = _mm256_fmadd_pd(f, _mm256_set1_pd(u[j]), s[j]);
                    }
                }
                finish::<Q>(vectors, &s, b0, &mut finished);
                for (earlier, sums) in tile.iter_mut().enumerate().take(blk) {
                    let rows = t0 + earlier * BLOCK;
                    self.block_update::<Q, true>(sums, &finished, b0, rows);
                }
            }
        }
    }

    /// Rows t0..t0 + TILE of every vector plus the updates of the finished entries `ks`
    /// (ascending, or descending when REVERSE), with the sixteen sums in registers.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    fn tile_sums<const Q: usize, const REVERSE: bool>(
        &self,
        vectors: &[&mut [f64]],
        t0: usize,
        finished: &Finished,
        ks: std::ops::Range<usize>,
    ) -> Tile<Q> {
        let n = self.states;
        let mut acc: [[__m512d; Q]; TILE_BLOCKS] = std::array::from_fn(|blk| {
            std::array::from_fn(|q| {
                let rows = &vectors[q][t0 + blk * BLOCK..][..BLOCK];
                // SAFETY: `rows` holds BLOCK = 8 doubles, one 512-bit load.
                unsafe { _mm512_loadu_pd(rows.as_ptr()) }
            })
        });
        let panels: [&[[f64; BLOCK]]; TILE_BLOCKS] = std::array::from_fn(|blk| {
            let start = (t0 / BLOCK + blk) * n;
            &self.panels[start + ks.start..start + ks.end]
        });
        let finished = &finished[ks.clone()];
        // A plain loop, not a closure over `acc`: when LLVM declined to inline such a closure
        // (after an unrelated change elsewhere in the crate, 2026-12-06), the sums lived in
        // memory and the lock-step solves took 40 % longer.
        let len = finished.len();
        for j in 0..len {
            let i = if REVERSE { len - 1 - j } else { j };
            let f: [__m512d; Q] = std::array::from_fn(|q| _mm512_set1_pd(finished[i][q]));
            for (sums, panel) in acc.iter_mut().zip(&panels) {
                // SAFETY: a panel block holds BLOCK = 8 doubles, one 512-bit load.
                let c = unsafe { _mm512_loadu_pd(panel[i].as_ptr()) };
                for (s, &fq) in sums.iter_mut().zip(&f) {
                    *s = _mm512_fmadd_pd(fq, c, *s);
                }
            }
        }
        let mut tile = [[[0.0; BLOCK]; Q]; TILE_BLOCKS];
        for (out, sums) in tile.iter_mut().zip(&acc) {
            for (o, &s) in out.iter_mut().zip(sums) {
                // SAFETY: `o` holds BLOCK = 8 doubles, one 512-bit store.
                unsafe { _mm512_storeu_pd(o.as_mut_ptr(), s) };
            }
        }
        tile
    }

    /// Adds the block of finished entries k0..k0 + BLOCK (ascending, or descending when
    /// REVERSE) times rows `rows..rows + BLOCK` of their factor columns to `sums`.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    fn block_update<const Q: usize, const REVERSE: bool>(
        &self,
        sums: &mut [[f64; BLOCK]; Q],
        finished: &Finished,
        k0: usize,
        rows: usize,
    ) {
        // SAFETY: each entry of `sums` holds BLOCK = 8 doubles, one 512-bit load.
        let mut acc: [__m512d; Q] =
            std::array::from_fn(|q| unsafe { _mm512_loadu_pd(sums[q].as_ptr()) });
        for j in 0..BLOCK {
            let k = if REVERSE { k0 + BLOCK - 1 - j } else { k0 + j };
            // SAFETY: a panel block holds BLOCK = 8 doubles, one 512-bit load.
            let c = unsafe { _mm512_loadu_pd(self.panel_block(k, rows).as_ptr()) };
            for (s, &f) in acc.iter_mut().zip(&finished[k]) {
                *s = _mm512_fmadd_pd(_mm512_set1_pd(f), c, *s);
            }
        }
        for (out, &s) in sums.iter_mut().zip(&acc) {
            // SAFETY: `out` holds BLOCK = 8 doubles, one 512-bit store.
            unsafe { _mm512_storeu_pd(out.as_mut_ptr(), s) };
        }
    }
}

/// A block of rows from rows of each vector (`block[q]` = 8 rows of vector q) to
/// vectors-across-lanes (`s[r]` = row r of every vector; unused lanes zero).
#[target_feature(enable = "avx512f,fma")]
#[inline]
fn transpose<const Q: usize>(block: &[[f64; BLOCK]; Q]) -> [__m256d; BLOCK] {
    let mut rows = [[0.0; BLOCK]; 4];
    rows[..Q].copy_from_slice(block);
    std::array::from_fn(|r| _mm256_setr_pd(rows[0][r], rows[1][r], rows[2][r], rows[3][r]))
}

/// −x, exactly (the sign bit flipped).
#[target_feature(enable = "avx512f,fma")]
#[inline]
fn negate(x: __m256d) -> __m256d {
    _mm256_xor_pd(x, _mm256_set1_pd(-0.0))
}

/// Writes a solved block back to its vectors and, negated, to `finished`.
#[target_feature(enable = "avx512f,fma")]
#[inline]
fn finish<const Q: usize>(
    vectors: &mut [&mut [f64]],
    s: &[__m256d; BLOCK],
    b0: usize,
    finished: &mut Finished,
) {
    for (r, &row) in s.iter().enumerate() {
        let mut lanes = [0.0; 4];
        // SAFETY: `lanes` holds four doubles, one 256-bit store.
        unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), row) };
        for (v, &x) in vectors.iter_mut().zip(&lanes).take(Q) {
            v[b0 + r] = x;
        }
        finished[b0 + r] = lanes.map(|x| -x);
    }
}
