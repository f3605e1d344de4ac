//! Uploaded datasets on PostgreSQL: metadata with the IDX files as `bytea`, one row per upload.

use sqlx::Row;

use super::Postgres;
use crate::store::model::*;
use crate::store::{StoreResult, now_ms};

const COLUMNS: &str = "id, owner, name, count, features, classes, shape::text, bytes, created_at";

fn row(r: &sqlx::postgres::PgRow) -> StoreResult<DatasetRow> {
    Ok(DatasetRow {
        id: r.get(0),
        owner: r.get(1),
        name: r.get(2),
        count: r.get(3),
        features: r.get(4),
        classes: r.get(5),
        shape: serde_json::from_str(&r.get::<String, _>(6))?,
        bytes: r.get(7),
        created_at: r.get(8),
    })
}

impl Postgres {
    pub async fn insert_dataset(&self, d: &NewDataset) -> StoreResult<DatasetRow> {
        let sql = format!(
            "INSERT INTO datasets (id, owner, name, count, features, classes, shape, bytes, \
             created_at, images, labels) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11) RETURNING {COLUMNS}"
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&d.id)
            .bind(&d.owner)
            .bind(&d.name)
            .bind(d.count)
            .bind(d.features)
            .bind(d.classes)
            .bind(serde_json::to_string(&d.shape)?)
            .bind((d.images.len() + d.labels.len()) as i64)
            .bind(now_ms())
            .bind(&d.images)
            .bind(&d.labels)
            .fetch_one(&self.pool)
            .await?;
        row(&r)
    }

    pub async fn get_dataset(&self, id: &str) -> StoreResult<Option<DatasetRow>> {
        let sql = format!("SELECT {COLUMNS} FROM datasets WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(row)
            .transpose()
    }

    pub async fn list_datasets(&self) -> StoreResult<Vec<DatasetRow>> {
        let sql = format!("SELECT {COLUMNS} FROM datasets ORDER BY id DESC");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(row)
            .collect()
    }

    pub async fn dataset_files(&self, id: &str) -> StoreResult<Option<(String, Vec<u8>, Vec<u8>)>> {
        let r = sqlx::query("SELECT name, images, labels FROM datasets WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.map(|r| (r.get(0), r.get(1), r.get(2))))
    }

    pub async fn delete_dataset(&self, id: &str) -> StoreResult<DatasetDelete> {
        const USERS: &str = "SELECT id FROM jobs WHERE status IN ('queued', 'running') \
                             AND kind = 'lif' AND spec -> 'dataset' ->> 'id' = $1";
        let sql = format!("DELETE FROM datasets WHERE id = $1 AND NOT EXISTS ({USERS})");
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 1 {
            return Ok(DatasetDelete::Deleted);
        }
        if self.get_dataset(id).await?.is_none() {
            return Ok(DatasetDelete::NotFound);
        }
        let users = sqlx::query(USERS)
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
        Ok(DatasetDelete::InUse(users))
    }
}
