//! One module per job kind: wire spec (serde + validation) → engine calls → result document.
//! The only place that knows both the wire format and the engine.

pub mod artifacts;
pub mod context;
pub mod evolution;
pub mod lif;
pub mod mi;
pub mod provenance;
pub mod run_summary;
pub mod validation;
pub mod work;
#[cfg(test)]
mod work_tests;

use serde_json::Value;

pub use context::{
    DatasetFiles, JobContext, JobError, JobOutcome, PartControl, read_stored, to_document,
};
pub use validation::{FieldError, Limits};

/// The kinds of job the API names (API.md).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Mi,
    Evolution,
    Lif,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Mi => "mi",
            JobKind::Evolution => "evolution",
            JobKind::Lif => "lif",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        [JobKind::Mi, JobKind::Evolution, JobKind::Lif]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// What the caller looked up in the database for a spec (the things it refers to by id).
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// The uploaded dataset a `lif` spec names in `dataset.id`, if it exists.
    pub dataset: Option<lif::DatasetInfo>,
}

/// Parses and checks a submitted spec; returns the normalised spec (defaults filled in, a
/// random seed chosen and recorded when none was given) that is stored and later run. A spec
/// that is valid field by field but whose estimated work ([`work::estimate`]) exceeds
/// `limits.max_job_work` is refused as a whole (field `spec`).
pub fn validate(
    kind: JobKind,
    spec: Value,
    limits: &Limits,
    resolved: &Resolved,
) -> Result<Value, Vec<FieldError>> {
    let normalised = match kind {
        JobKind::Mi => mi::validate(spec, limits),
        JobKind::Evolution => evolution::validate(spec, limits),
        JobKind::Lif => lif::validate(spec, limits, resolved.dataset.as_ref()),
    }?;
    let estimate = work::estimate(kind, &normalised, limits, resolved);
    if estimate > limits.max_job_work {
        return Err(vec![FieldError::new(
            "spec",
            format!(
                "estimated work {estimate:.1e} operations exceeds this server's limit of {:e} \
                 (--max-job-work); {}",
                limits.max_job_work,
                work::advice(kind)
            ),
        )]);
    }
    Ok(normalised)
}

/// Runs a stored (already validated) spec, resuming from `checkpoint` when given; a finished
/// result gets its `provenance` object ([`provenance::provenance`]).
pub fn run(
    kind: JobKind,
    spec: &Value,
    limits: &Limits,
    checkpoint: Option<Value>,
    ctx: &dyn JobContext,
) -> Result<JobOutcome, JobError> {
    let outcome = match kind {
        JobKind::Mi => mi::run(spec, limits, checkpoint, ctx),
        JobKind::Evolution => evolution::run(spec, limits, checkpoint, ctx),
        JobKind::Lif => lif::run(spec, limits, checkpoint, ctx),
    }?;
    Ok(match outcome {
        JobOutcome::Finished(mut result) => {
            if let Some(doc) = result.as_object_mut() {
                doc.insert(
                    "provenance".into(),
                    provenance::provenance(kind, spec, limits),
                );
            }
            JobOutcome::Finished(result)
        }
        stopped => stopped,
    })
}
