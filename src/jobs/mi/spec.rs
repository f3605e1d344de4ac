//! The wire spec of an `mi` job (API.md § Kind `mi`), with defaults.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/jobs` spec for kind `mi`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MiSpec {
    pub network: NetworkSpec,
    #[serde(default)]
    pub method: Method,
    #[serde(default)]
    pub sampling: SamplingSpec,
    #[serde(default)]
    pub correlation: CorrelationSpec,
    #[serde(default)]
    pub attractors: AttractorSpec,
    /// Seed of every random choice; chosen at submission and recorded when omitted.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// Exactly one of `weights`, `ensemble` or `nrooks`; `sweep` repeats the ensemble or N-rooks
/// construction over a grid of one parameter.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Explicit matrix, row = target: `weights[i][j]` is the connection j → i.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<Vec<f64>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<EnsembleSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nrooks: Option<NRooksSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepSpec>,
    /// Bias per neuron (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<Vec<f64>>,
    #[serde(default)]
    pub input: InputSpec,
    #[serde(default)]
    pub noise: NoiseSpec,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InputSpec {
    /// y = 2x − 1.
    #[default]
    Symmetric,
    /// y = x.
    Binary,
}

/// Gaussian input noise; `shared: true` draws one value per step for all neurons.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoiseSpec {
    #[serde(default)]
    pub std: f64,
    #[serde(default)]
    pub shared: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnsembleType {
    #[default]
    Gaussian,
}

/// Random Gaussian weights (SCIENCE.md A5).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnsembleSpec {
    #[serde(rename = "type", default)]
    pub kind: EnsembleType,
    pub n: i64,
    #[serde(default = "one")]
    pub std: f64,
    #[serde(default)]
    pub mean: f64,
    #[serde(default = "one")]
    pub density: f64,
    /// Excitatory fraction (1 + balance) / 2 with magnitudes |N(0, std²)|; absent: N(mean, std²).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<f64>,
    #[serde(default = "yes")]
    pub self_connections: bool,
    #[serde(default)]
    pub scale_by_sqrt_n: bool,
    #[serde(default = "one_i")]
    pub replicates: i64,
}

/// `"random"`, `"ring"` or an explicit list (`[t_0, …]`: neuron j drives neuron t_j).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PermutationSpec {
    Named(String),
    Given(Vec<i64>),
}

/// `"random"`, `"positive"` or one sign (±1) per source neuron.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum SignsSpec {
    Named(String),
    Given(Vec<f64>),
}

/// An N-rooks matrix: one weight ±q per row and per column.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NRooksSpec {
    pub n: i64,
    pub q: f64,
    #[serde(default = "random_perm")]
    pub permutation: PermutationSpec,
    #[serde(default = "random_signs")]
    pub signs: SignsSpec,
    #[serde(default = "one_i")]
    pub replicates: i64,
}

/// Repeat the construction for each value of one parameter: `std`, `mean`, `density`,
/// `balance` (gaussian), `q` (nrooks) or `noise_std` (either).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    pub param: String,
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Exact where N is small enough, sampled beyond.
    #[default]
    Auto,
    Exact,
    Sampled,
}

/// Simulation settings for sampled estimates.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SamplingSpec {
    #[serde(default = "default_steps")]
    pub steps: i64,
    #[serde(default = "default_burn_in")]
    pub burn_in: i64,
    #[serde(default = "default_runs")]
    pub runs: i64,
}

impl Default for SamplingSpec {
    fn default() -> Self {
        SamplingSpec {
            steps: default_steps(),
            burn_in: default_burn_in(),
            runs: default_runs(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrelationSpec {
    #[serde(default = "one_i")]
    pub lag: i64,
    #[serde(default = "yes")]
    pub include_diagonal: bool,
}

impl Default for CorrelationSpec {
    fn default() -> Self {
        CorrelationSpec {
            lag: 1,
            include_diagonal: true,
        }
    }
}

/// `true` / `false`, or settings for the sampled search used beyond the exhaustive limit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AttractorSpec {
    Enabled(bool),
    Settings(AttractorSettings),
}

impl Default for AttractorSpec {
    fn default() -> Self {
        AttractorSpec::Enabled(true)
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttractorSettings {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Random starting states when N is beyond the exhaustive limit.
    #[serde(default = "default_starts")]
    pub starts: i64,
    /// Longest walk per start before it is reported unresolved.
    #[serde(default = "default_walk")]
    pub max_steps: i64,
}

impl AttractorSpec {
    pub fn settings(&self) -> AttractorSettings {
        match *self {
            AttractorSpec::Enabled(enabled) => AttractorSettings {
                enabled,
                starts: default_starts(),
                max_steps: default_walk(),
            },
            AttractorSpec::Settings(s) => s,
        }
    }
}

fn one() -> f64 {
    1.0
}
fn one_i() -> i64 {
    1
}
fn yes() -> bool {
    true
}
fn random_perm() -> PermutationSpec {
    PermutationSpec::Named("random".into())
}
fn random_signs() -> SignsSpec {
    SignsSpec::Named("random".into())
}
fn default_steps() -> i64 {
    100_000
}
fn default_burn_in() -> i64 {
    1_000
}
fn default_runs() -> i64 {
    4
}
fn default_starts() -> i64 {
    1_000
}
fn default_walk() -> i64 {
    10_000
}
