//! Gaussian mutation (SCIENCE.md A6) with an optional self-adaptive step size: with
//! `adaptive`, each child first mutates its parent's σ log-normally, σ' = σ·exp(τ·N(0, 1))
//! with τ = 1/√genes, and then uses σ' for its genes, so step sizes that produce surviving
//! offspring spread through the population (Schwefel's one-σ self-adaptation).

use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use super::config::Mutation;
use super::genome::Genome;
use crate::engine::rng::EngineRng;

/// A mutated copy of `parent`: each gene (weights, then bias) changes with probability
/// `rate` by σ'·N(0, 1); if none was picked, one uniformly chosen gene changes, so a child
/// never equals its parent. Every gene consumes the same draws whatever the outcome.
pub fn mutate(parent: &Genome, mutation: &Mutation, rng: &mut EngineRng) -> Genome {
    let genes = parent.weights.len() + parent.bias.as_ref().map_or(0, Vec::len);
    let lognormal: f64 = StandardNormal.sample(rng);
    let step = if mutation.adaptive {
        parent.step_size * (lognormal / (genes as f64).sqrt()).exp()
    } else {
        mutation.std
    };
    let mut child = Genome {
        step_size: step,
        ..parent.clone()
    };
    let mut changed = 0;
    for gene in genes_mut(&mut child) {
        let pick: f64 = rng.random();
        let normal: f64 = StandardNormal.sample(rng);
        if pick < mutation.rate {
            *gene += step * normal;
            changed += 1;
        }
    }
    if changed == 0 {
        let k = rng.random_range(0..genes);
        let normal: f64 = StandardNormal.sample(rng);
        if let Some(gene) = genes_mut(&mut child).nth(k) {
            *gene += step * normal;
        }
    }
    child
}

/// The genes in a fixed order: weights row by row, then the bias.
fn genes_mut(genome: &mut Genome) -> impl Iterator<Item = &mut f64> {
    genome
        .weights
        .iter_mut()
        .chain(genome.bias.iter_mut().flatten())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;

    fn parent() -> Genome {
        Genome {
            weights: vec![0.0; 16],
            bias: Some(vec![0.0; 4]),
            step_size: 0.5,
        }
    }

    #[test]
    fn rate_controls_how_many_genes_change() {
        let m = Mutation {
            std: 0.1,
            rate: 0.25,
            adaptive: false,
        };
        let changed: usize = (0..200)
            .map(|k| {
                let child = mutate(&parent(), &m, &mut stream(1, &[k]));
                assert_eq!(child.step_size, 0.1);
                let genes = child.weights.iter().chain(child.bias.iter().flatten());
                genes.filter(|g| **g != 0.0).count()
            })
            .sum();
        // 20 genes × 0.25 = 5 per child on average (at least 1 each).
        let mean = changed as f64 / 200.0;
        assert!((mean - 5.0).abs() < 0.6, "mean changed genes {mean}");
    }

    #[test]
    fn at_least_one_gene_changes_and_draws_are_reproducible() {
        let m = Mutation {
            std: 0.1,
            rate: 1e-9,
            adaptive: false,
        };
        let a = mutate(&parent(), &m, &mut stream(2, &[]));
        let b = mutate(&parent(), &m, &mut stream(2, &[]));
        assert_eq!(a, b);
        let genes = a.weights.iter().chain(a.bias.iter().flatten());
        assert_eq!(genes.filter(|g| **g != 0.0).count(), 1);
    }

    #[test]
    fn self_adaptive_step_size_is_lognormal_around_the_parent() {
        let m = Mutation {
            std: 0.1,
            rate: 1.0,
            adaptive: true,
        };
        let logs: Vec<f64> = (0..2000)
            .map(|k| (mutate(&parent(), &m, &mut stream(3, &[k])).step_size / 0.5).ln())
            .collect();
        let mean = logs.iter().sum::<f64>() / logs.len() as f64;
        let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / logs.len() as f64;
        // τ = 1/√20: log σ'/σ ~ N(0, 1/20).
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 0.05).abs() < 0.006, "variance {var}");
        assert!(logs.iter().any(|l| *l > 0.1) && logs.iter().any(|l| *l < -0.1));
    }
}
