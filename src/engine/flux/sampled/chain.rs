//! One simulated trajectory of the stochastic network (SCIENCE.md A1): synchronous sigmoid
//! updates with optional Gaussian input noise, keeping the net inputs z up to date cheaply.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

use crate::engine::flux::network::{Network, Noise, sigmoid};
use crate::engine::rng::EngineRng;

use super::kernel::Columns;

/// After this many incremental updates z is rebuilt from scratch, so rounding never drifts.
const REFRESH_INTERVAL: usize = 1024;

/// Per-network data shared read-only by every run: weights by column and the two extreme net
/// inputs from which z can be rebuilt using only the active (or only the inactive) neurons.
pub(super) struct Prepared {
    pub n: usize,
    /// Column-major weights, so the fan-out of a neuron is contiguous. Stored as f32: a step
    /// streams about N²/2 weights and is bound by memory traffic, so halving their size
    /// pays at N ≈ 1000. The rounding (relative 6·10⁻⁸ per weight) moves firing
    /// probabilities far less than the sampling error does; z itself is summed in f64.
    columns: Columns,
    /// z when every neuron is off: b_i + y_off·Σ_j W_ij.
    z_all_off: Vec<f64>,
    /// z when every neuron is on: b_i + y_on·Σ_j W_ij.
    z_all_on: Vec<f64>,
    /// y_on − y_off: 2 for symmetric input, 1 for binary input.
    delta: f64,
    noise: Noise,
}

impl Prepared {
    pub fn new(net: &Network) -> Self {
        let n = net.n();
        let mut columns = vec![0.0f32; n * n];
        for ((i, j), &w) in net.weights.indexed_iter() {
            columns[j * n + i] = w as f32;
        }
        let (y_off, y_on) = (net.input_value(false), net.input_value(true));
        let columns = Columns::new(n, columns);
        let row_sums: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| f64::from(columns.get(i, j))).sum())
            .collect();
        let z_all_off = (0..n).map(|i| net.bias[i] + y_off * row_sums[i]).collect();
        let z_all_on = (0..n).map(|i| net.bias[i] + y_on * row_sums[i]).collect();
        Prepared {
            n,
            columns,
            z_all_off,
            z_all_on,
            delta: y_on - y_off,
            noise: net.noise,
        }
    }
}

/// The state of one run: current binary state, its bitset (for fingerprints) and net inputs.
pub(super) struct Chain<'a> {
    prep: &'a Prepared,
    rng: EngineRng,
    state: Vec<u8>,
    bits: Vec<u64>,
    active: usize,
    z: Vec<f64>,
    next: Vec<u8>,
    /// Scratch lists of neurons whose columns are added to / subtracted from z.
    plus: Vec<usize>,
    minus: Vec<usize>,
    since_refresh: usize,
}

impl<'a> Chain<'a> {
    /// A chain started from a uniformly random state drawn from `rng` (64 neurons per draw).
    pub fn new(prep: &'a Prepared, mut rng: EngineRng) -> Self {
        let n = prep.n;
        let mut bits = vec![0u64; n.div_ceil(64)];
        for word in bits.iter_mut() {
            *word = rng.next_u64();
        }
        if !n.is_multiple_of(64) {
            let last = bits.len() - 1;
            bits[last] &= (1u64 << (n % 64)) - 1;
        }
        let state: Vec<u8> = (0..n)
            .map(|i| (bits[i / 64] >> (i % 64) & 1) as u8)
            .collect();
        let mut chain = Chain {
            prep,
            rng,
            active: state.iter().map(|&s| s as usize).sum(),
            state,
            bits,
            z: vec![0.0; n],
            next: vec![0; n],
            plus: Vec::with_capacity(n),
            minus: Vec::with_capacity(n),
            since_refresh: 0,
        };
        chain.rebuild_net_input();
        chain
    }

    pub fn state(&self) -> &[u8] {
        &self.state
    }

    pub fn bits(&self) -> &[u64] {
        &self.bits
    }

    /// Writes the current state as 0.0 / 1.0 (a row of a moment block).
    pub fn write_row(&self, row: &mut [f32]) {
        for (r, &s) in row.iter_mut().zip(&self.state) {
            *r = f32::from(s);
        }
    }

    /// One synchronous update. Random draws per step, in this order: for shared noise one
    /// normal; then per neuron i = 0..N a normal (independent noise only) and a uniform.
    pub fn step(&mut self) {
        let shared = match self.prep.noise {
            Noise::Shared { std } if std > 0.0 => std * self.normal(),
            _ => 0.0,
        };
        let independent = match self.prep.noise {
            Noise::Independent { std } if std > 0.0 => std,
            _ => 0.0,
        };
        for i in 0..self.prep.n {
            let eta = if independent > 0.0 {
                independent * self.normal()
            } else {
                shared
            };
            let u: f64 = self.rng.random();
            self.next[i] = u8::from(u < sigmoid(self.z[i] + eta));
        }
        self.apply_next();
    }

    fn normal(&mut self) -> f64 {
        StandardNormal.sample(&mut self.rng)
    }

    /// Moves to `next`, then updates z by whichever touches fewer weight columns: the flipped
    /// neurons, or a rebuild from the active (or inactive) ones.
    fn apply_next(&mut self) {
        self.plus.clear();
        self.minus.clear();
        for i in 0..self.prep.n {
            if self.next[i] != self.state[i] {
                let list = if self.next[i] == 1 {
                    &mut self.plus
                } else {
                    &mut self.minus
                };
                list.push(i);
                self.bits[i / 64] ^= 1 << (i % 64);
            }
        }
        std::mem::swap(&mut self.state, &mut self.next);
        self.active += self.plus.len();
        self.active -= self.minus.len();
        let flips = self.plus.len() + self.minus.len();
        let rebuild_cost = self.active.min(self.prep.n - self.active);
        self.since_refresh += 1;
        if flips > rebuild_cost || self.since_refresh >= REFRESH_INTERVAL {
            self.rebuild_net_input();
        } else {
            let prep = self.prep;
            prep.columns
                .add_signed_sums(&mut self.z, prep.delta, &self.plus, &self.minus);
        }
    }

    /// z from scratch: z_all_off plus the active columns, or z_all_on minus the inactive
    /// columns, whichever set is smaller.
    fn rebuild_net_input(&mut self) {
        self.since_refresh = 0;
        let prep = self.prep;
        let from_off = self.active <= prep.n - self.active;
        let (start, wanted) = if from_off {
            (&prep.z_all_off, 1u8)
        } else {
            (&prep.z_all_on, 0u8)
        };
        self.z.copy_from_slice(start);
        self.plus.clear();
        self.plus
            .extend((0..prep.n).filter(|&j| self.state[j] == wanted));
        let (plus, minus) = if from_off {
            (&self.plus[..], &[][..])
        } else {
            (&[][..], &self.plus[..])
        };
        prep.columns
            .add_signed_sums(&mut self.z, prep.delta, plus, minus);
    }
}
