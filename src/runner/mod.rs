//! Bridges tokio and rayon: claims queued jobs under a lease, runs each on the rayon pool under
//! an async supervisor, recovers expired leases, and shuts down by checkpointing and requeueing.

pub mod context;
pub mod hub;
mod lease;
mod presence;
mod relay;
mod supervisor;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::jobs::{JobContext, JobError, JobKind, JobOutcome, Limits};
use crate::observe::Observability;
use crate::store::{Store, now_ms};
pub use context::StopFlags;
pub use hub::{EventHub, JobEvent};
pub use presence::PRESENCE_INTERVAL;

/// Runs one job on the compute pool: `jobs::run` in production, a stand-in in runner tests.
pub type Executor = fn(
    JobKind,
    &serde_json::Value,
    &Limits,
    Option<serde_json::Value>,
    &dyn JobContext,
) -> Result<JobOutcome, JobError>;

/// Settings of the runner.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    pub max_jobs: usize,
    pub threads: usize,
    pub lease: Duration,
    /// How often progress is written to the database (SSE gets every update).
    pub progress_interval: Duration,
    pub limits: Limits,
    /// What runs a claimed job (`jobs::run`).
    pub executor: Executor,
    /// Running jobs per user unless the user has their own cap (`i64::MAX`: none).
    pub default_max_running: i64,
}

impl RunnerConfig {
    /// Jobs held at once: `max_jobs`, but never more than compute threads (0: this process
    /// runs no jobs; it still relays events and recovers expired leases).
    pub fn slots(&self) -> usize {
        self.max_jobs.min(self.threads.max(1))
    }
}

/// State shared by the claim loop and the supervisors.
pub(crate) struct Shared {
    pub store: Store,
    pub hub: Arc<EventHub>,
    pub pool: rayon::ThreadPool,
    pub config: RunnerConfig,
    /// Jobs this process holds: id → (fence, stop flags).
    pub running: Mutex<HashMap<String, (i64, Arc<StopFlags>)>>,
    pub worker_id: String,
    pub observe: Arc<Observability>,
    /// Cancelled when shutdown begins: writes that keep failing stop being retried.
    pub stopping: CancellationToken,
}

/// Handle to the running runner: wake it, cancel jobs, shut it down.
#[derive(Clone)]
pub struct Runner {
    shared: Arc<Shared>,
    wake: Arc<Notify>,
    stop_claiming: CancellationToken,
    slots: Arc<Semaphore>,
}

impl Runner {
    /// Builds the rayon pool, registers this process in the workers table (shown as `name`,
    /// default the host name) and starts the claim loop (unless it has no slots), the
    /// lease-recovery loop, the presence heartbeat and the relay of other processes' signals.
    pub async fn start(
        store: Store,
        hub: Arc<EventHub>,
        observe: Arc<Observability>,
        config: RunnerConfig,
        name: Option<&str>,
    ) -> std::io::Result<Runner> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.threads)
            .thread_name(|i| format!("fluxlab-compute-{i}"))
            .build()
            .map_err(std::io::Error::other)?;
        // A job that cannot get a compute thread would show `running` at step 0 and not hear its
        // cancel until a thread frees: never hold more jobs than there are threads.
        let slots = Arc::new(Semaphore::new(config.slots()));
        let stop_claiming = CancellationToken::new();
        let worker_id = uuid::Uuid::now_v7().to_string();
        let me = presence::describe(&worker_id, name, config.threads, config.slots());
        if let Err(e) = store.register_worker(&me).await {
            return Err(std::io::Error::other(format!(
                "registering this worker: {e}"
            )));
        }
        let shared = Arc::new(Shared {
            store,
            hub,
            pool,
            config,
            running: Mutex::new(HashMap::new()),
            worker_id,
            observe,
            stopping: stop_claiming.clone(),
        });
        let runner = Runner {
            shared,
            wake: Arc::new(Notify::new()),
            stop_claiming,
            slots,
        };
        if runner.shared.config.slots() > 0 {
            tokio::spawn(runner.clone().claim_loop());
        }
        tokio::spawn(runner.clone().recovery_loop());
        tokio::spawn(presence::beat(runner.clone()));
        let (store, hub) = (runner.shared.store.clone(), runner.shared.hub.clone());
        tokio::spawn(relay::relay(runner.clone(), store, hub));
        Ok(runner)
    }

    /// Resolves once shutdown has begun (no more claims).
    pub async fn stopped(&self) {
        self.stop_claiming.cancelled().await
    }

    /// This process's id in the workers table and in the jobs it holds.
    pub fn worker_id(&self) -> &str {
        &self.shared.worker_id
    }

    /// Tells the claim loop a job was queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Asks a job running in this process to stop and be cancelled (the store flag covers the rest).
    pub fn cancel(&self, job_id: &str) {
        if let Some((_, flags)) = self
            .shared
            .running
            .lock()
            .expect("running lock")
            .get(job_id)
        {
            flags.cancel.store(true, Ordering::Relaxed);
        }
    }

    /// Number of jobs running in this process.
    pub fn running_count(&self) -> usize {
        self.shared.running.lock().expect("running lock").len()
    }

    /// Graceful shutdown: stop claiming, ask running jobs to checkpoint, wait (up to `grace`)
    /// until their supervisors have put them back in the queue. Jobs still held when the grace
    /// period ends are put back in the queue here (fenced), so none is left `running`; they
    /// resume from their last checkpoint.
    pub async fn shutdown(&self, grace: Duration) {
        self.stop_claiming.cancel();
        for (_, flags) in self.shared.running.lock().expect("running lock").values() {
            flags.interrupt.store(true, Ordering::Relaxed);
        }
        let all = self.shared.config.slots() as u32;
        if tokio::time::timeout(grace, self.slots.acquire_many(all))
            .await
            .is_ok()
        {
            if all > 0 {
                tracing::info!("all running jobs checkpointed and requeued");
            }
            self.mark_stopped().await;
            return;
        }
        let held: Vec<(String, i64)> = self
            .shared
            .running
            .lock()
            .expect("running lock")
            .iter()
            .map(|(id, (fence, _))| (id.clone(), *fence))
            .collect();
        for (id, fence) in held {
            match self.shared.store.requeue_interrupted(&id, fence).await {
                Ok(_) => {
                    tracing::warn!(job = %id, "grace period over: requeued; it resumes from its last checkpoint")
                }
                Err(e) => {
                    tracing::error!(job = %id, error = %e, "grace period over and requeueing failed; the next start recovers it")
                }
            }
        }
        self.mark_stopped().await;
    }

    async fn mark_stopped(&self) {
        if let Err(e) = self
            .shared
            .store
            .worker_stopped(&self.shared.worker_id)
            .await
        {
            tracing::warn!(error = %e, "marking this worker stopped failed");
        }
    }

    async fn claim_loop(self) {
        loop {
            let permit = tokio::select! {
                _ = self.stop_claiming.cancelled() => return,
                p = self.slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            };
            let lease_until = now_ms() + self.shared.config.lease.as_millis() as i64;
            match self
                .shared
                .store
                .claim_job_fair(
                    &self.shared.worker_id,
                    lease_until,
                    self.shared.config.default_max_running,
                )
                .await
            {
                Ok(Some(job)) => {
                    if self.stop_claiming.is_cancelled() {
                        // Claimed in the same instant as shutdown: give it straight back.
                        let _ = self
                            .shared
                            .store
                            .requeue_interrupted(&job.id, job.fence)
                            .await;
                        return;
                    }
                    tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempts, "claimed");
                    tokio::spawn(supervisor::supervise(self.shared.clone(), job, permit));
                }
                Ok(None) => {
                    drop(permit);
                    tokio::select! {
                        _ = self.stop_claiming.cancelled() => return,
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
                Err(e) => {
                    drop(permit);
                    tracing::error!(error = %e, "claiming a job failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    async fn recovery_loop(self) {
        let period = (self.shared.config.lease / 2).max(Duration::from_millis(200));
        loop {
            tokio::select! {
                _ = self.stop_claiming.cancelled() => return,
                _ = tokio::time::sleep(period) => {}
            }
            let own = Some(self.shared.worker_id.as_str());
            match self.shared.store.recover_expired(false, own).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::warn!(jobs = n, "recovered jobs whose lease expired");
                    self.wake();
                }
                Err(e) => tracing::error!(error = %e, "lease recovery failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests;
