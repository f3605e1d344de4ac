//! The runner's entry in the workers table: registered at start, a heartbeat with the number
//! of jobs held every few seconds, marked stopped at a clean shutdown. `GET /v1/workers` reads it.

use std::time::Duration;

use super::Runner;
use crate::store::NewWorker;

/// How often a runner reports itself; a worker silent for three of these counts as gone.
pub const PRESENCE_INTERVAL: Duration = Duration::from_secs(5);

/// What a runner says about itself.
pub(super) fn describe(id: &str, name: Option<&str>, threads: usize, max_jobs: usize) -> NewWorker {
    let host = host_name();
    NewWorker {
        id: id.to_string(),
        name: name.map_or_else(|| host.clone(), str::to_string),
        host,
        pid: std::process::id() as i64,
        version: env!("CARGO_PKG_VERSION").to_string(),
        threads: threads as i64,
        max_jobs: max_jobs as i64,
    }
}

/// The machine's host name (Linux: the kernel's; elsewhere `$HOSTNAME`), else `unknown`.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Beats until the runner stops; failures are logged and retried at the next beat.
pub(super) async fn beat(runner: Runner) {
    let mut tick = tokio::time::interval(PRESENCE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = runner.stopped() => return,
            _ = tick.tick() => {}
        }
        let held = runner.running_count() as i64;
        let shared = &runner.shared;
        if let Err(e) = shared.store.worker_heartbeat(&shared.worker_id, held).await {
            tracing::warn!(error = %e, "worker heartbeat failed");
        }
    }
}
