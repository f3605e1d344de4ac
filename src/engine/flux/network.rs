//! A stochastic binary RNN with synchronous sigmoid updates (SCIENCE.md A1).

use ndarray::Array2;

use super::exact_sum::ExactSum;
use super::gauss_hermite::GaussHermite;

/// How a binary state enters the net input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    /// y = 2x − 1 ∈ {−1, +1} (the default, as in the group's own code).
    Symmetric,
    /// y = x ∈ {0, 1}.
    Binary,
}

/// Gaussian noise added to every net input, z_i + η_i with η ~ N(0, std²).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    None,
    /// One independent draw per neuron and step: neurons stay conditionally independent.
    Independent {
        std: f64,
    },
    /// One draw per step shared by all neurons: the transition kernel becomes a mixture.
    Shared {
        std: f64,
    },
}

/// Number of Gauss–Hermite nodes used to average over input noise.
pub const NOISE_QUADRATURE_NODES: usize = 48;

/// The network: `weights[[i, j]]` is the connection j → i (row = target).
#[derive(Debug, Clone)]
pub struct Network {
    pub weights: Array2<f64>,
    pub bias: Vec<f64>,
    pub input: InputMode,
    pub noise: Noise,
}

/// Logistic function, written to stay accurate for large |z|.
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// (σ(z), h2(σ(z))) with one exponential and one logarithm instead of the three calls of
/// `sigmoid` then `h2`: with e = exp(−|z|), h2 = (ln(1 + e) + |z|·e/(1 + e)) / ln 2 (h2 is even
/// in z, and this form has no cancellation). σ keeps `sigmoid`'s bits; h2 agrees with a
/// cancellation-free evaluation to 1e-14 relative, closer than `h2(p)`, which forms 1 − p.
#[inline]
pub fn sigmoid_and_h2(z: f64) -> (f64, f64) {
    let a = z.abs();
    let e = (-a).exp();
    let d = 1.0 + e;
    let (high, low) = (1.0 / d, e / d);
    let h = (e.ln_1p() + a * low) / std::f64::consts::LN_2;
    (if z >= 0.0 { high } else { low }, h)
}

/// I of an N-rooks network with weights ±q (symmetric input, no bias, no noise; SCIENCE.md A5):
/// each neuron copies or inverts one other with flip probability σ(−q), so I = N·(1 − h2(σ(−q))).
pub fn nrooks_mi_bits(n: f64, q: f64) -> f64 {
    n * (1.0 - h2(sigmoid(-q)))
}

/// Binary entropy in bits; h2(0) = h2(1) = 0.
#[inline]
pub fn h2(p: f64) -> f64 {
    let mut h = 0.0;
    if p > 0.0 {
        h -= p * p.log2();
    }
    if p < 1.0 {
        h -= (1.0 - p) * (1.0 - p).log2();
    }
    h
}

impl Network {
    /// A noiseless network with zero bias and symmetric input.
    pub fn new(weights: Array2<f64>) -> Self {
        let n = weights.nrows();
        assert_eq!(n, weights.ncols(), "weight matrix must be square");
        Network {
            weights,
            bias: vec![0.0; n],
            input: InputMode::Symmetric,
            noise: Noise::None,
        }
    }

    pub fn n(&self) -> usize {
        self.weights.nrows()
    }

    /// The input value y_j of a neuron in state `bit`.
    #[inline]
    pub fn input_value(&self, bit: bool) -> f64 {
        match (self.input, bit) {
            (InputMode::Symmetric, true) => 1.0,
            (InputMode::Symmetric, false) => -1.0,
            (InputMode::Binary, true) => 1.0,
            (InputMode::Binary, false) => 0.0,
        }
    }

    /// Net inputs z_i(x) for a state given by its index (bit n = neuron n; N ≤ 64).
    pub fn net_input_of_index(&self, state: u64, z: &mut [f64]) {
        let n = self.n();
        for (i, zi) in z.iter_mut().enumerate().take(n) {
            let row = self.weights.row(i);
            let mut acc = self.bias[i];
            for j in 0..n {
                acc += row[j] * self.input_value(state >> j & 1 == 1);
            }
            *zi = acc;
        }
    }

    /// Net inputs z_i(x) for a state given as one bool per neuron (any N).
    pub fn net_input(&self, state: &[bool], z: &mut [f64]) {
        let n = self.n();
        for (i, zi) in z.iter_mut().enumerate().take(n) {
            let row = self.weights.row(i);
            let mut acc = self.bias[i];
            for j in 0..n {
                acc += row[j] * self.input_value(state[j]);
            }
            *zi = acc;
        }
    }

    /// Firing probability p_i = P(x_i(t+1) = 1 | z_i) for one net input, averaged over
    /// independent noise when present (with shared noise this is the marginal over the
    /// shared draw, which is *not* enough to build the joint kernel).
    pub fn firing_probability(&self, z: f64, quadrature: Option<&GaussHermite>) -> f64 {
        match (self.noise, quadrature) {
            (Noise::None, _) => sigmoid(z),
            (Noise::Independent { std } | Noise::Shared { std }, Some(q)) if std > 0.0 => {
                q.expect_normal(0.0, std, |eta| sigmoid(z + eta))
            }
            _ => sigmoid(z),
        }
    }

    /// Table of p_i(x) for every state index (row-major: `table[s * n + i]`), for exact methods.
    /// Requires independent noise or none; size 2^N · N.
    pub fn probability_table(&self) -> Vec<f64> {
        let n = self.n();
        assert!(n <= 30, "probability table needs N ≤ 30");
        assert!(
            !matches!(self.noise, Noise::Shared { std } if std > 0.0),
            "shared noise has no per-neuron probability table"
        );
        let quadrature = match self.noise {
            Noise::Independent { std } if std > 0.0 => {
                Some(GaussHermite::new(NOISE_QUADRATURE_NODES))
            }
            _ => None,
        };
        let states = 1usize << n;
        let mut table = vec![0.0; states * n];
        let mut z = vec![0.0; n];
        for s in 0..states {
            self.net_input_of_index(s as u64, &mut z);
            for i in 0..n {
                table[s * n + i] = self.firing_probability(z[i], quadrature.as_ref());
            }
        }
        table
    }

    /// z_i = b_i + Σ_j W_ij·y_j summed exactly and rounded once, so its sign is exact: the
    /// deterministic limit's tie rule (z_i = 0 → off) is decided on this value.
    pub fn exact_net_input(&self, i: usize, on: impl Fn(usize) -> bool) -> f64 {
        let row = self.weights.row(i);
        let mut sum = ExactSum::new();
        sum.add(self.bias[i]);
        for (j, &w) in row.iter().enumerate() {
            sum.add(w * self.input_value(on(j)));
        }
        sum.value()
    }

    /// Deterministic (zero-temperature) successor of a state index: x_i = 1 iff z_i > 0, with
    /// z_i summed exactly ([`Network::exact_net_input`]); `z` receives those net inputs.
    pub fn deterministic_next_index(&self, state: u64, z: &mut [f64]) -> u64 {
        for (i, zi) in z.iter_mut().enumerate().take(self.n()) {
            *zi = self.exact_net_input(i, |j| state >> j & 1 == 1);
        }
        z.iter().enumerate().fold(
            0u64,
            |acc, (i, &zi)| if zi > 0.0 { acc | 1 << i } else { acc },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_sigmoid_and_entropy_agree_with_the_separate_functions() {
        let mut z = -800.0;
        while z <= 800.0 {
            let (p, h) = sigmoid_and_h2(z);
            assert_eq!(p.to_bits(), sigmoid(z).to_bits(), "σ({z})");
            // −p·log2 p − q·log2 q with q = σ(−z) computed directly and ln p = ln(1 − q) for
            // p > ½: `h2(p)` forms 1 − p and loses digits near p = 1.
            let (p0, q0) = (sigmoid(z), sigmoid(-z));
            let term = |x: f64, other: f64| {
                let ln = if x <= 0.5 { x.ln() } else { (-other).ln_1p() };
                if x > 0.0 { -x * ln } else { 0.0 }
            };
            let reference = (term(p0, q0) + term(q0, p0)) / std::f64::consts::LN_2;
            assert!(
                (h - reference).abs() <= 1e-250 + 1e-14 * reference,
                "h2 at z = {z}: {h} vs {reference}"
            );
            z += if z.abs() < 40.0 { 0.01 } else { 7.3 };
        }
        assert_eq!(sigmoid_and_h2(0.0), (0.5, 1.0));
    }

    #[test]
    fn sigmoid_and_entropy() {
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-15);
        assert!((sigmoid(800.0) - 1.0).abs() < 1e-15);
        assert!(sigmoid(-800.0) >= 0.0);
        assert!((h2(0.5) - 1.0).abs() < 1e-15);
        assert_eq!(h2(0.0), 0.0);
        assert_eq!(h2(1.0), 0.0);
    }

    #[test]
    fn net_input_uses_row_as_target() {
        let mut w = Array2::zeros((2, 2));
        w[[0, 1]] = 2.0; // 1 → 0
        let net = Network::new(w);
        let mut z = [0.0; 2];
        net.net_input_of_index(0b10, &mut z); // neuron 1 on
        assert_eq!(z, [2.0, 0.0]);
        net.net_input_of_index(0b00, &mut z);
        assert_eq!(z, [-2.0, 0.0]);
        assert_eq!(net.deterministic_next_index(0b10, &mut z), 0b01);
    }

    #[test]
    fn cancelling_net_input_is_not_a_tie() {
        // Row [1e6, 1e-11, −1e6] with every neuron on: z_0 = 1e-11 > 0, so neuron 0 fires;
        // a naive left-to-right sum gives exactly 0 and would switch it off.
        let mut w = Array2::zeros((3, 3));
        w[[0, 0]] = 1e6;
        w[[0, 1]] = 1e-11;
        w[[0, 2]] = -1e6;
        let net = Network::new(w);
        assert_eq!(net.exact_net_input(0, |_| true), 1e-11);
        let mut z = [0.0; 3];
        assert_eq!(net.deterministic_next_index(0b111, &mut z) & 1, 1);
        // A genuine tie (exact zero) stays off.
        let mut w = Array2::zeros((2, 2));
        w[[0, 0]] = 0.5;
        w[[0, 1]] = -0.5;
        let net = Network::new(w);
        assert_eq!(net.deterministic_next_index(0b11, &mut [0.0; 2]) & 1, 0);
    }
}
