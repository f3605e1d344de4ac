//! The result document of an `mi` job (API.md). Fields a method cannot produce are `null`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Matrices (weights, correlations) are written out in full up to this N; beyond it they are
/// `null` and `matrices_omitted` is true, so a 1,000-neuron result stays a few kilobytes.
pub const MAX_N_WITH_MATRICES: usize = 256;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MiResult {
    pub networks: Vec<NetworkResult>,
    pub summary: Summary,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    pub count: usize,
    /// Spearman rank correlation between I and C over the networks (≥ 3 networks with I).
    pub spearman_mi_vs_correlation: Option<f64>,
    pub mi_bits_mean: Option<f64>,
    pub correlation_rms_mean: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NetworkResult {
    pub n: usize,
    #[schema(value_type = Object)]
    pub params: Map<String, Value>,
    pub replicate: usize,
    /// `exact` or `sampled`.
    pub method: String,
    pub weights: Option<Vec<Vec<f64>>>,
    /// Exact I, or the Miller–Madow estimate when sampling is not undersampled; else null.
    pub mi_bits: Option<f64>,
    pub state_entropy_bits: Option<f64>,
    pub conditional_entropy_bits: Option<f64>,
    pub correlation_rms: f64,
    pub correlation_matrix: Option<Vec<Vec<f64>>>,
    pub mean_activity: Vec<f64>,
    pub matrices_omitted: bool,
    pub convergence: Option<ConvergenceReport>,
    pub sampled: Option<SampledReport>,
    pub attractors: Option<AttractorReport>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConvergenceReport {
    pub solver: String,
    pub iterations: usize,
    pub residual_l1: f64,
    pub converged: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SampledReport {
    pub mi_plugin_bits: f64,
    pub mi_miller_madow_bits: f64,
    pub mi_gaussian_bits: Option<f64>,
    pub stderr_bits: Option<f64>,
    pub correlation_stderr: Option<f64>,
    pub samples: u64,
    pub distinct_transitions: u64,
    pub runs: usize,
    pub steps: usize,
    pub burn_in: usize,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttractorReport {
    /// `exhaustive` (all 2^N states) or `sampled` (random starts).
    pub method: String,
    pub count: usize,
    /// Null when no attractor was found (every random start unresolved).
    pub mean_period: Option<f64>,
    pub mean_period_state_weighted: Option<f64>,
    pub max_period: Option<u64>,
    pub cycle_state_fraction: Option<f64>,
    pub starts: Option<u64>,
    pub unresolved_starts: u64,
    pub list: Vec<AttractorEntry>,
    /// True when the list was cut to its largest basins.
    pub list_truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttractorEntry {
    pub period: u64,
    pub basin: u64,
}
