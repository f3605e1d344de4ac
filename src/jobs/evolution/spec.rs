//! The wire spec of an `evolution` job (API.md § Kind `evolution`), with defaults, and its
//! translation into the engine's configuration.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::engine::evolve::{
    AttractorSampling, Constraint, CorrelationSampling, CorrelationSettings, EnsembleInit,
    EvolutionConfig, Genome, Init, Input, Mode, Mutation, Objective, ObjectiveSpec,
    PeriodWeighting, Selection, Strategy,
};

/// `POST /v1/jobs` spec for kind `evolution`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvolutionSpec {
    pub n: i64,
    #[serde(default)]
    pub init: InitSpec,
    /// `plus` ((μ+λ), default) or `comma` ((μ,λ)).
    #[serde(default = "plus")]
    #[schema(value_type = String)]
    pub strategy: Strategy,
    #[serde(default = "sixteen")]
    pub parents: i64,
    #[serde(default = "sixty_four")]
    pub offspring: i64,
    #[serde(default = "two_hundred")]
    pub generations: i64,
    /// `{"type": "truncation"}` (default) or `{"type": "tournament", "size": k}`.
    #[serde(default = "truncation")]
    #[schema(value_type = Object)]
    pub selection: Selection,
    #[serde(default)]
    pub elitism: i64,
    #[serde(default)]
    pub mutation: MutationSpec,
    #[serde(default)]
    pub evolve_bias: bool,
    /// `{"type": "frobenius", "value": b}` (default b = 3·√N), `{"type": "box", "bound": b}` or
    /// `{"type": "none"}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub constraint: Option<Constraint>,
    /// `[{"name": "mi" | "correlation" | "mean_period", "weight": w}]` (default: mi).
    #[serde(default = "default_objectives")]
    pub objectives: Vec<ObjectiveEntry>,
    /// `weighted` (default) or `pareto` (NSGA-II).
    #[serde(default = "weighted")]
    #[schema(value_type = String)]
    pub mode: Mode,
    /// `attractor` (default: mean over attractors) or `state` (basin-weighted).
    #[serde(default = "attractor")]
    #[schema(value_type = String)]
    pub period_weighting: PeriodWeighting,
    #[serde(default = "symmetric")]
    #[schema(value_type = String)]
    pub input: Input,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub correlation: CorrelationSettings,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub correlation_sampling: CorrelationSampling,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attractor_sampling: AttractorSampling,
    /// Chosen at submission and recorded when omitted.
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default = "twenty_five")]
    pub checkpoint_every: i64,
}

/// At most one of `ensemble` (default: gaussian std 1), `weights` (+ `bias`), `from_job`, or
/// `population` (genomes; the server fills it in from `from_job`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub ensemble: Option<EnsembleInitSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<Vec<f64>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<Vec<f64>>,
    /// Id of an evolution job: its best genome (finished) or last checkpointed population.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub population: Option<Vec<Genome>>,
}

/// The gaussian ensemble of the initial population (`type` is accepted for symmetry with `mi`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleInitSpec {
    #[serde(rename = "type", default = "gaussian")]
    pub kind: String,
    #[serde(default)]
    pub mean: f64,
    #[serde(default = "one")]
    pub std: f64,
    #[serde(default = "one")]
    pub density: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<f64>,
    #[serde(default = "yes")]
    pub self_connections: bool,
    #[serde(default)]
    pub scale_by_sqrt_n: bool,
}

impl EnsembleInitSpec {
    fn params(&self) -> EnsembleInit {
        EnsembleInit {
            mean: self.mean,
            std: self.std,
            density: self.density,
            balance: self.balance,
            self_connections: self.self_connections,
            scale_by_sqrt_n: self.scale_by_sqrt_n,
        }
    }
}

/// One objective: `name` (`mi`, `correlation`, `mean_period`) and `weight` (default 1; in Pareto
/// mode only its sign counts: negative = minimise).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveEntry {
    #[schema(value_type = String)]
    pub name: Objective,
    #[serde(default = "one")]
    pub weight: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MutationSpec {
    #[serde(default = "point_one")]
    pub std: f64,
    #[serde(default = "one")]
    pub rate: f64,
    #[serde(default)]
    pub adaptive: bool,
}

impl Default for MutationSpec {
    fn default() -> Self {
        MutationSpec {
            std: 0.1,
            rate: 1.0,
            adaptive: false,
        }
    }
}

impl EvolutionSpec {
    /// The Frobenius budget used when no constraint is given: 3·√N, the paper's q = 3 per rook.
    pub fn effective_constraint(&self) -> Constraint {
        self.constraint.unwrap_or(Constraint::Frobenius {
            value: 3.0 * (self.n.max(1) as f64).sqrt(),
        })
    }

    /// The engine configuration (sizes already validated as non-negative).
    pub fn config(&self) -> EvolutionConfig {
        EvolutionConfig {
            n: self.n.max(0) as usize,
            strategy: self.strategy,
            parents: self.parents.max(0) as usize,
            offspring: self.offspring.max(0) as usize,
            generations: self.generations.max(0) as u64,
            selection: self.selection,
            elitism: self.elitism.max(0) as usize,
            mutation: Mutation {
                std: self.mutation.std,
                rate: self.mutation.rate,
                adaptive: self.mutation.adaptive,
            },
            evolve_bias: self.evolve_bias,
            constraint: self.effective_constraint(),
            objectives: self
                .objectives
                .iter()
                .map(|o| ObjectiveSpec {
                    objective: o.name,
                    weight: o.weight,
                })
                .collect(),
            mode: self.mode,
            period_weighting: self.period_weighting,
            input: self.input,
            correlation: self.correlation,
            correlation_sampling: self.correlation_sampling,
            attractor_sampling: self.attractor_sampling,
            seed: self.seed.unwrap_or(0),
            ..EvolutionConfig::default()
        }
    }

    /// The engine's initial population source.
    pub fn init(&self) -> Init {
        let i = &self.init;
        if let Some(population) = &i.population {
            Init::Population(population.clone())
        } else if let Some(w) = &i.weights {
            Init::Weights {
                weights: w.iter().flatten().copied().collect(),
                bias: i.bias.clone(),
            }
        } else {
            Init::Ensemble(
                i.ensemble
                    .as_ref()
                    .map(EnsembleInitSpec::params)
                    .unwrap_or_default(),
            )
        }
    }
}

/// Objective names accepted in specs.
pub fn objective_names() -> Vec<&'static str> {
    [Objective::Mi, Objective::Correlation, Objective::MeanPeriod]
        .iter()
        .map(|o| o.name())
        .collect()
}

/// The raw `init.from_job` of a spec, if any (read before full parsing, to resolve it).
pub fn from_job_of(spec: &Value) -> Option<&str> {
    spec.get("init")?.get("from_job")?.as_str()
}

fn plus() -> Strategy {
    Strategy::Plus
}
fn truncation() -> Selection {
    Selection::Truncation
}
fn weighted() -> Mode {
    Mode::Weighted
}
fn attractor() -> PeriodWeighting {
    PeriodWeighting::Attractor
}
fn symmetric() -> Input {
    Input::Symmetric
}
fn gaussian() -> String {
    "gaussian".into()
}
fn default_objectives() -> Vec<ObjectiveEntry> {
    vec![ObjectiveEntry {
        name: Objective::Mi,
        weight: 1.0,
    }]
}
fn sixteen() -> i64 {
    16
}
fn sixty_four() -> i64 {
    64
}
fn two_hundred() -> i64 {
    200
}
fn twenty_five() -> i64 {
    25
}
fn point_one() -> f64 {
    0.1
}
fn one() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}
