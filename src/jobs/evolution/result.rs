//! The result document of an `evolution` job (API.md): the best genome with its objectives,
//! rook score and a full `mi` analysis, the Pareto front, and the run's counters.

use serde_json::{Value, json};

use crate::engine::control::{Control, Stopped};
use crate::engine::evolve::{self, EvolutionConfig, EvolutionState, Individual, Mode};
use crate::jobs::mi::run::analyze_one;
use crate::jobs::{JobContext, Limits};

fn matrix(weights: &[f64], n: usize) -> Vec<Vec<f64>> {
    weights.chunks(n).map(<[f64]>::to_vec).collect()
}

fn objectives(i: &Individual) -> Value {
    json!({
        "mi_bits": i.objectives.mi_bits,
        "correlation_rms": i.objectives.correlation_rms,
        "mean_period": i.objectives.mean_period,
    })
}

pub fn build(
    config: &EvolutionConfig,
    state: &EvolutionState,
    limits: &Limits,
    elapsed_ms: u64,
    ctx: &dyn JobContext,
) -> Result<Value, Stopped> {
    let n = config.n;
    let best = evolve::best(state);
    let network = best.genome.network(config);
    let control: &dyn Control = ctx;
    let analysis = analyze_one(network, limits, config.seed, control)?;
    let pareto_front = match (config.mode, &state.pareto_front) {
        (Mode::Pareto, Some(front)) => Some(
            front
                .iter()
                .map(|i| json!({"weights": matrix(&i.genome.weights, n), "bias": i.genome.bias, "objectives": objectives(i)}))
                .collect::<Vec<_>>(),
        ),
        _ => None,
    };
    Ok(json!({
        "best": {
            "weights": matrix(&best.genome.weights, n),
            "bias": best.genome.bias,
            "objectives": objectives(best),
            "fitness": best.fitness,
            "step_size": best.genome.step_size,
            "rook_score": evolve::rook_score(&best.genome.weights, n),
            "is_permutation": evolve::argmax_is_permutation(&best.genome.weights, n),
            "analysis": analysis,
        },
        "pareto_front": pareto_front,
        "mean_period_weighting": config.period_weighting,
        "generations_run": state.generation,
        "evaluations": state.evaluations,
        "unconverged_evaluations": state.unconverged_evaluations,
        "elapsed_ms": elapsed_ms,
    }))
}
