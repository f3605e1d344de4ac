//! Generation 0: μ genomes from an ensemble, from mutated copies of one matrix, or from a given
//! population, each put inside the weight budget.

use super::config::EvolutionConfig;
use super::genome::{Genome, Init};
use super::{DOMAIN_EVOLUTION, PURPOSE_INIT, constraint, mutation};
use crate::engine::rng::{EngineRng, stream};

/// The genomes of generation 0 (μ of them, or more when a larger population is given: the
/// first selection then keeps the best μ). Assumes `validate_init` passed.
pub fn genomes(config: &EvolutionConfig, init: &Init) -> Vec<Genome> {
    let rng = |k: usize| stream(config.seed, &[DOMAIN_EVOLUTION, 0, k as u64, PURPOSE_INIT]);
    let mut genomes: Vec<Genome> = match init {
        Init::Ensemble(ensemble) => (0..config.parents)
            .map(|k| {
                let weights = ensemble.gaussian(config.n).sample(&mut rng(k));
                Genome {
                    weights: weights.iter().copied().collect(),
                    bias: bias(config, None),
                    step_size: config.mutation.std,
                }
            })
            .collect(),
        Init::Weights { weights, bias: b } => {
            let base = Genome {
                weights: weights.clone(),
                bias: bias(config, b.as_ref()),
                step_size: config.mutation.std,
            };
            (0..config.parents)
                .map(|k| mutation::mutate(&base, &config.mutation, &mut rng(k)))
                .collect()
        }
        Init::Population(given) => completed(config, given, rng),
    };
    genomes
        .iter_mut()
        .for_each(|g| constraint::apply(config.constraint, g));
    genomes
}

/// The given genomes (step sizes and bias made to fit the run), plus mutated copies of them
/// (cycling through the list) until there are μ.
fn completed(
    config: &EvolutionConfig,
    given: &[Genome],
    rng: impl Fn(usize) -> EngineRng,
) -> Vec<Genome> {
    let mut genomes: Vec<Genome> = given
        .iter()
        .map(|g| Genome {
            weights: g.weights.clone(),
            bias: bias(config, g.bias.as_ref()),
            step_size: step_size(config, g.step_size),
        })
        .collect();
    for k in genomes.len()..config.parents {
        let source = genomes[k % given.len()].clone();
        genomes.push(mutation::mutate(&source, &config.mutation, &mut rng(k)));
    }
    genomes
}

/// The bias of a genome: the given one or zeros when the run evolves it, none otherwise.
fn bias(config: &EvolutionConfig, given: Option<&Vec<f64>>) -> Option<Vec<f64>> {
    config
        .evolve_bias
        .then(|| given.cloned().unwrap_or_else(|| vec![0.0; config.n]))
}

/// A given genome keeps its own step size only under self-adaptation (and if it is usable).
fn step_size(config: &EvolutionConfig, given: f64) -> f64 {
    let usable = given.is_finite() && given > 0.0;
    if config.mutation.adaptive && usable {
        given
    } else {
        config.mutation.std
    }
}
