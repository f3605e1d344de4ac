//! The key results of a finished job's result document, as the run table stores them
//! (`mi`: mean I and C, N, networks; `evolution`: the best network's I, C, N, rook score and
//! generations; `lif`: test accuracy and epochs; all: run time).

use serde_json::Value;

use crate::jobs::JobKind;
use crate::store::RunSummary;

fn f(v: &Value, path: &[&str]) -> Option<f64> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_f64)
}

fn i(v: &Value, path: &[&str]) -> Option<i64> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_i64)
}

/// The key results of `result` for a job of `kind`; `None` for an unknown kind.
pub fn extract(kind: &str, result: &Value) -> Option<RunSummary> {
    let mut s = RunSummary {
        elapsed_ms: i(result, &["elapsed_ms"]),
        ..RunSummary::default()
    };
    match JobKind::parse(kind)? {
        JobKind::Mi => {
            s.mi_bits = f(result, &["summary", "mi_bits_mean"]);
            s.correlation = f(result, &["summary", "correlation_rms_mean"]);
            s.networks = i(result, &["summary", "count"]);
            // N when every network has the same size (a sweep over n has no single N).
            let sizes: Vec<i64> = result
                .get("networks")
                .and_then(Value::as_array)
                .map(|nets| nets.iter().filter_map(|n| i(n, &["n"])).collect())
                .unwrap_or_default();
            s.n = sizes
                .first()
                .copied()
                .filter(|first| sizes.iter().all(|n| n == first));
        }
        JobKind::Evolution => {
            s.mi_bits = f(result, &["best", "objectives", "mi_bits"]);
            s.correlation = f(result, &["best", "objectives", "correlation_rms"]);
            s.n = result
                .pointer("/best/weights")
                .and_then(Value::as_array)
                .map(|w| w.len() as i64);
            s.rook_score = f(result, &["best", "rook_score"]);
            s.generations = i(result, &["generations_run"]);
        }
        JobKind::Lif => {
            s.test_accuracy = f(result, &["test_accuracy"]);
            s.epochs = i(result, &["epochs_run"]);
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::extract;

    #[test]
    fn mi_sweep_over_n_has_no_single_n() {
        let r = json!({"summary": {"count": 2, "mi_bits_mean": 1.5, "correlation_rms_mean": 0.25},
            "networks": [{"n": 3}, {"n": 4}], "elapsed_ms": 12});
        let s = extract("mi", &r).unwrap();
        assert_eq!(
            (s.mi_bits, s.correlation, s.networks, s.n, s.elapsed_ms),
            (Some(1.5), Some(0.25), Some(2), None, Some(12))
        );
        let r = json!({"summary": {"count": 2, "mi_bits_mean": null, "correlation_rms_mean": 0.5},
            "networks": [{"n": 5}, {"n": 5}]});
        let s = extract("mi", &r).unwrap();
        assert_eq!((s.mi_bits, s.n, s.elapsed_ms), (None, Some(5), None));
    }

    #[test]
    fn evolution_and_lif_columns() {
        let r = json!({"best": {"objectives": {"mi_bits": 2.0, "correlation_rms": 0.1},
            "weights": [[0, 1], [1, 0]], "rook_score": 0.9}, "generations_run": 40});
        let s = extract("evolution", &r).unwrap();
        assert_eq!(
            (s.mi_bits, s.n, s.rook_score, s.generations),
            (Some(2.0), Some(2), Some(0.9), Some(40))
        );
        let s = extract("lif", &json!({"test_accuracy": 0.93, "epochs_run": 3})).unwrap();
        assert_eq!(
            (s.test_accuracy, s.epochs, s.mi_bits),
            (Some(0.93), Some(3), None)
        );
        assert!(extract("nope", &json!({})).is_none());
    }
}
