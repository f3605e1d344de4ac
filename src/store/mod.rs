//! Persistence in SQLite through sqlx: jobs, checkpoints, metric series and uploaded datasets. SQL lives here and
//! nowhere else; nothing here knows about HTTP.

mod checkpoints;
mod datasets;
mod jobs;
mod labels;
mod lock;
mod metrics;
mod users;

pub use checkpoints::{CheckpointInfo, CheckpointRow};
pub use datasets::{DatasetDelete, DatasetRow, NewDataset};
pub use jobs::{JobFilter, JobRow, NewJob, Status};
pub use labels::{IdempotencyKey, Inserted, JobLabels, KeyedJob};
pub use lock::{DatabaseLock, LockError, lock_database, sqlite_path};
pub use users::{AuditRow, QuotaChange, TokenOwner, TokenRow, Usage, UserRow};

use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// Store errors: the database failed, or a fenced write found the job no longer ours.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored JSON is corrupt: {0}")]
    Json(#[from] serde_json::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// When the database last refused a write for lack of space (unix ms; 0: never). Process-wide:
/// one server process has one database.
static LAST_FULL_MS: AtomicI64 = AtomicI64::new(0);
/// How long after a "disk full" the server reports itself not ready.
const FULL_MEMORY_MS: i64 = 10_000;

/// What kind of failure a store error is, for the answer the API gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No space left (disk full, or the `--max-database-bytes` cap): 507.
    Full,
    /// The database cannot be reached or written right now (I/O error, locked, pool
    /// exhausted, closed): 503.
    Unavailable,
    /// Anything else: a server fault.
    Other,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let e = StoreError::Database(e);
        if e.failure() == Failure::Full {
            LAST_FULL_MS.store(now_ms(), Ordering::Relaxed);
        }
        e
    }
}

impl StoreError {
    pub fn failure(&self) -> Failure {
        let StoreError::Database(e) = self else {
            return Failure::Other;
        };
        match e {
            sqlx::Error::Database(db) => {
                // SQLite primary result codes: FULL 13, IOERR 10, BUSY 5, LOCKED 6,
                // CANTOPEN 14, READONLY 8 (extended codes keep the primary in the low byte).
                let code = db.code().and_then(|c| c.parse::<i64>().ok()).unwrap_or(0) & 0xff;
                match code {
                    13 => Failure::Full,
                    5 | 6 | 8 | 10 | 14 => Failure::Unavailable,
                    _ => Failure::Other,
                }
            }
            sqlx::Error::Io(io) if io.raw_os_error() == Some(28) => Failure::Full,
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Failure::Unavailable,
            _ => Failure::Other,
        }
    }
}

/// True when a write was refused for lack of space in the last few seconds.
pub fn recently_full() -> bool {
    let last = LAST_FULL_MS.load(Ordering::Relaxed);
    last != 0 && now_ms() - last < FULL_MEMORY_MS
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// Current time in unix milliseconds (the only clock the store uses).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Store {
    /// Opens (creating if missing) the database at `url` and runs the embedded migrations.
    /// WAL, `synchronous=NORMAL`, a busy timeout and foreign keys are set on the connect
    /// options so that every pooled connection gets them.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        Self::connect_capped(url, 0).await
    }

    /// As [`Store::connect`], with the database capped at `max_bytes` (0: no cap): writes
    /// beyond it fail as on a full disk.
    pub async fn connect_capped(url: &str, max_bytes: u64) -> StoreResult<Store> {
        let mut options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        if max_bytes > 0 {
            // SQLite's default page size is 4 KiB.
            options = options.pragma("max_page_count", (max_bytes / 4096).max(16).to_string());
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    /// True when the database answers a read and takes a write, and no write was refused for
    /// lack of space in the last seconds (readiness).
    pub async fn ping(&self) -> bool {
        if recently_full() {
            return false;
        }
        let write = sqlx::query(
            "INSERT INTO service_probe (id, at) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET at = excluded.at",
        )
        .bind(now_ms())
        .execute(&self.pool)
        .await;
        write.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests;
