//! A nearby network's factorised system as a GMRES preconditioner for the small solver.
//!
//! An evolution's offspring are small mutations of their parent, so the parent's matrix
//! A_p = I − T_pᵀ + u·1ᵀ is close to the child's A. Preconditioning the child's GMRES with
//! A_p⁻¹ (one dense LU per parent, shared by all its children) leaves A·A_p⁻¹ = I + (A − A_p)·A_p⁻¹
//! with eigenvalues clustered around 1, so a solve takes about ten products instead of the
//! ~50 that slowly mixing (near-N-rooks) kernels need unpreconditioned. (From N = 8 the
//! evolution factorises only its best parents and lends each LU to the nearby parents'
//! children too: see `engine::evolve`. Siblings that share an LU can be solved in lock step,
//! and the `group` submodule applies it to four of their vectors in one pass; with AVX-512,
//! the `wide` submodule does so with rows across lanes.)
//!
//! The LU and the triangular solves are written out here rather than taken from faer: at
//! 256 × 256 faer's versions measured 2–3× slower per CPU-second on this machine (run-time
//! dispatch, allocation, and AVX-512 kernels that leave the upper vector state dirty for the
//! legacy-SSE code between them), and these loops — one fused multiply-add per term in a fixed
//! order, compiled for AVX-512, AVX2 or neither — give the same bits on every vector width,
//! like the rest of the small solver. The factorisation is a pure function of the network, so
//! a run that rebuilds it after a resume gets the same bits.

mod group;
mod wide;

pub use group::LOCKSTEP;

use super::small::Factors;
use crate::engine::flux::network::{Network, Noise};

/// Largest N with a preconditioner: its LU takes 4^N doubles (512 KiB at N = 8) and (2^N)³/3
/// fused multiply-adds, 8× more per step of N while a product grows 4×. Measured per offspring
/// of an evolution (LU share included): 4× faster at N = 6, 1.1–1.24× at N = 8; N = 9 was not
/// measured and would pay 8× for the LU, so it stops here.
pub const PRECONDITIONER_MAX_N: usize = 8;

/// LU factors with row pivoting of A = I − Tᵀ + u·1ᵀ of one network: P·A = L·U.
pub struct Preconditioner {
    states: usize,
    /// Column-major; L (unit diagonal implied) below the diagonal, U on and above it.
    lu: Vec<f64>,
    /// Row k was swapped with row `swaps[k]` ≥ k at step k: the tests' reference for the
    /// row swaps, applied one by one.
    #[cfg(test)]
    swaps: Vec<usize>,
    /// 1 / U_kk: the backward solves multiply by it. A division waits ~14 cycles and sits on
    /// the critical path of each 8 × 8 diagonal block; a multiplication waits 4.
    inverse_diagonal: Vec<f64>,
    /// The same swaps as one permutation: row k of P·v is row `order[k]` of v. Gathering by
    /// it replaces 2^N dependent swaps (each waiting on the previous one's stores).
    order: Vec<usize>,
    /// The same factors by panels of BLOCK rows, for the lock-step solves of `group`:
    /// `panels[p * states + k]` = rows BLOCK·p .. BLOCK·p + BLOCK of column k. A block of
    /// rows then streams its factors from consecutive cache lines instead of one line per
    /// column 2^N doubles apart. Empty when 2^N < BLOCK.
    panels: Vec<[f64; BLOCK]>,
}

impl std::fmt::Debug for Preconditioner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Preconditioner({} states)", self.states)
    }
}

impl Preconditioner {
    /// Factorises the system of `net`.
    ///
    /// # Panics
    /// If N is 0 or above [`PRECONDITIONER_MAX_N`], or the network has shared noise.
    pub fn new(net: &Network) -> Preconditioner {
        let n = net.n();
        assert!(
            (1..=PRECONDITIONER_MAX_N).contains(&n),
            "a preconditioner needs 1 ≤ N ≤ {PRECONDITIONER_MAX_N}, got {n}"
        );
        assert!(
            !matches!(net.noise, Noise::Shared { std } if std > 0.0),
            "a preconditioner does not handle shared noise"
        );
        let factors = Factors::new(net);
        let states = factors.states;
        let u = 1.0 / states as f64;
        // Column x: u − T(·|x), plus 1 on the diagonal.
        let mut lu = vec![0.0; states * states];
        for (x, column) in lu.chunks_exact_mut(states).enumerate() {
            factors.transition_column(x, column);
            for a in column.iter_mut() {
                *a = u - *a;
            }
            column[x] += 1.0;
        }
        let mut swaps = vec![0; states];
        factorise(&mut lu, states, &mut swaps);
        let inverse_diagonal = (0..states).map(|k| 1.0 / lu[k * states + k]).collect();
        let mut order: Vec<usize> = (0..states).collect();
        for (k, &p) in swaps.iter().enumerate() {
            order.swap(k, p);
        }
        let panels = if states.is_multiple_of(BLOCK) {
            let panel = |p: usize| (0..states).map(move |k| (p, k));
            let entry = |(p, k): (usize, usize)| -> [f64; BLOCK] {
                let start = k * states + p * BLOCK;
                lu[start..start + BLOCK].try_into().unwrap()
            };
            (0..states / BLOCK).flat_map(panel).map(entry).collect()
        } else {
            Vec::new()
        };
        Preconditioner {
            states,
            lu,
            #[cfg(test)]
            swaps,
            inverse_diagonal,
            order,
            panels,
        }
    }

    /// Number of states 2^N of the network it was built from.
    pub fn states(&self) -> usize {
        self.states
    }

    /// `v ← A⁻¹·v` by the row swaps and two triangular solves.
    #[inline(always)]
    pub(super) fn solve_in_place(&self, v: &mut [f64]) {
        self.permute(v);
        self.forward(v);
        self.backward(v);
    }

    /// `v ← P·v`, the factorisation's row swaps.
    ///
    /// # Panics
    /// If `v` does not have one entry per state.
    #[inline(always)]
    fn permute(&self, v: &mut [f64]) {
        assert_eq!(v.len(), self.states);
        let mut old = [0.0; 1 << PRECONDITIONER_MAX_N];
        old[..self.states].copy_from_slice(v);
        for (x, &from) in v.iter_mut().zip(&self.order) {
            *x = old[from];
        }
    }

    /// `v ← L⁻¹·v`, left-looking by tiles of rows: a tile first takes the updates of every
    /// finished entry above it (k ascending) in registers, then is solved within itself by
    /// blocks ([`Preconditioner::forward_within`]). Each entry gets the same fused multiply-adds
    /// in the same order as column-by-column forward substitution, at one load per multiply-add
    /// instead of two loads and a store.
    #[inline(always)]
    fn forward(&self, v: &mut [f64]) {
        let n = self.states;
        for r0 in (0..n).step_by(SOLVE_ROWS) {
            let r1 = (r0 + SOLVE_ROWS).min(n);
            let column = |k: usize| &self.lu[k * n..(k + 1) * n];
            let (done, rest) = v.split_at_mut(r0);
            let updates = done
                .iter()
                .enumerate()
                .map(|(k, &d)| (-d, &column(k)[r0..r1]));
            update_rows(&mut rest[..r1 - r0], updates);
            self.forward_within(v, r0, r1);
        }
    }

    /// Rows `rows..rows + BLOCK` of factor column k, from the panel copy.
    #[inline(always)]
    fn panel_block(&self, k: usize, rows: usize) -> &[f64; BLOCK] {
        &self.panels[rows / BLOCK * self.states + k]
    }

    /// Rows `rows..rows + BLOCK` of factor column k.
    #[inline(always)]
    fn block(&self, k: usize, rows: usize) -> &[f64; BLOCK] {
        let start = k * self.states + rows;
        self.lu[start..start + BLOCK].try_into().unwrap()
    }

    /// Forward substitution within rows r0..r1 whose updates from above are done, by blocks of
    /// BLOCK rows (one 512-bit register): a block is solved on its own (a fixed 8 × 8 triangle
    /// the compiler unrolls), then its BLOCK values update each later block of the tile in k
    /// order. Column-by-column substitution instead chains 64 steps of variable-length axpys,
    /// each waiting for the previous one's store and branching on its own length.
    #[inline(always)]
    fn forward_within(&self, v: &mut [f64], r0: usize, r1: usize) {
        let n = self.states;
        if !(r1 - r0).is_multiple_of(BLOCK) {
            for k in r0..r1 {
                let x = -v[k];
                axpy(x, &self.lu[k * n + k + 1..k * n + r1], &mut v[k + 1..r1]);
            }
            return;
        }
        for b0 in (r0..r1).step_by(BLOCK) {
            let mut x: [f64; BLOCK] = v[b0..b0 + BLOCK].try_into().unwrap();
            for k in 0..BLOCK {
                let l = self.block(b0 + k, b0);
                let f = -x[k];
                for j in k + 1..BLOCK {
                    x[j] = f.mul_add(l[j], x[j]);
                }
            }
            v[b0..b0 + BLOCK].copy_from_slice(&x);
            for c0 in (b0 + BLOCK..r1).step_by(BLOCK) {
                let mut sums: [f64; BLOCK] = v[c0..c0 + BLOCK].try_into().unwrap();
                for (k, &xk) in x.iter().enumerate() {
                    let f = -xk;
                    for (s, &l) in sums.iter_mut().zip(self.block(b0 + k, c0)) {
                        *s = f.mul_add(l, *s);
                    }
                }
                v[c0..c0 + BLOCK].copy_from_slice(&sums);
            }
        }
    }

    /// `v ← U⁻¹·v`, the same way from the bottom tile up (k descending).
    #[inline(always)]
    fn backward(&self, v: &mut [f64]) {
        let n = self.states;
        for r0 in (0..n).step_by(SOLVE_ROWS).rev() {
            let r1 = (r0 + SOLVE_ROWS).min(n);
            let column = |k: usize| &self.lu[k * n..(k + 1) * n];
            let (rest, done) = v.split_at_mut(r1);
            let finished = done.iter().enumerate().rev();
            let updates = finished.map(|(i, &d)| (-d, &column(r1 + i)[r0..r1]));
            update_rows(&mut rest[r0..], updates);
            self.backward_within(v, r0, r1);
        }
    }

    /// Backward substitution within rows r0..r1, the mirror of
    /// [`Preconditioner::forward_within`]: blocks from the bottom up, k descending.
    #[inline(always)]
    fn backward_within(&self, v: &mut [f64], r0: usize, r1: usize) {
        let n = self.states;
        if !(r1 - r0).is_multiple_of(BLOCK) {
            for k in (r0..r1).rev() {
                v[k] *= self.inverse_diagonal[k];
                let x = -v[k];
                axpy(x, &self.lu[k * n + r0..k * n + k], &mut v[r0..k]);
            }
            return;
        }
        for b0 in (r0..r1).step_by(BLOCK).rev() {
            let mut x: [f64; BLOCK] = v[b0..b0 + BLOCK].try_into().unwrap();
            for k in (0..BLOCK).rev() {
                let u = self.block(b0 + k, b0);
                x[k] *= self.inverse_diagonal[b0 + k];
                let f = -x[k];
                for j in 0..k {
                    x[j] = f.mul_add(u[j], x[j]);
                }
            }
            v[b0..b0 + BLOCK].copy_from_slice(&x);
            for c0 in (r0..b0).step_by(BLOCK) {
                let mut sums: [f64; BLOCK] = v[c0..c0 + BLOCK].try_into().unwrap();
                for (k, &xk) in x.iter().enumerate().rev() {
                    let f = -xk;
                    for (s, &u) in sums.iter_mut().zip(self.block(b0 + k, c0)) {
                        *s = f.mul_add(u, *s);
                    }
                }
                v[c0..c0 + BLOCK].copy_from_slice(&sums);
            }
        }
    }
}

/// Rows per register tile of the triangular solves: eight 512-bit sums (sixteen 256-bit).
/// With AVX2 a 64-row tile needs all 16 registers for its sums and spills, yet 32-row tiles
/// measured no faster on an AVX2-only EPYC (2026-12-01), so one height serves both.
const SOLVE_ROWS: usize = 64;

/// Rows per block of the solve within a tile: one 512-bit register (two 256-bit).
const BLOCK: usize = 8;

/// `tile += Σ x·column` over `updates` in order, one fused multiply-add per term; a full tile
/// keeps its sums in registers.
#[inline(always)]
fn update_rows<'a>(tile: &mut [f64], updates: impl Iterator<Item = (f64, &'a [f64])>) {
    if tile.len() == SOLVE_ROWS {
        let mut sums: [f64; SOLVE_ROWS] = (&*tile).try_into().unwrap();
        for (x, column) in updates {
            let column: &[f64; SOLVE_ROWS] = column.try_into().unwrap();
            for (s, &c) in sums.iter_mut().zip(column) {
                *s = x.mul_add(c, *s);
            }
        }
        tile.copy_from_slice(&sums);
    } else {
        for (x, column) in updates {
            axpy(x, column, tile);
        }
    }
}

/// `y += a·x`, one fused multiply-add per entry.
#[inline(always)]
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi = a.mul_add(*xi, *yi);
    }
}

/// In-place LU with partial pivoting (first largest |entry| wins) of the column-major n × n
/// matrix `a`, choosing the widest vector code the CPU offers (all give the same bits).
fn factorise(a: &mut [f64], n: usize, swaps: &mut [usize]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("fma") {
            // SAFETY: the CPU supports AVX-512F and FMA, as checked just above.
            return unsafe { factorise_avx512(a, n, swaps) };
        }
        if has!("avx2") && has!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA, as checked just above.
            return unsafe { factorise_avx2(a, n, swaps) };
        }
    }
    factorise_portable(a, n, swaps);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn factorise_avx512(a: &mut [f64], n: usize, swaps: &mut [usize]) {
    factorise_portable(a, n, swaps);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn factorise_avx2(a: &mut [f64], n: usize, swaps: &mut [usize]) {
    factorise_portable(a, n, swaps);
}

/// Columns per panel of the blocked elimination: a panel of multipliers (2^N × 8 doubles,
/// 16 KiB at N = 8) stays in L1 while every later column is updated by it.
const PANEL: usize = 8;

/// Blocked right-looking elimination. Each panel of PANEL columns is factorised on its own
/// (pivot search in column k, row swap within the panel, multipliers stored in place of the
/// column, update of the panel's later columns); then every column outside the panel gets the
/// panel's row swaps, and the later columns receive the panel's updates in register tiles.
/// Every entry still receives its updates one fused multiply-add at a time in the order
/// k = 0, 1, 2, …, exactly as in unblocked elimination.
#[inline(always)]
fn factorise_portable(a: &mut [f64], n: usize, swaps: &mut [usize]) {
    for k0 in (0..n).step_by(PANEL) {
        let k1 = (k0 + PANEL).min(n);
        for k in k0..k1 {
            let column = &a[k * n..(k + 1) * n];
            let p = (k..n).fold(k, |best, i| {
                if column[i].abs() > column[best].abs() {
                    i
                } else {
                    best
                }
            });
            swaps[k] = p;
            if p != k {
                for column in a[k0 * n..k1 * n].chunks_exact_mut(n) {
                    column.swap(k, p);
                }
            }
            let (done, rest) = a.split_at_mut((k + 1) * n);
            let pivot_column = &mut done[k * n..];
            let pivot = pivot_column[k];
            if pivot != 0.0 {
                for l in &mut pivot_column[k + 1..] {
                    *l /= pivot;
                }
            }
            for column in rest[..(k1 - k - 1) * n].chunks_exact_mut(n) {
                let f = -column[k];
                axpy(f, &pivot_column[k + 1..], &mut column[k + 1..]);
            }
        }
        // The panel's row swaps, column by column, for the columns outside it.
        let (before, panel_and_rest) = a.split_at_mut(k0 * n);
        let rest = &mut panel_and_rest[(k1 - k0) * n..];
        let panel_swaps: Vec<(usize, usize)> = (k0..k1)
            .map(|k| (k, swaps[k]))
            .filter(|&(k, p)| k != p)
            .collect();
        if !panel_swaps.is_empty() {
            for column in before.chunks_exact_mut(n).chain(rest.chunks_exact_mut(n)) {
                for &(k, p) in &panel_swaps {
                    column.swap(k, p);
                }
            }
        }
        let (done, rest) = a.split_at_mut(k1 * n);
        let panel = Panel::new(&done[k0 * n..], k0, k1, n);
        for columns in rest.chunks_mut(TILE_COLUMNS * n) {
            panel.update(columns);
        }
    }
}

/// Columns and rows of a register tile of the trailing update: eight 512-bit sums, fed by two
/// loads of multipliers and four broadcast factors per panel column.
const TILE_COLUMNS: usize = 4;
const TILE_ROWS: usize = 8;

/// The multipliers of columns k0..k1 (column-major, n rows each) of a factorised panel, and
/// their rows below the panel packed by tile: `packed[t][kk]` = rows k1 + 8t .. k1 + 8t + 8
/// of panel column kk (zero-padded when the panel is narrower than PANEL).
struct Panel<'a> {
    multipliers: &'a [f64],
    packed: Vec<[[f64; TILE_ROWS]; PANEL]>,
    k0: usize,
    k1: usize,
    n: usize,
}

impl<'a> Panel<'a> {
    #[inline(always)]
    fn new(multipliers: &'a [f64], k0: usize, k1: usize, n: usize) -> Self {
        let tiles = (n - k1) / TILE_ROWS;
        let mut packed = vec![[[0.0; TILE_ROWS]; PANEL]; tiles];
        for (t, tile) in packed.iter_mut().enumerate() {
            let r0 = k1 + t * TILE_ROWS;
            for (rows, column) in tile.iter_mut().zip(multipliers.chunks_exact(n)) {
                rows.copy_from_slice(&column[r0..r0 + TILE_ROWS]);
            }
        }
        Panel {
            multipliers,
            packed,
            k0,
            k1,
            n,
        }
    }

    /// Applies the panel's eliminations to up to TILE_COLUMNS later columns: first within the
    /// panel's rows (a small triangular solve), then below them, tile by tile.
    #[inline(always)]
    fn update(&self, columns: &mut [f64]) {
        let (k0, k1, n) = (self.k0, self.k1, self.n);
        let mut factors = [[0.0; PANEL]; TILE_COLUMNS];
        for (column, f) in columns.chunks_exact_mut(n).zip(&mut factors) {
            for k in k0..k1 {
                let l = &self.multipliers[(k - k0) * n..(k - k0 + 1) * n];
                let fk = -column[k];
                f[k - k0] = fk;
                for r in k + 1..k1 {
                    column[r] = fk.mul_add(l[r], column[r]);
                }
            }
        }
        let tiled = k1 + self.packed.len() * TILE_ROWS;
        if columns.len() == TILE_COLUMNS * n {
            for (t, packed) in self.packed.iter().enumerate() {
                tile(columns, &factors, packed, k1 + t * TILE_ROWS, n);
            }
        } else {
            self.rows(columns, &factors, k1..tiled);
        }
        self.rows(columns, &factors, tiled..n);
    }

    /// The same updates entry by entry, for rows and columns that do not fill a tile.
    #[inline(always)]
    fn rows(
        &self,
        columns: &mut [f64],
        factors: &[[f64; PANEL]; TILE_COLUMNS],
        rows: std::ops::Range<usize>,
    ) {
        let n = self.n;
        for (column, f) in columns.chunks_exact_mut(n).zip(factors) {
            for (kk, l) in self.multipliers.chunks_exact(n).enumerate() {
                for r in rows.clone() {
                    column[r] = f[kk].mul_add(l[r], column[r]);
                }
            }
        }
    }
}

/// Rows r0..r0 + TILE_ROWS of TILE_COLUMNS columns, the sums held in registers while the
/// panel's multipliers (`packed`) are applied in order.
#[inline(always)]
fn tile(
    columns: &mut [f64],
    factors: &[[f64; PANEL]; TILE_COLUMNS],
    packed: &[[f64; TILE_ROWS]; PANEL],
    r0: usize,
    n: usize,
) {
    let mut acc = [[0.0; TILE_ROWS]; TILE_COLUMNS];
    for (c, sums) in acc.iter_mut().enumerate() {
        sums.copy_from_slice(&columns[c * n + r0..c * n + r0 + TILE_ROWS]);
    }
    for (kk, l) in packed.iter().enumerate() {
        for (sums, f) in acc.iter_mut().zip(factors) {
            for (s, &lr) in sums.iter_mut().zip(l) {
                *s = f[kk].mul_add(lr, *s);
            }
        }
    }
    for (c, sums) in acc.iter().enumerate() {
        columns[c * n + r0..c * n + r0 + TILE_ROWS].copy_from_slice(sums);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::flux::ensemble::Gaussian;
    use crate::engine::flux::exact::{ExactOptions, Neighbour, analyze_small, analyze_small_near};
    use crate::engine::rng::stream;
    use ndarray::Array2;

    fn gaussian(n: usize, std: f64, seed: u64) -> Array2<f64> {
        let spec = Gaussian::iid(n, std);
        spec.sample(&mut stream(seed, &[n as u64]))
    }

    /// A·v with A = I − Tᵀ + u·1ᵀ, directly from the transition probabilities.
    fn system_times(factors: &Factors, v: &[f64]) -> Vec<f64> {
        let states = factors.states;
        let total: f64 = v.iter().sum();
        let mut out: Vec<f64> = v.iter().map(|x| x + total / states as f64).collect();
        let mut column = vec![0.0; states];
        for (x, &vx) in v.iter().enumerate() {
            factors.transition_column(x, &mut column);
            for (o, t) in out.iter_mut().zip(&column) {
                *o -= t * vx;
            }
        }
        out
    }

    #[test]
    fn solves_the_system_it_factorised() {
        for (n, std) in [(1, 1.0), (2, 2.0), (3, 1.0), (5, 3.0), (7, 1.5), (8, 2.0)] {
            let net = Network::new(gaussian(n, std, 11));
            let pre = Preconditioner::new(&net);
            let factors = Factors::new(&net);
            let b: Vec<f64> = (0..1 << n).map(|k| ((k * 31) % 17) as f64 - 8.0).collect();
            let mut x = b.clone();
            pre.solve_in_place(&mut x);
            let back = system_times(&factors, &x);
            let error = back
                .iter()
                .zip(&b)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(error < 1e-10, "N = {n}: ‖A·A⁻¹b − b‖∞ = {error:e}");
        }
    }

    /// Column-by-column substitution, the order the tiled solves must reproduce.
    fn solve_by_columns(pre: &Preconditioner, v: &mut [f64]) {
        let n = pre.states;
        for (k, &p) in pre.swaps.iter().enumerate() {
            v.swap(k, p);
        }
        for (k, column) in pre.lu.chunks_exact(n).enumerate() {
            let x = -v[k];
            axpy(x, &column[k + 1..], &mut v[k + 1..]);
        }
        for (k, column) in pre.lu.chunks_exact(n).enumerate().rev() {
            v[k] *= pre.inverse_diagonal[k];
            let x = -v[k];
            axpy(x, &column[..k], &mut v[..k]);
        }
    }

    #[test]
    fn tiled_solves_give_the_bits_of_column_by_column_substitution() {
        for (n, std) in [(5, 2.0), (6, 2.0), (7, 3.0), (8, 2.5)] {
            let pre = Preconditioner::new(&Network::new(gaussian(n, std, 14)));
            let b: Vec<f64> = (0..1 << n).map(|k| ((k * 37) % 23) as f64 - 11.0).collect();
            let mut tiled = b.clone();
            let mut plain = b;
            pre.solve_in_place(&mut tiled);
            solve_by_columns(&pre, &mut plain);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&tiled), bits(&plain), "N = {n}");
        }
    }

    #[test]
    fn every_vector_width_factorises_to_the_same_bits() {
        let net = Network::new(gaussian(7, 2.5, 12));
        let factors = Factors::new(&net);
        let states = factors.states;
        let mut dispatched = vec![0.0; states * states];
        for (x, column) in dispatched.chunks_exact_mut(states).enumerate() {
            factors.transition_column(x, column);
            column
                .iter_mut()
                .for_each(|a| *a = 1.0 / states as f64 - *a);
            column[x] += 1.0;
        }
        let mut portable = dispatched.clone();
        let (mut s1, mut s2) = (vec![0; states], vec![0; states]);
        factorise(&mut dispatched, states, &mut s1);
        factorise_portable(&mut portable, states, &mut s2);
        assert_eq!(s1, s2);
        assert!(
            dispatched
                .iter()
                .zip(&portable)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }

    #[test]
    fn a_parents_factorisation_preconditions_its_childs_solve() {
        let w = gaussian(8, 2.5, 13);
        let options = ExactOptions {
            tolerance: 1e-10,
            ..ExactOptions::default()
        };
        let parent_net = Network::new(w.clone());
        let parent = analyze_small(&parent_net, None, &options, true);
        let pre = Preconditioner::new(&parent_net);
        let child = Network::new(w.mapv(|v| v * 1.02 - 0.01));
        let near = Neighbour {
            pi: Some(&parent.pi),
            preconditioner: Some(&pre),
        };
        let cold = analyze_small(&child, None, &options, true);
        let fast = analyze_small_near(&child, near, &options, true);
        assert_eq!(fast, analyze_small_near(&child, near, &options, true));
        assert_eq!(fast.convergence.solver, "gmres_preconditioned");
        assert!(fast.convergence.converged, "{:?}", fast.convergence);
        assert!(fast.convergence.iterations * 3 < cold.convergence.iterations);
        assert!((fast.mi_bits - cold.mi_bits).abs() < 1e-9);
        let c = (fast.correlation.unwrap().rms, cold.correlation.unwrap().rms);
        assert!((c.0 - c.1).abs() < 1e-9);
    }
}
