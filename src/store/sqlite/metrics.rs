//! Metric series: one JSON row per step (generation, epoch, network), written under the fence.

use serde_json::Value;
use sqlx::Row;

use super::Sqlite;
use crate::store::StoreResult;

impl Sqlite {
    /// Upserts the row for `step`; a resumed run rewrites the rows it recomputes with the same
    /// values. Returns whether the job was still ours.
    pub async fn write_metrics(
        &self,
        job_id: &str,
        fence: i64,
        step: i64,
        row: &Value,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO metrics (job_id, step, data) \
             SELECT $1, $2, $3 WHERE EXISTS \
               (SELECT 1 FROM jobs WHERE id = $1 AND fence = $4 AND status = 'running') \
             ON CONFLICT (job_id, step) DO UPDATE SET data = excluded.data",
        )
        .bind(job_id)
        .bind(step)
        .bind(row.to_string())
        .bind(fence)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Upserts several rows in one transaction, after one fence check. Returns whether the job
    /// was still ours (nothing is written when it was not).
    pub async fn write_metrics_batch(
        &self,
        job_id: &str,
        fence: i64,
        rows: &[(i64, Value)],
    ) -> StoreResult<bool> {
        if rows.is_empty() {
            return Ok(true);
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let ours =
            sqlx::query("SELECT 1 FROM jobs WHERE id = $1 AND fence = $2 AND status = 'running'")
                .bind(job_id)
                .bind(fence)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if !ours {
            return Ok(false);
        }
        for (step, row) in rows {
            sqlx::query(
                "INSERT INTO metrics (job_id, step, data) VALUES ($1, $2, $3) \
                 ON CONFLICT (job_id, step) DO UPDATE SET data = excluded.data",
            )
            .bind(job_id)
            .bind(step)
            .bind(row.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The whole series in step order.
    pub async fn metrics_series(&self, job_id: &str) -> StoreResult<Vec<(i64, Value)>> {
        let rows = sqlx::query("SELECT step, data FROM metrics WHERE job_id = $1 ORDER BY step")
            .bind(job_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.get::<i64, _>(0),
                    serde_json::from_str(&r.get::<String, _>(1))?,
                ))
            })
            .collect()
    }

    pub async fn metrics_range(
        &self,
        job_id: &str,
        first: i64,
        last: i64,
    ) -> StoreResult<Vec<(i64, Value)>> {
        let rows = sqlx::query(
            "SELECT step, data FROM metrics WHERE job_id = $1 AND step BETWEEN $2 AND $3 \
             ORDER BY step",
        )
        .bind(job_id)
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.get::<i64, _>(0),
                    serde_json::from_str(&r.get::<String, _>(1))?,
                ))
            })
            .collect()
    }
}
