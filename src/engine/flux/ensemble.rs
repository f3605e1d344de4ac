//! Weight constructions (SCIENCE.md A5): Gaussian random ensembles and N-rooks matrices.

use ndarray::Array2;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use crate::engine::rng::EngineRng;

/// i.i.d. Gaussian weights with optional sparsity, excitatory/inhibitory balance and scaling.
#[derive(Debug, Clone, PartialEq)]
pub struct Gaussian {
    pub n: usize,
    pub mean: f64,
    pub std: f64,
    /// Probability that an entry is non-zero.
    pub density: f64,
    /// With a balance b, a non-zero entry is excitatory with probability (1+b)/2 and its
    /// magnitude is |N(0, std²)|; without one, entries are N(mean, std²).
    pub balance: Option<f64>,
    pub self_connections: bool,
    /// Divide every entry by √N (off by default, as in the paper).
    pub scale_by_sqrt_n: bool,
}

impl Gaussian {
    /// Independent N(0, std²) entries on every connection, self-connections included, not
    /// scaled by √N: the ensemble of most of the paper's figures.
    pub fn iid(n: usize, std: f64) -> Gaussian {
        Gaussian {
            n,
            mean: 0.0,
            std,
            density: 1.0,
            balance: None,
            self_connections: true,
            scale_by_sqrt_n: false,
        }
    }

    pub fn sample(&self, rng: &mut EngineRng) -> Array2<f64> {
        let n = self.n;
        let scale = if self.scale_by_sqrt_n {
            1.0 / (n as f64).sqrt()
        } else {
            1.0
        };
        let mut w = Array2::zeros((n, n));
        // Entries are drawn in row-major order, always consuming the same number of draws per
        // entry, so a change of one parameter does not shift the stream of the others.
        for i in 0..n {
            for j in 0..n {
                let keep: f64 = rng.random();
                let normal: f64 = StandardNormal.sample(rng);
                let sign_draw: f64 = rng.random();
                if (i == j && !self.self_connections) || keep >= self.density {
                    continue;
                }
                let value = match self.balance {
                    Some(b) => {
                        let magnitude = (normal * self.std).abs();
                        if sign_draw < (1.0 + b) / 2.0 {
                            magnitude
                        } else {
                            -magnitude
                        }
                    }
                    None => self.mean + self.std * normal,
                };
                w[[i, j]] = value * scale;
            }
        }
        w
    }
}

/// Which neuron each neuron drives in an N-rooks matrix.
#[derive(Debug, Clone, PartialEq)]
pub enum Permutation {
    Random,
    /// j → j+1 mod N.
    Ring,
    /// `targets[j]` is the neuron driven by neuron j.
    Given(Vec<usize>),
}

/// The sign of each rook.
#[derive(Debug, Clone, PartialEq)]
pub enum Signs {
    Random,
    Positive,
    /// One sign (±1) per source neuron.
    Given(Vec<f64>),
}

/// One non-zero weight ±q per row and column (the design principle evolution finds).
#[derive(Debug, Clone, PartialEq)]
pub struct NRooks {
    pub n: usize,
    pub q: f64,
    pub permutation: Permutation,
    pub signs: Signs,
}

impl NRooks {
    pub fn sample(&self, rng: &mut EngineRng) -> Array2<f64> {
        let n = self.n;
        let targets: Vec<usize> = match &self.permutation {
            Permutation::Ring => (0..n).map(|j| (j + 1) % n).collect(),
            Permutation::Given(t) => t.clone(),
            Permutation::Random => {
                let mut t: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    let k = rng.random_range(0..=i);
                    t.swap(i, k);
                }
                t
            }
        };
        let mut w = Array2::zeros((n, n));
        for (j, &target) in targets.iter().enumerate() {
            let sign = match &self.signs {
                Signs::Positive => 1.0,
                Signs::Given(s) => s[j].signum(),
                Signs::Random => {
                    if rng.random::<bool>() {
                        1.0
                    } else {
                        -1.0
                    }
                }
            };
            w[[target, j]] = sign * self.q;
        }
        w
    }
}

/// True if `targets` is a permutation of 0..n.
pub fn is_permutation(targets: &[usize]) -> bool {
    let mut seen = vec![false; targets.len()];
    targets
        .iter()
        .all(|&t| t < seen.len() && !std::mem::replace(&mut seen[t], true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;

    #[test]
    fn nrooks_has_one_rook_per_row_and_column() {
        let spec = NRooks {
            n: 7,
            q: 2.5,
            permutation: Permutation::Random,
            signs: Signs::Random,
        };
        let w = spec.sample(&mut stream(3, &[0]));
        for i in 0..7 {
            assert_eq!(w.row(i).iter().filter(|v| **v != 0.0).count(), 1);
            assert_eq!(w.column(i).iter().filter(|v| **v != 0.0).count(), 1);
        }
        assert!(w.iter().all(|v| *v == 0.0 || v.abs() == 2.5));
    }

    #[test]
    fn ring_permutation_drives_next_neuron() {
        let spec = NRooks {
            n: 4,
            q: 1.0,
            permutation: Permutation::Ring,
            signs: Signs::Positive,
        };
        let w = spec.sample(&mut stream(0, &[]));
        assert_eq!(w[[1, 0]], 1.0);
        assert_eq!(w[[0, 3]], 1.0);
    }

    #[test]
    fn gaussian_respects_density_balance_and_diagonal() {
        let spec = Gaussian {
            n: 60,
            mean: 0.0,
            std: 1.0,
            density: 0.25,
            balance: Some(1.0),
            self_connections: false,
            scale_by_sqrt_n: false,
        };
        let w = spec.sample(&mut stream(1, &[]));
        let nonzero = w.iter().filter(|v| **v != 0.0).count() as f64;
        assert!((nonzero / 3540.0 - 0.25).abs() < 0.03);
        assert!(w.iter().all(|v| *v >= 0.0));
        assert!((0..60).all(|i| w[[i, i]] == 0.0));
    }

    #[test]
    fn gaussian_moments() {
        let spec = Gaussian {
            n: 100,
            mean: 0.5,
            std: 2.0,
            density: 1.0,
            balance: None,
            self_connections: true,
            scale_by_sqrt_n: false,
        };
        let w = spec.sample(&mut stream(2, &[]));
        let mean = w.mean().unwrap();
        let var = w.mapv(|v| (v - mean).powi(2)).mean().unwrap();
        assert!((mean - 0.5).abs() < 0.06);
        assert!((var - 4.0).abs() < 0.2);
    }

    #[test]
    fn permutation_check() {
        assert!(is_permutation(&[2, 0, 1]));
        assert!(!is_permutation(&[0, 0, 1]));
        assert!(!is_permutation(&[0, 3, 1]));
    }
}
