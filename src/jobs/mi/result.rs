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
    /// Sweeps only (null otherwise): per value of the swept parameter, in the order of
    /// `sweep.values`, the mean ± sample s.d. over its replicates of I and C and the attractor
    /// statistics.
    #[serde(default)]
    pub sweep: Option<Vec<super::sweep::SweepPoint>>,
}

/// One analysed network. Information is in bits (log base 2) throughout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NetworkResult {
    /// Number of neurons N.
    pub n: usize,
    /// The sweep parameters of this network (empty without a sweep).
    #[schema(value_type = Object)]
    pub params: Map<String, Value>,
    /// Replicate index within its ensemble or sweep point.
    pub replicate: usize,
    /// `exact` (stationary distribution solved over all 2^N states) or `sampled` (simulation).
    pub method: String,
    /// W (row = target neuron, `weights[i][j]` is j → i); null beyond N = 256.
    pub weights: Option<Vec<Vec<f64>>>,
    /// I[x(t); x(t+1)] in bits. `exact`: computed from the solved stationary distribution
    /// (null if the solver did not converge). `sampled`: the model-based estimate (see
    /// `sampled.estimator`), an estimate of the same I whose standard error is
    /// `sampled.stderr_bits`; null when its bias cannot be bounded by that error (a warning
    /// says why and how many samples would suffice).
    pub mi_bits: Option<f64>,
    /// H(x(t+1)) = H(π) in bits: exact, or (sampled) the bias-corrected mixture estimate;
    /// null when `mi_bits` is.
    pub state_entropy_bits: Option<f64>,
    /// H(x(t+1) | x(t)) = Σ_x π(x) Σ_i h2(p_i(x)) in bits: exact, or (sampled) its unbiased
    /// chain average over the recorded states; null for shared noise.
    pub conditional_entropy_bits: Option<f64>,
    /// The correlation proxy C (root mean square of the chosen correlations).
    pub correlation_rms: f64,
    /// Correlation matrix behind C; null beyond N = 256.
    pub correlation_matrix: Option<Vec<Vec<f64>>>,
    /// Stationary firing probability of each neuron.
    pub mean_activity: Vec<f64>,
    /// True when `weights` and `correlation_matrix` were left out (N > 256).
    pub matrices_omitted: bool,
    /// The exact solver's convergence (exact method only).
    pub convergence: Option<ConvergenceReport>,
    /// The Gaussian approximation I_G (bits) from the exact stationary moments (exact method
    /// only): the limit the sampled `mi_gaussian_bits` converges to, reported beside the exact
    /// I. I_G is *not* I. Null when the joint covariance is singular.
    pub mi_gaussian_exact_bits: Option<f64>,
    /// Sampling details and the comparison estimators (sampled method only).
    pub sampled: Option<SampledReport>,
    /// Attractors of the deterministic limit x_i(t+1) = [z_i(x(t)) > 0]. Tie rule: a neuron
    /// whose net input z_i = b_i + Σ_j W_ij·y_j is exactly 0 is off; z_i is summed exactly
    /// (no rounding), so cancelling terms cannot turn a positive z_i into a tie or back.
    pub attractors: Option<AttractorReport>,
    /// Plain sentences about anything that limits the numbers above.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConvergenceReport {
    pub solver: String,
    pub iterations: usize,
    /// ‖πT − π‖₁ of the returned π.
    pub residual_l1: f64,
    pub converged: bool,
}

/// How a sampled I was obtained, its uncertainty, and estimators kept for comparison. All
/// information values are in bits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SampledReport {
    /// The estimator behind `mi_bits`: `model_mixture` = the exact per-state conditional
    /// entropy Σ_i h2(p_i(x)) averaged over the chain, subtracted from H(x(t+1)) estimated as
    /// −mean log2 π̂(y) with π̂(y) = mean of the model's T(x → y) over held-out recorded states
    /// x (other runs; the other half of a single run), bias-corrected by comparing with half
    /// the held-out data. See docs/estimators.md.
    pub estimator: String,
    /// Standard error of `mi_bits` (bits) by batch means: the recorded transitions of each run
    /// are cut into contiguous batches in time (32 in all), so autocorrelation within a batch
    /// is accounted for. `|mi_bits − I| ≤ 2·stderr_bits` held in ≥ 90 % of seeds on the
    /// benchmark networks (docs/estimators.md). Given even when `mi_bits` is withheld.
    pub stderr_bits: Option<f64>,
    /// The estimated bias (bits) of the uncorrected mixture estimate, already subtracted from
    /// `mi_bits`; when it exceeds `stderr_bits`, `mi_bits` is withheld.
    pub bias_correction_bits: Option<f64>,
    /// Transitions used by the model-based estimate (every `record_stride`-th sampled one).
    pub recorded_transitions: u64,
    /// Every how many sampled transitions one was recorded (1 = all).
    pub record_stride: usize,
    /// Distinct states among the recorded transitions (the mixture's size).
    pub distinct_states: usize,
    /// Batches behind `stderr_bits`.
    pub batches: usize,
    /// Plug-in estimate H(X) + H(Y) − H(XY) from pooled transition counts, for comparison
    /// only: biased upwards by about (distinct transitions)/(2·samples·ln 2) bits.
    pub mi_plugin_bits: f64,
    /// The plug-in estimate with the Miller–Madow correction, for comparison only: still
    /// biased when transitions are undersampled.
    pub mi_miller_madow_bits: f64,
    /// Spread (standard error across runs) of the per-run Miller–Madow estimates: it does
    /// *not* include their bias and is not an error bar for `mi_bits`. Null for one run.
    pub miller_madow_stderr_bits: Option<f64>,
    /// The Gaussian approximation I_G = ½·log2(det Σ_t·det Σ_{t+1}/det Σ_{t,t+1}) from the
    /// sampled covariances. It converges to I_G, not to I (they can differ by tens of percent
    /// for strongly coupled networks). Null when the joint covariance is singular.
    pub mi_gaussian_bits: Option<f64>,
    /// Standard error across runs of the per-run C (null for one run).
    pub correlation_stderr: Option<f64>,
    /// Transitions simulated (steps × runs).
    pub samples: u64,
    /// Distinct transitions (x(t), x(t+1)) among them.
    pub distinct_transitions: u64,
    /// Independent runs (R), each from a uniformly random state.
    pub runs: usize,
    /// Recorded transitions per run.
    pub steps: usize,
    /// Discarded steps at the start of each run.
    pub burn_in: usize,
    /// Plain sentences about anything that limits the sampled estimates (also in the
    /// network's `warnings`).
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

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    /// The OpenAPI document describes every field of a network's `mi` result, including the
    /// units, the estimators, what `stderr_bits` means and the deterministic tie rule.
    #[test]
    fn every_mi_result_field_is_described() {
        let doc = serde_json::to_value(crate::api::ApiDoc::openapi()).unwrap();
        let schemas = &doc["components"]["schemas"];
        for name in ["NetworkResult", "SampledReport"] {
            let props = schemas[name]["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{name} in the document"));
            for (field, schema) in props {
                assert!(
                    schema.to_string().contains("\"description\""),
                    "{name}.{field} has no description: {schema}"
                );
            }
        }
        let text = |name: &str, field: &str| schemas[name]["properties"][field].to_string();
        assert!(text("NetworkResult", "mi_bits").contains("bits"));
        assert!(text("NetworkResult", "attractors").contains("exactly 0 is off"));
        assert!(text("SampledReport", "stderr_bits").contains("batch means"));
        assert!(text("SampledReport", "mi_gaussian_bits").contains("not to I"));
        assert!(text("SampledReport", "miller_madow_stderr_bits").contains("not an error bar"));
    }
}
