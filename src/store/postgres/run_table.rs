//! The run table on PostgreSQL: key results per succeeded job, and the sortable listing.

use sqlx::Row;

use super::Postgres;
use crate::store::run_table::like_pattern;
use crate::store::{RunRow, RunSummary, RunTableQuery, Status, StoreResult};

const ROW_COLUMNS: &str = "j.id, j.owner, j.kind, j.name, j.status, j.priority, j.attempts, \
     j.max_attempts, j.fence, '' AS spec, j.progress::text AS progress, NULL::text AS result, \
     j.error_code, j.error_message, j.cancel_requested::int4::int8 AS cancel_requested, \
     j.lease_until, j.created_at, j.started_at, \
     j.finished_at, j.tags::text AS tags, j.notes, s.mi_bits, s.correlation, s.n, s.networks, s.rook_score, s.generations, \
     s.test_accuracy, s.epochs, s.elapsed_ms, \
     (CASE WHEN s.job_id IS NULL THEN 0 ELSE 1 END)::int8 AS has_summary";

/// The filter shared by the page and its count (`$1`..`$4`).
const FILTER: &str = "WHERE ($1::text IS NULL OR j.owner = $1) \
     AND ($2::text IS NULL OR j.status = $2) AND ($3::text IS NULL OR j.kind = $3) \
     AND ($4::text IS NULL OR LOWER(j.name) LIKE $4 ESCAPE '\\') \
     AND ($5::text IS NULL OR j.name = $5) AND ($6::text IS NULL OR EXISTS \
       (SELECT 1 FROM job_tags t WHERE t.job_id = j.id AND t.tag = $6))";

impl Postgres {
    /// Records the key results of a job (replacing any earlier ones).
    pub async fn put_run_summary(&self, job_id: &str, s: &RunSummary) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO run_summaries (job_id, mi_bits, correlation, n, networks, rook_score, \
             generations, test_accuracy, epochs, elapsed_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (job_id) DO UPDATE SET mi_bits = excluded.mi_bits, \
             correlation = excluded.correlation, n = excluded.n, networks = excluded.networks, \
             rook_score = excluded.rook_score, generations = excluded.generations, \
             test_accuracy = excluded.test_accuracy, epochs = excluded.epochs, \
             elapsed_ms = excluded.elapsed_ms",
        )
        .bind(job_id)
        .bind(s.mi_bits)
        .bind(s.correlation)
        .bind(s.n)
        .bind(s.networks)
        .bind(s.rook_score)
        .bind(s.generations)
        .bind(s.test_accuracy)
        .bind(s.epochs)
        .bind(s.elapsed_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Succeeded jobs without key results (finished before the run table existed, or whose
    /// summary write failed), oldest first: `(id, kind, result)`, at most `limit`.
    pub async fn jobs_missing_summary(
        &self,
        limit: i64,
    ) -> StoreResult<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT j.id, j.kind, j.result::text FROM jobs j \
             LEFT JOIN run_summaries s ON s.job_id = j.id \
             WHERE j.status = 'succeeded' AND j.result IS NOT NULL AND s.job_id IS NULL \
             ORDER BY j.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    /// One page of the run table, `limit + 1` rows so the caller can tell whether another page
    /// exists, and how many jobs match the filters in all (ignoring `before_id`). Rows with no
    /// value in the sort column come last in either direction; ties go newest first.
    pub async fn list_run_table(&self, q: &RunTableQuery) -> StoreResult<(Vec<RunRow>, i64)> {
        let dir = if q.descending { "DESC" } else { "ASC" };
        let expr = q.sort.expr();
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM jobs j \
             LEFT JOIN run_summaries s ON s.job_id = j.id AND j.status = 'succeeded' \
             {FILTER} AND ($7::text IS NULL OR j.id < $7) ORDER BY CASE WHEN {expr} IS NULL THEN 1 ELSE 0 END, {expr} {dir}, \
             j.id DESC LIMIT $8 OFFSET $9"
        );
        let search = q.search.as_deref().map(like_pattern);
        let rows: Vec<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&q.owner)
            .bind(q.status.map(Status::as_str))
            .bind(&q.kind)
            .bind(&search)
            .bind(&q.name)
            .bind(&q.tag)
            .bind(&q.before_id)
            .bind(q.limit + 1)
            .bind(q.offset)
            .fetch_all(&self.pool)
            .await?;
        let count_sql = format!("SELECT COUNT(*) FROM jobs j {FILTER}");
        let total: i64 = sqlx::query(sqlx::AssertSqlSafe(count_sql))
            .bind(&q.owner)
            .bind(q.status.map(Status::as_str))
            .bind(&q.kind)
            .bind(&search)
            .bind(&q.name)
            .bind(&q.tag)
            .fetch_one(&self.pool)
            .await?
            .get(0);
        Ok((rows, total))
    }
}
