//! The SQLite backend: one file, one serving process (see `lock`), WAL, JSON as text.

mod checkpoints;
mod datasets;
mod jobs;
mod labels;
mod metrics;
mod run_table;
mod users;
mod workers;

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Failure, StoreOptions, StoreResult, now_ms};

/// A pool on one SQLite file.
#[derive(Clone)]
pub(super) struct Sqlite {
    pub pool: SqlitePool,
    keep_checkpoints: i64,
}

impl Sqlite {
    /// Opens (creating if missing) the database and runs `migrations/sqlite`. WAL,
    /// `synchronous=NORMAL`, a busy timeout and foreign keys are set on the connect options so
    /// that every pooled connection gets them.
    pub async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Sqlite> {
        let mut connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        if options.max_bytes > 0 {
            // SQLite's default page size is 4 KiB.
            connect = connect.pragma(
                "max_page_count",
                (options.max_bytes / 4096).max(16).to_string(),
            );
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Sqlite {
            pool,
            keep_checkpoints: options.keep_checkpoints.max(1),
        })
    }

    /// A write that readiness depends on: a database that reads but cannot write is not ready.
    pub async fn probe(&self) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO service_probe (id, at) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET at = excluded.at",
        )
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// SQLite primary result codes: FULL 13, IOERR 10, BUSY 5, LOCKED 6, CANTOPEN 14, READONLY 8
/// (extended codes keep the primary in the low byte).
pub(super) fn classify(code: &str) -> Failure {
    match code.parse::<i64>().unwrap_or(0) & 0xff {
        13 => Failure::Full,
        5 | 6 | 8 | 10 | 14 => Failure::Unavailable,
        _ => Failure::Other,
    }
}
