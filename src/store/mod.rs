//! Persistence: jobs, checkpoints, metric series, datasets, users and workers, in SQLite (the
//! embedded default, one process) or PostgreSQL (a shared queue for an API process and any number
//! of workers). SQL lives here and nowhere else; nothing here knows about HTTP, and nothing above
//! this module knows which backend runs: [`Store`] has one interface and two implementations,
//! each with its own SQL and migrations.

mod delegate;
mod labels;
mod lock;
mod model;
mod postgres;
mod run_table;
mod signals;
mod sqlite;

pub use labels::{IdempotencyKey, Inserted, JobLabels, KeyedJob};
pub use lock::{DatabaseLock, LockError, lock_database, sqlite_path};
pub use model::*;
pub use run_table::{RunRow, RunSummary, RunTableQuery, SortKey};
pub use signals::Signal;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::broadcast;

/// Store errors: the database failed, or a fenced write found the job no longer ours.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored JSON is corrupt: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "unsupported database URL `{0}`: use sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB"
    )]
    UnsupportedUrl(String),
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
    /// No space left (disk full, the `--max-database-bytes` cap, PostgreSQL's `disk_full`): 507.
    Full,
    /// The database cannot be reached or written right now (I/O error, locked, pool
    /// exhausted, closed, PostgreSQL down or restarting): 503.
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
                if db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some()
                {
                    postgres::classify(db.code().as_deref().unwrap_or(""))
                } else {
                    sqlite::classify(db.code().as_deref().unwrap_or(""))
                }
            }
            sqlx::Error::Io(io) if io.raw_os_error() == Some(28) => Failure::Full,
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
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

/// Current time in unix milliseconds (the only clock the store uses).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Pooled connections at most (PostgreSQL's default server limit is 100 for everyone; the
    /// LISTEN connection of a process comes on top).
    pub max_connections: u32,
    /// Largest SQLite database in bytes (0: no cap); writes beyond it fail as on a full disk.
    /// PostgreSQL has no such cap (its `disk_full` is reported the same way).
    pub max_bytes: u64,
    /// Checkpoints kept per job; older ones are pruned when a new one is written.
    pub keep_checkpoints: i64,
    /// How long a query waits for a pooled connection before the database counts as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            max_bytes: 0,
            keep_checkpoints: 3,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// The backend behind a [`Store`].
#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::Sqlite),
    /// Boxed: its connect options are large.
    Postgres(Box<postgres::Postgres>),
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Cross-process signals ([`Store::signals`]); empty for SQLite, where one process does all.
    signals: broadcast::Sender<Signal>,
    /// Started once per store, on the first [`Store::signals`] call.
    listening: Arc<std::sync::Once>,
}

/// True when `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Store {
    /// Opens the database at `url` (`sqlite://…` creating the file if missing, or
    /// `postgres://…`) with default options and runs its migrations.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        Self::connect_with(url, &StoreOptions::default()).await
    }

    /// As [`Store::connect`], with the database capped at `max_bytes` (0: no cap).
    pub async fn connect_capped(url: &str, max_bytes: u64) -> StoreResult<Store> {
        let options = StoreOptions {
            max_bytes,
            ..StoreOptions::default()
        };
        Self::connect_with(url, &options).await
    }

    /// Opens the database at `url` with `options` and runs the backend's migrations.
    pub async fn connect_with(url: &str, options: &StoreOptions) -> StoreResult<Store> {
        let backend = if is_postgres_url(url) {
            Backend::Postgres(Box::new(postgres::Postgres::connect(url, options).await?))
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite(sqlite::Sqlite::connect(url, options).await?)
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        Ok(Store {
            backend,
            signals: broadcast::channel(signals::CAPACITY).0,
            listening: Arc::new(std::sync::Once::new()),
        })
    }

    /// True when several processes may share this database (PostgreSQL), so that jobs another
    /// process holds must be left to their leases.
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Signals from other processes on the same database: a job was queued, a cancel was asked
    /// for, a job made progress. The first call starts listening (PostgreSQL: one dedicated
    /// LISTEN connection, reconnected with back-off); SQLite never sends any, since one process
    /// runs everything. Signals are hints: whoever misses one finds the state in the tables.
    pub fn signals(&self) -> broadcast::Receiver<Signal> {
        let receiver = self.signals.subscribe();
        if let Backend::Postgres(pg) = &self.backend {
            self.listening.call_once(|| {
                tokio::spawn(signals::listen((**pg).clone(), self.signals.clone()));
            });
        }
        receiver
    }

    /// Jobs left `running` when this process starts. SQLite (one process per file, under the
    /// lock) requeues them all: whoever ran them is gone. PostgreSQL leaves them to their
    /// leases, since other processes may be running them now. Returns how many changed.
    pub async fn recover_at_start(&self) -> StoreResult<u64> {
        match &self.backend {
            Backend::Sqlite(db) => db.recover_expired(true, None).await,
            Backend::Postgres(db) => db.recover_expired(false, None).await,
        }
    }

    /// Claims the most urgent queued job (see [`Store::claim_job_fair`]) with no running cap.
    pub async fn claim_job(&self, worker: &str, lease_until: i64) -> StoreResult<Option<JobRow>> {
        self.claim_job_fair(worker, lease_until, i64::MAX).await
    }

    /// True when the database answers a read and takes a write, and no write was refused for
    /// lack of space in the last seconds (readiness).
    pub async fn ping(&self) -> bool {
        if recently_full() {
            return false;
        }
        match &self.backend {
            Backend::Sqlite(db) => db.probe().await.is_ok(),
            Backend::Postgres(db) => db.probe().await.is_ok(),
        }
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(db) => db.pool.close().await,
            Backend::Postgres(db) => db.close().await,
        }
    }
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((credentials, host)) => {
                let user = credentials.split(':').next().unwrap_or("");
                format!("{scheme}://{user}:***@{host}")
            }
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests;
