//! The run table (issue 19): each succeeded job's key results as columns (`run_summaries`), and
//! the job listing that sorts, searches and pages on them server-side.

use super::{JobRow, Status};

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
    pub(super) fn expr(self) -> &'static str {
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
    /// Exact name.
    pub name: Option<String>,
    /// Jobs carrying this tag.
    pub tag: Option<String>,
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

/// `%text%` for LIKE, with `%`, `_` and the escape character itself taken literally.
pub(super) fn like_pattern(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_pattern_takes_wildcards_literally() {
        assert_eq!(like_pattern("A_b%c\\"), "%a\\_b\\%c\\\\%");
        assert_eq!(like_pattern(""), "%%");
    }
}
