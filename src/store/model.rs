//! The rows and values the store reads and writes, shared by both backends.

use serde_json::Value;

/// Lifecycle states of a job (API.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Queued,
        Status::Running,
        Status::Succeeded,
        Status::Failed,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Finished states: the job will not run again unless resumed.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Succeeded | Status::Failed | Status::Cancelled)
    }
}

/// One row of the jobs table.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub owner: String,
    pub kind: String,
    pub name: Option<String>,
    pub status: String,
    pub priority: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub fence: i64,
    pub spec: String,
    pub progress: Option<String>,
    pub result: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub cancel_requested: i64,
    pub lease_until: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// JSON array of the job's tags.
    pub tags: String,
    pub notes: Option<String>,
}

impl JobRow {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Failed)
    }
}

/// What a submission stores.
pub struct NewJob {
    pub id: String,
    pub owner: String,
    pub kind: String,
    pub name: Option<String>,
    pub priority: i64,
    pub max_attempts: i64,
    pub spec: Value,
}

/// Listing filters and keyset paging (ids are UUIDv7, so id order is creation order).
#[derive(Debug, Default, Clone)]
pub struct JobFilter {
    pub owner: Option<String>,
    pub status: Option<Status>,
    pub kind: Option<String>,
    /// Exact name.
    pub name: Option<String>,
    /// Jobs carrying this tag.
    pub tag: Option<String>,
    pub before_id: Option<String>,
    pub limit: i64,
}

/// Listing entry of a checkpoint.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CheckpointInfo {
    pub seq: i64,
    pub step: i64,
    pub created_at: i64,
    pub bytes: i64,
}

/// A full checkpoint document.
#[derive(Debug, Clone)]
pub struct CheckpointRow {
    pub seq: i64,
    pub step: i64,
    pub created_at: i64,
    pub data: Value,
}

/// What an upload stores.
#[derive(Debug, Clone)]
pub struct NewDataset {
    pub id: String,
    pub owner: String,
    pub name: String,
    pub count: i64,
    pub features: i64,
    pub classes: i64,
    /// Per-sample dimensions, e.g. `[28, 28]`.
    pub shape: Vec<i64>,
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

/// A stored dataset without its files.
#[derive(Debug, Clone)]
pub struct DatasetRow {
    pub id: String,
    pub owner: String,
    pub name: String,
    pub count: i64,
    pub features: i64,
    pub classes: i64,
    pub shape: Vec<i64>,
    pub bytes: i64,
    pub created_at: i64,
}

/// The outcome of a delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetDelete {
    Deleted,
    NotFound,
    /// Queued or running jobs train on it (their ids).
    InUse(Vec<String>),
}

/// One user with their quota overrides (`None`: the server-wide default applies).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub name: String,
    pub admin: i64,
    pub max_running: Option<i64>,
    pub max_queued: Option<i64>,
    pub max_dataset_bytes: Option<i64>,
    pub created_at: i64,
}

/// A token as listed (never the secret; not even the digest leaves the store).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub user_name: String,
    pub label: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// The user a live token belongs to.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub token_id: String,
    pub user: UserRow,
    pub digest: String,
    pub last_used_at: Option<i64>,
}

/// Quota overrides to set (`Some(None)` clears one back to the default).
#[derive(Debug, Clone, Default)]
pub struct QuotaChange {
    pub max_running: Option<Option<i64>>,
    pub max_queued: Option<Option<i64>>,
    pub max_dataset_bytes: Option<Option<i64>>,
}

/// A user's current use, for quotas, fair scheduling and `/v1/users/me`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub running: i64,
    pub queued: i64,
    pub dataset_bytes: i64,
    /// Wall time the user's jobs held a compute slot (finished runs), in milliseconds.
    pub slot_ms: i64,
}

/// One audit record.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub remote: Option<String>,
}

/// A runner process as it registers: the API server's own runner or a `fluxlab worker`.
#[derive(Debug, Clone)]
pub struct NewWorker {
    /// Unique per process run (UUIDv7); jobs' `worker` column names it.
    pub id: String,
    /// Human name (`--name`, else the host name).
    pub name: String,
    pub host: String,
    pub pid: i64,
    pub version: String,
    pub threads: i64,
    pub max_jobs: i64,
}

/// A registered worker with its last heartbeat.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkerRow {
    pub id: String,
    pub name: String,
    pub host: String,
    pub pid: i64,
    pub version: String,
    pub threads: i64,
    pub max_jobs: i64,
    pub started_at: i64,
    pub heartbeat_at: i64,
    pub stopped_at: Option<i64>,
    pub jobs_held: i64,
}
