//! The async supervisor of one running job: runs it on the rayon pool (panics caught), keeps
//! its lease alive (see `lease`), persists checkpoints / metrics / throttled progress under the
//! fence through a bounded queue, and records how it ended, retrying writes that fail.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::context::{JobMessage, RunContext, StopFlags, progress_doc};
use super::lease::{Held, keep_lease};
use crate::jobs::{JobError, JobKind, JobOutcome};
use crate::store::{JobRow, Status};

type RunOutput = std::thread::Result<Result<JobOutcome, JobError>>;

/// The run's output and its last progress document.
type Watched = (RunOutput, Option<Value>);

/// Messages the job may queue before it waits for the store (back-pressure, bounded memory).
const MESSAGE_QUEUE: usize = 64;
/// Most messages applied in one go (one transaction of metric rows, the newest checkpoint).
const BATCH: usize = 256;
/// Pause between retries of a failed write.
const RETRY: Duration = Duration::from_millis(500);

pub(crate) async fn supervise(shared: Arc<Shared>, job: JobRow, _permit: OwnedSemaphorePermit) {
    let started = Instant::now();
    let id = job.id.clone();
    let fence = job.fence;
    let flags = Arc::new(StopFlags::default());
    if job.cancel_requested != 0 {
        flags.cancel.store(true, Ordering::Relaxed);
    }
    shared
        .running
        .lock()
        .expect("running lock")
        .insert(id.clone(), (fence, flags.clone()));
    shared.hub.publish(
        &id,
        "status",
        json!({"status": "running", "attempts": job.attempts}),
    );
    let lease_done = CancellationToken::new();
    let keeper = tokio::spawn(keep_lease(
        Held {
            store: shared.store.clone(),
            id: id.clone(),
            fence,
            lease: shared.config.lease,
            flags: flags.clone(),
        },
        lease_done.clone(),
    ));

    let (outcome, last_progress) = run_and_watch(&shared, &job, &flags).await;
    flags.ending.store(true, Ordering::Relaxed);
    let status = finish(&shared, &job, &flags, outcome, last_progress).await;
    lease_done.cancel();
    let _ = keeper.await;

    shared.running.lock().expect("running lock").remove(&id);
    let held_ms = started.elapsed().as_millis() as i64;
    if let Err(e) = shared.store.add_slot_time(&id, held_ms).await {
        tracing::warn!(job = %id, error = %e, "recording the slot time failed");
    }
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

/// Starts the job on the pool and services it until it returns and its last rows are stored.
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
    let (message_tx, mut message_rx) = mpsc::channel(MESSAGE_QUEUE);
    let (done_tx, done_rx) = oneshot::channel::<RunOutput>();
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
        // Dropping the context closes the message channel: the supervisor's sign that the
        // job has queued its last row.
        drop(ctx);
        let _ = done_tx.send(output);
    });

    let mut flush = tokio::time::interval(shared.config.progress_interval);
    let mut progress_dirty = false;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            received = message_rx.recv_many(&mut batch, BATCH) => {
                if received == 0 {
                    break;
                }
                apply(shared, job, flags, std::mem::take(&mut batch)).await;
            }
            Ok(()) = progress_rx.changed() => {
                let p = progress_rx.borrow_and_update().clone();
                shared.hub.publish(&job.id, "progress", p);
                progress_dirty = true;
            }
            _ = flush.tick() => {
                if progress_dirty {
                    let p = progress_rx.borrow().clone();
                    match store.set_progress(&job.id, job.fence, &p).await {
                        Ok(true) => {}
                        // Fenced out: another attempt holds the job now; stop at once.
                        Ok(false) => {
                            tracing::warn!(job = %job.id, "progress refused: job no longer ours; stopping");
                            flags.lease_lost.store(true, Ordering::Relaxed);
                        }
                        Err(e) => tracing::warn!(job = %job.id, error = %e, "progress write failed"),
                    }
                    progress_dirty = false;
                }
            }
        }
    }
    let output = done_rx
        .await
        .unwrap_or_else(|_| Ok(Err(JobError::Internal("compute task vanished".into()))));
    let last = progress_rx.borrow().clone();
    (output, Some(last))
}

/// Persists a batch of messages in order: its metric rows in one transaction, then only the
/// newest of its checkpoints (an older one is superseded: every row before it is stored, and
/// resuming from the newest gives the same bits). A failed write is retried until it lands or
/// the run is asked to stop; a refused one (the job is no longer ours) stops the run.
async fn apply(shared: &Shared, job: &JobRow, flags: &StopFlags, batch: Vec<JobMessage>) {
    let mut rows = Vec::new();
    let mut newest_checkpoint = None;
    for message in batch {
        match message {
            JobMessage::Metrics { step, mut row } => {
                row["step"] = json!(step);
                rows.push((step as i64, row));
            }
            JobMessage::Checkpoint { step, state } => newest_checkpoint = Some((step, state)),
        }
    }
    let store = &shared.store;
    let rows_ref = &rows;
    let ours = retry(shared, flags, &job.id, "metrics", || {
        store.write_metrics_batch(&job.id, job.fence, rows_ref)
    })
    .await;
    if ours == Some(false) {
        flags.lease_lost.store(true, Ordering::Relaxed);
        return;
    }
    if ours == Some(true) {
        for (_, row) in rows {
            shared.hub.publish(&job.id, "metrics", row);
        }
    }
    if let Some((step, state)) = newest_checkpoint {
        let state = &state;
        let written = retry(shared, flags, &job.id, "checkpoint", || {
            store.write_checkpoint(&job.id, job.fence, step as i64, state)
        })
        .await;
        match written {
            Some(true) => tracing::debug!(job = %job.id, step, "checkpoint written"),
            Some(false) => {
                tracing::warn!(job = %job.id, "checkpoint refused: job no longer ours; stopping");
                flags.lease_lost.store(true, Ordering::Relaxed);
            }
            None => {}
        }
    }
}

/// Retries `write` every [`RETRY`] while it fails with a store error; gives up (`None`) once
/// the lease is lost or the runner shuts down, so a dead database cannot hold a shutdown.
async fn retry<T, F, Fut>(
    shared: &Shared,
    flags: &StopFlags,
    job: &str,
    what: &str,
    mut write: F,
) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::store::StoreResult<T>>,
{
    let mut logged = false;
    loop {
        match write().await {
            Ok(ours) => {
                if logged {
                    tracing::info!(job, what, "write succeeded after retries");
                }
                return Some(ours);
            }
            Err(e) => {
                if !logged {
                    tracing::error!(job, what, error = %e, "write failed; retrying");
                    logged = true;
                }
                if flags.lease_lost.load(Ordering::Relaxed) || shared.stopping.is_cancelled() {
                    return None;
                }
                tokio::time::sleep(RETRY).await;
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
    let (code, message, permanent) = match output {
        Ok(Ok(JobOutcome::Finished(result))) => {
            let progress = &final_progress(last_progress);
            let result = &result;
            let summary = &crate::jobs::run_summary::extract(&job.kind, result);
            return retry_end(shared, flags, id, || async move {
                // The run table's columns first, so a succeeded job is never listed without
                // them (they count only once the job succeeded); a job left without them is
                // filled in at the next start (`backfill_run_summaries`).
                if let Some(summary) = summary
                    && let Err(e) = store.put_run_summary(id, summary).await
                {
                    tracing::warn!(job = id, error = %e, "could not store the run summary");
                }
                let ok = store.complete_job(id, fence, result, progress).await?;
                Ok(ok.then_some(Status::Succeeded))
            })
            .await;
        }
        Ok(Ok(JobOutcome::Stopped)) => {
            let cancel = flags.cancel.load(Ordering::Relaxed);
            return retry_end(shared, flags, id, || async move {
                if cancel {
                    let ok = store.mark_cancelled(id, fence).await?;
                    Ok(ok.then_some(Status::Cancelled))
                } else {
                    let ok = store.requeue_interrupted(id, fence).await?;
                    Ok(ok.then_some(Status::Queued))
                }
            })
            .await;
        }
        Ok(Err(JobError::Invalid(message))) => ("invalid", message, true),
        Ok(Err(JobError::Internal(message))) => ("internal", message, false),
        Err(payload) => {
            let message = panic_message(&payload);
            tracing::error!(job = %id, panic = %message, "job panicked");
            ("panic", format!("the job panicked: {message}"), false)
        }
    };
    let message = &message;
    retry_end(shared, flags, id, || {
        store.fail_job(id, fence, code, message, permanent)
    })
    .await
}

/// Records the end with [`retry`]; `None` when the job was not ours or the write never landed
/// (then its lease expires and it resumes from its last checkpoint).
async fn retry_end<F, Fut>(shared: &Shared, flags: &StopFlags, id: &str, write: F) -> Option<Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::store::StoreResult<Option<Status>>>,
{
    retry(shared, flags, id, "end of job", write)
        .await
        .flatten()
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
