//! A sequential exact solver for small networks (N ≤ [`SMALL_MAX_N`]), built for search loops
//! that analyse thousands of nearby networks, such as an evolution evaluating its offspring.
//!
//! Each call runs on the calling thread only (callers parallelise over networks), keeps all of
//! its scratch in one workspace, and may start GMRES from a nearby distribution (the parent's
//! π). The half-kernels are the same factorisation as in the `kernel` submodule, so one product
//! π·T costs 4^N multiply-adds; the result is a deterministic function of the network and the
//! start. There are no stop checks inside: at N = 12 a call takes a few tens of milliseconds
//! per network.
//! [`analyze_small_together`] solves several networks that share a preconditioner in lock
//! step (the `solver` submodule), with the results each would get alone.
//!
//! Products are summed by a small tiled kernel with one fused multiply-add per term, in state
//! order for every output entry, so the result is the same bit for bit whichever vector width
//! (AVX-512, AVX2 or none) the CPU offers.

use crate::engine::flux::correlation::CorrelationStats;
use crate::engine::flux::gauss_hermite::GaussHermite;
use crate::engine::flux::network::{NOISE_QUADRATURE_NODES, Network, Noise, h2, sigmoid_and_h2};

use super::kernel::fill_outcomes;
use super::preconditioner::{LOCKSTEP, Preconditioner};
use super::{Convergence, ExactOptions, convergence, correlation_from_pi, entropy_bits};

mod solver;

use solver::{Solution, Solver, solve_together};

/// Largest N accepted: 2^12 states, half-kernels of 2 · 4096 · 64 doubles (4 MiB) and a
/// Krylov basis of 81 · 4096 doubles (2.6 MiB) per network in flight.
pub const SMALL_MAX_N: usize = 12;

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
    let factors = checked_factors(net, near, options);
    let solver = Solver::new(
        &factors,
        near.preconditioner,
        start(&factors, near),
        options,
    );
    analysis(&factors, near, solver.solve(), options, with_correlation)
}

/// [`analyze_small_near`] for several networks at once, with the same results bit for bit.
/// Networks whose neighbours share a preconditioner (the same object) run their GMRES in
/// lock step, [`LOCKSTEP`] at a time, so each pass over the factors preconditions several
/// vectors; the others run alone. All the networks' tables are built up front; pass a handful
/// (about [`LOCKSTEP`]) per preconditioner and parallelise over such groups.
///
/// # Panics
/// As [`analyze_small_near`].
pub fn analyze_small_together(
    items: &[(&Network, Neighbour)],
    options: &ExactOptions,
    with_correlation: bool,
) -> Vec<SmallAnalysis> {
    let factors: Vec<Factors> = items
        .iter()
        .map(|&(net, near)| checked_factors(net, near, options))
        .collect();
    let key = |near: &Neighbour| near.preconditioner.map(std::ptr::from_ref);
    let mut solutions: Vec<Option<Solution>> = vec![None; items.len()];
    for (i, (_, near)) in items.iter().enumerate() {
        if solutions[i].is_some() {
            continue;
        }
        // Without a preconditioner there is nothing to share: such a network runs alone.
        let group: Vec<usize> = match key(near) {
            None => vec![i],
            Some(p) => (i..items.len())
                .filter(|&k| solutions[k].is_none() && key(&items[k].1) == Some(p))
                .take(LOCKSTEP)
                .collect(),
        };
        let solvers = group.iter().map(|&k| {
            let near = items[k].1;
            Solver::new(
                &factors[k],
                near.preconditioner,
                start(&factors[k], near),
                options,
            )
        });
        for (k, solution) in group.iter().zip(solve_together(solvers.collect())) {
            solutions[*k] = Some(solution);
        }
    }
    let solved = items.iter().zip(&factors).zip(solutions);
    solved
        .map(|((&(_, near), f), s)| {
            let solution = s.expect("every network was solved");
            analysis(f, near, solution, options, with_correlation)
        })
        .collect()
}

/// The kernel factors of `net` after checking what [`analyze_small_near`] requires.
fn checked_factors(net: &Network, near: Neighbour, options: &ExactOptions) -> Factors {
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
    if let Some(s) = near.pi {
        assert_eq!(s.len(), factors.states, "a start needs 2^N entries");
    }
    if let Some(p) = near.preconditioner {
        assert_eq!(p.states(), factors.states, "a preconditioner for another N");
    }
    factors
}

/// GMRES's first iterate: the neighbour's π, or the uniform distribution.
fn start(factors: &Factors, near: Neighbour) -> Vec<f64> {
    match near.pi {
        Some(s) => s.to_vec(),
        None => vec![1.0 / factors.states as f64; factors.states],
    }
}

/// I, the entropies and (if asked) C from a solved π.
fn analysis(
    factors: &Factors,
    near: Neighbour,
    (pi, iterations, residual_l1): Solution,
    options: &ExactOptions,
    with_correlation: bool,
) -> SmallAnalysis {
    let name = match (near.preconditioner, near.pi) {
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
            #[cfg(target_arch = "x86_64")]
            if C == WIDE && wa.is_multiple_of(WIDE_ROWS) && wb.is_multiple_of(WIDE) {
                use std::arch::is_x86_feature_detected as has;
                if has!("avx512f") && has!("fma") {
                    for a0 in (0..wa).step_by(WIDE_ROWS) {
                        for b0 in (0..wb).step_by(WIDE) {
                            // SAFETY: the CPU supports AVX-512F and FMA (checked above), and
                            // the tile lies inside `out` and the rows (wa, wb multiples of
                            // its size).
                            unsafe { tile_avx512(&rows, &v[x0..x1], a0, b0, out) };
                        }
                    }
                    continue;
                }
            }
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

/// Rows of the AVX-512 tile: two 512-bit registers per column.
const WIDE_ROWS: usize = 2 * TILE_ROWS;

/// [`tile`] for WIDE_ROWS × WIDE outcomes in sixteen 512-bit sums, written with intrinsics
/// (LLVM turns the generic loops at this size into gathers). A tile of one register per column
/// issues a broadcast load per multiply-add and waits on its loads; this one shares each
/// broadcast between two multiply-adds. Every sum gets the same operations in the same order.
///
/// # Safety
/// The CPU must support AVX-512F and FMA; `a0 + WIDE_ROWS ≤ wa` and `b0 + WIDE ≤ wb`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn tile_avx512(rows: &Rows, v: &[f64], a0: usize, b0: usize, out: &mut [f64]) {
    use std::arch::x86_64::{
        __m512d, _mm512_fmadd_pd, _mm512_loadu_pd, _mm512_mul_pd, _mm512_set1_pd, _mm512_storeu_pd,
    };
    let wa = rows.wa;
    let half = TILE_ROWS;
    let mut acc: [[__m512d; 2]; WIDE] = std::array::from_fn(|c| {
        let column = &out[(b0 + c) * wa + a0..][..WIDE_ROWS];
        // SAFETY: `column` holds WIDE_ROWS = 2 × 8 doubles.
        unsafe {
            [
                _mm512_loadu_pd(column.as_ptr()),
                _mm512_loadu_pd(column[half..].as_ptr()),
            ]
        }
    });
    let pairs = rows
        .low
        .chunks_exact(wa)
        .zip(rows.high.chunks_exact(rows.wb));
    for ((l, h), &weight) in pairs.zip(v) {
        let l: &[f64; WIDE_ROWS] = l[a0..a0 + WIDE_ROWS].try_into().unwrap();
        let h: &[f64; WIDE] = h[b0..b0 + WIDE].try_into().unwrap();
        let w = _mm512_set1_pd(weight);
        // SAFETY: `l` holds 16 doubles.
        let scaled = unsafe {
            [
                _mm512_mul_pd(_mm512_loadu_pd(l.as_ptr()), w),
                _mm512_mul_pd(_mm512_loadu_pd(l[half..].as_ptr()), w),
            ]
        };
        for (sums, &hc) in acc.iter_mut().zip(h) {
            let hc = _mm512_set1_pd(hc);
            sums[0] = _mm512_fmadd_pd(scaled[0], hc, sums[0]);
            sums[1] = _mm512_fmadd_pd(scaled[1], hc, sums[1]);
        }
    }
    for (c, sums) in acc.iter().enumerate() {
        let column = &mut out[(b0 + c) * wa + a0..][..WIDE_ROWS];
        // SAFETY: `column` holds WIDE_ROWS = 2 × 8 doubles.
        unsafe {
            _mm512_storeu_pd(column.as_mut_ptr(), sums[0]);
            _mm512_storeu_pd(column[half..].as_mut_ptr(), sums[1]);
        }
    }
}

/// Kernel entries (of L and H together) per block of states: 256 KiB, well inside L2.
const BLOCK_DOUBLES: usize = 1 << 15;

/// Rows (A outcomes) of a product tile: one 512-bit or two 256-bit registers per column.
const TILE_ROWS: usize = 8;
/// Columns per tile: eight independent FMA chains (8 × 512 bits with AVX-512, 4 × 2 × 256 bits
/// with AVX2) keep the FMA units busy without running out of the 32 / 16 vector registers;
/// where the low half has 16 outcomes or more, the AVX-512 tile is two registers tall
/// ([`tile_avx512`], sixteen chains).
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
    let moderate = low.iter().chain(&high).all(|z| z.abs() <= PART_EXP_LIMIT);
    if quadrature.is_none() && moderate {
        return factored_table(n, &low, &high);
    }
    let mut table = vec![0.0; n << n];
    let mut entropy = vec![0.0; 1 << n];
    let rows = table.chunks_exact_mut(n).zip(entropy.iter_mut());
    for (s, (p, h)) in rows.enumerate() {
        let (za, zb) = half_rows(s, n, &low, &high);
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

/// The rows of state s = a + b·2^⌊N/2⌋ in tables of N entries per low-half code a and per
/// high-half code b.
fn half_rows<'a>(s: usize, n: usize, low: &'a [f64], high: &'a [f64]) -> (&'a [f64], &'a [f64]) {
    let k = n / 2;
    let (a, b) = (s & ((1 << k) - 1), s >> k);
    (&low[a * n..(a + 1) * n], &high[b * n..(b + 1) * n])
}

/// Largest |part of a net input| for [`factored_table`]: e^±300 and products of two stay far
/// inside the double range. Networks beyond it (|w| in the tens or more) take the per-entry
/// path of [`sigmoid_and_h2`].
const PART_EXP_LIMIT: f64 = 300.0;

/// [`probability_table`] for noiseless networks with 8× fewer transcendental functions.
/// e^−z = e^−z_low·e^−z_high, so one exponential per neuron and half-state suffices, and
/// σ(z) = 1/(1 + e^−z), 1 − σ(z) = e^−z·σ(z). With σ_big ≥ σ_small the two outcome
/// probabilities, h2 = −ln σ_big + |z|·σ_small (nats), and the −ln terms of a state's neurons
/// add up to one logarithm of a product of factors in [½, 1] (at least 2^−N, no underflow).
/// The 2,048 exponentials and 2,048 logarithms of an N = 8 network, about a sixth of an
/// evolution's CPU time, become 256 of each. The entropies are exact to about N·2⁻⁵³ nats
/// per state in absolute terms (a nearly deterministic state's tiny entropy loses relative
/// precision, which I, a difference of entropies of order N bits, does not notice).
fn factored_table(n: usize, low: &[f64], high: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let exp_neg = |part: &[f64]| -> Vec<f64> { part.iter().map(|z| (-z).exp()).collect() };
    let (low_exp, high_exp) = (exp_neg(low), exp_neg(high));
    let mut table = vec![0.0; n << n];
    let mut entropy = vec![0.0; 1 << n];
    let rows = table.chunks_exact_mut(n).zip(entropy.iter_mut());
    for (s, (p, h)) in rows.enumerate() {
        let (za, zb) = half_rows(s, n, low, high);
        let (ea, eb) = half_rows(s, n, &low_exp, &high_exp);
        let mut big_product = 1.0;
        let mut linear = 0.0;
        for i in 0..n {
            let z = za[i] + zb[i];
            let e = ea[i] * eb[i];
            let sigma = 1.0 / (1.0 + e);
            let rest = e * sigma;
            p[i] = sigma;
            let (small, big) = if z >= 0.0 {
                (rest, sigma)
            } else {
                (sigma, rest)
            };
            big_product *= big;
            linear += z.abs() * small;
        }
        *h = (linear - big_product.ln()) / std::f64::consts::LN_2;
    }
    (table, entropy)
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
    fn networks_solved_together_get_the_results_of_solving_each_alone() {
        let options = ExactOptions {
            tolerance: 1e-10,
            ..ExactOptions::default()
        };
        let parents: Vec<Network> = (0..2)
            .map(|s| Network::new(gaussian(8, 2.5, 20 + s)))
            .collect();
        let hubs: Vec<Preconditioner> = parents.iter().map(Preconditioner::new).collect();
        let pis: Vec<Vec<f64>> = parents
            .iter()
            .map(|p| analyze_small(p, None, &options, false).pi)
            .collect();
        // Nine children of two hubs, interleaved (five share hub 0: more than one lock-step
        // group), and two without a preconditioner.
        let children: Vec<Network> = (0..11)
            .map(|k| {
                let shift = 0.003 * k as f64;
                Network::new(parents[k % 2].weights.mapv(|v| v * (1.0 + shift) - shift))
            })
            .collect();
        let near = |k: usize| Neighbour {
            pi: Some(&pis[k % 2]),
            preconditioner: (k < 9).then(|| &hubs[k % 2]),
        };
        let items: Vec<(&Network, Neighbour)> = children
            .iter()
            .enumerate()
            .map(|(k, c)| (c, near(k)))
            .collect();
        let together = analyze_small_together(&items, &options, true);
        for (k, (child, got)) in children.iter().zip(&together).enumerate() {
            let alone = analyze_small_near(child, near(k), &options, true);
            assert_eq!(got, &alone, "child {k}");
            assert!(
                got.convergence.converged,
                "child {k}: {:?}",
                got.convergence
            );
        }
        assert_eq!(together[0].convergence.solver, "gmres_preconditioned");
        assert_eq!(together[10].convergence.solver, "gmres_warm");
    }

    #[test]
    fn factored_probabilities_and_entropies_match_the_per_entry_formulas() {
        // The last network has net-input parts beyond PART_EXP_LIMIT: the per-entry path.
        for (n, std, bias) in [
            (1, 2.0, 0.3),
            (5, 3.0, -1.0),
            (8, 4.0, 0.5),
            (8, 30.0, 2.0),
            (4, 400.0, 1.0),
        ] {
            let mut net = Network::new(gaussian(n, std, 31));
            net.bias = vec![bias; n];
            let (probabilities, entropy) = probability_table(&net);
            for s in 0..1usize << n {
                let x: Vec<f64> = (0..n).map(|j| net.input_value(s >> j & 1 == 1)).collect();
                let mut expected = 0.0;
                for i in 0..n {
                    let z: f64 =
                        net.bias[i] + (0..n).map(|j| net.weights[[i, j]] * x[j]).sum::<f64>();
                    let (p, h) = sigmoid_and_h2(z);
                    expected += h;
                    let got = probabilities[s * n + i];
                    let allowed = 1e-15 + 1e-12 * p.min(1.0 - p);
                    assert!((got - p).abs() <= allowed, "N = {n}, s = {s}: {got} vs {p}");
                }
                assert!(
                    (entropy[s] - expected).abs() <= 1e-13 * n as f64,
                    "N = {n}, s = {s}: {} vs {expected}",
                    entropy[s]
                );
            }
        }
    }

    #[test]
    fn product_kernels_of_every_width_agree_bit_for_bit() {
        for n in [3, 6, 7, 8, 9, 10] {
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
