//! Checkpoints: the whole resumable state of a job, written under the job's fence.

use serde_json::Value;
use sqlx::Row;

use super::Sqlite;
use crate::store::model::*;
use crate::store::{StoreResult, now_ms};

impl Sqlite {
    /// Stores a checkpoint if the job is still running under `fence`; returns whether it did.
    pub async fn write_checkpoint(
        &self,
        job_id: &str,
        fence: i64,
        step: i64,
        data: &Value,
    ) -> StoreResult<bool> {
        let text = data.to_string();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let inserted = sqlx::query(
            "INSERT INTO checkpoints (job_id, seq, step, data, bytes, created_at) \
             SELECT $1, COALESCE((SELECT MAX(seq) FROM checkpoints WHERE job_id = $1), 0) + 1, \
                    $2, $3, $4, $5 \
             WHERE EXISTS (SELECT 1 FROM jobs WHERE id = $1 AND fence = $6 AND status = 'running')",
        )
        .bind(job_id)
        .bind(step)
        .bind(&text)
        .bind(text.len() as i64)
        .bind(now_ms())
        .bind(fence)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            sqlx::query(
                "DELETE FROM checkpoints WHERE job_id = $1 AND seq <= \
                 (SELECT MAX(seq) FROM checkpoints WHERE job_id = $1) - $2",
            )
            .bind(job_id)
            .bind(self.keep_checkpoints)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    pub async fn list_checkpoints(&self, job_id: &str) -> StoreResult<Vec<CheckpointInfo>> {
        Ok(sqlx::query_as(
            "SELECT seq, step, created_at, bytes FROM checkpoints WHERE job_id = $1 ORDER BY seq",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn latest_checkpoint(&self, job_id: &str) -> StoreResult<Option<CheckpointRow>> {
        let row = sqlx::query(
            "SELECT seq, step, created_at, data FROM checkpoints WHERE job_id = $1 \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(CheckpointRow {
                seq: r.get(0),
                step: r.get(1),
                created_at: r.get(2),
                data: serde_json::from_str(&r.get::<String, _>(3))?,
            })
        })
        .transpose()
    }
}
