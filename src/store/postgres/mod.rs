//! The PostgreSQL backend: a queue and store shared by an API process and any number of
//! workers. Claims lock with `FOR UPDATE SKIP LOCKED`; every state change that another process
//! may wait for sends a small `NOTIFY` (see `signals`) in the same statement, so it is delivered
//! exactly when the change commits. No transaction or connection is held for a job's run.

mod checkpoints;
mod datasets;
mod jobs;
mod labels;
mod metrics;
mod run_table;
mod users;
mod workers;

use std::str::FromStr;
use std::sync::Arc;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio_util::sync::CancellationToken;

use super::{Failure, StoreOptions, StoreResult, now_ms};

/// The NOTIFY channel of fluxlab's signals.
pub(super) const CHANNEL: &str = "fluxlab";

/// A pool on one PostgreSQL database.
#[derive(Clone)]
pub(super) struct Postgres {
    pub pool: PgPool,
    /// Connect options, for the dedicated LISTEN connection.
    pub connect: PgConnectOptions,
    /// Tells this process's own signals from other processes' (UUIDv7 per store).
    pub origin: Arc<str>,
    /// Cancelled by [`Postgres::close`]: the LISTEN task ends.
    pub closed: CancellationToken,
    keep_checkpoints: i64,
}

impl Postgres {
    /// Connects and runs `migrations/postgres` (sqlx serialises concurrent migrators with an
    /// advisory lock, so an API and workers may start together).
    pub async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Postgres> {
        let connect = PgConnectOptions::from_str(url)?.application_name("fluxlab");
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Postgres {
            pool,
            connect,
            origin: uuid::Uuid::now_v7().to_string().into(),
            closed: CancellationToken::new(),
            keep_checkpoints: options.keep_checkpoints.max(1),
        })
    }

    /// A write that readiness depends on.
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

    pub async fn close(&self) {
        self.closed.cancel();
        self.pool.close().await;
    }
}

/// SQL that sends one signal about the job of the current row: `kind` is a literal
/// (`'status'`, `'progress'`…); `$origin` the parameter holding this store's origin. Used in
/// `RETURNING` lists, so the signal goes out exactly when the change commits, once per row.
pub(super) fn notify(kind: &str, origin: &str, extra: &str) -> String {
    format!(
        "pg_notify('{CHANNEL}', json_build_object('o', {origin}::text, 'k', {kind}, 'j', id{extra})::text)"
    )
}

/// SQLSTATE classes: 53100 disk_full → full; connection exceptions (08), operator
/// intervention (57: shutdown, cannot connect now), insufficient resources (53), and
/// serialisation/deadlock retries (40) → unavailable.
pub(super) fn classify(code: &str) -> Failure {
    if code == "53100" {
        return Failure::Full;
    }
    match code.get(..2) {
        Some("08" | "57" | "53" | "40") => Failure::Unavailable,
        _ => Failure::Other,
    }
}
