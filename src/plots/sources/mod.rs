//! Where each plot's numbers come from: the result document of a succeeded job, else the
//! metric rows and the latest checkpoint of a queued, running, interrupted, failed or cancelled
//! one. Every plot of a kind is listed in [`catalogue`]; [`figure`] builds it from [`JobData`].
//! Missing values stay missing (NaN, skipped by the renderers); nothing is made up.

mod evolution;
mod lif;
mod mi;

use serde_json::Value;

use super::Figure;
use crate::jobs::JobKind;

/// What a plot may read of one job. `result` is set only for a succeeded job; `checkpoint` is
/// the `data` of its latest checkpoint (the caller may leave it out when there is a result).
#[derive(Debug, Clone, Copy)]
pub struct JobData<'a> {
    pub kind: JobKind,
    pub spec: &'a Value,
    pub status: &'a str,
    pub result: Option<&'a Value>,
    pub metrics: &'a [(i64, Value)],
    pub checkpoint: Option<&'a Value>,
    /// Which network (0-based index into `networks` of the result or checkpoint) the
    /// single-network plots draw (`?network=`; see [`uses_network`]).
    pub network: usize,
}

/// A plot a job offers (the listing endpoint and the dashboard use these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlotInfo {
    pub name: &'static str,
    pub title: &'static str,
}

const fn plot(name: &'static str, title: &'static str) -> PlotInfo {
    PlotInfo { name, title }
}

/// The plots of a kind; `pareto` only for an evolution in Pareto mode, `sweep` only for an
/// `mi` sweep.
pub fn catalogue(kind: JobKind, spec: &Value) -> Vec<PlotInfo> {
    match kind {
        JobKind::Mi => mi::PLOTS
            .iter()
            .filter(|p| p.name != "sweep" || mi::is_sweep(spec))
            .copied()
            .collect(),
        JobKind::Evolution => evolution::PLOTS
            .iter()
            .filter(|p| p.name != "pareto" || evolution::is_pareto(spec))
            .copied()
            .collect(),
        JobKind::Lif => lif::PLOTS.to_vec(),
    }
}

/// Builds plot `name` of a job; `None` when the job's kind (and mode) has no such plot.
pub fn figure(data: &JobData, name: &str) -> Option<Figure> {
    let info = catalogue(data.kind, data.spec)
        .into_iter()
        .find(|p| p.name == name)?;
    Some(match data.kind {
        JobKind::Mi => mi::figure(data, info),
        JobKind::Evolution => evolution::figure(data, info),
        JobKind::Lif => lif::figure(data, info),
    })
}

/// True when plot `name` of a `kind` job draws one network chosen by [`JobData::network`]
/// (the `mi` heat maps); other plots ignore the choice.
pub fn uses_network(kind: JobKind, name: &str) -> bool {
    kind == JobKind::Mi && mi::PER_NETWORK.contains(&name)
}

/// How many networks [`JobData::network`] can choose from so far (0 before any has finished,
/// and for kinds without networks).
pub fn network_count(data: &JobData) -> usize {
    match data.kind {
        JobKind::Mi => mi::networks(data).len(),
        _ => 0,
    }
}

/// The "nothing yet" figure: says whether data may still come or the job ended without any.
fn waiting(data: &JobData, info: PlotInfo, what: &str) -> Figure {
    let message = match data.status {
        "queued" | "running" => format!("no data yet — waiting for {what}"),
        status => format!("no data: the job is {status} and recorded none for this plot"),
    };
    Figure::Empty {
        title: info.title.to_string(),
        message,
    }
}

/// A plot that cannot exist for this job (e.g. matrices that were not stored): says why.
fn unavailable(info: PlotInfo, why: impl Into<String>) -> Figure {
    Figure::Empty {
        title: info.title.to_string(),
        message: why.into(),
    }
}

/// A number from JSON: a number, or a string holding one (evolution checkpoints write floats as
/// exact decimal strings). Null, absent and anything else are `None`.
fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// [`num`], with NaN for missing values (which the renderers skip).
fn num_or_nan(v: &Value) -> f64 {
    num(v).unwrap_or(f64::NAN)
}

/// A matrix of numbers (null entries become NaN); `None` unless it is a non-empty array of
/// arrays.
fn matrix(v: &Value) -> Option<Vec<Vec<f64>>> {
    let rows = v.as_array()?;
    let m: Option<Vec<Vec<f64>>> = rows
        .iter()
        .map(|r| r.as_array().map(|r| r.iter().map(num_or_nan).collect()))
        .collect();
    m.filter(|m| !m.is_empty())
}

/// A metric column as (step, value) pairs; steps without the value get NaN so lines break there.
fn column(metrics: &[(i64, Value)], key: &str) -> Vec<(f64, f64)> {
    metrics
        .iter()
        .map(|(step, row)| (*step as f64, num_or_nan(&row[key])))
        .collect()
}

/// True when some row has a finite `key`.
fn has_column(metrics: &[(i64, Value)], key: &str) -> bool {
    metrics
        .iter()
        .any(|(_, row)| num(&row[key]).is_some_and(f64::is_finite))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_may_be_strings_and_nulls_stay_missing() {
        assert_eq!(num(&json!(1.5)), Some(1.5));
        assert_eq!(num(&json!("-3e-7")), Some(-3e-7));
        assert_eq!(num(&json!(null)), None);
        assert!(num_or_nan(&json!("x")).is_nan());
        let m = matrix(&json!([[1, null], ["2.5", 0]])).unwrap();
        assert!(m[0][1].is_nan() && m[1][0] == 2.5);
        assert!(matrix(&json!([])).is_none());
        assert!(matrix(&json!(null)).is_none());
    }

    #[test]
    fn catalogue_names_are_fixed() {
        let names = |kind, spec: Value| {
            catalogue(kind, &spec)
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(JobKind::Mi, json!({})),
            ["ic_scatter", "weights", "attractor_periods", "correlation"]
        );
        assert_eq!(
            names(
                JobKind::Mi,
                json!({"network": {"sweep": {"param": "std", "values": [1]}}})
            )[0],
            "sweep"
        );
        assert_eq!(
            names(JobKind::Evolution, json!({"mode": "weighted"})),
            ["fitness", "best_weights", "rook_score"]
        );
        assert_eq!(
            names(JobKind::Evolution, json!({"mode": "pareto"})),
            ["fitness", "pareto", "best_weights", "rook_score"]
        );
        assert_eq!(
            names(JobKind::Lif, json!({})),
            ["loss", "accuracy", "confusion", "leaks", "raster"]
        );
    }
}
