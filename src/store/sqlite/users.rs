//! Users, API tokens (digests only), per-user quotas and accounting, and the audit log.

use sqlx::Row;

use super::Sqlite;
use crate::store::model::*;
use crate::store::{StoreResult, now_ms};

const USER_COLUMNS: &str = "name, admin, max_running, max_queued, max_dataset_bytes, created_at";
const TOKEN_COLUMNS: &str =
    "id, user_name, label, created_at, expires_at, last_used_at, revoked_at";

impl Sqlite {
    /// True when at least one user exists (the server then requires tokens).
    pub async fn has_users(&self) -> StoreResult<bool> {
        let row = sqlx::query("SELECT EXISTS (SELECT 1 FROM users)")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<i64, _>(0) != 0)
    }

    /// Adds a user; `false` when the name is taken.
    pub async fn add_user(&self, name: &str, admin: bool) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO users (name, admin, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(admin as i64)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn get_user(&self, name: &str) -> StoreResult<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn list_users(&self) -> StoreResult<Vec<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Removes a user and their tokens (their jobs and datasets stay, visible to admins).
    pub async fn remove_user(&self, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM users WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets quota overrides; `false` when there is no such user.
    pub async fn set_quotas(&self, name: &str, change: &QuotaChange) -> StoreResult<bool> {
        let Some(user) = self.get_user(name).await? else {
            return Ok(false);
        };
        let pick = |c: Option<Option<i64>>, old: Option<i64>| c.unwrap_or(old);
        sqlx::query(
            "UPDATE users SET max_running = $1, max_queued = $2, max_dataset_bytes = $3 \
             WHERE name = $4",
        )
        .bind(pick(change.max_running, user.max_running))
        .bind(pick(change.max_queued, user.max_queued))
        .bind(pick(change.max_dataset_bytes, user.max_dataset_bytes))
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(true)
    }

    /// Stores a token's digest for `user`.
    pub async fn add_token(
        &self,
        id: &str,
        user: &str,
        label: Option<&str>,
        digest: &str,
        expires_at: Option<i64>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO tokens (id, user_name, label, digest, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(user)
        .bind(label)
        .bind(digest)
        .bind(now_ms())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user of a live (not revoked, not expired) token with this digest.
    pub async fn token_owner(&self, digest: &str) -> StoreResult<Option<TokenOwner>> {
        let row = sqlx::query(
            "SELECT t.id, t.digest, t.last_used_at, u.name, u.admin, u.max_running, \
                    u.max_queued, u.max_dataset_bytes, u.created_at \
             FROM tokens t JOIN users u ON u.name = t.user_name \
             WHERE t.digest = $1 AND t.revoked_at IS NULL \
               AND (t.expires_at IS NULL OR t.expires_at > $2)",
        )
        .bind(digest)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| TokenOwner {
            token_id: r.get(0),
            digest: r.get(1),
            last_used_at: r.get(2),
            user: UserRow {
                name: r.get(3),
                admin: r.get(4),
                max_running: r.get(5),
                max_queued: r.get(6),
                max_dataset_bytes: r.get(7),
                created_at: r.get(8),
            },
        }))
    }

    pub async fn touch_token(&self, id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Tokens of `user` (all users' with `None`), newest first.
    pub async fn list_tokens(&self, user: Option<&str>) -> StoreResult<Vec<TokenRow>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE ($1 IS NULL OR user_name = $1) \
             ORDER BY created_at DESC, id"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn get_token(&self, id: &str) -> StoreResult<Option<TokenRow>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Revokes a token; `false` when there is no such live token.
    pub async fn revoke_token(&self, id: &str) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// What `owner` uses now.
    pub async fn usage(&self, owner: &str) -> StoreResult<Usage> {
        let row = sqlx::query(
            "SELECT \
               (SELECT COUNT(*) FROM jobs WHERE owner = $1 AND status = 'running'), \
               (SELECT COUNT(*) FROM jobs WHERE owner = $1 AND status = 'queued'), \
               (SELECT COALESCE(SUM(bytes), 0) FROM datasets WHERE owner = $1), \
               (SELECT COALESCE(SUM(slot_ms), 0) FROM jobs WHERE owner = $1)",
        )
        .bind(owner)
        .fetch_one(&self.pool)
        .await?;
        Ok(Usage {
            running: r_i64(&row, 0),
            queued: r_i64(&row, 1),
            dataset_bytes: r_i64(&row, 2),
            slot_ms: r_i64(&row, 3),
        })
    }

    /// Running, queued and slot time per owner (for `/metrics`).
    pub async fn usage_by_owner(&self) -> StoreResult<Vec<(String, Usage)>> {
        let rows = sqlx::query(
            "SELECT owner, SUM(status = 'running'), SUM(status = 'queued'), SUM(slot_ms) \
             FROM jobs GROUP BY owner ORDER BY owner",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get::<String, _>(0),
                    Usage {
                        running: r_i64(r, 1),
                        queued: r_i64(r, 2),
                        dataset_bytes: 0,
                        slot_ms: r_i64(r, 3),
                    },
                )
            })
            .collect())
    }

    /// Adds a finished run's slot time to its job.
    pub async fn add_slot_time(&self, id: &str, ms: i64) -> StoreResult<()> {
        sqlx::query("UPDATE jobs SET slot_ms = slot_ms + $1 WHERE id = $2")
            .bind(ms)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records who did what (never a secret).
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        remote: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, target, remote) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(now_ms())
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(remote)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest `limit` audit records.
    pub async fn audit_log(&self, limit: i64) -> StoreResult<Vec<AuditRow>> {
        Ok(sqlx::query_as(
            "SELECT id, at, actor, action, target, remote FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

fn r_i64(row: &sqlx::sqlite::SqliteRow, i: usize) -> i64 {
    row.try_get::<Option<i64>, _>(i).ok().flatten().unwrap_or(0)
}
