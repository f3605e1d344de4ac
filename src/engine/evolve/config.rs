//! What an evolution run is asked to do (SCIENCE.md A6), with the defaults of API.md and the
//! engine's limits (checked in the `validate` submodule).

use serde::{Deserialize, Serialize};

use super::floats;
use crate::engine::flux::attractors::{AttractorOptions, EXHAUSTIVE_MAX_N};
use crate::engine::flux::correlation::CorrelationOptions;
use crate::engine::flux::exact::EXACT_MAX_N;
use crate::engine::flux::network::InputMode;

/// Largest N for the correlation objective (sampled beyond `correlation_exact_max_n`).
pub const CORRELATION_MAX_N: usize = 1000;
/// Largest N for the mean-period objective (random starts beyond N = 24).
pub const MEAN_PERIOD_MAX_N: usize = 1000;
/// Upper bound on steps × runs × N² per sampled correlation evaluation (≈ 1 s of one core).
pub const MAX_CORRELATION_WORK: f64 = 2e9;
/// Largest population sizes accepted.
pub const MAX_PARENTS: usize = 10_000;
pub const MAX_OFFSPRING: usize = 100_000;

/// (μ+λ): parents compete with their offspring; (μ,λ): only offspring (and elites) survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    Plus,
    Comma,
}

/// How the parent of each offspring is chosen. Survivors are always the best of the pool
/// (truncation, or NSGA-II ranking in Pareto mode), as in evolution strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Selection {
    /// Every parent gets the same number of offspring (offspring k comes from parent k mod μ).
    Truncation,
    /// Each offspring's parent wins a tournament of `size` parents drawn with replacement.
    Tournament { size: usize },
}

/// Gaussian mutation: each gene is perturbed with probability `rate` by N(0, σ²), where σ is
/// `std` or, with `adaptive`, the individual's own log-normally mutated step size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Mutation {
    #[serde(with = "floats::scalar")]
    pub std: f64,
    #[serde(with = "floats::scalar")]
    pub rate: f64,
    pub adaptive: bool,
}

/// The weight budget applied after every mutation; without one, larger weights always raise I.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Constraint {
    /// Rescale W to ‖W‖_F = value (the bias is left free).
    Frobenius {
        #[serde(with = "floats::scalar")]
        value: f64,
    },
    /// Clip every weight and bias to [−bound, bound].
    Box {
        #[serde(with = "floats::scalar")]
        bound: f64,
    },
    None,
}

/// A quantity to maximise (or, with a negative weight, minimise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Exact information flux I (bits), N ≤ 16.
    Mi,
    /// The correlation proxy C: exact from π for small N, sampled beyond.
    Correlation,
    /// Mean period of the cyclic attractors of the deterministic limit.
    MeanPeriod,
}

impl Objective {
    /// The name used in specs.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Mi => "mi",
            Objective::Correlation => "correlation",
            Objective::MeanPeriod => "mean_period",
        }
    }

    /// The name of its value in results and metrics.
    pub fn metric(self) -> &'static str {
        match self {
            Objective::Mi => "mi_bits",
            Objective::Correlation => "correlation_rms",
            Objective::MeanPeriod => "mean_period",
        }
    }

    /// Largest N the objective supports.
    pub fn max_n(self) -> usize {
        match self {
            Objective::Mi => EXACT_MAX_N,
            Objective::Correlation => CORRELATION_MAX_N,
            Objective::MeanPeriod => MEAN_PERIOD_MAX_N,
        }
    }
}

/// One objective and its weight (in Pareto mode only the sign counts: negative = minimise).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveSpec {
    #[serde(rename = "name")]
    pub objective: Objective,
    #[serde(with = "floats::scalar")]
    pub weight: f64,
}

/// How several objectives are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Fitness = Σ weight·value, survivors by fitness.
    Weighted,
    /// NSGA-II: survivors by non-dominated rank, then crowding distance.
    Pareto,
}

/// Which mean period is the `mean_period` objective (SCIENCE.md A7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodWeighting {
    /// ⟨L⟩_attr = mean over attractors of the period.
    Attractor,
    /// ⟨L⟩_state = Σ_k basin_k·period_k / 2^N (over resolved random starts beyond N = 24).
    State,
}

/// Input convention (SCIENCE.md A1), a serialisable mirror of [`InputMode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    Symmetric,
    Binary,
}

impl From<Input> for InputMode {
    fn from(input: Input) -> InputMode {
        match input {
            Input::Symmetric => InputMode::Symmetric,
            Input::Binary => InputMode::Binary,
        }
    }
}

/// Which pairs enter C (a serialisable mirror of [`CorrelationOptions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrelationSettings {
    pub lag: u8,
    pub include_diagonal: bool,
}

impl Default for CorrelationSettings {
    fn default() -> Self {
        let d = CorrelationOptions::default();
        CorrelationSettings {
            lag: d.lag,
            include_diagonal: d.include_diagonal,
        }
    }
}

impl From<CorrelationSettings> for CorrelationOptions {
    fn from(c: CorrelationSettings) -> CorrelationOptions {
        CorrelationOptions {
            lag: c.lag,
            include_diagonal: c.include_diagonal,
        }
    }
}

/// Simulation effort per sampled evaluation of C. All individuals of a generation share the
/// same random numbers (common random numbers), so their differences are measured with far
/// less noise than their values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrelationSampling {
    pub steps: usize,
    pub burn_in: usize,
    pub runs: usize,
}

impl Default for CorrelationSampling {
    fn default() -> Self {
        CorrelationSampling {
            steps: 2000,
            burn_in: 200,
            runs: 1,
        }
    }
}

/// Random starts for the mean period beyond N = 24 (shared by a generation's individuals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttractorSampling {
    pub starts: usize,
    pub max_steps: usize,
}

impl Default for AttractorSampling {
    fn default() -> Self {
        let d = AttractorOptions::default();
        AttractorSampling {
            starts: d.starts,
            max_steps: d.max_steps,
        }
    }
}

/// Everything that determines an evolution run, apart from its initial population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvolutionConfig {
    /// Number of neurons N.
    pub n: usize,
    pub strategy: Strategy,
    /// μ.
    pub parents: usize,
    /// λ.
    pub offspring: usize,
    pub generations: u64,
    pub selection: Selection,
    /// Best parents carried unchanged into a (μ,λ) generation (implicit in (μ+λ)).
    pub elitism: usize,
    pub mutation: Mutation,
    /// Evolve the bias vector too (it starts at zero).
    pub evolve_bias: bool,
    pub constraint: Constraint,
    pub objectives: Vec<ObjectiveSpec>,
    pub mode: Mode,
    pub period_weighting: PeriodWeighting,
    pub input: Input,
    pub correlation: CorrelationSettings,
    pub correlation_sampling: CorrelationSampling,
    /// C is computed exactly from π up to this N, sampled beyond (at most 12).
    pub correlation_exact_max_n: usize,
    pub attractor_sampling: AttractorSampling,
    /// Residual ‖π·T − π‖₁ the exact solver must reach; evaluations that miss it are counted.
    #[serde(with = "floats::scalar")]
    pub mi_tolerance: f64,
    pub seed: u64,
}

/// Largest `correlation_exact_max_n` (the small exact solver's limit).
pub const CORRELATION_EXACT_LIMIT: usize = crate::engine::flux::exact::SMALL_MAX_N;

impl Default for EvolutionConfig {
    /// The API.md example: N = 8, (16+64), Frobenius budget √N·3, maximise I.
    fn default() -> Self {
        EvolutionConfig {
            n: 8,
            strategy: Strategy::Plus,
            parents: 16,
            offspring: 64,
            generations: 2000,
            selection: Selection::Truncation,
            elitism: 0,
            mutation: Mutation {
                std: 0.1,
                rate: 1.0,
                adaptive: false,
            },
            evolve_bias: false,
            constraint: Constraint::Frobenius {
                value: 8f64.sqrt() * 3.0,
            },
            objectives: vec![ObjectiveSpec {
                objective: Objective::Mi,
                weight: 1.0,
            }],
            mode: Mode::Weighted,
            period_weighting: PeriodWeighting::Attractor,
            input: Input::Symmetric,
            correlation: CorrelationSettings::default(),
            correlation_sampling: CorrelationSampling::default(),
            correlation_exact_max_n: 10,
            attractor_sampling: AttractorSampling::default(),
            mi_tolerance: 1e-10,
            seed: 1,
        }
    }
}

impl EvolutionConfig {
    /// True if this objective is part of the run.
    pub fn has(&self, objective: Objective) -> bool {
        self.objectives.iter().any(|o| o.objective == objective)
    }

    /// True if C comes from simulation (N beyond `correlation_exact_max_n`).
    pub fn correlation_is_sampled(&self) -> bool {
        self.has(Objective::Correlation) && self.n > self.correlation_exact_max_n
    }

    /// True if the mean period comes from random starts (N beyond 24).
    pub fn mean_period_is_sampled(&self) -> bool {
        self.has(Objective::MeanPeriod) && self.n > EXHAUSTIVE_MAX_N
    }

    /// Objectives whose value carries sampling noise: parents are re-measured each generation
    /// with that generation's common random numbers, so that they compete fairly.
    pub fn is_noisy(&self) -> bool {
        self.correlation_is_sampled() || self.mean_period_is_sampled()
    }

    /// Genes per genome: N² weights plus N biases when they evolve.
    pub fn genes(&self) -> usize {
        self.n * self.n + if self.evolve_bias { self.n } else { 0 }
    }

    pub(super) fn attractor_options(&self) -> AttractorOptions {
        AttractorOptions {
            exhaustive_max_n: EXHAUSTIVE_MAX_N,
            starts: self.attractor_sampling.starts,
            max_steps: self.attractor_sampling.max_steps,
        }
    }
}
