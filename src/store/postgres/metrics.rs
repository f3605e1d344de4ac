//! Metric series on PostgreSQL: rows upserted under the fence, with a signal naming the steps
//! written so that an API process on another machine can relay them to its event streams.

use serde_json::Value;
use sqlx::Row;

use super::{CHANNEL, Postgres};
use crate::store::StoreResult;

impl Postgres {
    pub async fn write_metrics(
        &self,
        job_id: &str,
        fence: i64,
        step: i64,
        row: &Value,
    ) -> StoreResult<bool> {
        self.write_metrics_batch(job_id, fence, &[(step, row.clone())])
            .await
    }

    /// One transaction: the fence check (share-locking the job row), every row, and one signal.
    pub async fn write_metrics_batch(
        &self,
        job_id: &str,
        fence: i64,
        rows: &[(i64, Value)],
    ) -> StoreResult<bool> {
        if rows.is_empty() {
            return Ok(true);
        }
        let mut tx = self.pool.begin().await?;
        let ours = sqlx::query(
            "SELECT 1 FROM jobs WHERE id = $1 AND fence = $2 AND status = 'running' FOR SHARE",
        )
        .bind(job_id)
        .bind(fence)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        if !ours {
            return Ok(false);
        }
        let steps: Vec<i64> = rows.iter().map(|(s, _)| *s).collect();
        let data: Vec<String> = rows.iter().map(|(_, v)| v.to_string()).collect();
        sqlx::query(
            "INSERT INTO metrics (job_id, step, data) \
             SELECT $1, s, d::jsonb FROM UNNEST($2::int8[], $3::text[]) AS t(s, d) \
             ON CONFLICT (job_id, step) DO UPDATE SET data = excluded.data",
        )
        .bind(job_id)
        .bind(&steps)
        .bind(&data)
        .execute(&mut *tx)
        .await?;
        let first = steps.iter().min().copied().unwrap_or(0);
        let last = steps.iter().max().copied().unwrap_or(0);
        let payload = serde_json::json!({
            "o": &*self.origin, "k": "metrics", "j": job_id, "a": first, "b": last
        });
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn metrics_series(&self, job_id: &str) -> StoreResult<Vec<(i64, Value)>> {
        self.metrics_range(job_id, i64::MIN, i64::MAX).await
    }

    pub async fn metrics_range(
        &self,
        job_id: &str,
        first: i64,
        last: i64,
    ) -> StoreResult<Vec<(i64, Value)>> {
        let rows = sqlx::query(
            "SELECT step, data::text FROM metrics WHERE job_id = $1 AND step BETWEEN $2 AND $3 \
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
