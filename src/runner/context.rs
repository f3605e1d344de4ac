//! The [`JobContext`] handed to a job on the rayon pool: stop flags it polls, and channels that
//! carry its progress, checkpoints and metric rows to the async supervisor.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::engine::control::Control;
use crate::jobs::{DatasetFiles, JobContext};
use crate::store::Store;

/// Why a running job should stop. Set from the API (cancel), shutdown, or a lost lease.
#[derive(Default)]
pub struct StopFlags {
    pub cancel: AtomicBool,
    pub interrupt: AtomicBool,
    pub lease_lost: AtomicBool,
    /// Set while the supervisor records the end of the run: the job leaving `running` then is
    /// our own doing, not a lost lease.
    pub ending: AtomicBool,
}

impl StopFlags {
    pub fn any(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
            || self.interrupt.load(Ordering::Relaxed)
            || self.lease_lost.load(Ordering::Relaxed)
    }
}

/// Durable messages from the job, applied in order by the supervisor.
#[derive(Debug)]
pub enum JobMessage {
    Checkpoint { step: u64, state: Value },
    Metrics { step: u64, row: Value },
}

pub struct RunContext {
    pub flags: Arc<StopFlags>,
    /// For the inputs a job reads while it runs (uploaded datasets).
    pub store: Store,
    /// The async runtime the store lives on; the job runs on a rayon thread, outside it.
    pub runtime: tokio::runtime::Handle,
    /// Bounded: when the store falls behind, the job waits here instead of piling up rows.
    pub messages: mpsc::Sender<JobMessage>,
    pub progress: watch::Sender<Value>,
}

impl Control for RunContext {
    fn should_stop(&self) -> bool {
        self.flags.any()
    }
    fn progress(&self, fraction: f64, message: &str) {
        self.progress.send_modify(|p| {
            p["fraction"] = json!(fraction.clamp(0.0, 1.0));
            p["message"] = json!(message);
        });
    }
}

impl JobContext for RunContext {
    fn report(&self, step: u64, total_steps: u64, fraction: f64, message: &str) {
        self.progress
            .send_replace(progress_doc(fraction, step, total_steps, message));
    }
    fn checkpoint(&self, step: u64, state: Value) {
        // A rayon thread, outside the runtime: blocking here is the back-pressure. The
        // supervisor drains until the job returns, so this wait ends.
        let _ = self
            .messages
            .blocking_send(JobMessage::Checkpoint { step, state });
    }
    fn metrics(&self, step: u64, row: Value) {
        let _ = self
            .messages
            .blocking_send(JobMessage::Metrics { step, row });
    }
    fn cancel_requested(&self) -> bool {
        self.flags.cancel.load(Ordering::Relaxed)
    }
    fn dataset_files(&self, id: &str) -> Result<Option<DatasetFiles>, String> {
        let files = self
            .runtime
            .block_on(self.store.dataset_files(id))
            .map_err(|e| format!("loading dataset `{id}`: {e}"))?;
        Ok(files.map(|(name, images, labels)| DatasetFiles {
            name,
            images,
            labels,
        }))
    }
}

/// The wire form of progress (API.md job view).
pub fn progress_doc(fraction: f64, step: u64, total_steps: u64, message: &str) -> Value {
    json!({
        "fraction": fraction.clamp(0.0, 1.0),
        "step": step,
        "total_steps": total_steps,
        "message": message,
    })
}
