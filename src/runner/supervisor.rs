//! The async supervisor of one running job: runs it on the rayon pool (panics caught), keeps
//! its lease alive, persists checkpoints / metrics / throttled progress under the fence, and
//! records how it ended.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot, watch};

use super::Shared;
use super::context::{JobMessage, RunContext, StopFlags, progress_doc};
use crate::jobs::{JobError, JobKind, JobOutcome};
use crate::store::{JobRow, Status, now_ms};

type RunOutput = std::thread::Result<Result<JobOutcome, JobError>>;

/// The run's output and its last progress document.
type Watched = (RunOutput, Option<Value>);

pub(crate) async fn supervise(shared: Arc<Shared>, job: JobRow, _permit: OwnedSemaphorePermit) {
    let started = Instant::now();
    let id = job.id.clone();
    let fence = job.fence;
    let flags = Arc::new(StopFlags::default());
    shared
        .running
        .lock()
        .expect("running lock")
        .insert(id.clone(), flags.clone());
    shared.hub.publish(
        &id,
        "status",
        json!({"status": "running", "attempts": job.attempts}),
    );

    let (outcome, last_progress) = run_and_watch(&shared, &job, &flags).await;
    let status = finish(&shared, &job, &flags, outcome, last_progress).await;

    shared.running.lock().expect("running lock").remove(&id);
    if let Some(status) = status {
        shared
            .observe
            .job_finished(&job.kind, status.as_str(), started.elapsed().as_secs_f64());
        shared
            .hub
            .publish(&id, "status", json!({"status": status.as_str()}));
        if status.is_terminal() {
            shared.hub.finish(&id, json!({"status": status.as_str()}));
        }
    }
    tracing::info!(job = %id, fence, status = ?status, secs = started.elapsed().as_secs_f64(), "supervision ended");
}

/// Starts the job on the pool and services it until it returns.
async fn run_and_watch(shared: &Arc<Shared>, job: &JobRow, flags: &Arc<StopFlags>) -> Watched {
    let store = &shared.store;
    let checkpoint = match store.latest_checkpoint(&job.id).await {
        Ok(c) => c.map(|c| c.data),
        Err(e) => {
            return (
                Ok(Err(JobError::Internal(format!("reading checkpoint: {e}")))),
                None,
            );
        }
    };
    let spec: Value = match serde_json::from_str(&job.spec) {
        Ok(s) => s,
        Err(e) => {
            return (
                Ok(Err(JobError::Invalid(format!(
                    "stored spec is not JSON: {e}"
                )))),
                None,
            );
        }
    };
    let Some(kind) = JobKind::parse(&job.kind) else {
        return (
            Ok(Err(JobError::Invalid(format!(
                "unknown job kind `{}`",
                job.kind
            )))),
            None,
        );
    };
    let initial = job
        .progress
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_else(|| progress_doc(0.0, 0, 0, "starting"));
    let (progress_tx, mut progress_rx) = watch::channel(initial);
    let (message_tx, mut message_rx) = mpsc::unbounded_channel();
    let (done_tx, mut done_rx) = oneshot::channel::<RunOutput>();
    let ctx = RunContext {
        flags: flags.clone(),
        store: shared.store.clone(),
        runtime: tokio::runtime::Handle::current(),
        messages: message_tx,
        progress: progress_tx,
    };
    let limits = shared.config.limits.clone();
    let execute = shared.config.executor;
    shared.pool.spawn(move || {
        let output = catch_unwind(AssertUnwindSafe(|| {
            execute(kind, &spec, &limits, checkpoint, &ctx)
        }));
        drop(ctx);
        let _ = done_tx.send(output);
    });

    let lease_ms = shared.config.lease.as_millis() as i64;
    let mut heartbeat = tokio::time::interval(shared.config.lease / 3);
    let mut flush = tokio::time::interval(shared.config.progress_interval);
    let mut progress_dirty = false;
    loop {
        tokio::select! {
            output = &mut done_rx => {
                while let Ok(message) = message_rx.try_recv() {
                    apply(shared, job, message).await;
                }
                let output = output.unwrap_or_else(|_| Ok(Err(JobError::Internal("compute task vanished".into()))));
                return (output, Some(progress_rx.borrow().clone()));
            }
            Some(message) = message_rx.recv() => apply(shared, job, message).await,
            Ok(()) = progress_rx.changed() => {
                let p = progress_rx.borrow_and_update().clone();
                shared.hub.publish(&job.id, "progress", p);
                progress_dirty = true;
            }
            _ = flush.tick() => {
                if progress_dirty {
                    let p = progress_rx.borrow().clone();
                    if let Err(e) = store.set_progress(&job.id, job.fence, &p).await {
                        tracing::warn!(job = %job.id, error = %e, "progress write failed");
                    }
                    progress_dirty = false;
                }
            }
            _ = heartbeat.tick() => match store.heartbeat(&job.id, job.fence, now_ms() + lease_ms).await {
                Ok(Some(cancel)) => if cancel { flags.cancel.store(true, Ordering::Relaxed) },
                Ok(None) => {
                    tracing::warn!(job = %job.id, fence = job.fence, "lease lost; stopping this run");
                    flags.lease_lost.store(true, Ordering::Relaxed);
                }
                Err(e) => tracing::warn!(job = %job.id, error = %e, "heartbeat failed"),
            },
        }
    }
}

/// Persists a checkpoint or metric row (fenced) and tells subscribers.
async fn apply(shared: &Shared, job: &JobRow, message: JobMessage) {
    match message {
        JobMessage::Checkpoint { step, state } => {
            match shared
                .store
                .write_checkpoint(&job.id, job.fence, step as i64, &state)
                .await
            {
                Ok(true) => tracing::debug!(job = %job.id, step, "checkpoint written"),
                Ok(false) => {
                    tracing::warn!(job = %job.id, "checkpoint refused: job no longer ours")
                }
                Err(e) => tracing::error!(job = %job.id, error = %e, "checkpoint write failed"),
            }
        }
        JobMessage::Metrics { step, row } => {
            let mut row = row;
            row["step"] = json!(step);
            match shared
                .store
                .write_metrics(&job.id, job.fence, step as i64, &row)
                .await
            {
                Ok(_) => shared.hub.publish(&job.id, "metrics", row),
                Err(e) => tracing::error!(job = %job.id, error = %e, "metrics write failed"),
            }
        }
    }
}

/// Records the end of this run; returns the job's new status if the job was still ours.
async fn finish(
    shared: &Shared,
    job: &JobRow,
    flags: &StopFlags,
    output: RunOutput,
    last_progress: Option<Value>,
) -> Option<Status> {
    let store = &shared.store;
    let (id, fence) = (job.id.as_str(), job.fence);
    if flags.lease_lost.load(Ordering::Relaxed) {
        return None;
    }
    let result = match output {
        Ok(Ok(JobOutcome::Finished(result))) => {
            let progress = final_progress(last_progress);
            store
                .complete_job(id, fence, &result, &progress)
                .await
                .map(|ok| ok.then_some(Status::Succeeded))
        }
        Ok(Ok(JobOutcome::Stopped)) => {
            if flags.cancel.load(Ordering::Relaxed) {
                store
                    .mark_cancelled(id, fence)
                    .await
                    .map(|ok| ok.then_some(Status::Cancelled))
            } else {
                store
                    .requeue_interrupted(id, fence)
                    .await
                    .map(|ok| ok.then_some(Status::Queued))
            }
        }
        Ok(Err(JobError::Invalid(message))) => {
            store.fail_job(id, fence, "invalid", &message, true).await
        }
        Ok(Err(JobError::Internal(message))) => {
            store.fail_job(id, fence, "internal", &message, false).await
        }
        Err(payload) => {
            let message = panic_message(&payload);
            tracing::error!(job = %id, panic = %message, "job panicked");
            store
                .fail_job(
                    id,
                    fence,
                    "panic",
                    &format!("the job panicked: {message}"),
                    false,
                )
                .await
        }
    };
    result.unwrap_or_else(|e| {
        tracing::error!(job = %id, error = %e, "recording the end of a job failed; its lease will expire");
        None
    })
}

/// Final progress: complete, keeping the step counters of the last report.
fn final_progress(last: Option<Value>) -> Value {
    let total = last
        .as_ref()
        .and_then(|p| p.get("total_steps"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    progress_doc(1.0, total, total, "finished")
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}
