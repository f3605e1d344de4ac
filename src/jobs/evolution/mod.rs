//! Kind `evolution`: evolve weight matrices for maximal information flux (SCIENCE.md A6), with
//! checkpoints every `checkpoint_every` generations so a run resumes bit for bit.

pub mod result;
pub mod spec;

use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::engine::evolve::{self, EvolutionState, GenerationStats};
use crate::jobs::validation::{fresh_seed, parse_spec};
use crate::jobs::{
    FieldError, JobContext, JobError, JobOutcome, Limits, PartControl, read_stored, to_document,
};
pub use spec::EvolutionSpec;

/// Most generations one job may ask for.
pub const MAX_GENERATIONS: i64 = 10_000_000;
/// Largest N of an evolved network (the `correlation` objective's limit).
pub const MAX_N: i64 = evolve::CORRELATION_MAX_N as i64;

/// Parses, checks and normalises an `evolution` spec (`init.from_job` must already be resolved
/// into `init.population` by the caller, which can read other jobs).
pub fn validate(spec: Value, _limits: &Limits) -> Result<Value, Vec<FieldError>> {
    let mut parsed: EvolutionSpec = parse_spec(spec)?;
    let mut errors = check_sizes(&parsed);
    if errors.is_empty() {
        let config = parsed.config();
        let init = parsed.init();
        errors.extend(
            evolve::validate(&config)
                .into_iter()
                .chain(evolve::validate_init(&config, &init))
                .map(|(field, message)| FieldError::new(format!("spec.{field}"), message)),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if parsed.seed.is_none() {
        parsed.seed = Some(fresh_seed());
    }
    Ok(serde_json::to_value(&parsed).expect("spec serialises"))
}

fn check_sizes(spec: &EvolutionSpec) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut range = |field: &str, value: i64, min: i64, max: i64| {
        if value < min || value > max {
            errors.push(FieldError::new(
                field,
                format!("must be between {min} and {max}, got {value}"),
            ));
        }
    };
    range("spec.n", spec.n, 1, MAX_N);
    range("spec.parents", spec.parents, 1, evolve::MAX_PARENTS as i64);
    range(
        "spec.offspring",
        spec.offspring,
        1,
        evolve::MAX_OFFSPRING as i64,
    );
    range("spec.generations", spec.generations, 1, MAX_GENERATIONS);
    range("spec.elitism", spec.elitism, 0, evolve::MAX_PARENTS as i64);
    range(
        "spec.checkpoint_every",
        spec.checkpoint_every,
        1,
        MAX_GENERATIONS,
    );
    let init = &spec.init;
    let sources = [
        init.ensemble.is_some(),
        init.weights.is_some(),
        init.from_job.is_some() || init.population.is_some(),
    ];
    if sources.iter().filter(|s| **s).count() > 1 {
        errors.push(FieldError::new(
            "spec.init",
            "give at most one of `ensemble`, `weights` or `from_job`",
        ));
    }
    if let Some(w) = &init.weights {
        let n = spec.n.max(0) as usize;
        if w.len() != n || w.iter().any(|row| row.len() != n) {
            errors.push(FieldError::new(
                "spec.init.weights",
                format!("must be an N×N matrix with N = {n}"),
            ));
        }
        if w.iter().flatten().any(|v| !v.is_finite()) {
            errors.push(FieldError::new(
                "spec.init.weights",
                "entries must be finite numbers",
            ));
        }
    }
    errors
}

/// The resumable state stored in checkpoints.
#[derive(Serialize, Deserialize)]
struct Checkpoint {
    state: EvolutionState,
    elapsed_ms: u64,
}

pub fn run(
    spec: &Value,
    limits: &Limits,
    checkpoint: Option<Value>,
    ctx: &dyn JobContext,
) -> Result<JobOutcome, JobError> {
    let spec: EvolutionSpec = read_stored(spec.clone(), "stored spec")?;
    let config = spec.config();
    let total = config.generations;
    let every = spec.checkpoint_every.max(1) as u64;
    let started = Instant::now();
    let (mut state, base_elapsed) = match checkpoint {
        Some(v) => {
            let c: Checkpoint = read_stored(v, "checkpoint")?;
            (c.state, c.elapsed_ms)
        }
        None => {
            ctx.report(0, total, 0.0, "evaluating the initial population");
            let control = PartControl {
                ctx,
                part: "generation",
                index: 0,
                total,
            };
            let Ok(state) = evolve::initialize(&config, &spec.init(), &control) else {
                return Ok(JobOutcome::Stopped);
            };
            ctx.metrics(0, metrics_row(&evolve::statistics(&config, &state)));
            (state, 0)
        }
    };
    let elapsed = |started: &Instant| base_elapsed + started.elapsed().as_millis() as u64;
    let save = |state: &EvolutionState, started: &Instant| -> Result<(), JobError> {
        let doc = Checkpoint {
            state: state.clone(),
            elapsed_ms: elapsed(started),
        };
        ctx.checkpoint(state.generation, to_document(&doc)?);
        Ok(())
    };
    while state.generation < total {
        if ctx.should_stop() {
            save(&state, &started)?;
            return Ok(JobOutcome::Stopped);
        }
        let control = PartControl {
            ctx,
            part: "generation",
            index: state.generation,
            total,
        };
        let Ok(stats) = evolve::step(&config, &mut state, &control) else {
            save(&state, &started)?;
            return Ok(JobOutcome::Stopped);
        };
        if records_metrics(stats.generation, total) {
            ctx.metrics(stats.generation, metrics_row(&stats));
        }
        let message = format!(
            "generation {} of {total}: best fitness {:.6}",
            stats.generation, stats.best_fitness
        );
        ctx.report(
            stats.generation,
            total,
            stats.generation as f64 / total as f64,
            &message,
        );
        if stats.generation % every == 0 && stats.generation < total {
            save(&state, &started)?;
        }
    }
    let document = result::build(&config, &state, limits, elapsed(&started), ctx)
        .map_err(|_| JobError::Internal("stopped during the final analysis".into()));
    match document {
        Ok(doc) => Ok(JobOutcome::Finished(doc)),
        Err(_) if ctx.should_stop() => {
            save(&state, &started)?;
            Ok(JobOutcome::Stopped)
        }
        Err(e) => Err(e),
    }
}

/// Whether generation `g` of `total` gets a metrics row: every one of the first 1,000, then
/// about 900 per decade (a multiple of 10^(d−3) where g has d digits: every 10th from 1,000,
/// every 100th from 10,000, ...), and always the last. A 10⁶-generation search keeps ~3,700
/// rows instead of a million, evenly spaced on a log axis; the rule depends on g alone, so a
/// resumed run records the same rows.
pub fn records_metrics(g: u64, total: u64) -> bool {
    if g < 1000 || g == total {
        return true;
    }
    let digits = g.ilog10() + 1;
    g.is_multiple_of(10u64.pow(digits - 3))
}

/// The metrics row of a generation: `best_/mean_/std_<objective>` plus the run's diagnostics.
pub fn metrics_row(stats: &GenerationStats) -> Value {
    let mut row = json!({
        "evaluations": stats.evaluations,
        "step_size": stats.step_size,
        "best_fitness": stats.best_fitness,
        "best_rook_score": stats.best_rook_score,
        "best_is_permutation": stats.best_is_permutation,
        "pareto_front_size": stats.pareto_front_size,
        "unconverged_evaluations": stats.unconverged_evaluations,
    });
    for (name, values) in [
        ("mi_bits", &stats.mi_bits),
        ("correlation_rms", &stats.correlation_rms),
        ("mean_period", &stats.mean_period),
    ] {
        if let Some(v) = values {
            row[format!("best_{name}")] = json!(v.best);
            row[format!("mean_{name}")] = json!(v.mean);
            row[format!("std_{name}")] = json!(v.std);
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::records_metrics;

    #[test]
    fn metric_rows_are_dense_early_then_about_nine_hundred_per_decade() {
        let kept = |from: u64, to: u64, total: u64| {
            (from..to).filter(|&g| records_metrics(g, total)).count()
        };
        assert_eq!(kept(0, 1000, 10_000_000), 1000);
        assert_eq!(kept(1000, 10_000, 10_000_000), 900);
        assert_eq!(kept(10_000, 100_000, 10_000_000), 900);
        assert_eq!(kept(100_000, 1_000_000, 10_000_000), 900);
        assert!(
            records_metrics(123_457, 123_457),
            "the last generation is always kept"
        );
        assert!(!records_metrics(123_457, 200_000));
        assert!(records_metrics(123_000, 200_000));
        assert!(!records_metrics(123_400, 200_000));
    }
}
