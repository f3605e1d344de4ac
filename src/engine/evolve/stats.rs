//! The per-generation report (SCIENCE.md A6): best / mean / std of every objective over the
//! population, the mean step size, and the rook diagnostics of the best genome.

use serde::{Deserialize, Serialize};

use super::config::{EvolutionConfig, Mode, Objective};
use super::genome::{argmax_is_permutation, rook_score};
use super::{EvolutionState, best};

/// Best (in the objective's direction), mean and population standard deviation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveStats {
    pub best: f64,
    pub mean: f64,
    pub std: f64,
}

/// One metrics row. Objective fields are `None` for objectives the run does not use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationStats {
    pub generation: u64,
    /// Evaluations so far (offspring, initial individuals and re-measured parents).
    pub evaluations: u64,
    pub mi_bits: Option<ObjectiveStats>,
    pub correlation_rms: Option<ObjectiveStats>,
    pub mean_period: Option<ObjectiveStats>,
    /// Mean mutation step size of the population.
    pub step_size: f64,
    /// Fitness of [`best`](super::best).
    pub best_fitness: f64,
    pub best_rook_score: f64,
    pub best_is_permutation: bool,
    /// Size of the non-dominated front (Pareto mode).
    pub pareto_front_size: Option<usize>,
    /// Exact solves so far that missed `mi_tolerance` (their values are approximate).
    pub unconverged_evaluations: u64,
}

/// The metrics row of the current generation of `state`.
pub fn statistics(config: &EvolutionConfig, state: &EvolutionState) -> GenerationStats {
    let population = &state.population;
    let stats_of = |objective: Objective| -> Option<ObjectiveStats> {
        let spec = config
            .objectives
            .iter()
            .find(|o| o.objective == objective)?;
        let values: Vec<f64> = population
            .iter()
            .filter_map(|i| i.objectives.get(objective))
            .collect();
        summarise(&values, spec.weight < 0.0)
    };
    let top = best(state);
    let n = config.n;
    GenerationStats {
        generation: state.generation,
        evaluations: state.evaluations,
        mi_bits: stats_of(Objective::Mi),
        correlation_rms: stats_of(Objective::Correlation),
        mean_period: stats_of(Objective::MeanPeriod),
        step_size: population.iter().map(|i| i.genome.step_size).sum::<f64>()
            / population.len() as f64,
        best_fitness: top.fitness,
        best_rook_score: rook_score(&top.genome.weights, n),
        best_is_permutation: argmax_is_permutation(&top.genome.weights, n),
        pareto_front_size: (config.mode == Mode::Pareto)
            .then(|| state.pareto_front.as_ref().map_or(0, Vec::len)),
        unconverged_evaluations: state.unconverged_evaluations,
    }
}

fn summarise(values: &[f64], minimise: bool) -> Option<ObjectiveStats> {
    if values.is_empty() {
        return None;
    }
    let count = values.len() as f64;
    let mean = values.iter().sum::<f64>() / count;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count;
    let extreme = if minimise { f64::min } else { f64::max };
    let start = if minimise {
        f64::INFINITY
    } else {
        f64::NEG_INFINITY
    };
    Some(ObjectiveStats {
        best: values.iter().copied().fold(start, extreme),
        mean,
        std: var.sqrt(),
    })
}
