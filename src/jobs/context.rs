//! What a running job can tell its supervisor (progress, checkpoints, metric rows) and how it ends.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::engine::control::Control;

/// Implemented by the runner for each running job. `Control::progress` reports the fraction of
/// the whole job; `report` adds the step counter.
pub trait JobContext: Control {
    /// Latest progress: `step` of `total_steps` done, overall `fraction`, a short message.
    fn report(&self, step: u64, total_steps: u64, fraction: f64, message: &str);
    /// The whole resumable state after `step` steps; the runner persists it under the job's fence.
    fn checkpoint(&self, step: u64, state: Value);
    /// One row of the job's metric series.
    fn metrics(&self, step: u64, row: Value);
    /// True when the stop was asked for as a cancellation (not a shutdown).
    fn cancel_requested(&self) -> bool;
    /// The stored files of an uploaded dataset (`None` when there is no such dataset); `Err` when
    /// the database cannot be read. Contexts without a database have no datasets.
    fn dataset_files(&self, id: &str) -> Result<Option<DatasetFiles>, String> {
        Err(format!("no dataset store to load dataset `{id}` from"))
    }
}

/// An uploaded dataset as stored: its name and the two IDX files (raw or gzip) as uploaded.
#[derive(Debug, Clone)]
pub struct DatasetFiles {
    pub name: String,
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

/// How a run ended without error.
#[derive(Debug)]
pub enum JobOutcome {
    /// The result document.
    Finished(Value),
    /// The job stopped at a safe point after writing its checkpoint (cancel or shutdown).
    Stopped,
}

/// A run that failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The stored spec or checkpoint cannot be run; retrying would not help.
    #[error("{0}")]
    Invalid(String),
    /// Anything else: retried while attempts remain.
    #[error("{0}")]
    Internal(String),
}

/// Maps an engine call's own progress (0..1 of one part) onto the whole job: part `index` of
/// `total` (a network of a sweep, a generation of an evolution).
pub struct PartControl<'a> {
    pub ctx: &'a dyn JobContext,
    /// What a part is called in progress messages ("network", "generation").
    pub part: &'static str,
    pub index: u64,
    pub total: u64,
}

impl Control for PartControl<'_> {
    fn should_stop(&self) -> bool {
        self.ctx.should_stop()
    }
    fn progress(&self, fraction: f64, message: &str) {
        let total = self.total.max(1);
        let overall = (self.index as f64 + fraction.clamp(0.0, 1.0)) / total as f64;
        let text = format!("{} {}/{}: {message}", self.part, self.index + 1, total);
        self.ctx.report(self.index, total, overall, &text);
    }
}

/// Reads a document the job stored earlier (`what` names it in the error: "stored spec",
/// "checkpoint"). One that no longer parses will never run, so it is [`JobError::Invalid`].
pub fn read_stored<T: DeserializeOwned>(value: Value, what: &str) -> Result<T, JobError> {
    serde_json::from_value(value).map_err(|e| JobError::Invalid(format!("{what}: {e}")))
}

/// A result or checkpoint document as JSON; failing to serialise is an internal error.
pub fn to_document<T: Serialize>(doc: &T) -> Result<Value, JobError> {
    serde_json::to_value(doc).map_err(|e| JobError::Internal(format!("serialising: {e}")))
}
