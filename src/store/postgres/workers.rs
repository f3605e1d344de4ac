//! The workers table on PostgreSQL: every API process and `fluxlab worker` registers and beats here.

use super::Postgres;
use crate::store::model::*;
use crate::store::{StoreResult, now_ms};

const COLUMNS: &str = "id, name, host, pid, version, threads, max_jobs, started_at, heartbeat_at, \
     stopped_at, jobs_held";

/// Rows of workers gone for longer than this are deleted when the list is read.
const FORGET_AFTER_MS: i64 = 7 * 24 * 3600 * 1000;

impl Postgres {
    pub async fn register_worker(&self, w: &NewWorker) -> StoreResult<()> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO workers (id, name, host, pid, version, threads, max_jobs, started_at, \
             heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, stopped_at = NULL",
        )
        .bind(&w.id)
        .bind(&w.name)
        .bind(&w.host)
        .bind(w.pid)
        .bind(&w.version)
        .bind(w.threads)
        .bind(w.max_jobs)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn worker_heartbeat(&self, id: &str, jobs_held: i64) -> StoreResult<()> {
        sqlx::query("UPDATE workers SET heartbeat_at = $1, jobs_held = $2 WHERE id = $3")
            .bind(now_ms())
            .bind(jobs_held)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn worker_stopped(&self, id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE workers SET stopped_at = $1, jobs_held = 0 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn list_workers(&self, since_ms: i64) -> StoreResult<Vec<WorkerRow>> {
        sqlx::query("DELETE FROM workers WHERE heartbeat_at < $1")
            .bind(now_ms() - FORGET_AFTER_MS)
            .execute(&self.pool)
            .await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM workers WHERE heartbeat_at >= $1 ORDER BY started_at DESC, id"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(since_ms)
            .fetch_all(&self.pool)
            .await?)
    }
}
