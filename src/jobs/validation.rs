//! Field-level validation errors and the server's size limits, which every 422 names.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One problem with one field of a request (`field` is a JSON path like `spec.network.weights[2]`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Bounds on what one job may ask for, so no request can exhaust memory or time.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest N for `method: exact` (≤ 16; the stationary solver is O(4^N) per iteration).
    pub exact_max_n: usize,
    /// Largest N for sampled estimates.
    pub sampled_max_n: usize,
    /// Largest N whose attractors are enumerated exhaustively (2^N states in memory).
    pub attractors_exhaustive_max_n: usize,
    /// Most networks in one job (replicates × sweep values).
    pub max_networks: usize,
    /// Most simulation steps per run.
    pub max_steps: usize,
    /// Most independent runs per network.
    pub max_runs: usize,
    /// Bound on N² · steps · runs for one network (the simulation cost).
    pub max_sampling_work: f64,
    /// Largest absolute weight or bias accepted.
    pub max_abs_weight: f64,
    /// Most work one job may ask for, in work units (estimated multiply-adds, see
    /// [`crate::jobs::work`]): the per-network bounds above still allow years of compute in
    /// one request (10,000 networks, 10⁷ generations).
    pub max_job_work: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            exact_max_n: 16,
            sampled_max_n: 2000,
            attractors_exhaustive_max_n: 24,
            max_networks: 10_000,
            max_steps: 10_000_000,
            max_runs: 64,
            max_sampling_work: 1e13,
            max_abs_weight: 1e6,
            max_job_work: crate::jobs::work::DEFAULT_MAX_JOB_WORK,
        }
    }
}

/// Parses a work limit given on the command line (`--max-job-work 2e15`): a positive, finite
/// number of work units.
pub fn parse_work_limit(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "must be a positive number of work units (e.g. 1e16), got `{text}`"
        )),
    }
}

/// Parses a kind's spec, naming the field of a type error, an unknown field or a missing one
/// by its JSON path under `spec`.
pub fn parse_spec<T: DeserializeOwned>(spec: Value) -> Result<T, Vec<FieldError>> {
    serde_path_to_error::deserialize(spec).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "spec".to_string()
        } else {
            format!("spec.{path}")
        };
        vec![FieldError::new(field, e.into_inner().to_string())]
    })
}

/// A fresh seed for a spec that has none; kept below 2^53 so JSON clients read it exactly.
pub fn fresh_seed() -> u64 {
    rand::random::<u64>() >> 11
}
