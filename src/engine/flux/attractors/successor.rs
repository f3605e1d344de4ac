//! The deterministic (zero-temperature) successor x_i(t+1) = [z_i(x(t)) > 0] (A7), computed
//! with cheap incremental updates of z yet bit-for-bit equal to the direct definition.
//!
//! Incremental sums round differently from the direct sum b_i + Σ_j W_ij·y_j, which matters
//! only when z_i is (almost) exactly 0 — as it is for integer weights with ties. Every
//! partial sum is a net input of some state, so its magnitude is at most
//! S_i = |b_i| + Σ_j |W_ij|·max|y|, and after k column additions the incremental value is
//! within k·ε·2·S_i of the direct one. Whenever |z_i| ≤ 10⁻⁹·S_i the neuron is therefore
//! re-evaluated by the exact sum of [`Network::exact_net_input`] (so the tie rule z = 0 → off
//! sees the true sign); z is rebuilt before k can exceed 2¹⁸, which keeps the rounding error
//! (≈ 10⁻¹⁰·S_i) inside that margin.

use crate::engine::flux::network::Network;

/// |z_i| at or below this fraction of S_i is decided by the direct sum.
const TIE_MARGIN: f64 = 1e-9;

/// Column additions after which z is rebuilt, bounding the incremental rounding error.
pub(super) const MAX_INCREMENTAL_OPS: usize = 1 << 18;

/// Per-network data for the successor function.
pub(super) struct Successor<'a> {
    net: &'a Network,
    pub n: usize,
    /// Column-major weights (`columns[j * n + i]` = W_ij), in f64: decisions must be exact.
    columns: Vec<f64>,
    /// z when every neuron is off.
    z_all_off: Vec<f64>,
    /// y_on − y_off.
    delta: f64,
    /// TIE_MARGIN · S_i per neuron.
    margin: Vec<f64>,
}

impl<'a> Successor<'a> {
    pub fn new(net: &'a Network) -> Self {
        let n = net.n();
        let mut columns = vec![0.0; n * n];
        for ((i, j), &w) in net.weights.indexed_iter() {
            columns[j * n + i] = w;
        }
        let (y_off, y_on) = (net.input_value(false), net.input_value(true));
        let y_max = y_off.abs().max(y_on.abs());
        let row = |i: usize| net.weights.row(i);
        let z_all_off = (0..n).map(|i| net.bias[i] + y_off * row(i).sum()).collect();
        let margin = (0..n)
            .map(|i| {
                TIE_MARGIN
                    * (net.bias[i].abs() + y_max * row(i).iter().map(|w| w.abs()).sum::<f64>())
            })
            .collect();
        Successor {
            net,
            n,
            columns,
            z_all_off,
            delta: y_on - y_off,
            margin,
        }
    }

    fn column(&self, j: usize) -> &[f64] {
        &self.columns[j * self.n..(j + 1) * self.n]
    }

    /// z from scratch for the state whose neuron j is on iff `on(j)`.
    pub fn net_input(&self, on: impl Fn(usize) -> bool, z: &mut [f64]) {
        z.copy_from_slice(&self.z_all_off);
        for j in (0..self.n).filter(|&j| on(j)) {
            self.add_column(z, j, true);
        }
    }

    /// Updates z for neuron j switching on (`now_on`) or off.
    #[inline]
    pub fn add_column(&self, z: &mut [f64], j: usize, now_on: bool) {
        let a = if now_on { self.delta } else { -self.delta };
        for (zi, w) in z.iter_mut().zip(self.column(j)) {
            *zi += a * w;
        }
    }

    /// The next value of neuron i, given the (incrementally computed) z_i of the current
    /// state; `on(j)` tells the current state, used only to settle near-ties exactly.
    #[inline]
    pub fn fires(&self, i: usize, z_i: f64, on: impl Fn(usize) -> bool) -> bool {
        if z_i > self.margin[i] {
            true
        } else if z_i < -self.margin[i] {
            false
        } else {
            self.direct_net_input(i, on) > 0.0
        }
    }

    /// b_i + Σ_j W_ij·y_j summed exactly ([`Network::exact_net_input`]), so its sign is exact.
    fn direct_net_input(&self, i: usize, on: impl Fn(usize) -> bool) -> f64 {
        self.net.exact_net_input(i, on)
    }
}
