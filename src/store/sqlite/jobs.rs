//! The jobs table: submission, listing, the claim / lease / fence protocol, and state changes.

use serde_json::Value;
use sqlx::Row;

use super::Sqlite;
use crate::store::model::*;
use crate::store::{StoreResult, now_ms};

/// The columns of a job without its spec and result (which can be megabytes each): `spec` is
/// empty and `result` null in rows read with these.
const SUMMARY_COLUMNS: &str = "id, owner, kind, name, status, priority, attempts, max_attempts, \
     fence, '' AS spec, progress, NULL AS result, error_code, error_message, cancel_requested, \
     lease_until, created_at, started_at, finished_at, tags, notes";

pub(super) const JOB_COLUMNS: &str = "id, owner, kind, name, status, priority, attempts, max_attempts, fence, \
     spec, progress, result, error_code, error_message, cancel_requested, lease_until, created_at, \
     started_at, finished_at, tags, notes";

impl Sqlite {
    pub async fn insert_job(&self, job: &NewJob) -> StoreResult<JobRow> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO jobs (id, owner, kind, name, status, priority, max_attempts, spec, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $8)",
        )
        .bind(&job.id)
        .bind(&job.owner)
        .bind(&job.kind)
        .bind(&job.name)
        .bind(job.priority)
        .bind(job.max_attempts)
        .bind(job.spec.to_string())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(self.get_job(&job.id).await?.expect("job just inserted"))
    }

    pub async fn get_job(&self, id: &str) -> StoreResult<Option<JobRow>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A job without its spec and result (`spec` empty): for status polls and listings.
    pub async fn get_job_summary(&self, id: &str) -> StoreResult<Option<JobRow>> {
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM jobs WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The stored spec of a job and its size in bytes.
    pub async fn job_spec(&self, id: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT spec FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// Size in bytes of a job's stored spec (for paging under a byte budget).
    pub async fn spec_bytes(&self, id: &str) -> StoreResult<i64> {
        let row = sqlx::query("SELECT LENGTH(CAST(spec AS BLOB)) FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map_or(0, |r| r.get::<i64, _>(0)))
    }

    /// Newest first, `limit + 1` summaries (no spec, no result) so the caller can tell whether
    /// another page exists.
    pub async fn list_jobs(&self, filter: &JobFilter) -> StoreResult<Vec<JobRow>> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM jobs WHERE ($1 IS NULL OR owner = $1) \
             AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR kind = $3) \
             AND ($4 IS NULL OR id < $4) AND ($6 IS NULL OR name = $6) \
             AND ($7 IS NULL OR EXISTS (SELECT 1 FROM job_tags t WHERE t.job_id = jobs.id \
               AND t.tag = $7)) ORDER BY id DESC LIMIT $5"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&filter.owner)
            .bind(filter.status.map(Status::as_str))
            .bind(&filter.kind)
            .bind(&filter.before_id)
            .bind(filter.limit + 1)
            .bind(&filter.name)
            .bind(&filter.tag)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Claims one queued job in one statement: raises its attempt and fence numbers and gives
    /// it a lease until `lease_until`. Fair across users: a priority an admin set wins; then
    /// the owner holding the fewest running jobs, then the one whose jobs held slots least in
    /// the last 24 hours; within one owner, priority then age. Owners at their running cap
    /// (their `max_running`, else `default_max_running`) are skipped.
    pub async fn claim_job_fair(
        &self,
        worker: &str,
        lease_until: i64,
        default_max_running: i64,
    ) -> StoreResult<Option<JobRow>> {
        let now = now_ms();
        let sql = format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, fence = fence + 1, \
             lease_until = $1, worker = $2, started_at = COALESCE(started_at, $3), updated_at = $3 \
             WHERE id = ( \
               SELECT j.id FROM jobs j \
               LEFT JOIN users u ON u.name = j.owner \
               LEFT JOIN (SELECT owner, COUNT(*) AS n FROM jobs WHERE status = 'running' \
                          GROUP BY owner) r ON r.owner = j.owner \
               LEFT JOIN (SELECT owner, SUM(slot_ms) AS used FROM jobs WHERE finished_at > $4 \
                          GROUP BY owner) c ON c.owner = j.owner \
               WHERE j.status = 'queued' AND COALESCE(r.n, 0) < COALESCE(u.max_running, $5) \
               ORDER BY CASE WHEN u.admin = 1 THEN j.priority ELSE 0 END DESC, \
                        COALESCE(r.n, 0), COALESCE(c.used, 0), j.priority DESC, j.created_at, j.id \
               LIMIT 1) \
             AND status = 'queued' RETURNING {JOB_COLUMNS}"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(lease_until)
            .bind(worker)
            .bind(now)
            .bind(now - 24 * 3600 * 1000)
            .bind(default_max_running)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Extends the lease if the job is still ours (same fence, still running). Returns
    /// `Some(cancel_requested)` while we hold it, `None` once it was lost.
    pub async fn heartbeat(
        &self,
        id: &str,
        fence: i64,
        lease_until: i64,
    ) -> StoreResult<Option<bool>> {
        let row = sqlx::query(
            "UPDATE jobs SET lease_until = $1, updated_at = $2 \
             WHERE id = $3 AND fence = $4 AND status = 'running' RETURNING cancel_requested",
        )
        .bind(lease_until)
        .bind(now_ms())
        .bind(id)
        .bind(fence)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.get::<i64, _>(0) != 0))
    }

    /// Records the latest progress document (fenced).
    pub async fn set_progress(&self, id: &str, fence: i64, progress: &Value) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET progress = $1 WHERE id = $2 AND fence = $3 AND status = 'running'",
        )
        .bind(progress.to_string())
        .bind(id)
        .bind(fence)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a running job succeeded with its result (fenced).
    pub async fn complete_job(
        &self,
        id: &str,
        fence: i64,
        result: &Value,
        progress: &Value,
    ) -> StoreResult<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE jobs SET status = 'succeeded', result = $1, progress = $2, finished_at = $3, \
             updated_at = $3, lease_until = NULL, worker = NULL, error_code = NULL, \
             error_message = NULL WHERE id = $4 AND fence = $5 AND status = 'running'",
        )
        .bind(result.to_string())
        .bind(progress.to_string())
        .bind(now)
        .bind(id)
        .bind(fence)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A running job failed: back to the queue while attempts remain (unless `permanent`),
    /// else `failed` with this error (fenced). Returns the new status if the job was ours.
    pub async fn fail_job(
        &self,
        id: &str,
        fence: i64,
        code: &str,
        message: &str,
        permanent: bool,
    ) -> StoreResult<Option<Status>> {
        let now = now_ms();
        let row = sqlx::query(
            "UPDATE jobs SET status = CASE WHEN $1 = 1 OR attempts >= max_attempts \
                 THEN 'failed' ELSE 'queued' END, \
             finished_at = CASE WHEN $1 = 1 OR attempts >= max_attempts THEN $2 ELSE NULL END, \
             error_code = $3, error_message = $4, updated_at = $2, lease_until = NULL, worker = NULL \
             WHERE id = $5 AND fence = $6 AND status = 'running' RETURNING status",
        )
        .bind(permanent as i64)
        .bind(now)
        .bind(code)
        .bind(message)
        .bind(id)
        .bind(fence)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|r| Status::parse(&r.get::<String, _>(0))))
    }

    /// A running job stopped because it was asked to: `cancelled` (fenced).
    pub async fn mark_cancelled(&self, id: &str, fence: i64) -> StoreResult<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE jobs SET status = 'cancelled', finished_at = $1, updated_at = $1, \
             lease_until = NULL, worker = NULL, cancel_requested = 0 \
             WHERE id = $2 AND fence = $3 AND status = 'running'",
        )
        .bind(now)
        .bind(id)
        .bind(fence)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A running job was interrupted by a graceful shutdown: back to the queue without using up
    /// an attempt (the fence still rose, so the old run stays fenced out).
    pub async fn requeue_interrupted(&self, id: &str, fence: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'queued', attempts = MAX(attempts - 1, 0), \
             lease_until = NULL, worker = NULL, updated_at = $1 \
             WHERE id = $2 AND fence = $3 AND status = 'running'",
        )
        .bind(now_ms())
        .bind(id)
        .bind(fence)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Running jobs whose lease ran out (or, with `all`, every running job: at start-up of the
    /// single-node SQLite server no other process can hold one) go back to the queue, or fail
    /// when they have used all their attempts; one whose cancel was asked for is cancelled (a
    /// re-claim must never forget a pending cancel). Jobs held by `except_worker` (this
    /// process, which knows they are alive even when a heartbeat write failed) are left alone.
    /// Returns how many rows changed.
    pub async fn recover_expired(
        &self,
        all: bool,
        except_worker: Option<&str>,
    ) -> StoreResult<u64> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE jobs SET \
               status = CASE WHEN cancel_requested = 1 THEN 'cancelled' \
                 WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
               finished_at = CASE WHEN cancel_requested = 1 OR attempts >= max_attempts \
                 THEN $1 ELSE NULL END, \
               error_code = CASE WHEN cancel_requested = 0 AND attempts >= max_attempts \
                 THEN 'interrupted' ELSE error_code END, \
               error_message = CASE WHEN cancel_requested = 0 AND attempts >= max_attempts \
                 THEN 'the job was interrupted (worker lost or killed) on each of its ' \
                      || attempts || ' attempts' ELSE error_message END, \
               cancel_requested = 0, lease_until = NULL, worker = NULL, updated_at = $1 \
             WHERE status = 'running' AND ($2 = 1 OR lease_until < $1) \
               AND ($3 IS NULL OR worker IS NULL OR worker <> $3)",
        )
        .bind(now)
        .bind(all as i64)
        .bind(except_worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// `Some(cancel_requested)` while the job is still running under `fence`, `None` once it
    /// is not (a cheap read for the once-a-second cancel poll between heartbeats).
    pub async fn cancel_requested(&self, id: &str, fence: i64) -> StoreResult<Option<bool>> {
        let row = sqlx::query(
            "SELECT cancel_requested FROM jobs WHERE id = $1 AND fence = $2 AND status = 'running'",
        )
        .bind(id)
        .bind(fence)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.get::<i64, _>(0) != 0))
    }

    /// Cancels a queued job at once; flags a running one. Returns the row after the change,
    /// `None` when the job does not exist.
    pub async fn request_cancel(&self, id: &str) -> StoreResult<Option<JobRow>> {
        let now = now_ms();
        sqlx::query(
            "UPDATE jobs SET status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END, \
             finished_at = CASE WHEN status = 'queued' THEN $1 ELSE finished_at END, \
             cancel_requested = CASE WHEN status = 'running' THEN 1 ELSE cancel_requested END, \
             updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        self.get_job(id).await
    }

    /// Puts a cancelled or failed job back in the queue with fresh attempts. Returns whether it did.
    pub async fn resume_job(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'queued', attempts = 0, finished_at = NULL, error_code = NULL, \
             error_message = NULL, cancel_requested = 0, updated_at = $1 \
             WHERE id = $2 AND status IN ('cancelled', 'failed')",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a finished job with its checkpoints and metrics. Returns whether it did.
    pub async fn delete_job(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM jobs WHERE id = $1 AND status IN ('succeeded', 'failed', 'cancelled')",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Number of jobs in each status (for /metrics).
    pub async fn count_by_status(&self) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM jobs GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
            .collect())
    }
}
