//! The transition kernel T of a network in factorised form (SCIENCE.md A2). The target neurons
//! are split into a low half A and a high half B, so that π·T is one GEMM of two "half-kernel"
//! matrices and T itself (4^N entries) is never stored beyond the dense path.

use std::ops::Range;

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::engine::flux::gauss_hermite::GaussHermite;
use crate::engine::flux::network::{NOISE_QUADRATURE_NODES, Network, Noise, h2, sigmoid};
use crate::engine::vector_state::clear_upper_vector_state;

/// Gauss–Hermite nodes over the shared noise draw: each node is one component of the mixture
/// kernel, so the cost of every product and of the conditional entropy grows linearly with it.
pub const SHARED_NOISE_NODES: usize = 24;

/// The blocked product never splits the states into pieces smaller than this.
const MIN_BLOCK_STATES: usize = 1024;
/// At most this many blocks; the split depends only on N, so the summation order (and hence
/// every bit of the result) is independent of the number of threads.
const MAX_BLOCKS: usize = 16;

/// One kernel of the mixture T = Σ_k w_k T_k (a single one without shared noise).
struct Component {
    weight: f64,
    /// Column-major 2^|A| × 2^N: column x holds P(x'_A = a | x) for every outcome a of A.
    low: Vec<f64>,
    /// Column-major 2^N × 2^|B|: column b holds P(x'_B = b | x) for every state x. Stored
    /// the other way round from `low` because the GEMM runs fastest with both operands packed
    /// from these layouts.
    high: Vec<f64>,
}

/// T in factorised form, built once per network and reused by every product.
pub(crate) struct Kernel {
    n: usize,
    low_bits: usize,
    high_bits: usize,
    components: Vec<Component>,
    /// Firing probabilities averaged over all noise, `marginal[s * n + i]` = E_η[p_i(x_s)].
    marginal: Vec<f64>,
}

impl Kernel {
    /// Builds the half-kernels of `net` (independent noise folded into the probabilities,
    /// shared noise as a Gauss–Hermite mixture).
    pub fn new(net: &Network) -> Kernel {
        let n = net.n();
        assert!((1..=30).contains(&n), "kernel needs 1 ≤ N ≤ 30");
        match net.noise {
            Noise::Shared { std } if std > 0.0 => Self::shared_noise(net, std),
            _ => {
                let table = probability_table(net);
                let component = Component::from_table(&table, n, 1.0);
                Self::assemble(n, vec![component], table)
            }
        }
    }

    /// The mixture over the shared draw η: component k uses p_i = σ(z_i + η_k).
    fn shared_noise(net: &Network, std: f64) -> Kernel {
        let n = net.n();
        let z = net_inputs(net);
        let quadrature = GaussHermite::new(SHARED_NOISE_NODES);
        let total: f64 = quadrature.weights.iter().sum();
        let scale = std::f64::consts::SQRT_2 * std;
        let mut marginal = vec![0.0; z.len()];
        let components = quadrature
            .nodes
            .iter()
            .zip(&quadrature.weights)
            .map(|(&node, &w)| {
                let weight = w / total;
                let eta = scale * node;
                let table: Vec<f64> = z.par_iter().map(|&zi| sigmoid(zi + eta)).collect();
                for (m, p) in marginal.iter_mut().zip(&table) {
                    *m += weight * p;
                }
                Component::from_table(&table, n, weight)
            })
            .collect();
        Self::assemble(n, components, marginal)
    }

    fn assemble(n: usize, components: Vec<Component>, marginal: Vec<f64>) -> Kernel {
        Kernel {
            n,
            low_bits: low_bits(n),
            high_bits: n - low_bits(n),
            components,
            marginal,
        }
    }

    /// Number of neurons N.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of states 2^N.
    pub fn states(&self) -> usize {
        1 << self.n
    }

    /// E_η[p_i(x)] for every state, `[s * n + i]`.
    pub fn marginal(&self) -> &[f64] {
        &self.marginal
    }

    /// True when the kernel is a mixture (shared noise), so neurons are not conditionally
    /// independent given x.
    pub fn is_mixture(&self) -> bool {
        self.components.len() > 1
    }

    /// `out = vᵀ·T` (as a vector over target states) for any real vector `v`.
    pub fn apply(&self, v: &[f64], out: &mut [f64]) {
        let states = self.states();
        assert_eq!(v.len(), states);
        assert_eq!(out.len(), states);
        let block = (states / MAX_BLOCKS).max(MIN_BLOCK_STATES).min(states);
        let scratch_len = block << self.high_bits;
        if block == states {
            self.apply_block(v, 0..states, out, &mut vec![0.0; scratch_len]);
            return;
        }
        let partials: Vec<Vec<f64>> = (0..states / block)
            .into_par_iter()
            .map_init(
                || vec![0.0; scratch_len],
                |scratch, b| {
                    let mut part = vec![0.0; states];
                    self.apply_block(v, b * block..(b + 1) * block, &mut part, scratch);
                    part
                },
            )
            .collect();
        out.fill(0.0);
        for part in &partials {
            for (o, p) in out.iter_mut().zip(part) {
                *o += p;
            }
        }
    }

    /// `out = Σ_{x ∈ sources} v(x)·T(·|x)` as Σ_k w_k·L_k·diag(v)·H_k, one GEMM per component
    /// (L_k = `low`, 2^|A| × sources; H_k = `high`, sources × 2^|B|), with `out[a + b·2^|A|]`
    /// read as a column-major 2^|A| × 2^|B| matrix. `scaled` is scratch for diag(v)·H_k.
    fn apply_block(&self, v: &[f64], sources: Range<usize>, out: &mut [f64], scaled: &mut [f64]) {
        let states = self.states();
        let (wa, wb) = (1usize << self.low_bits, 1usize << self.high_bits);
        let len = sources.len();
        let weights = &v[sources.clone()];
        let scaled = &mut scaled[..len * wb];
        let mut dst = MatMut::from_column_major_slice_mut(out, wa, wb);
        for (k, c) in self.components.iter().enumerate() {
            for (b, column) in scaled.chunks_exact_mut(len).enumerate() {
                let source = &c.high[b * states + sources.start..b * states + sources.end];
                for ((s, h), w) in column.iter_mut().zip(source).zip(weights) {
                    *s = w * h;
                }
            }
            let lhs = MatRef::from_column_major_slice(
                &c.low[sources.start * wa..sources.end * wa],
                wa,
                len,
            );
            let rhs = MatRef::from_column_major_slice(scaled, len, wb);
            let accum = if k == 0 { Accum::Replace } else { Accum::Add };
            matmul(dst.as_mut(), accum, lhs, rhs, c.weight, Par::Seq);
        }
        clear_upper_vector_state();
    }

    /// ‖x·T − x‖₁, using `image` as scratch for x·T.
    pub fn residual_l1(&self, x: &[f64], image: &mut [f64]) -> f64 {
        self.apply(x, image);
        image.iter().zip(x).map(|(t, x)| (t - x).abs()).sum()
    }

    /// T(·|x) over all 2^N outcomes, written into `out` (index = target state).
    pub fn transition_row(&self, state: usize, out: &mut [f64]) {
        let (wa, states) = (1usize << self.low_bits, self.states());
        out.fill(0.0);
        for c in &self.components {
            let low = &c.low[state * wa..(state + 1) * wa];
            for (b, row) in out.chunks_exact_mut(wa).enumerate() {
                let scale = c.weight * c.high[b * states + state];
                for (o, &l) in row.iter_mut().zip(low) {
                    *o += scale * l;
                }
            }
        }
    }

    /// H(x(t+1) | x(t) = state) in bits: Σ_i h2(p_i) for conditionally independent neurons,
    /// the entropy of the full mixture row (2^N outcomes) otherwise.
    pub fn outcome_entropy_bits(&self, state: usize, row: &mut [f64]) -> f64 {
        if !self.is_mixture() {
            let n = self.n;
            return self.marginal[state * n..(state + 1) * n]
                .iter()
                .map(|&p| h2(p))
                .sum();
        }
        self.transition_row(state, row);
        super::entropy_bits(row)
    }
}

impl Component {
    /// Half-kernels from a probability table `table[s * n + i]`.
    fn from_table(table: &[f64], n: usize, weight: f64) -> Component {
        let low_bits = low_bits(n);
        Component {
            weight,
            low: half_kernel_by_state(table, n, 0..low_bits),
            high: half_kernel_by_outcome(table, n, low_bits..n),
        }
    }
}

/// Size of the low half A: ⌊N/2⌋ neurons (B gets the rest).
fn low_bits(n: usize) -> usize {
    n / 2
}

/// Column-major 2^|group| × 2^N matrix of P(outcome of `group` | x): one column per state.
fn half_kernel_by_state(table: &[f64], n: usize, group: Range<usize>) -> Vec<f64> {
    let width = 1usize << group.len();
    let states = table.len() / n;
    let mut out = vec![0.0; width * states];
    out.par_chunks_mut(width)
        .with_min_len(64)
        .enumerate()
        .for_each(|(s, column)| {
            let probs = &table[s * n..(s + 1) * n];
            fill_outcomes(&probs[group.clone()], column);
        });
    out
}

/// Column-major 2^N × 2^|group| matrix of P(outcome of `group` | x): one column per outcome,
/// built as a product of |group| per-neuron passes over all states.
fn half_kernel_by_outcome(table: &[f64], n: usize, group: Range<usize>) -> Vec<f64> {
    let width = 1usize << group.len();
    let states = table.len() / n;
    let mut out = vec![1.0; width * states];
    out.par_chunks_mut(states)
        .enumerate()
        .for_each(|(outcome, column)| {
            for (k, neuron) in group.clone().enumerate() {
                let fires = outcome >> k & 1 == 1;
                for (c, probs) in column.iter_mut().zip(table.chunks_exact(n)) {
                    let p = probs[neuron];
                    *c *= if fires { p } else { 1.0 - p };
                }
            }
        });
    out
}

/// `out[a]` = Π_k p_k^{a_k}·(1 − p_k)^{1 − a_k} for every outcome a of independent bits, built
/// by doubling (bit k of `a` is neuron k of the group).
pub(super) fn fill_outcomes(probs: &[f64], out: &mut [f64]) {
    if let (Ok(probs), Ok(out)) = (probs.try_into(), <&mut [f64; 16]>::try_from(&mut *out)) {
        *out = outcomes_of_four(probs);
        return;
    }
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

/// [`fill_outcomes`] for four bits (the halves of N = 8, an evolution's main case) with the
/// same multiplications in the same order, in registers: the general loop reads back what it
/// has just stored, in wider loads than the stores, which stalls store forwarding (it was
/// about a third of building an N = 8 network's tables).
#[inline(always)]
fn outcomes_of_four(probs: &[f64; 4]) -> [f64; 16] {
    let mut out = [0.0; 16];
    out[0] = 1.0;
    for (k, &p) in probs.iter().enumerate() {
        let half = 1usize << k;
        for a in 0..half {
            out[a + half] = out[a] * p;
            out[a] *= 1.0 - p;
        }
    }
    out
}

/// Net inputs z_i(x) for every state, `[s * n + i]`, in parallel.
fn net_inputs(net: &Network) -> Vec<f64> {
    let n = net.n();
    let mut z = vec![0.0; n << n];
    z.par_chunks_mut(n)
        .with_min_len(64)
        .enumerate()
        .for_each(|(s, row)| net.net_input_of_index(s as u64, row));
    z
}

/// The same table as [`Network::probability_table`] (identical values), computed in parallel:
/// with independent noise each entry is a quadrature over the noise.
fn probability_table(net: &Network) -> Vec<f64> {
    let quadrature = match net.noise {
        Noise::Independent { std } if std > 0.0 => Some(GaussHermite::new(NOISE_QUADRATURE_NODES)),
        _ => None,
    };
    let mut table = net_inputs(net);
    table
        .par_iter_mut()
        .with_min_len(256)
        .for_each(|z| *z = net.firing_probability(*z, quadrature.as_ref()));
    table
}
