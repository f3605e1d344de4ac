//! Checks that keep an evolution job within the engine's limits: every problem with a
//! configuration as a (field, message) pair naming the bound, for the API's 422 answers.

use super::config::{
    CORRELATION_EXACT_LIMIT, Constraint, EvolutionConfig, MAX_CORRELATION_WORK, MAX_OFFSPRING,
    MAX_PARENTS, MEAN_PERIOD_MAX_N, Mode, Objective, Selection, Strategy,
};
use crate::engine::flux::attractors::AttractorOptions;

/// A field name and a message naming the bound it breaks.
pub type FieldError = (String, String);

/// Every problem with `config`, as (field, message) pairs; empty when the run can start.
pub fn validate(config: &EvolutionConfig) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: String| errors.push((field.to_string(), message));
    validate_population(config, &mut fail);
    validate_mutation(config, &mut fail);
    validate_constraint(config, &mut fail);
    validate_objectives(config, &mut fail);
    validate_sampling(config, &mut fail);
    errors
}

fn validate_population(c: &EvolutionConfig, fail: &mut impl FnMut(&str, String)) {
    if c.n < 2 {
        fail("n", format!("n must be at least 2, got {}", c.n));
    }
    if c.parents == 0 || c.parents > MAX_PARENTS {
        fail(
            "parents",
            format!("parents must be in 1..={MAX_PARENTS}, got {}", c.parents),
        );
    }
    if c.offspring == 0 || c.offspring > MAX_OFFSPRING {
        let o = c.offspring;
        fail(
            "offspring",
            format!("offspring must be in 1..={MAX_OFFSPRING}, got {o}"),
        );
    }
    if c.strategy == Strategy::Comma && c.parents > c.offspring {
        let (p, o) = (c.parents, c.offspring);
        fail(
            "parents",
            format!("comma strategy needs parents ≤ offspring, got {p} > {o}"),
        );
    }
    if c.generations == 0 {
        fail("generations", "generations must be at least 1".to_string());
    }
    if c.elitism > c.parents {
        let (e, p) = (c.elitism, c.parents);
        fail(
            "elitism",
            format!("elitism must be at most parents = {p}, got {e}"),
        );
    }
    if let Selection::Tournament { size } = c.selection
        && (size == 0 || size > c.parents)
    {
        let p = c.parents;
        fail(
            "selection.size",
            format!("tournament size must be in 1..={p}, got {size}"),
        );
    }
}

fn validate_mutation(c: &EvolutionConfig, fail: &mut impl FnMut(&str, String)) {
    let m = c.mutation;
    if !(m.std.is_finite() && m.std > 0.0) {
        fail(
            "mutation.std",
            format!("mutation std must be a positive number, got {}", m.std),
        );
    }
    if !(m.rate > 0.0 && m.rate <= 1.0) {
        fail(
            "mutation.rate",
            format!("mutation rate must be in (0, 1], got {}", m.rate),
        );
    }
}

fn validate_constraint(c: &EvolutionConfig, fail: &mut impl FnMut(&str, String)) {
    match c.constraint {
        Constraint::Frobenius { value } if !(value.is_finite() && value > 0.0) => fail(
            "constraint.value",
            format!("the Frobenius budget must be a positive number, got {value}"),
        ),
        Constraint::Box { bound } if !(bound.is_finite() && bound > 0.0) => fail(
            "constraint.bound",
            format!("the box bound must be a positive number, got {bound}"),
        ),
        _ => {}
    }
}

fn validate_objectives(c: &EvolutionConfig, fail: &mut impl FnMut(&str, String)) {
    if c.objectives.is_empty() {
        fail("objectives", "at least one objective is needed".to_string());
    }
    for (k, spec) in c.objectives.iter().enumerate() {
        let o = spec.objective;
        if c.n > o.max_n() {
            let (name, max, n) = (o.name(), o.max_n(), c.n);
            fail(
                &format!("objectives[{k}].name"),
                format!("{name} needs n ≤ {max}, got {n}"),
            );
        }
        if c.objectives[..k].iter().any(|p| p.objective == o) {
            fail(
                &format!("objectives[{k}].name"),
                format!("{} is listed twice", o.name()),
            );
        }
        if !spec.weight.is_finite() || (c.mode == Mode::Pareto && spec.weight == 0.0) {
            let field = format!("objectives[{k}].weight");
            fail(
                &field,
                format!(
                    "weight must be finite (non-zero in pareto mode), got {}",
                    spec.weight
                ),
            );
        }
    }
    if c.mode == Mode::Weighted
        && !c.objectives.is_empty()
        && c.objectives.iter().all(|o| o.weight == 0.0)
    {
        fail(
            "objectives",
            "at least one weight must be non-zero".to_string(),
        );
    }
    if c.mode == Mode::Pareto && c.objectives.len() < 2 {
        fail(
            "mode",
            "pareto mode needs at least two objectives".to_string(),
        );
    }
    if c.correlation.lag > 1 {
        fail(
            "correlation.lag",
            format!("lag must be 0 or 1, got {}", c.correlation.lag),
        );
    }
    if !(c.mi_tolerance.is_finite() && c.mi_tolerance > 0.0) {
        let t = c.mi_tolerance;
        fail(
            "mi_tolerance",
            format!("mi_tolerance must be a positive number, got {t}"),
        );
    }
}

fn validate_sampling(c: &EvolutionConfig, fail: &mut impl FnMut(&str, String)) {
    if c.correlation_exact_max_n > CORRELATION_EXACT_LIMIT {
        let v = c.correlation_exact_max_n;
        let message =
            format!("correlation_exact_max_n must be at most {CORRELATION_EXACT_LIMIT}, got {v}");
        fail("correlation_exact_max_n", message);
    }
    if c.correlation_is_sampled() {
        let s = c.correlation_sampling;
        if s.steps == 0 || s.runs == 0 {
            let message = format!(
                "steps and runs must be at least 1, got {} and {}",
                s.steps, s.runs
            );
            fail("correlation_sampling", message);
        }
        let work = (s.steps as f64 + s.burn_in as f64) * s.runs as f64 * (c.n * c.n) as f64;
        if work > MAX_CORRELATION_WORK {
            let message = format!(
                "(burn_in + steps) × runs × n² = {work:.3e} exceeds {MAX_CORRELATION_WORK:.0e}"
            );
            fail("correlation_sampling", message);
        }
    }
    if c.has(Objective::MeanPeriod)
        && c.n <= MEAN_PERIOD_MAX_N
        && let Err(message) = AttractorOptions::validate(&c.attractor_options(), c.n)
    {
        fail("attractor_sampling", message);
    }
}
