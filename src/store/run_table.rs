//! The run table (issue 19): each succeeded job's key results as columns (`run_summaries`), and
//! the job listing that sorts, searches and pages on them server-side.

use sqlx::Row;

use super::{JobRow, Status, Store, StoreResult};

/// Key results of one finished job; a column the job's kind does not produce is `None`. Written
/// just before the job is marked succeeded, and read only for succeeded jobs.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct RunSummary {
    pub mi_bits: Option<f64>,
    pub correlation: Option<f64>,
    pub n: Option<i64>,
    pub networks: Option<i64>,
    pub rook_score: Option<f64>,
    pub generations: Option<i64>,
    pub test_accuracy: Option<f64>,
    pub epochs: Option<i64>,
    pub elapsed_ms: Option<i64>,
}

/// A column the run table sorts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Created,
    Name,
    Kind,
    Status,
    RunTime,
    MiBits,
    Correlation,
    N,
    Networks,
    RookScore,
    Generations,
    TestAccuracy,
    Epochs,
}

impl SortKey {
    pub const ALL: [SortKey; 13] = [
        SortKey::Created,
        SortKey::Name,
        SortKey::Kind,
        SortKey::Status,
        SortKey::RunTime,
        SortKey::MiBits,
        SortKey::Correlation,
        SortKey::N,
        SortKey::Networks,
        SortKey::RookScore,
        SortKey::Generations,
        SortKey::TestAccuracy,
        SortKey::Epochs,
    ];

    /// The name in `?sort=`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Created => "created",
            SortKey::Name => "name",
            SortKey::Kind => "kind",
            SortKey::Status => "status",
            SortKey::RunTime => "run_time",
            SortKey::MiBits => "mi_bits",
            SortKey::Correlation => "correlation",
            SortKey::N => "n",
            SortKey::Networks => "networks",
            SortKey::RookScore => "rook_score",
            SortKey::Generations => "generations",
            SortKey::TestAccuracy => "test_accuracy",
            SortKey::Epochs => "epochs",
        }
    }

    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The SQL expression sorted on (a fixed string per key: nothing from the request reaches
    /// the SQL text). Run time is the job's own `elapsed_ms`, else wall time from start to end.
    fn expr(self) -> &'static str {
        match self {
            SortKey::Created => "j.id",
            SortKey::Name => "LOWER(j.name)",
            SortKey::Kind => "j.kind",
            SortKey::Status => "j.status",
            SortKey::RunTime => "COALESCE(s.elapsed_ms, j.finished_at - j.started_at)",
            SortKey::MiBits => "s.mi_bits",
            SortKey::Correlation => "s.correlation",
            SortKey::N => "s.n",
            SortKey::Networks => "s.networks",
            SortKey::RookScore => "s.rook_score",
            SortKey::Generations => "s.generations",
            SortKey::TestAccuracy => "s.test_accuracy",
            SortKey::Epochs => "s.epochs",
        }
    }
}

/// One page of the run table: filters, search, order and position.
#[derive(Debug, Clone)]
pub struct RunTableQuery {
    pub owner: Option<String>,
    pub status: Option<Status>,
    pub kind: Option<String>,
    /// Case-insensitive substring of the job's name.
    pub search: Option<String>,
    /// Keyset paging in the default order (newest first): ids below this one.
    pub before_id: Option<String>,
    pub sort: SortKey,
    pub descending: bool,
    pub offset: i64,
    pub limit: i64,
}

/// A listed job (no spec, no result) with its key results, when it has any.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    #[sqlx(flatten)]
    pub job: JobRow,
    #[sqlx(flatten)]
    pub summary: RunSummary,
    /// 1 when a `run_summaries` row exists.
    pub has_summary: i64,
}

const ROW_COLUMNS: &str = "j.id, j.owner, j.kind, j.name, j.status, j.priority, j.attempts, \
     j.max_attempts, j.fence, '' AS spec, j.progress, NULL AS result, j.error_code, \
     j.error_message, j.cancel_requested, j.lease_until, j.created_at, j.started_at, \
     j.finished_at, s.mi_bits, s.correlation, s.n, s.networks, s.rook_score, s.generations, \
     s.test_accuracy, s.epochs, s.elapsed_ms, \
     CASE WHEN s.job_id IS NULL THEN 0 ELSE 1 END AS has_summary";

/// The filter shared by the page and its count (`$1`..`$4`).
const FILTER: &str = "WHERE ($1 IS NULL OR j.owner = $1) AND ($2 IS NULL OR j.status = $2) \
     AND ($3 IS NULL OR j.kind = $3) AND ($4 IS NULL OR LOWER(j.name) LIKE $4 ESCAPE '\\')";

/// `%text%` for LIKE, with `%`, `_` and the escape character itself taken literally.
fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
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
            "SELECT j.id, j.kind, j.result FROM jobs j \
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
             {FILTER} AND ($5 IS NULL OR j.id < $5) ORDER BY CASE WHEN {expr} IS NULL THEN 1 ELSE 0 END, {expr} {dir}, \
             j.id DESC LIMIT $6 OFFSET $7"
        );
        let search = q.search.as_deref().map(like_pattern);
        let rows: Vec<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&q.owner)
            .bind(q.status.map(Status::as_str))
            .bind(&q.kind)
            .bind(&search)
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
            .fetch_one(&self.pool)
            .await?
            .get(0);
        Ok((rows, total))
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_pattern_takes_wildcards_literally() {
        assert_eq!(like_pattern("A_b%c\\"), "%a\\_b\\%c\\\\%");
        assert_eq!(like_pattern(""), "%%");
    }
}
