//! Job labels and idempotency keys on PostgreSQL (tags as jsonb; a keyed submission signals the queue): keyed submission, lookup, label edits.

use sqlx::Row;

use super::jobs::JOB_COLUMNS;
use super::{Postgres, notify};
use crate::store::{Inserted, JobLabels, JobRow, KeyedJob, NewJob, StoreResult, now_ms};

impl Postgres {
    /// Inserts a job with its labels (tags in `jobs.tags` and `job_tags`) in one transaction.
    pub async fn insert_job_labelled(
        &self,
        job: &NewJob,
        labels: &JobLabels,
    ) -> StoreResult<Inserted> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let (key, digest) = match &labels.idempotency {
            Some(k) => (Some(k.key.as_str()), Some(k.digest.as_str())),
            None => (None, None),
        };
        let sql = format!(
            "INSERT INTO jobs (id, owner, kind, name, status, priority, max_attempts, spec, \
             created_at, updated_at, tags, notes, idempotency_key, request_digest) \
             VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7::jsonb, $8, $8, $9::jsonb, $10, $11, \
             $12) RETURNING {}",
            notify("'queued'", "$13", "")
        );
        let insert = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&job.id)
            .bind(&job.owner)
            .bind(&job.kind)
            .bind(&job.name)
            .bind(job.priority)
            .bind(job.max_attempts)
            .bind(job.spec.to_string())
            .bind(now)
            .bind(serde_json::to_string(&labels.tags)?)
            .bind(&labels.notes)
            .bind(key)
            .bind(digest)
            .bind(&*self.origin)
            .execute(&mut *tx)
            .await;
        match insert {
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() && key.is_some() => {
                return Ok(Inserted::KeyTaken);
            }
            other => other?,
        };
        insert_tags(&mut tx, &job.id, &labels.tags).await?;
        tx.commit().await?;
        Ok(Inserted::Job(Box::new(
            self.get_job(&job.id).await?.expect("job just inserted"),
        )))
    }

    /// The job of `owner` holding idempotency key `key`, with the digest of its request.
    pub async fn job_by_idempotency_key(
        &self,
        owner: &str,
        key: &str,
    ) -> StoreResult<Option<KeyedJob>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS}, request_digest FROM jobs \
             WHERE owner = $1 AND idempotency_key = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            None => None,
            Some(r) => Some(KeyedJob {
                digest: r
                    .try_get::<Option<String>, _>("request_digest")?
                    .unwrap_or_default(),
                row: sqlx::FromRow::from_row(&r)?,
            }),
        })
    }

    /// Frees `owner`'s idempotency key `key` if the job holding it was created before
    /// `before_ms` (keys hold for 24 hours). Returns whether it did.
    pub async fn expire_idempotency_key(
        &self,
        owner: &str,
        key: &str,
        before_ms: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET idempotency_key = NULL, request_digest = NULL \
             WHERE owner = $1 AND idempotency_key = $2 AND created_at < $3",
        )
        .bind(owner)
        .bind(key)
        .bind(before_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces a job's tags (when given) and notes (when given; `Some(None)` clears them).
    /// Returns the row after the change, `None` when the job does not exist.
    pub async fn set_job_labels(
        &self,
        id: &str,
        tags: Option<&[String]>,
        notes: Option<Option<&str>>,
    ) -> StoreResult<Option<JobRow>> {
        let mut tx = self.pool.begin().await?;
        if let Some(tags) = tags {
            let done =
                sqlx::query("UPDATE jobs SET tags = $1::jsonb, updated_at = $2 WHERE id = $3")
                    .bind(serde_json::to_string(tags)?)
                    .bind(now_ms())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            sqlx::query("DELETE FROM job_tags WHERE job_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            insert_tags(&mut tx, id, tags).await?;
        }
        if let Some(notes) = notes {
            sqlx::query("UPDATE jobs SET notes = $1, updated_at = $2 WHERE id = $3")
                .bind(notes)
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.get_job(id).await
    }
}

async fn insert_tags(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    id: &str,
    tags: &[String],
) -> StoreResult<()> {
    for tag in tags {
        sqlx::query("INSERT INTO job_tags (job_id, tag) VALUES ($1, $2)")
            .bind(id)
            .bind(tag)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
