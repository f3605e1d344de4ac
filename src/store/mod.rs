//! Persistence in SQLite through sqlx: jobs, checkpoints, metric series and uploaded datasets. SQL lives here and
//! nowhere else; nothing here knows about HTTP.

mod checkpoints;
mod datasets;
mod jobs;
mod metrics;

pub use checkpoints::{CheckpointInfo, CheckpointRow};
pub use datasets::{DatasetDelete, DatasetRow, NewDataset};
pub use jobs::{JobFilter, JobRow, NewJob, Status};

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// Store errors: the database failed, or a fenced write found the job no longer ours.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored JSON is corrupt: {0}")]
    Json(#[from] serde_json::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

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
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    /// True when a trivial query succeeds (readiness).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests;
