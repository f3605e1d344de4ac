//! Evolution of recurrent weight matrices (SCIENCE.md A6): (μ+λ) and (μ,λ) evolution
//! strategies with Gaussian (optionally self-adaptive) mutation under a weight budget, maximising
//! the information flux, the correlation proxy and/or the mean attractor period, weighted or
//! as a Pareto front (NSGA-II).
//!
//! Pure and deterministic: every random choice comes from `stream(seed, [DOMAIN_EVOLUTION,
//! generation, index, purpose])`, offspring are measured in parallel with results independent of
//! the thread count, and [`EvolutionState`] holds everything a continuation needs, with floats
//! that survive JSON bit for bit. `initialize` + k·`step`, checkpointed and resumed anywhere,
//! ends exactly where an uninterrupted run ends. (Resume on the same kind of machine: libm's
//! `exp`/`log2` and, for exact solves beyond N = 12, faer's run-time choice of SIMD kernels may
//! round differently elsewhere. The small exact solver itself gives the same bits on any vector
//! width. Resume with the same fluxlab version too: an engine change may move the last bits,
//! as the factored probability table of 2026-12-01 did.)

mod config;
mod constraint;
mod floats;
mod genome;
mod hubs;
mod initial;
mod mutation;
mod nsga2;
mod objectives;
mod sampler;
mod selection;
mod stats;
#[cfg(test)]
mod tests;
mod validate;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::control::{Control, Stopped};
use crate::engine::flux::exact::{LOCKSTEP, Neighbour, Preconditioner, SMALL_MAX_N};
use crate::engine::rng::stream;

pub use config::{
    AttractorSampling, CORRELATION_EXACT_LIMIT, CORRELATION_MAX_N, Constraint, CorrelationSampling,
    CorrelationSettings, EvolutionConfig, Input, MAX_CORRELATION_WORK, MAX_OFFSPRING, MAX_PARENTS,
    MEAN_PERIOD_MAX_N, Mode, Mutation, Objective, ObjectiveSpec, PeriodWeighting, Selection,
    Strategy,
};
pub use constraint::apply as apply_constraint;
pub use genome::{EnsembleInit, Genome, Init, argmax_is_permutation, rook_score, validate_init};
pub use hubs::Hub;
pub use nsga2::{crowding_distances, dominates, non_dominated_fronts};
pub use objectives::{ObjectiveValues, WARM_START_MAX_N, fitness};
pub use stats::{GenerationStats, ObjectiveStats, statistics};
pub use validate::{FieldError, validate};

use objectives::{Evaluation, Evaluator};

/// Stream domain of evolution runs (flux uses 1–3, lif 5).
pub const DOMAIN_EVOLUTION: u64 = 4;
/// Purposes, the last element of every evolution stream path.
const PURPOSE_INIT: u64 = 0;
const PURPOSE_MUTATION: u64 = 1;
const PURPOSE_PARENT: u64 = 2;
const PURPOSE_CORRELATION: u64 = 3;
const PURPOSE_ATTRACTORS: u64 = 4;

/// A measured genome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Individual {
    pub genome: Genome,
    pub objectives: ObjectiveValues,
    /// Σ weight·value (weighted mode selects on it; Pareto mode uses it to pick `best`).
    #[serde(with = "floats::scalar")]
    pub fitness: f64,
    /// Non-dominated rank in the pool it survived (Pareto mode; 0 = first front).
    pub rank: Option<usize>,
    /// Crowding distance within that front (Pareto mode; infinite at the extremes).
    #[serde(with = "floats::option")]
    pub crowding: Option<f64>,
    /// Generation in which this genome was created.
    pub born: u64,
    /// π of the network (N ≤ [`WARM_START_MAX_N`] with an exact objective), the warm start
    /// of its children's solves. Part of the checkpoint, not of results.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "floats::option_vec"
    )]
    pub stationary: Option<Vec<f64>>,
    /// Its factorised system, the preconditioner of its children's solves below N = 8 (from
    /// N = 8 the [`Hub`]s precondition them): a cache of a pure function of the genome, built
    /// when first needed and rebuilt after a resume, so it is neither checkpointed nor
    /// compared.
    #[serde(skip)]
    pub factorised: Factorised,
}

/// A cached [`Preconditioner`] of an individual's genome. Equal to any other: it is a
/// function of the genome, which equality already compares.
#[derive(Debug, Clone, Default)]
pub struct Factorised(Option<Arc<Preconditioner>>);

impl PartialEq for Factorised {
    fn eq(&self, _: &Factorised) -> bool {
        true
    }
}

/// Everything needed to continue a run bit for bit: checkpoint this (as JSON) after any step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvolutionState {
    /// The generation the population belongs to (0 after [`initialize`]).
    pub generation: u64,
    /// The μ survivors, best first.
    pub population: Vec<Individual>,
    /// The population's non-dominated members (Pareto mode).
    pub pareto_front: Option<Vec<Individual>>,
    /// The genomes whose factorised systems precondition the offspring solves (N = 8).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hubs: Vec<Hub>,
    /// Genomes measured so far.
    pub evaluations: u64,
    /// Exact solves that missed `mi_tolerance` so far.
    pub unconverged_evaluations: u64,
}

/// The individual to report: the fittest one (in Pareto mode the fittest of the first front).
pub fn best(state: &EvolutionState) -> &Individual {
    state
        .population
        .iter()
        .filter(|i| i.rank.is_none_or(|r| r == 0))
        .fold(None, |acc: Option<&Individual>, i| match acc {
            Some(b) if b.fitness >= i.fitness => Some(b),
            _ => Some(i),
        })
        .expect("a population is never empty")
}

/// Builds and measures generation 0 from `init`.
///
/// # Panics
/// If [`validate`] or [`validate_init`] reports a problem: check first.
pub fn initialize(
    config: &EvolutionConfig,
    init: &Init,
    control: &dyn Control,
) -> Result<EvolutionState, Stopped> {
    let problems: Vec<FieldError> = validate(config)
        .into_iter()
        .chain(validate_init(config, init))
        .collect();
    assert!(problems.is_empty(), "invalid evolution setup: {problems:?}");
    let genomes = initial::genomes(config, init);
    let jobs: Vec<(&Genome, Neighbour)> =
        genomes.iter().map(|g| (g, Neighbour::default())).collect();
    let measured = evaluate_all(config, 0, &jobs, control)?;
    let counts = Counts::default().add(&measured);
    let pool = individuals(config, genomes.clone(), measured, 0);
    Ok(finish_generation(config, 0, pool, counts, Vec::new()))
}

/// Advances `state` by one generation and returns its metrics row. On `Err(Stopped)` the
/// state is unchanged, so the run can be checkpointed and resumed from there.
pub fn step(
    config: &EvolutionConfig,
    state: &mut EvolutionState,
    control: &dyn Control,
) -> Result<GenerationStats, Stopped> {
    let generation = state.generation + 1;
    let mut counts = Counts {
        evaluations: state.evaluations,
        unconverged: state.unconverged_evaluations,
    };
    let mut parents = remeasured_parents(config, state, generation, &mut counts, control)?;
    let hubs = hubs::prepare(config, &mut parents, &state.hubs, generation);
    let preconditioners = hubs::for_parents(&parents, &hubs);
    let children: Vec<(Genome, usize)> = (0..config.offspring)
        .map(|k| child(config, &parents, generation, k))
        .collect();
    let jobs: Vec<(&Genome, Neighbour)> = children
        .iter()
        .map(|(g, p)| {
            let near = Neighbour {
                pi: parents[*p].stationary.as_deref(),
                preconditioner: preconditioners[*p],
            };
            (g, near)
        })
        .collect();
    let measured = evaluate_all(config, generation, &jobs, control)?;
    counts = counts.add(&measured);
    let genomes = children.into_iter().map(|(g, _)| g).collect();
    let mut pool = individuals(config, genomes, measured, generation);
    pool.extend(carried_over(config, parents));
    *state = finish_generation(config, generation, pool, counts, hubs);
    Ok(statistics(config, state))
}

/// Offspring `k` of `generation`: a mutated, constrained copy of the chosen parent, and the
/// parent's index.
fn child(
    config: &EvolutionConfig,
    parents: &[Individual],
    generation: u64,
    k: usize,
) -> (Genome, usize) {
    let p = selection::choose_parent(config, parents.len(), generation, k);
    let path = [DOMAIN_EVOLUTION, generation, k as u64, PURPOSE_MUTATION];
    let mut rng = stream(config.seed, &path);
    let mut genome = mutation::mutate(&parents[p].genome, &config.mutation, &mut rng);
    constraint::apply(config.constraint, &mut genome);
    (genome, p)
}

/// Running totals of measurements.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    evaluations: u64,
    unconverged: u64,
}

impl Counts {
    fn add(self, measured: &[Evaluation]) -> Counts {
        let missed = measured
            .iter()
            .filter(|m| m.values.converged == Some(false))
            .count();
        Counts {
            evaluations: self.evaluations + measured.len() as u64,
            unconverged: self.unconverged + missed as u64,
        }
    }
}

/// Parents that enter the survivor pool next to the offspring: all of them in (μ+λ), the
/// `elitism` best in (μ,λ).
fn carried_over(config: &EvolutionConfig, mut parents: Vec<Individual>) -> Vec<Individual> {
    if config.strategy == config::Strategy::Comma {
        parents.truncate(config.elitism);
    }
    parents
}

/// The population, re-measured with this generation's common random numbers when an objective
/// is sampled (a lucky parent would otherwise survive on an old, favourable draw).
fn remeasured_parents(
    config: &EvolutionConfig,
    state: &EvolutionState,
    generation: u64,
    counts: &mut Counts,
    control: &dyn Control,
) -> Result<Vec<Individual>, Stopped> {
    if !config.is_noisy() {
        return Ok(state.population.clone());
    }
    let jobs: Vec<(&Genome, Neighbour)> = state
        .population
        .iter()
        .map(|i| {
            let near = Neighbour {
                pi: i.stationary.as_deref(),
                preconditioner: None,
            };
            (&i.genome, near)
        })
        .collect();
    let measured = evaluate_all(config, generation, &jobs, control)?;
    *counts = counts.add(&measured);
    Ok(state
        .population
        .iter()
        .zip(measured)
        .map(|(old, m)| Individual {
            fitness: fitness(config, &m.values),
            objectives: m.values,
            stationary: m.stationary,
            ..old.clone()
        })
        .collect())
}

/// Pairs genomes with their measurements.
fn individuals(
    config: &EvolutionConfig,
    genomes: Vec<Genome>,
    measured: Vec<Evaluation>,
    born: u64,
) -> Vec<Individual> {
    genomes
        .into_iter()
        .zip(measured)
        .map(|(genome, m)| Individual {
            genome,
            fitness: fitness(config, &m.values),
            objectives: m.values,
            rank: None,
            crowding: None,
            born,
            stationary: m.stationary,
            factorised: Factorised::default(),
        })
        .collect()
}

/// Selects the survivors of `pool` and assembles the new state.
fn finish_generation(
    config: &EvolutionConfig,
    generation: u64,
    pool: Vec<Individual>,
    counts: Counts,
    hubs: Vec<Hub>,
) -> EvolutionState {
    let population = selection::survivors(config, pool);
    let pareto_front = (config.mode == Mode::Pareto).then(|| selection::first_front(&population));
    EvolutionState {
        generation,
        population,
        pareto_front,
        hubs,
        evaluations: counts.evaluations,
        unconverged_evaluations: counts.unconverged,
    }
}

/// Measures genomes (each with an optional warm start) in parallel when each measurement is
/// small, one after another (each using the whole pool) when it needs large tables. Genomes
/// preconditioned by the same factorisation are measured in batches of [`LOCKSTEP`], whose
/// exact solves run in lock step; the batches depend on the jobs only, and each result is
/// the one the genome would get alone. Stop checks and progress come per batch.
fn evaluate_all(
    config: &EvolutionConfig,
    generation: u64,
    jobs: &[(&Genome, Neighbour)],
    control: &dyn Control,
) -> Result<Vec<Evaluation>, Stopped> {
    let evaluator = Evaluator {
        config,
        generation,
        control,
    };
    let done = AtomicUsize::new(0);
    // The caller's progress names the generation already ("generation 3/20: …").
    let message = format!("measuring {} genomes", jobs.len());
    let run = |batch: &Vec<usize>| {
        let batch_jobs: Vec<(&Genome, Neighbour)> = batch.iter().map(|&i| jobs[i]).collect();
        let result = evaluator.evaluate(&batch_jobs);
        let finished = done.fetch_add(batch.len(), Ordering::Relaxed) + batch.len();
        control.progress(finished as f64 / jobs.len() as f64, &message);
        result
    };
    let batches = lock_step_batches(jobs);
    let measured: Vec<Vec<Evaluation>> = if uses_large_tables(config) {
        batches.iter().map(run).collect::<Result<_, _>>()?
    } else {
        batches.par_iter().map(run).collect::<Result<_, _>>()?
    };
    let mut slots: Vec<Option<Evaluation>> = vec![None; jobs.len()];
    for (batch, results) in batches.iter().zip(measured) {
        for (&i, m) in batch.iter().zip(results) {
            slots[i] = Some(m);
        }
    }
    Ok(slots
        .into_iter()
        .map(|m| m.expect("every job is in one batch"))
        .collect())
}

/// Job indices in batches: jobs with the same preconditioner, in order of first appearance,
/// [`LOCKSTEP`] at a time; every other job alone.
fn lock_step_batches(jobs: &[(&Genome, Neighbour)]) -> Vec<Vec<usize>> {
    let mut groups: Vec<(*const Preconditioner, Vec<usize>)> = Vec::new();
    let mut batches = Vec::new();
    for (i, (_, near)) in jobs.iter().enumerate() {
        let Some(p) = near.preconditioner.map(std::ptr::from_ref) else {
            batches.push(vec![i]);
            continue;
        };
        match groups.iter_mut().find(|(key, _)| *key == p) {
            Some((_, members)) => members.push(i),
            None => groups.push((p, vec![i])),
        }
    }
    for (_, members) in groups {
        batches.extend(members.chunks(LOCKSTEP).map(<[usize]>::to_vec));
    }
    batches.sort_by_key(|b| b[0]);
    batches
}

/// Exact solves beyond N = 12 (half-kernels of up to 256 MiB) and exhaustive attractor tables
/// beyond N = 16 (up to 64 MiB) parallelise internally; running several at once would
/// multiply their memory.
fn uses_large_tables(config: &EvolutionConfig) -> bool {
    let exact = config.has(Objective::Mi)
        || (config.has(Objective::Correlation) && !config.correlation_is_sampled());
    let exhaustive_periods = config.has(Objective::MeanPeriod) && !config.mean_period_is_sampled();
    (exact && config.n > SMALL_MAX_N) || (exhaustive_periods && config.n > 16)
}
