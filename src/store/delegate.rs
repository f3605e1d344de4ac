//! The store's interface: each method runs the same-named method of the backend in use. The
//! semantics (fencing, leases, fairness) are documented here; each backend's SQL implements them.

use serde_json::Value;

use super::labels::{Inserted, JobLabels, KeyedJob};
use super::model::*;
use super::run_table::{RunRow, RunSummary, RunTableQuery};
use super::{Backend, Store, StoreResult};

/// Defines `Store` methods that forward to the backend's method of the same name and arguments.
macro_rules! delegate {
    ($( $(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty; )*) => {
        impl Store {
            $(
                $(#[$doc])*
                pub async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    match &self.backend {
                        Backend::Sqlite(db) => db.$name($($arg),*).await,
                        Backend::Postgres(db) => db.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

delegate! {
    // --- jobs ---
    /// Stores a queued job and returns it (PostgreSQL: wakes idle workers everywhere).
    fn insert_job(&self, job: &NewJob) -> StoreResult<JobRow>;
    fn get_job(&self, id: &str) -> StoreResult<Option<JobRow>>;
    /// A job without its spec and result (`spec` empty): for status polls and listings.
    fn get_job_summary(&self, id: &str) -> StoreResult<Option<JobRow>>;
    /// The stored spec of a job.
    fn job_spec(&self, id: &str) -> StoreResult<Option<String>>;
    /// Size in bytes of a job's stored spec (for paging under a byte budget).
    fn spec_bytes(&self, id: &str) -> StoreResult<i64>;
    /// Newest first, `limit + 1` summaries (no spec, no result) so the caller can tell whether
    /// another page exists.
    fn list_jobs(&self, filter: &JobFilter) -> StoreResult<Vec<JobRow>>;
    /// Claims one queued job in one statement: raises its attempt and fence numbers and gives
    /// it a lease until `lease_until`. Fair across users: a priority an admin set wins; then
    /// the owner holding the fewest running jobs, then the one whose jobs held slots least in
    /// the last 24 hours; within one owner, priority then age. Owners at their running cap
    /// (their `max_running`, else `default_max_running`) are skipped.
    fn claim_job_fair(&self, worker: &str, lease_until: i64, default_max_running: i64) -> StoreResult<Option<JobRow>>;
    /// Extends the lease if the job is still ours (same fence, still running). Returns
    /// `Some(cancel_requested)` while we hold it, `None` once it was lost.
    fn heartbeat(&self, id: &str, fence: i64, lease_until: i64) -> StoreResult<Option<bool>>;
    /// Records the latest progress document (fenced).
    fn set_progress(&self, id: &str, fence: i64, progress: &Value) -> StoreResult<bool>;
    /// Marks a running job succeeded with its result (fenced).
    fn complete_job(&self, id: &str, fence: i64, result: &Value, progress: &Value) -> StoreResult<bool>;
    /// A running job failed: back to the queue while attempts remain (unless `permanent`),
    /// else `failed` with this error (fenced). Returns the new status if the job was ours.
    fn fail_job(&self, id: &str, fence: i64, code: &str, message: &str, permanent: bool) -> StoreResult<Option<Status>>;
    /// A running job stopped because it was asked to: `cancelled` (fenced).
    fn mark_cancelled(&self, id: &str, fence: i64) -> StoreResult<bool>;
    /// A running job was interrupted by a graceful shutdown: back to the queue without using up
    /// an attempt (the fence still rose, so the old run stays fenced out).
    fn requeue_interrupted(&self, id: &str, fence: i64) -> StoreResult<bool>;
    /// Running jobs whose lease ran out (with `all`: every running job) go back to the queue,
    /// or fail when they have used all their attempts; one whose cancel was asked for is
    /// cancelled. Jobs held by `except_worker` are left alone. Returns how many rows changed.
    fn recover_expired(&self, all: bool, except_worker: Option<&str>) -> StoreResult<u64>;
    /// `Some(cancel_requested)` while the job is still running under `fence`, `None` once not.
    fn cancel_requested(&self, id: &str, fence: i64) -> StoreResult<Option<bool>>;
    /// Cancels a queued job at once; flags a running one (PostgreSQL: tells its worker at
    /// once). Returns the row after the change, `None` when the job does not exist.
    fn request_cancel(&self, id: &str) -> StoreResult<Option<JobRow>>;
    /// Puts a cancelled or failed job back in the queue with fresh attempts.
    fn resume_job(&self, id: &str) -> StoreResult<bool>;
    /// Deletes a finished job with its checkpoints and metrics.
    fn delete_job(&self, id: &str) -> StoreResult<bool>;
    /// Number of jobs in each status (for /metrics).
    fn count_by_status(&self) -> StoreResult<Vec<(String, i64)>>;

    // --- checkpoints and metrics ---
    /// Stores a checkpoint if the job is still running under `fence` and prunes all but the
    /// newest few; returns whether it did.
    fn write_checkpoint(&self, job_id: &str, fence: i64, step: i64, data: &Value) -> StoreResult<bool>;
    fn list_checkpoints(&self, job_id: &str) -> StoreResult<Vec<CheckpointInfo>>;
    fn latest_checkpoint(&self, job_id: &str) -> StoreResult<Option<CheckpointRow>>;
    /// Upserts the row for `step` (fenced). Returns whether the job was still ours.
    fn write_metrics(&self, job_id: &str, fence: i64, step: i64, row: &Value) -> StoreResult<bool>;
    /// Upserts several rows in one transaction, after one fence check.
    fn write_metrics_batch(&self, job_id: &str, fence: i64, rows: &[(i64, Value)]) -> StoreResult<bool>;
    /// The whole series in step order.
    fn metrics_series(&self, job_id: &str) -> StoreResult<Vec<(i64, Value)>>;
    /// The rows with `first <= step <= last`, in step order.
    fn metrics_range(&self, job_id: &str, first: i64, last: i64) -> StoreResult<Vec<(i64, Value)>>;

    // --- datasets ---
    fn insert_dataset(&self, d: &NewDataset) -> StoreResult<DatasetRow>;
    fn get_dataset(&self, id: &str) -> StoreResult<Option<DatasetRow>>;
    /// Newest first.
    fn list_datasets(&self) -> StoreResult<Vec<DatasetRow>>;
    /// The name and the two stored files of a dataset.
    fn dataset_files(&self, id: &str) -> StoreResult<Option<(String, Vec<u8>, Vec<u8>)>>;
    /// Deletes a dataset unless a queued or running job names it.
    fn delete_dataset(&self, id: &str) -> StoreResult<DatasetDelete>;

    // --- users, tokens, accounting, audit ---
    /// True when at least one user exists (the server then requires tokens).
    fn has_users(&self) -> StoreResult<bool>;
    /// Adds a user; `false` when the name is taken.
    fn add_user(&self, name: &str, admin: bool) -> StoreResult<bool>;
    fn get_user(&self, name: &str) -> StoreResult<Option<UserRow>>;
    fn list_users(&self) -> StoreResult<Vec<UserRow>>;
    /// Removes a user and their tokens (their jobs and datasets stay, visible to admins).
    fn remove_user(&self, name: &str) -> StoreResult<bool>;
    /// Sets quota overrides; `false` when there is no such user.
    fn set_quotas(&self, name: &str, change: &QuotaChange) -> StoreResult<bool>;
    /// Stores a token's digest for `user`.
    fn add_token(&self, id: &str, user: &str, label: Option<&str>, digest: &str, expires_at: Option<i64>) -> StoreResult<()>;
    /// The user of a live (not revoked, not expired) token with this digest.
    fn token_owner(&self, digest: &str) -> StoreResult<Option<TokenOwner>>;
    fn touch_token(&self, id: &str) -> StoreResult<()>;
    /// Tokens of `user` (all users' with `None`), newest first.
    fn list_tokens(&self, user: Option<&str>) -> StoreResult<Vec<TokenRow>>;
    fn get_token(&self, id: &str) -> StoreResult<Option<TokenRow>>;
    /// Revokes a token; `false` when there is no such live token.
    fn revoke_token(&self, id: &str) -> StoreResult<bool>;
    /// What `owner` uses now.
    fn usage(&self, owner: &str) -> StoreResult<Usage>;
    /// Running, queued and slot time per owner (for `/metrics`).
    fn usage_by_owner(&self) -> StoreResult<Vec<(String, Usage)>>;
    /// Adds a finished run's slot time to its job.
    fn add_slot_time(&self, id: &str, ms: i64) -> StoreResult<()>;
    /// Records who did what (never a secret).
    fn audit(&self, actor: &str, action: &str, target: Option<&str>, remote: Option<&str>) -> StoreResult<()>;
    /// The newest `limit` audit records.
    fn audit_log(&self, limit: i64) -> StoreResult<Vec<AuditRow>>;

    // --- labels and idempotency keys ---
    /// Inserts a job with its labels (tags, notes, idempotency key) in one transaction;
    /// `KeyTaken` when another job of the owner holds the key (a concurrent submission).
    fn insert_job_labelled(&self, job: &NewJob, labels: &JobLabels) -> StoreResult<Inserted>;
    /// The job of `owner` holding idempotency key `key`, with the digest of its request.
    fn job_by_idempotency_key(&self, owner: &str, key: &str) -> StoreResult<Option<KeyedJob>>;
    /// Frees `owner`'s key if its job was created before `before_ms` (keys hold 24 hours).
    fn expire_idempotency_key(&self, owner: &str, key: &str, before_ms: i64) -> StoreResult<bool>;
    /// Replaces a job's tags (when given) and notes (when given; `Some(None)` clears them).
    fn set_job_labels(&self, id: &str, tags: Option<&[String]>, notes: Option<Option<&str>>) -> StoreResult<Option<JobRow>>;

    // --- the run table ---
    /// Records the key results of a job (replacing any earlier ones).
    fn put_run_summary(&self, job_id: &str, s: &RunSummary) -> StoreResult<()>;
    /// Succeeded jobs without key results, oldest first: `(id, kind, result)`, at most `limit`.
    fn jobs_missing_summary(&self, limit: i64) -> StoreResult<Vec<(String, String, String)>>;
    /// One page of the run table (`limit + 1` rows) and how many jobs match the filters. Rows
    /// with no value in the sort column come last in either direction; ties go newest first.
    fn list_run_table(&self, q: &RunTableQuery) -> StoreResult<(Vec<RunRow>, i64)>;

    // --- workers ---
    /// Registers (or re-registers) a runner process.
    fn register_worker(&self, worker: &NewWorker) -> StoreResult<()>;
    /// A worker's heartbeat with the number of jobs it holds.
    fn worker_heartbeat(&self, id: &str, jobs_held: i64) -> StoreResult<()>;
    /// A worker stopped cleanly.
    fn worker_stopped(&self, id: &str) -> StoreResult<()>;
    /// Workers seen since `since_ms` (heartbeat), newest first; older rows are forgotten.
    fn list_workers(&self, since_ms: i64) -> StoreResult<Vec<WorkerRow>>;
}
