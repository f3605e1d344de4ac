//! Acts on signals from other processes sharing the database: a queued job wakes the claim
//! loop, a cancel reaches the job running here, and the progress, metrics and status of a job
//! running elsewhere are read from the tables and published to this process's event hub, so
//! that an event stream or `?wait=` served here cannot tell a remote job from a local one.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::{EventHub, Runner};
use crate::store::{Signal, Status, Store};

/// Most metric rows relayed for one signal (a batch is at most a few hundred).
const MAX_RELAYED_ROWS: i64 = 1024;

/// Runs until the runner stops claiming; a lagging receiver re-syncs (wakes the claim loop).
pub(super) async fn relay(runner: Runner, store: Store, hub: Arc<EventHub>) {
    let mut signals = store.signals();
    loop {
        let signal = tokio::select! {
            _ = runner.stopped() => return,
            received = signals.recv() => match received {
                Ok(signal) => signal,
                Err(RecvError::Lagged(_)) => Signal::Resync,
                Err(RecvError::Closed) => return,
            },
        };
        handle(&runner, &store, &hub, signal).await;
    }
}

async fn handle(runner: &Runner, store: &Store, hub: &EventHub, signal: Signal) {
    match signal {
        Signal::Queued | Signal::Resync => runner.wake(),
        Signal::Cancel { job } => runner.cancel(&job),
        Signal::Progress { job } => {
            if !hub.is_watched(&job) {
                return;
            }
            if let Ok(Some(row)) = store.get_job_summary(&job).await
                && let Some(progress) = row.progress.as_deref()
                && let Ok(progress) = serde_json::from_str(progress)
            {
                hub.publish(&job, "progress", progress);
            }
        }
        Signal::Metrics { job, first, last } => {
            if !hub.is_watched(&job) {
                return;
            }
            let last = last.min(first.saturating_add(MAX_RELAYED_ROWS));
            if let Ok(rows) = store.metrics_range(&job, first, last).await {
                for (_, row) in rows {
                    hub.publish(&job, "metrics", row);
                }
            }
        }
        Signal::Status { job, status } => {
            let data = json!({ "status": status });
            hub.publish(&job, "status", data.clone());
            if Status::parse(&status).is_some_and(Status::is_terminal) {
                hub.finish(&job, data);
            }
        }
    }
}
