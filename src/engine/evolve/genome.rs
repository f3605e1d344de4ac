//! The genome (the weight matrix, optionally the bias vector, and a mutation step size), how
//! the first generation is made, and the N-rooks diagnostics of SCIENCE.md A6.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::config::EvolutionConfig;
use super::floats;
use super::validate::FieldError;
use crate::engine::flux::ensemble::{Gaussian, is_permutation};
use crate::engine::flux::network::Network;

/// What evolves. `weights` is row-major N×N with row = target (`weights[i * n + j]` is the
/// connection j → i), as everywhere in fluxlab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Genome {
    #[serde(with = "floats::vec")]
    pub weights: Vec<f64>,
    /// Present exactly when the run evolves the bias.
    #[serde(default, with = "floats::option_vec")]
    pub bias: Option<Vec<f64>>,
    /// σ of the Gaussian mutation (the individual's own with self-adaptation, else the
    /// configured std).
    #[serde(with = "floats::scalar")]
    pub step_size: f64,
}

impl Genome {
    /// Number of neurons (the side of the weight matrix).
    pub fn n(&self) -> usize {
        (self.weights.len() as f64).sqrt().round() as usize
    }

    /// The stochastic network this genome encodes, with the run's input convention.
    pub fn network(&self, config: &EvolutionConfig) -> Network {
        let n = config.n;
        let weights = Array2::from_shape_vec((n, n), self.weights.clone())
            .expect("a genome holds N² weights");
        let mut net = Network::new(weights);
        if let Some(bias) = &self.bias {
            net.bias = bias.clone();
        }
        net.input = config.input.into();
        net
    }
}

/// Parameters of a Gaussian initial ensemble (SCIENCE.md A5), a serialisable mirror of
/// [`Gaussian`] without N (the run's N is used).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnsembleInit {
    #[serde(with = "floats::scalar")]
    pub mean: f64,
    #[serde(with = "floats::scalar")]
    pub std: f64,
    #[serde(with = "floats::scalar")]
    pub density: f64,
    #[serde(with = "floats::option")]
    pub balance: Option<f64>,
    pub self_connections: bool,
    pub scale_by_sqrt_n: bool,
}

impl Default for EnsembleInit {
    fn default() -> Self {
        EnsembleInit {
            mean: 0.0,
            std: 1.0,
            density: 1.0,
            balance: None,
            self_connections: true,
            scale_by_sqrt_n: false,
        }
    }
}

impl EnsembleInit {
    pub(super) fn gaussian(&self, n: usize) -> Gaussian {
        Gaussian {
            n,
            mean: self.mean,
            std: self.std,
            density: self.density,
            balance: self.balance,
            self_connections: self.self_connections,
            scale_by_sqrt_n: self.scale_by_sqrt_n,
        }
    }
}

/// Where the first generation comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Each parent drawn from the ensemble (bias zero), then constrained.
    Ensemble(EnsembleInit),
    /// Each parent a mutated, constrained copy of this row-major N×N matrix (and bias).
    Weights {
        #[serde(with = "floats::vec")]
        weights: Vec<f64>,
        #[serde(default, with = "floats::option_vec")]
        bias: Option<Vec<f64>>,
    },
    /// These genomes (e.g. another job's best or last population), constrained; missing
    /// parents are mutated copies of them, surplus ones compete in the first selection.
    Population(Vec<Genome>),
}

/// Problems with `init` for this configuration, as (field, message) pairs.
pub fn validate_init(config: &EvolutionConfig, init: &Init) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let given_bias = match init {
        Init::Weights { bias, .. } => bias.is_some(),
        Init::Population(genomes) => genomes.iter().any(|g| g.bias.is_some()),
        Init::Ensemble(_) => false,
    };
    if given_bias && !config.evolve_bias {
        let message = "a bias is given but evolve_bias is false".to_string();
        errors.push(("init.bias".to_string(), message));
    }
    match init {
        Init::Ensemble(e) => check_ensemble(e, &mut errors),
        Init::Weights { weights, bias } => {
            check_matrix(config.n, "init", weights, bias.as_ref(), &mut errors);
        }
        Init::Population(genomes) => {
            if genomes.is_empty() {
                let message = "a population needs at least one genome".to_string();
                errors.push(("init.population".to_string(), message));
            }
            for (k, g) in genomes.iter().enumerate() {
                let field = format!("init.population[{k}]");
                check_matrix(config.n, &field, &g.weights, g.bias.as_ref(), &mut errors);
            }
        }
    }
    errors
}

fn check_ensemble(e: &EnsembleInit, errors: &mut Vec<FieldError>) {
    if !(e.std.is_finite() && e.std >= 0.0 && e.mean.is_finite()) {
        let message = "mean must be finite and std a non-negative number".to_string();
        errors.push(("init.ensemble.std".to_string(), message));
    }
    if !(0.0..=1.0).contains(&e.density) {
        let message = format!("density must be in [0, 1], got {}", e.density);
        errors.push(("init.ensemble.density".to_string(), message));
    }
    if e.balance.is_some_and(|b| !(-1.0..=1.0).contains(&b)) {
        let message = "balance must be in [−1, 1]".to_string();
        errors.push(("init.ensemble.balance".to_string(), message));
    }
}

fn check_matrix(
    n: usize,
    field: &str,
    weights: &[f64],
    bias: Option<&Vec<f64>>,
    errors: &mut Vec<FieldError>,
) {
    if weights.len() != n * n {
        let message = format!("need n² = {} weights, got {}", n * n, weights.len());
        errors.push((format!("{field}.weights"), message));
    } else if weights.iter().any(|w| !w.is_finite()) {
        errors.push((
            format!("{field}.weights"),
            "weights must be finite".to_string(),
        ));
    }
    if let Some(b) = bias
        && (b.len() != n || b.iter().any(|v| !v.is_finite()))
    {
        let message = format!("need {n} finite bias values, got {}", b.len());
        errors.push((format!("{field}.bias"), message));
    }
}

/// Mean over all rows and columns of the fraction of squared weight held by the largest
/// entry (SCIENCE.md A6): 1 for an N-rooks matrix, 1/N for a matrix of equal magnitudes.
/// A row or column without weight scores 0.
pub fn rook_score(weights: &[f64], n: usize) -> f64 {
    assert_eq!(weights.len(), n * n, "rook score needs an N×N matrix");
    let fraction = |values: &mut dyn Iterator<Item = f64>| {
        let (total, largest) = values.fold((0.0, 0.0f64), |(t, m), w| (t + w * w, m.max(w * w)));
        if total > 0.0 { largest / total } else { 0.0 }
    };
    let rows: f64 = (0..n)
        .map(|i| fraction(&mut weights[i * n..(i + 1) * n].iter().copied()))
        .sum();
    let columns: f64 = (0..n)
        .map(|j| fraction(&mut (0..n).map(|i| weights[i * n + j])))
        .sum();
    (rows + columns) / (2 * n) as f64
}

/// Whether the column of the largest |weight| in each row (first one on ties) differs from row
/// to row, i.e. every neuron is driven mainly by a different neuron, as in N-rooks matrices.
pub fn argmax_is_permutation(weights: &[f64], n: usize) -> bool {
    assert_eq!(weights.len(), n * n, "argmax needs an N×N matrix");
    let targets: Vec<usize> = weights
        .chunks_exact(n)
        .map(|row| {
            (0..n).fold(0, |best, j| {
                if row[j].abs() > row[best].abs() {
                    j
                } else {
                    best
                }
            })
        })
        .collect();
    is_permutation(&targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rook_score_of_permutation_dense_and_zero_matrices() {
        let rooks = [0.0, 3.0, 0.0, 0.0, 0.0, -3.0, 3.0, 0.0, 0.0];
        assert_eq!(rook_score(&rooks, 3), 1.0);
        assert!(argmax_is_permutation(&rooks, 3));
        let dense = [1.0, -1.0, 1.0, 1.0];
        assert_eq!(rook_score(&dense, 2), 0.5);
        assert_eq!(rook_score(&[0.0; 4], 2), 0.0);
        // Both rows driven by neuron 0: not a permutation.
        assert!(!argmax_is_permutation(&[2.0, 1.0, -3.0, 0.5], 2));
    }

    #[test]
    fn rook_score_counts_rows_and_columns() {
        // [[2, 0], [1, 1]]: rows hold 4/4 and 1/2 in their largest entry, columns 4/5 and 1/1.
        let w = [2.0, 0.0, 1.0, 1.0];
        let rows = 1.0 + 0.5;
        let columns = 4.0 / 5.0 + 1.0;
        assert!((rook_score(&w, 2) - (rows + columns) / 4.0).abs() < 1e-15);
    }
}
