//! Job labels (tags, notes) and idempotency keys: what a submission adds to a job.

use super::JobRow;

/// What a submission adds to [`NewJob`]: validated tags and notes, and the idempotency key
/// with the digest of the body it came with.
#[derive(Debug, Default, Clone)]
pub struct JobLabels {
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub idempotency: Option<IdempotencyKey>,
}

#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    /// SHA-256 (hex) of the canonical request body.
    pub digest: String,
}

/// The outcome of a keyed insert.
#[derive(Debug)]
pub enum Inserted {
    Job(Box<JobRow>),
    /// Another job of this owner already holds the idempotency key (a concurrent submission).
    KeyTaken,
}

/// A job found by its idempotency key.
#[derive(Debug)]
pub struct KeyedJob {
    pub row: JobRow,
    pub digest: String,
}
