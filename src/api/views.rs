//! Wire views of stored rows (API.md job view), with RFC 3339 times.

use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::jobs::JobKind;
use crate::store::{JobRow, RunSummary};

/// Renders unix milliseconds as an RFC 3339 UTC time with milliseconds.
pub fn rfc3339(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProgressView {
    pub fraction: f64,
    pub step: u64,
    pub total_steps: u64,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobErrorView {
    pub code: String,
    pub message: String,
}

/// The job view: state, progress, labels and the stored spec (`result` only on `?wait=` answers).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    pub id: String,
    pub kind: String,
    pub name: Option<String>,
    pub status: String,
    pub priority: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub progress: ProgressView,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub error: Option<JobErrorView>,
    /// Labels for people and filters (`GET /v1/jobs?tag=`); edit with `PATCH /v1/jobs/{id}`.
    pub tags: Vec<String>,
    pub notes: Option<String>,
    #[schema(value_type = Object)]
    pub spec: Value,
    /// Present on `?wait=` answers for succeeded jobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
}

impl From<&JobRow> for JobView {
    fn from(row: &JobRow) -> Self {
        let progress = row
            .progress
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or(ProgressView {
                fraction: 0.0,
                step: 0,
                total_steps: 0,
                message: String::new(),
            });
        JobView {
            id: row.id.clone(),
            kind: row.kind.clone(),
            name: row.name.clone(),
            status: row.status.clone(),
            priority: row.priority,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            progress,
            created_at: rfc3339(row.created_at),
            started_at: row.started_at.map(rfc3339),
            finished_at: row.finished_at.map(rfc3339),
            error: row.error_code.as_ref().map(|code| JobErrorView {
                code: code.clone(),
                message: row.error_message.clone().unwrap_or_default(),
            }),
            tags: serde_json::from_str(&row.tags).unwrap_or_default(),
            notes: row.notes.clone(),
            spec: if row.spec.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&row.spec).unwrap_or(Value::Null)
            },
            result: None,
        }
    }
}

/// `POST /v1/jobs` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    pub kind: JobKind,
    /// The kind's spec (see `MiSpec` for kind `mi`).
    #[schema(value_type = Object)]
    pub spec: Value,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub max_attempts: Option<i64>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A job in a listing: the job view without `spec` (unless `?include=spec`) and `result`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobSummary {
    pub id: String,
    pub kind: String,
    pub name: Option<String>,
    pub status: String,
    pub priority: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub progress: ProgressView,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub error: Option<JobErrorView>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    /// Only with `?include=spec`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub spec: Option<Value>,
    /// The key results of a succeeded job (the run table's columns); null before it succeeded.
    pub results: Option<RunResults>,
}

/// Key results of a succeeded job; a field its kind does not produce is null. `mi`: mean I
/// (`mi_bits`) and C (`correlation`) over the networks, `n` (null when networks differ in
/// size), `networks`; `evolution`: I, C and N of the best network, `rook_score`,
/// `generations`; `lif`: `test_accuracy`, `epochs`. `elapsed_ms`: the job's run time.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunResults {
    pub mi_bits: Option<f64>,
    pub correlation: Option<f64>,
    pub n: Option<i64>,
    pub networks: Option<i64>,
    pub rook_score: Option<f64>,
    pub generations: Option<i64>,
    pub test_accuracy: Option<f64>,
    pub epochs: Option<i64>,
    pub elapsed_ms: Option<i64>,
}

impl From<&RunSummary> for RunResults {
    fn from(s: &RunSummary) -> Self {
        RunResults {
            mi_bits: s.mi_bits,
            correlation: s.correlation,
            n: s.n,
            networks: s.networks,
            rook_score: s.rook_score,
            generations: s.generations,
            test_accuracy: s.test_accuracy,
            epochs: s.epochs,
            elapsed_ms: s.elapsed_ms,
        }
    }
}

impl From<JobView> for JobSummary {
    fn from(v: JobView) -> Self {
        JobSummary {
            id: v.id,
            kind: v.kind,
            name: v.name,
            status: v.status,
            priority: v.priority,
            attempts: v.attempts,
            max_attempts: v.max_attempts,
            progress: v.progress,
            created_at: v.created_at,
            started_at: v.started_at,
            finished_at: v.finished_at,
            error: v.error,
            tags: v.tags,
            notes: v.notes,
            spec: None,
            results: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobSummary>,
    /// Pass as `cursor` for the next page; `null` on the last page and in any order but the
    /// default (`sort=created&order=desc`, no `offset`).
    pub next_cursor: Option<String>,
    /// Pass as `offset` for the next page (any order); `null` on the last page.
    pub next_offset: Option<i64>,
    /// How many jobs match the filters and search in all.
    pub total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointView {
    pub seq: i64,
    pub step: i64,
    pub created_at: String,
    pub bytes: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsView {
    #[schema(value_type = Vec<Object>)]
    pub series: Vec<Value>,
}
