//! A sequential exact solver for small networks (N ≤ [`SMALL_MAX_N`]), built for search loops
//! that analyse thousands of nearby networks, such as an evolution evaluating its offspring.
//!
//! Each call runs on the calling thread only (callers parallelise over networks), keeps all of
//! its scratch in one workspace, and may start GMRES from a nearby distribution (the parent's
//! π). The half-kernels are the same factorisation as in the `kernel` submodule, so one product
//! π·T costs 4^N multiply-adds; the result is a deterministic function of the network and the
//! start. There are no stop checks inside: at N = 12 a call takes a few tens of milliseconds.
//!
//! Products are summed by a small tiled kernel with one fused multiply-add per term, in state
//! order for every output entry, so the result is the same bit for bit whichever vector width
//! (AVX-512, AVX2 or none) the CPU offers.

use crate::engine::flux::correlation::CorrelationStats;
use crate::engine::flux::gauss_hermite::GaussHermite;
use crate::engine::flux::network::{NOISE_QUADRATURE_NODES, Network, Noise, h2, sigmoid_and_h2};

use super::gmres::{back_substitute, rotate};
use super::preconditioner::Preconditioner;
use super::{Convergence, ExactOptions, convergence, correlation_from_pi, entropy_bits, normalize};

/// Largest N accepted: 2^12 states, half-kernels of 2 · 4096 · 64 doubles (4 MiB) and a
/// Krylov basis of 81 · 4096 doubles (2.6 MiB) per call in flight.
pub const SMALL_MAX_N: usize = 12;

/// Krylov vectors per restart cycle: strongly coupled networks (an evolution's N-rooks-like
/// genomes) need 50–60 products at N = 8, and a restart throws away what the basis has learnt.
const RESTART: usize = 80;
/// Krylov vectors allocated up front; the basis grows when a cycle needs more. A preconditioned
/// solve needs about ten, and a full-size basis (166 KiB at N = 8) would come from fresh,
/// page-faulting memory on every call.
const INITIAL_BASIS: usize = 16;
/// Restart cycles without a 10 % gain in the true residual before giving up.
const STALL_RESTARTS: usize = 3;

/// π, the information flux and (on request) C for one small network.
#[derive(Debug, Clone, PartialEq)]
pub struct SmallAnalysis {
    /// Stationary distribution over state indices s = Σ x_n 2^n.
    pub pi: Vec<f64>,
    /// I = H(π) − conditional entropy (bits).
    pub mi_bits: f64,
    pub state_entropy_bits: f64,
    pub conditional_entropy_bits: f64,
    /// C from π, when asked for.
    pub correlation: Option<CorrelationStats>,
    /// "gmres" (from the uniform distribution), "gmres_warm" (from the caller's start) or
    /// "gmres_preconditioned" (with a neighbour's factorisation).
    pub convergence: Convergence,
}

/// What a search knows about a network close to the one analysed (an evolution's parent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Neighbour<'a> {
    /// Its stationary distribution: the start of GMRES instead of the uniform one.
    pub pi: Option<&'a [f64]>,
    /// Its factorised system: the preconditioner of GMRES.
    pub preconditioner: Option<&'a Preconditioner>,
}

/// Exact π, I and optionally C of a small network on the calling thread, starting GMRES from
/// `start` (a distribution close to π, e.g. a parent's) or from the uniform distribution.
/// Honours `tolerance`, `max_iterations` and `correlation` of `options` (no dense path).
///
/// # Panics
/// If N is 0 or above [`SMALL_MAX_N`], the network has shared noise, `start` has the wrong
/// length, or the correlation lag is not 0 or 1.
pub fn analyze_small(
    net: &Network,
    start: Option<&[f64]>,
    options: &ExactOptions,
    with_correlation: bool,
) -> SmallAnalysis {
    let near = Neighbour {
        pi: start,
        preconditioner: None,
    };
    analyze_small_near(net, near, options, with_correlation)
}

/// Like [`analyze_small`], with GMRES started from `near.pi` and preconditioned with
/// `near.preconditioner` (when given). The result is a deterministic function of the network
/// and of `near`.
///
/// # Panics
/// As [`analyze_small`], and if the preconditioner is for a different N.
pub fn analyze_small_near(
    net: &Network,
    near: Neighbour,
    options: &ExactOptions,
    with_correlation: bool,
) -> SmallAnalysis {
    let start = near.pi;
    let n = net.n();
    assert!(
        (1..=SMALL_MAX_N).contains(&n),
        "the small solver needs 1 ≤ N ≤ {SMALL_MAX_N}, got {n}"
    );
    assert!(
        !matches!(net.noise, Noise::Shared { std } if std > 0.0),
        "the small solver does not handle shared noise"
    );
    assert!(
        options.correlation.lag <= 1,
        "correlation lag must be 0 or 1"
    );
    let factors = Factors::new(net);
    let initial = match start {
        Some(s) => {
            assert_eq!(s.len(), factors.states, "a start needs 2^N entries");
            s.to_vec()
        }
        None => vec![1.0 / factors.states as f64; factors.states],
    };
    if let Some(p) = near.preconditioner {
        assert_eq!(p.states(), factors.states, "a preconditioner for another N");
    }
    let mut solver = Solver::new(&factors, near.preconditioner);
    let (pi, iterations, residual_l1) = solver.solve(initial, options);
    let name = match (near.preconditioner, start) {
        (Some(_), _) => "gmres_preconditioned",
        (None, Some(_)) => "gmres_warm",
        (None, None) => "gmres",
    };
    let state_entropy_bits = entropy_bits(&pi);
    let conditional_entropy_bits: f64 = pi.iter().zip(&factors.entropy).map(|(p, h)| p * h).sum();
    let correlation = with_correlation
        .then(|| correlation_from_pi(&factors.probabilities, &pi, options.correlation));
    SmallAnalysis {
        mi_bits: (state_entropy_bits - conditional_entropy_bits).max(0.0),
        state_entropy_bits,
        conditional_entropy_bits,
        correlation,
        convergence: convergence(name, iterations, residual_l1, options),
        pi,
    }
}

/// The transition kernel as two half-kernels, plus per-state firing probabilities and
/// outcome entropies.
pub(super) struct Factors {
    pub(super) states: usize,
    /// Outcomes of the low half A (⌊N/2⌋ neurons) and the high half B.
    wa: usize,
    wb: usize,
    /// Row-major by state: `low[x * wa + a]` = P(x'_A = a | x).
    low: Vec<f64>,
    /// Row-major by state: `high[x * wb + b]` = P(x'_B = b | x).
    high: Vec<f64>,
    /// `probabilities[s * n + i]` = p_i(x_s).
    probabilities: Vec<f64>,
    /// H(x(t+1) | x(t) = s) = Σ_i h2(p_i(x_s)) in bits.
    entropy: Vec<f64>,
}

impl Factors {
    pub(super) fn new(net: &Network) -> Factors {
        let n = net.n();
        let states = 1usize << n;
        let low_bits = n / 2;
        let (wa, wb) = (1usize << low_bits, 1usize << (n - low_bits));
        let (probabilities, entropy) = probability_table(net);
        let mut low = vec![0.0; wa * states];
        let mut high = vec![0.0; wb * states];
        let rows = low.chunks_exact_mut(wa).zip(high.chunks_exact_mut(wb));
        for ((l, h), probs) in rows.zip(probabilities.chunks_exact(n)) {
            fill_outcomes(&probs[..low_bits], l);
            fill_outcomes(&probs[low_bits..], h);
        }
        Factors {
            states,
            wa,
            wb,
            low,
            high,
            probabilities,
            entropy,
        }
    }

    /// T(·|x) over all 2^N outcomes into `out` (index = target state y = a + b·wa).
    pub(super) fn transition_column(&self, x: usize, out: &mut [f64]) {
        let low = &self.low[x * self.wa..(x + 1) * self.wa];
        let high = &self.high[x * self.wb..(x + 1) * self.wb];
        for (row, &h) in out.chunks_exact_mut(self.wa).zip(high) {
            for (o, &l) in row.iter_mut().zip(low) {
                *o = l * h;
            }
        }
    }

    /// `out = vᵀ·T`, i.e. `out[a + b·wa]` = Σ_x (v(x)·P(x'_A = a | x))·P(x'_B = b | x): every
    /// entry is a chain of fused multiply-adds over x in state order, whatever the tile width
    /// `C` (the number of B outcomes summed at once), so all widths give the same bits.
    #[inline(always)]
    fn apply<const C: usize>(&self, v: &[f64], out: &mut [f64]) {
        if self.wa.is_multiple_of(TILE_ROWS) && self.wb.is_multiple_of(C) {
            self.apply_tiled::<C>(v, out);
        } else {
            self.apply_plain(v, out);
        }
    }

    /// Tiles of TILE_ROWS × C outcomes whose sums stay in registers while x runs through a
    /// block of states small enough for its kernel rows to stay in cache; each tile's sums are
    /// carried from block to block, so the summation order is still x = 0, 1, 2, … .
    #[inline(always)]
    fn apply_tiled<const C: usize>(&self, v: &[f64], out: &mut [f64]) {
        let (wa, wb) = (self.wa, self.wb);
        let block = (BLOCK_DOUBLES / (wa + wb)).max(1);
        out.fill(0.0);
        for x0 in (0..self.states).step_by(block) {
            let x1 = (x0 + block).min(self.states);
            let rows = Rows {
                low: &self.low[x0 * wa..x1 * wa],
                high: &self.high[x0 * wb..x1 * wb],
                wa,
                wb,
            };
            for a0 in (0..wa).step_by(TILE_ROWS) {
                for b0 in (0..wb).step_by(C) {
                    tile::<C>(&rows, &v[x0..x1], a0, b0, out);
                }
            }
        }
    }

    /// The same sums entry by entry, for halves too small to tile (N < 6).
    #[inline(always)]
    fn apply_plain(&self, v: &[f64], out: &mut [f64]) {
        let (wa, wb) = (self.wa, self.wb);
        for b in 0..wb {
            for a in 0..wa {
                let rows = self.low.chunks_exact(wa).zip(self.high.chunks_exact(wb));
                out[b * wa + a] = rows.zip(v).fold(0.0, |acc, ((l, h), &weight)| {
                    (l[a] * weight).mul_add(h[b], acc)
                });
            }
        }
    }
}

/// The kernel rows of a block of states: `low` and `high` hold `wa` and `wb` entries per state.
struct Rows<'a> {
    low: &'a [f64],
    high: &'a [f64],
    wa: usize,
    wb: usize,
}

/// Adds Σ_x (v(x)·L(a|x))·H(b|x) over the block's states to the TILE_ROWS × C outcomes starting
/// at (a0, b0) of `out` (column-major, `wa` rows), one fused multiply-add per term.
#[inline(always)]
fn tile<const C: usize>(rows: &Rows, v: &[f64], a0: usize, b0: usize, out: &mut [f64]) {
    let wa = rows.wa;
    let mut acc = [[0.0f64; TILE_ROWS]; C];
    for (c, column) in acc.iter_mut().enumerate() {
        let start = (b0 + c) * wa + a0;
        column.copy_from_slice(&out[start..start + TILE_ROWS]);
    }
    let pairs = rows
        .low
        .chunks_exact(wa)
        .zip(rows.high.chunks_exact(rows.wb));
    for ((l, h), &weight) in pairs.zip(v) {
        let l: &[f64; TILE_ROWS] = l[a0..a0 + TILE_ROWS].try_into().unwrap();
        let h: &[f64; C] = h[b0..b0 + C].try_into().unwrap();
        let scaled = l.map(|x| x * weight);
        for (column, &hc) in acc.iter_mut().zip(h) {
            for (a, &lr) in column.iter_mut().zip(&scaled) {
                *a = lr.mul_add(hc, *a);
            }
        }
    }
    for (c, column) in acc.iter().enumerate() {
        let start = (b0 + c) * wa + a0;
        out[start..start + TILE_ROWS].copy_from_slice(column);
    }
}

/// Kernel entries (of L and H together) per block of states: 256 KiB, well inside L2.
const BLOCK_DOUBLES: usize = 1 << 15;

/// Rows (A outcomes) of a product tile: one 512-bit or two 256-bit registers per column.
const TILE_ROWS: usize = 8;
/// Columns per tile: eight independent FMA chains (8 × 512 bits with AVX-512, 4 × 2 × 256 bits
/// with AVX2) keep the FMA units busy without running out of the 32 / 16 vector registers.
const WIDE: usize = 8;
const NARROW: usize = 4;

/// p_i(x_s) for every state, and the conditional entropies Σ_i h2(p_i(x_s)) in bits. The net
/// input of state a + b·2^k is the sum of a low-half part (neurons 0..k) and a high-half part
/// (neurons k..N plus bias), each tabulated once.
fn probability_table(net: &Network) -> (Vec<f64>, Vec<f64>) {
    let n = net.n();
    let k = n / 2;
    let part = |range: std::ops::Range<usize>, bias: bool| -> Vec<f64> {
        let width = range.len();
        let mut table = vec![0.0; n << width];
        for (code, z) in table.chunks_exact_mut(n).enumerate() {
            for (i, zi) in z.iter_mut().enumerate() {
                let mut acc = if bias { net.bias[i] } else { 0.0 };
                for (bit, j) in range.clone().enumerate() {
                    acc += net.weights[[i, j]] * net.input_value(code >> bit & 1 == 1);
                }
                *zi = acc;
            }
        }
        table
    };
    let (low, high) = (part(0..k, false), part(k..n, true));
    let quadrature = match net.noise {
        Noise::Independent { std } if std > 0.0 => Some(GaussHermite::new(NOISE_QUADRATURE_NODES)),
        _ => None,
    };
    let mut table = vec![0.0; n << n];
    let mut entropy = vec![0.0; 1 << n];
    let rows = table.chunks_exact_mut(n).zip(entropy.iter_mut());
    for (s, (p, h)) in rows.enumerate() {
        let (a, b) = (s & ((1 << k) - 1), s >> k);
        let (za, zb) = (&low[a * n..(a + 1) * n], &high[b * n..(b + 1) * n]);
        for ((pi, x), y) in p.iter_mut().zip(za).zip(zb) {
            let z = x + y;
            let hi = match &quadrature {
                None => {
                    let (q, hq) = sigmoid_and_h2(z);
                    *pi = q;
                    hq
                }
                Some(nodes) => {
                    *pi = net.firing_probability(z, Some(nodes));
                    h2(*pi)
                }
            };
            *h += hi;
        }
    }
    (table, entropy)
}

/// `out[a]` = Π_k p_k^{a_k}·(1 − p_k)^{1 − a_k} over the outcomes a of independent bits.
fn fill_outcomes(probs: &[f64], out: &mut [f64]) {
    out[0] = 1.0;
    for (k, &p) in probs.iter().enumerate() {
        let half = 1usize << k;
        let (low, high) = out[..2 * half].split_at_mut(half);
        for (l, h) in low.iter_mut().zip(high) {
            *h = *l * p;
            *l *= 1.0 - p;
        }
    }
}

/// Restarted GMRES on (I − Tᵀ + u·1ᵀ)·π = u with all scratch allocated once.
struct Solver<'a> {
    factors: &'a Factors,
    /// A neighbour's A⁻¹ (right preconditioning).
    preconditioner: Option<&'a Preconditioner>,
    /// M⁻¹·v_j, the vector the operator is applied to.
    preconditioned: Vec<f64>,
    /// All ones, to sum a vector with [`dot`]'s parallel add chains.
    ones: Vec<f64>,
    /// Krylov basis, vector k at `basis[k * states..]`.
    basis: Vec<f64>,
    /// Hessenberg columns after rotation (column j has j + 1 entries).
    columns: Vec<Vec<f64>>,
    rotations: Vec<(f64, f64)>,
    image: Vec<f64>,
}

impl<'a> Solver<'a> {
    fn new(factors: &'a Factors, preconditioner: Option<&'a Preconditioner>) -> Self {
        let states = factors.states;
        Solver {
            factors,
            preconditioner,
            preconditioned: vec![0.0; states],
            ones: vec![1.0; states],
            basis: vec![0.0; INITIAL_BASIS.min(RESTART + 1) * states],
            columns: Vec::with_capacity(RESTART),
            rotations: Vec::with_capacity(RESTART),
            image: vec![0.0; states],
        }
    }

    /// Returns the best π found, the products spent and its true residual ‖π·T − π‖₁. On
    /// x86-64 the same code is also compiled for AVX-512 and for AVX2 (with FMA) and chosen at
    /// run time; every version performs the same IEEE operations in the same order, so the
    /// result does not depend on which one runs.
    fn solve(&mut self, x: Vec<f64>, options: &ExactOptions) -> (Vec<f64>, usize, f64) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("fma") {
                // SAFETY: the CPU supports AVX-512F and FMA, as checked just above.
                return unsafe { self.solve_avx512(x, options) };
            }
            if has!("avx2") && has!("fma") {
                // SAFETY: the CPU supports AVX2 and FMA, as checked just above.
                return unsafe { self.solve_avx2(x, options) };
            }
        }
        self.solve_portable::<NARROW>(x, options)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,fma")]
    fn solve_avx512(&mut self, x: Vec<f64>, options: &ExactOptions) -> (Vec<f64>, usize, f64) {
        self.solve_portable::<WIDE>(x, options)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn solve_avx2(&mut self, x: Vec<f64>, options: &ExactOptions) -> (Vec<f64>, usize, f64) {
        self.solve_portable::<NARROW>(x, options)
    }

    #[inline(always)]
    fn solve_portable<const C: usize>(
        &mut self,
        mut x: Vec<f64>,
        options: &ExactOptions,
    ) -> (Vec<f64>, usize, f64) {
        let (tolerance, budget) = (options.tolerance.max(0.0), options.max_iterations.max(1));
        let mut used = 0;
        let mut best: Option<(Vec<f64>, f64)> = None;
        let mut stalled = 0;
        loop {
            normalize(&mut x);
            self.factors.apply::<C>(&x, &mut self.image);
            used += 1;
            // r = u − A·x = x·T − x for a normalised x.
            let residual: Vec<f64> = self.image.iter().zip(&x).map(|(t, x)| t - x).collect();
            let residual_l1: f64 = residual.iter().map(|r| r.abs()).sum();
            match &best {
                Some((_, b)) if residual_l1 > 0.9 * b => stalled += 1,
                _ => stalled = 0,
            }
            if best.as_ref().is_none_or(|(_, b)| residual_l1 < *b) {
                best = Some((x.clone(), residual_l1));
            }
            let steps = RESTART.min(budget.saturating_sub(used + 1));
            if residual_l1 <= tolerance || steps == 0 || stalled >= STALL_RESTARTS {
                let (pi, residual_l1) = best.expect("one residual was computed");
                return (pi, used, residual_l1);
            }
            // The cycle watches ‖r‖₂: convert the L1 target with the residual's own shape.
            let target = 0.5 * tolerance * norm2(&residual) / residual_l1;
            let y = self.cycle::<C>(&residual, steps, target, &mut used);
            self.add_correction(&mut x, &y);
        }
    }

    /// One Arnoldi cycle from r₀; returns the coefficients y of the correction V·y that
    /// minimises ‖r₀ − A·V·y‖₂ over the Krylov space built.
    #[inline(always)]
    fn cycle<const C: usize>(
        &mut self,
        r0: &[f64],
        steps: usize,
        target: f64,
        used: &mut usize,
    ) -> Vec<f64> {
        let states = self.factors.states;
        let beta = norm2(r0);
        for (b, r) in self.basis[..states].iter_mut().zip(r0) {
            *b = r / beta;
        }
        self.columns.clear();
        self.rotations.clear();
        let mut g = vec![beta];
        let mut w = vec![0.0; states];
        for j in 0..steps {
            self.operator::<C>(j, &mut w);
            *used += 1;
            let mut h = self.orthogonalize(j + 1, &mut w);
            let norm = norm2(&w);
            h.push(norm);
            for (i, &(c, s)) in self.rotations.iter().enumerate() {
                rotate(&mut h, i, c, s);
            }
            let (c, s) = givens(h[j], h[j + 1]);
            rotate(&mut h, j, c, s);
            h.truncate(j + 1);
            self.rotations.push((c, s));
            g.push(-s * g[j]);
            g[j] *= c;
            self.columns.push(h);
            if g[j + 1].abs() <= target || norm <= 1e-14 * beta || j + 1 == steps {
                break;
            }
            if self.basis.len() < (j + 2) * states {
                self.basis.resize((j + 2) * states, 0.0);
            }
            let next = &mut self.basis[(j + 1) * states..(j + 2) * states];
            for (v, wi) in next.iter_mut().zip(&w) {
                *v = wi / norm;
            }
        }
        g.truncate(self.columns.len());
        back_substitute(&self.columns, &g)
    }

    /// `x += M⁻¹·V·y` for the coefficients returned by [`Solver::cycle`] (M = I without a
    /// preconditioner).
    #[inline(always)]
    fn add_correction(&mut self, x: &mut [f64], y: &[f64]) {
        let states = self.factors.states;
        let correction = &mut self.preconditioned;
        correction.fill(0.0);
        for (v, &yi) in self.basis.chunks_exact(states).zip(y) {
            for (c, vi) in correction.iter_mut().zip(v) {
                *c += yi * vi;
            }
        }
        if let Some(p) = self.preconditioner {
            p.solve_in_place(correction);
        }
        for (xi, c) in x.iter_mut().zip(correction.iter()) {
            *xi += c;
        }
    }

    /// `out = A·M⁻¹·v_j` with A·v = v − Tᵀ·v + u·(1ᵀ·v).
    #[inline(always)]
    fn operator<const C: usize>(&mut self, j: usize, out: &mut [f64]) {
        let states = self.factors.states;
        let basis = &self.basis[j * states..(j + 1) * states];
        let v = match self.preconditioner {
            Some(p) => {
                self.preconditioned.copy_from_slice(basis);
                p.solve_in_place(&mut self.preconditioned);
                &self.preconditioned[..]
            }
            None => basis,
        };
        self.factors.apply::<C>(v, out);
        let shift = dot(v, &self.ones) / states as f64;
        for (o, vi) in out.iter_mut().zip(v) {
            *o = vi - *o + shift;
        }
    }

    /// Modified Gram–Schmidt of `w` against the first `count` basis vectors.
    #[inline(always)]
    fn orthogonalize(&self, count: usize, w: &mut [f64]) -> Vec<f64> {
        let states = self.factors.states;
        let mut h = Vec::with_capacity(count + 1);
        for v in self.basis.chunks_exact(states).take(count) {
            let coefficient = dot(v, w);
            for (wi, vi) in w.iter_mut().zip(v) {
                *wi -= coefficient * vi;
            }
            h.push(coefficient);
        }
        h
    }
}

/// The rotation (c, s) with [c s; −s c]·(a, b) = (r, 0).
#[inline(always)]
fn givens(a: f64, b: f64) -> (f64, f64) {
    let r = a.hypot(b);
    if r == 0.0 { (1.0, 0.0) } else { (a / r, b / r) }
}

/// Dot product with eight partial sums (independent add chains that fill one 512-bit or two
/// 256-bit registers, in a fixed order whatever the vector width).
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 8;
    let mut acc = [0.0; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        let (x, y): (&[f64; LANES], &[f64; LANES]) = (x.try_into().unwrap(), y.try_into().unwrap());
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    let quads = [
        acc[0] + acc[4],
        acc[1] + acc[5],
        acc[2] + acc[6],
        acc[3] + acc[7],
    ];
    (quads[0] + quads[1]) + (quads[2] + quads[3]) + tail
}

#[inline(always)]
fn norm2(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::control::Unattended;
    use crate::engine::flux::ensemble::Gaussian;
    use crate::engine::flux::exact::{analyze_exact, analyze_exact_from};
    use crate::engine::rng::stream;
    use ndarray::Array2;

    fn gaussian(n: usize, std: f64, seed: u64) -> Array2<f64> {
        let spec = Gaussian::iid(n, std);
        spec.sample(&mut stream(seed, &[n as u64]))
    }

    #[test]
    fn agrees_with_the_general_solver() {
        for (n, std, seed) in [(1, 1.0, 1), (5, 2.0, 2), (8, 3.0, 3), (11, 1.0, 4)] {
            let mut net = Network::new(gaussian(n, std, seed));
            net.bias = (0..n).map(|i| 0.1 * i as f64 - 0.2).collect();
            let general = analyze_exact(&net, &ExactOptions::default(), &Unattended).unwrap();
            let small = analyze_small(&net, None, &ExactOptions::default(), true);
            assert!(
                small.convergence.converged,
                "N = {n}: {:?}",
                small.convergence
            );
            assert!((small.mi_bits - general.mi_bits).abs() < 1e-9, "N = {n}");
            let c = small.correlation.unwrap();
            assert!((c.rms - general.correlation.rms).abs() < 1e-9, "N = {n}");
            let diff = small.pi.iter().zip(&general.pi).map(|(a, b)| (a - b).abs());
            assert!(diff.fold(0.0, f64::max) < 1e-10, "N = {n}");
        }
    }

    #[test]
    fn warm_start_from_a_neighbour_needs_fewer_products_and_is_deterministic() {
        let w = gaussian(8, 2.0, 5);
        let options = ExactOptions {
            tolerance: 1e-10,
            ..ExactOptions::default()
        };
        let parent = analyze_small(&Network::new(w.clone()), None, &options, false);
        let child = Network::new(w.mapv(|v| v * 1.01 + 0.005));
        let cold = analyze_small(&child, None, &options, false);
        let warm = analyze_small(&child, Some(&parent.pi), &options, false);
        let again = analyze_small(&child, Some(&parent.pi), &options, false);
        assert_eq!(warm, again);
        assert_eq!(warm.convergence.solver, "gmres_warm");
        assert!(warm.convergence.converged && cold.convergence.converged);
        assert!(warm.convergence.iterations < cold.convergence.iterations);
        assert!((warm.mi_bits - cold.mi_bits).abs() < 1e-8);
    }

    #[test]
    fn product_kernels_of_every_width_agree_bit_for_bit() {
        for n in [3, 6, 7, 9] {
            let mut net = Network::new(gaussian(n, 1.5, 8));
            net.bias = vec![0.3; n];
            let factors = Factors::new(&net);
            let v: Vec<f64> = (0..1 << n).map(|k| ((k * 37) % 101) as f64 / 7.0).collect();
            let mut results = Vec::new();
            for width in [NARROW, WIDE] {
                let mut out = vec![0.0; 1 << n];
                if width == NARROW {
                    factors.apply::<NARROW>(&v, &mut out);
                } else {
                    factors.apply::<WIDE>(&v, &mut out);
                }
                results.push(out);
            }
            let mut plain = vec![0.0; 1 << n];
            factors.apply_plain(&v, &mut plain);
            assert_eq!(results[0], plain, "N = {n}");
            assert_eq!(results[1], plain, "N = {n}");
            // And the kernel is vᵀ·T.
            let probs = &factors.probabilities;
            for y in [0, (1 << n) - 1, 5 % (1 << n)] {
                let direct: f64 = (0..1usize << n)
                    .map(|x| {
                        let p = &probs[x * n..(x + 1) * n];
                        v[x] * (0..n)
                            .map(|i| if y >> i & 1 == 1 { p[i] } else { 1.0 - p[i] })
                            .product::<f64>()
                    })
                    .sum();
                assert!((plain[y] - direct).abs() < 1e-9 * direct.abs().max(1.0));
            }
        }
    }

    #[test]
    fn general_solver_accepts_a_warm_start() {
        let w = gaussian(13, 0.8, 9);
        let options = ExactOptions::default();
        let neighbour = Network::new(w.mapv(|v| v * 0.98));
        let start = analyze_exact(&neighbour, &options, &Unattended).unwrap().pi;
        let net = Network::new(w);
        let cold = analyze_exact(&net, &options, &Unattended).unwrap();
        let warm = analyze_exact_from(&net, &start, &options, &Unattended).unwrap();
        assert_eq!(warm.convergence.solver, "gmres_warm");
        assert!(warm.convergence.converged);
        assert!(warm.convergence.iterations < cold.convergence.iterations);
        assert!((warm.mi_bits - cold.mi_bits).abs() < 1e-9);
    }

    #[test]
    fn exhausted_budget_is_reported() {
        let net = Network::new(gaussian(8, 4.0, 6));
        let options = ExactOptions {
            max_iterations: 3,
            ..ExactOptions::default()
        };
        let r = analyze_small(&net, None, &options, false);
        assert!(!r.convergence.converged && r.convergence.iterations <= 3);
        assert!((r.pi.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
