//! The correlation proxy C of large networks by simulation (SCIENCE.md A3/A4), lean enough to
//! run for every individual of every generation.
//!
//! Every individual of a generation is simulated with the same random numbers (the same
//! initial states and the same uniform draw per neuron and step: common random numbers), so
//! two similar networks follow similar trajectories and the difference of their C is measured
//! far more precisely than either value. Counts are exact integers, so the result does not
//! depend on the order of additions.

use rand::{Rng, RngExt};

use super::config::CorrelationSampling;
use crate::engine::flux::correlation::{CorrelationOptions, from_moments};
use crate::engine::flux::network::{Network, sigmoid};
use crate::engine::rng::EngineRng;

/// C of `net` from `sampling.runs` simulated runs; run r draws from `stream(r)`.
pub fn sampled_correlation(
    net: &Network,
    sampling: &CorrelationSampling,
    options: CorrelationOptions,
    stream: impl Fn(u64) -> EngineRng,
) -> f64 {
    let n = net.n();
    let mut counts = Counts::new(n);
    let columns = Columns::new(net);
    for run in 0..sampling.runs as u64 {
        let mut chain = Chain::start(net, &columns, stream(run));
        (0..sampling.burn_in).for_each(|_| chain.step());
        for _ in 0..sampling.steps {
            let before = chain.state.clone();
            chain.step();
            counts.add(&before, &chain.state, options.lag);
        }
    }
    counts.correlation_rms(options)
}

/// Column-major weights (`data[j * n + i]` = W_ij) and y_on − y_off, for incremental z.
struct Columns {
    n: usize,
    data: Vec<f64>,
    delta: f64,
}

impl Columns {
    fn new(net: &Network) -> Self {
        let n = net.n();
        let mut data = vec![0.0; n * n];
        for ((i, j), &w) in net.weights.indexed_iter() {
            data[j * n + i] = w;
        }
        Columns {
            n,
            data,
            delta: net.input_value(true) - net.input_value(false),
        }
    }

    /// z += ±delta·W[:, j] for neuron j switching on (+) or off (−).
    fn flip(&self, z: &mut [f64], j: usize, now_on: bool) {
        let a = if now_on { self.delta } else { -self.delta };
        let column = &self.data[j * self.n..(j + 1) * self.n];
        for (zi, w) in z.iter_mut().zip(column) {
            *zi += a * w;
        }
    }
}

/// One simulated trajectory: the state (as 0/1 counts, ready to be added) and its net input,
/// kept up to date by adding the columns of the neurons that flipped.
struct Chain<'a> {
    columns: &'a Columns,
    rng: EngineRng,
    state: Vec<u32>,
    z: Vec<f64>,
    /// Neurons that change in the current step.
    flipped: Vec<usize>,
}

impl<'a> Chain<'a> {
    /// A uniformly random initial state (one 64-bit draw per 64 neurons) and its z.
    fn start(net: &Network, columns: &'a Columns, mut rng: EngineRng) -> Self {
        let n = net.n();
        let words: Vec<u64> = (0..n.div_ceil(64)).map(|_| rng.next_u64()).collect();
        let state: Vec<u32> = (0..n)
            .map(|i| (words[i / 64] >> (i % 64) & 1) as u32)
            .collect();
        let mut z = vec![0.0; n];
        let on: Vec<bool> = state.iter().map(|&s| s == 1).collect();
        net.net_input(&on, &mut z);
        Chain {
            columns,
            rng,
            state,
            z,
            flipped: Vec::with_capacity(n),
        }
    }

    /// One synchronous update: neuron i fires iff its uniform draw is below σ(z_i) for the z
    /// of the current state; z changes only once every neuron has decided.
    fn step(&mut self) {
        self.flipped.clear();
        for i in 0..self.state.len() {
            let u: f64 = self.rng.random();
            let next = u32::from(u < sigmoid(self.z[i]));
            if next != self.state[i] {
                self.flipped.push(i);
            }
        }
        for &i in &self.flipped {
            self.state[i] ^= 1;
            self.columns.flip(&mut self.z, i, self.state[i] == 1);
        }
    }
}

/// Exact integer moments: activity counts and the N×N co-activation counts.
struct Counts {
    n: usize,
    samples: u64,
    now: Vec<u64>,
    next: Vec<u64>,
    cross: Vec<u32>,
}

impl Counts {
    fn new(n: usize) -> Self {
        Counts {
            n,
            samples: 0,
            now: vec![0; n],
            next: vec![0; n],
            cross: vec![0; n * n],
        }
    }

    /// One transition: `cross[i][j]` counts x_i(t)·x_j(t + lag) (lag 0 pairs `before` with
    /// itself). Only the rows of active neurons change.
    fn add(&mut self, before: &[u32], after: &[u32], lag: u8) {
        let partner = if lag == 0 { before } else { after };
        self.samples += 1;
        for (i, &b) in before.iter().enumerate() {
            self.now[i] += u64::from(b);
            self.next[i] += u64::from(after[i]);
            if b == 1 {
                let row = &mut self.cross[i * self.n..(i + 1) * self.n];
                for (c, &p) in row.iter_mut().zip(partner) {
                    *c += p;
                }
            }
        }
    }

    fn correlation_rms(&self, options: CorrelationOptions) -> f64 {
        let t = self.samples as f64;
        let now: Vec<f64> = self.now.iter().map(|&c| c as f64 / t).collect();
        let next: Vec<f64> = self.next.iter().map(|&c| c as f64 / t).collect();
        let cross: Vec<f64> = self.cross.iter().map(|&c| f64::from(c) / t).collect();
        let mean_b = if options.lag == 0 { &now } else { &next };
        from_moments(&now, mean_b, &cross, options).rms
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::engine::flux::ensemble::{NRooks, Permutation, Signs};
    use crate::engine::rng::stream;

    fn sampling(steps: usize) -> CorrelationSampling {
        CorrelationSampling {
            steps,
            burn_in: 100,
            runs: 2,
        }
    }

    #[test]
    fn nrooks_correlation_matches_the_exact_value() {
        // C = (1 − 2σ(−q))/√N for an N-rooks matrix (SCIENCE.md check values).
        for q in [2.0, 4.0] {
            let spec = NRooks {
                n: 4,
                q,
                permutation: Permutation::Ring,
                signs: Signs::Positive,
            };
            let net = Network::new(spec.sample(&mut stream(0, &[])));
            let c = sampled_correlation(&net, &sampling(50_000), Default::default(), |r| {
                stream(5, &[r])
            });
            let exact = (1.0 - 2.0 * sigmoid(-q)) / 2.0;
            assert!((c - exact).abs() < 0.01, "q = {q}: {c} vs {exact}");
        }
    }

    fn spread(values: &[f64]) -> f64 {
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
    }

    #[test]
    fn common_random_numbers_make_small_changes_measurable() {
        let w = Array2::from_shape_fn((30, 30), |(i, j)| {
            ((i * 7 + j * 3) % 11) as f64 / 25.0 - 0.2
        });
        let (net, nudged) = (Network::new(w.clone()), Network::new(w.mapv(|v| v * 1.02)));
        let s = sampling(2000);
        let c = |net: &Network, seed: u64| {
            sampled_correlation(net, &s, Default::default(), |r| stream(seed, &[r]))
        };
        assert_eq!(c(&net, 1), c(&net, 1));
        let values: Vec<f64> = (0..8).map(|seed| c(&net, seed)).collect();
        let differences: Vec<f64> = (0..8)
            .map(|seed| c(&nudged, seed) - values[seed as usize])
            .collect();
        // Sharing the random numbers cancels most of the sampling noise in a difference.
        assert!(
            spread(&differences) * 3.0 < spread(&values),
            "{differences:?} {values:?}"
        );
    }
}
