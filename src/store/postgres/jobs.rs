//! The jobs table on PostgreSQL: claims with `FOR UPDATE SKIP LOCKED`, fenced writes, and a
//! signal with every change another process may wait for.

use serde_json::Value;
use sqlx::Row;

use super::{Postgres, notify};
use crate::store::model::*;
use crate::store::{StoreResult, now_ms};

/// The columns of [`JobRow`], JSON and flags cast to what the row type holds.
pub(super) const JOB_COLUMNS: &str = "id, owner, kind, name, status, priority, attempts, max_attempts, \
     fence, spec::text AS spec, progress::text AS progress, result::text AS result, error_code, \
     error_message, cancel_requested::int4::int8 AS cancel_requested, lease_until, created_at, \
     started_at, finished_at, tags::text AS tags, notes";

/// As [`JOB_COLUMNS`] without the spec and result (which can be megabytes each).
const SUMMARY_COLUMNS: &str = "id, owner, kind, name, status, priority, attempts, max_attempts, \
     fence, '' AS spec, progress::text AS progress, NULL::text AS result, error_code, \
     error_message, cancel_requested::int4::int8 AS cancel_requested, lease_until, created_at, \
     started_at, finished_at, tags::text AS tags, notes";

impl Postgres {
    pub async fn insert_job(&self, job: &NewJob) -> StoreResult<JobRow> {
        let now = now_ms();
        let sql = format!(
            "INSERT INTO jobs (id, owner, kind, name, status, priority, max_attempts, spec, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7::jsonb, $8, $8) \
             RETURNING {JOB_COLUMNS}, {}",
            notify("'queued'", "$9", "")
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&job.id)
            .bind(&job.owner)
            .bind(&job.kind)
            .bind(&job.name)
            .bind(job.priority)
            .bind(job.max_attempts)
            .bind(job.spec.to_string())
            .bind(now)
            .bind(&*self.origin)
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn get_job(&self, id: &str) -> StoreResult<Option<JobRow>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn get_job_summary(&self, id: &str) -> StoreResult<Option<JobRow>> {
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM jobs WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn job_spec(&self, id: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT spec::text FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    pub async fn spec_bytes(&self, id: &str) -> StoreResult<i64> {
        let row = sqlx::query("SELECT octet_length(spec::text)::int8 FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map_or(0, |r| r.get::<i64, _>(0)))
    }

    pub async fn list_jobs(&self, filter: &JobFilter) -> StoreResult<Vec<JobRow>> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM jobs WHERE ($1::text IS NULL OR owner = $1) \
             AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3) \
             AND ($4::text IS NULL OR id < $4) AND ($6::text IS NULL OR name = $6) \
             AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM job_tags t WHERE t.job_id = jobs.id \
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

    /// One statement: the fair order of the SQLite backend, with the chosen row locked `FOR
    /// UPDATE SKIP LOCKED` so that concurrent claimers on other machines take different jobs
    /// and never wait for each other. The running caps are read from the statement's snapshot:
    /// claims racing in the same instant for one owner may each see the other's job still
    /// queued, so a cap can be passed by at most (claiming processes − 1) for a moment.
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
               ORDER BY CASE WHEN u.admin THEN j.priority ELSE 0 END DESC, \
                        COALESCE(r.n, 0), COALESCE(c.used, 0), j.priority DESC, j.created_at, j.id \
               LIMIT 1 FOR UPDATE OF j SKIP LOCKED) \
             AND status = 'queued' RETURNING {JOB_COLUMNS}, {}",
            notify("'status'", "$6", ", 's', status")
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(lease_until)
            .bind(worker)
            .bind(now)
            .bind(now - 24 * 3600 * 1000)
            .bind(default_max_running)
            .bind(&*self.origin)
            .fetch_optional(&self.pool)
            .await?)
    }

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
        Ok(row.map(|r| r.get::<bool, _>(0)))
    }

    pub async fn set_progress(&self, id: &str, fence: i64, progress: &Value) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE jobs SET progress = $1::jsonb WHERE id = $2 AND fence = $3 \
             AND status = 'running' RETURNING {}",
            notify("'progress'", "$4", "")
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(progress.to_string())
            .bind(id)
            .bind(fence)
            .bind(&*self.origin)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn complete_job(
        &self,
        id: &str,
        fence: i64,
        result: &Value,
        progress: &Value,
    ) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE jobs SET status = 'succeeded', result = $1::jsonb, progress = $2::jsonb, \
             finished_at = $3, updated_at = $3, lease_until = NULL, worker = NULL, \
             error_code = NULL, error_message = NULL \
             WHERE id = $4 AND fence = $5 AND status = 'running' RETURNING {}",
            notify("'status'", "$6", ", 's', status")
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(result.to_string())
            .bind(progress.to_string())
            .bind(now_ms())
            .bind(id)
            .bind(fence)
            .bind(&*self.origin)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn fail_job(
        &self,
        id: &str,
        fence: i64,
        code: &str,
        message: &str,
        permanent: bool,
    ) -> StoreResult<Option<Status>> {
        let sql = format!(
            "UPDATE jobs SET status = CASE WHEN $1 OR attempts >= max_attempts \
                 THEN 'failed' ELSE 'queued' END, \
             finished_at = CASE WHEN $1 OR attempts >= max_attempts THEN $2 ELSE NULL END, \
             error_code = $3, error_message = $4, updated_at = $2, lease_until = NULL, \
             worker = NULL WHERE id = $5 AND fence = $6 AND status = 'running' \
             RETURNING status, {}, \
               CASE WHEN status = 'queued' THEN {} END",
            notify("'status'", "$7", ", 's', status"),
            notify("'queued'", "$7", "")
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(permanent)
            .bind(now_ms())
            .bind(code)
            .bind(message)
            .bind(id)
            .bind(fence)
            .bind(&*self.origin)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| Status::parse(&r.get::<String, _>(0))))
    }

    pub async fn mark_cancelled(&self, id: &str, fence: i64) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE jobs SET status = 'cancelled', finished_at = $1, updated_at = $1, \
             lease_until = NULL, worker = NULL, cancel_requested = FALSE \
             WHERE id = $2 AND fence = $3 AND status = 'running' RETURNING {}",
            notify("'status'", "$4", ", 's', status")
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now_ms())
            .bind(id)
            .bind(fence)
            .bind(&*self.origin)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn requeue_interrupted(&self, id: &str, fence: i64) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE jobs SET status = 'queued', attempts = GREATEST(attempts - 1, 0), \
             lease_until = NULL, worker = NULL, updated_at = $1 \
             WHERE id = $2 AND fence = $3 AND status = 'running' RETURNING {}, {}",
            notify("'status'", "$4", ", 's', status"),
            notify("'queued'", "$4", "")
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now_ms())
            .bind(id)
            .bind(fence)
            .bind(&*self.origin)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Rows are locked `SKIP LOCKED`: a row that a worker is writing right now (its heartbeat,
    /// its result) is left for the next round instead of waited for.
    pub async fn recover_expired(
        &self,
        all: bool,
        except_worker: Option<&str>,
    ) -> StoreResult<u64> {
        let now = now_ms();
        let sql = format!(
            "UPDATE jobs SET \
               status = CASE WHEN cancel_requested THEN 'cancelled' \
                 WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
               finished_at = CASE WHEN cancel_requested OR attempts >= max_attempts \
                 THEN $1 ELSE NULL END, \
               error_code = CASE WHEN NOT cancel_requested AND attempts >= max_attempts \
                 THEN 'interrupted' ELSE error_code END, \
               error_message = CASE WHEN NOT cancel_requested AND attempts >= max_attempts \
                 THEN 'the job was interrupted (worker lost or killed) on each of its ' \
                      || attempts::text || ' attempts' ELSE error_message END, \
               cancel_requested = FALSE, lease_until = NULL, worker = NULL, updated_at = $1 \
             WHERE id IN (SELECT id FROM jobs WHERE status = 'running' \
               AND ($2 OR lease_until < $1) \
               AND ($3::text IS NULL OR worker IS NULL OR worker <> $3) \
               FOR UPDATE SKIP LOCKED) \
             RETURNING {}, CASE WHEN status = 'queued' THEN {} END",
            notify("'status'", "$4", ", 's', status"),
            notify("'queued'", "$4", "")
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(all)
            .bind(except_worker)
            .bind(&*self.origin)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn cancel_requested(&self, id: &str, fence: i64) -> StoreResult<Option<bool>> {
        let row = sqlx::query(
            "SELECT cancel_requested FROM jobs WHERE id = $1 AND fence = $2 AND status = 'running'",
        )
        .bind(id)
        .bind(fence)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.get::<bool, _>(0)))
    }

    pub async fn request_cancel(&self, id: &str) -> StoreResult<Option<JobRow>> {
        let now = now_ms();
        let sql = format!(
            "UPDATE jobs SET status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END, \
             finished_at = CASE WHEN status = 'queued' THEN $1 ELSE finished_at END, \
             cancel_requested = CASE WHEN status = 'running' THEN TRUE ELSE cancel_requested END, \
             updated_at = $1 WHERE id = $2 \
             RETURNING CASE WHEN status = 'running' THEN {} END, \
                       CASE WHEN status = 'cancelled' THEN {} END",
            notify("'cancel'", "$3", ""),
            notify("'status'", "$3", ", 's', status")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(id)
            .bind(&*self.origin)
            .execute(&self.pool)
            .await?;
        self.get_job(id).await
    }

    pub async fn resume_job(&self, id: &str) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE jobs SET status = 'queued', attempts = 0, finished_at = NULL, \
             error_code = NULL, error_message = NULL, cancel_requested = FALSE, updated_at = $1 \
             WHERE id = $2 AND status IN ('cancelled', 'failed') RETURNING {}",
            notify("'queued'", "$3", "")
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now_ms())
            .bind(id)
            .bind(&*self.origin)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_job(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM jobs WHERE id = $1 AND status IN ('succeeded', 'failed', 'cancelled')",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

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
