//! Downloadable artifacts of a job: `metrics.csv` for every kind, `weights.npy` (NumPy, float64,
//! row = target) and `weights.json` where the result holds weight matrices, `model.json` for `lif`.

use ndarray::{Array2, Array3};
use ndarray_npy::WriteNpyExt;
use serde_json::{Value, json};

use super::JobKind;

/// A rendered artifact: content type and bytes.
pub struct Rendered {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Why an artifact cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("no artifact `{name}` for a `{kind}` job; available: {}", available.join(", "))]
    Unknown {
        name: String,
        kind: &'static str,
        available: Vec<&'static str>,
    },
    #[error("`{0}` is available once the job has succeeded")]
    NotReady(String),
    #[error("this job's result holds no weight matrices to export ({0})")]
    NoWeights(String),
}

/// The artifact names a kind offers.
pub fn names(kind: JobKind) -> Vec<&'static str> {
    match kind {
        JobKind::Mi | JobKind::Evolution => vec!["metrics.csv", "weights.npy", "weights.json"],
        JobKind::Lif => vec!["metrics.csv", "model.json"],
    }
}

/// Renders `name` from the job's result (when it has succeeded), its metric series and, for
/// `model.json`, the model document the caller built from the final checkpoint.
pub fn render(
    kind: JobKind,
    name: &str,
    result: Option<&Value>,
    metrics: &[(i64, Value)],
    model: Option<&Value>,
) -> Result<Rendered, ArtifactError> {
    if !names(kind).contains(&name) {
        return Err(ArtifactError::Unknown {
            name: name.to_string(),
            kind: kind.as_str(),
            available: names(kind),
        });
    }
    if name == "metrics.csv" {
        return Ok(Rendered {
            content_type: "text/csv; charset=utf-8",
            bytes: metrics_csv(metrics),
        });
    }
    let result = result.ok_or_else(|| ArtifactError::NotReady(name.to_string()))?;
    match name {
        "weights.npy" => Ok(Rendered {
            content_type: "application/octet-stream",
            bytes: weights_npy(&matrices(kind, result)?),
        }),
        "weights.json" => Ok(Rendered {
            content_type: "application/json",
            bytes: weights_json(kind, result)?.to_string().into_bytes(),
        }),
        "model.json" => Ok(Rendered {
            content_type: "application/json",
            bytes: model
                .ok_or_else(|| ArtifactError::NotReady(name.to_string()))?
                .to_string()
                .into_bytes(),
        }),
        _ => unreachable!("names() lists every handled artifact"),
    }
}

/// The weight matrices of a result: every network of an `mi` job, the best genome of an
/// `evolution` job.
fn matrices(kind: JobKind, result: &Value) -> Result<Vec<Vec<Vec<f64>>>, ArtifactError> {
    let parse = |w: &Value| serde_json::from_value::<Vec<Vec<f64>>>(w.clone()).ok();
    let list: Option<Vec<Vec<Vec<f64>>>> = match kind {
        JobKind::Mi => result["networks"]
            .as_array()
            .map(|nets| {
                nets.iter()
                    .map(|n| parse(&n["weights"]))
                    .collect::<Option<Vec<_>>>()
            })
            .unwrap_or(None),
        JobKind::Evolution => parse(&result["best"]["weights"]).map(|w| vec![w]),
        JobKind::Lif => None,
    };
    match list {
        Some(l) if !l.is_empty() => Ok(l),
        _ => Err(ArtifactError::NoWeights(
            "matrices above N = 256 are not stored in results".into(),
        )),
    }
}

/// One matrix as a 2-D array (N, N); several of the same N as a 3-D array (networks, N, N).
fn weights_npy(matrices: &[Vec<Vec<f64>>]) -> Vec<u8> {
    let n = matrices[0].len();
    let mut bytes = Vec::new();
    if matrices.len() == 1 {
        let a = Array2::from_shape_fn((n, n), |(i, j)| matrices[0][i][j]);
        a.write_npy(&mut bytes).expect("writing to memory");
    } else {
        let same = matrices.iter().all(|m| m.len() == n);
        let n_max = matrices.iter().map(Vec::len).max().unwrap_or(0);
        let size = if same { n } else { n_max };
        // Different sizes are zero-padded to the largest N (documented in the README).
        let a = Array3::from_shape_fn((matrices.len(), size, size), |(k, i, j)| {
            matrices[k]
                .get(i)
                .and_then(|row| row.get(j))
                .copied()
                .unwrap_or(0.0)
        });
        a.write_npy(&mut bytes).expect("writing to memory");
    }
    bytes
}

fn weights_json(kind: JobKind, result: &Value) -> Result<Value, ArtifactError> {
    let m = matrices(kind, result)?;
    Ok(match kind {
        JobKind::Evolution => {
            json!({"convention": "row = target: weights[i][j] is j → i", "weights": m[0],
                                     "bias": result["best"]["bias"].clone()})
        }
        _ => json!({
            "convention": "row = target: weights[i][j] is j → i",
            "networks": result["networks"].as_array().map(|nets| nets.iter().zip(&m).map(|(net, w)| json!({
                "params": net["params"], "replicate": net["replicate"], "weights": w,
            })).collect::<Vec<_>>()),
        }),
    })
}

/// The metric series as CSV: `step` first, then every field in order of first appearance.
pub fn metrics_csv(series: &[(i64, Value)]) -> Vec<u8> {
    let mut columns: Vec<String> = vec!["step".into()];
    for (_, row) in series {
        if let Some(obj) = row.as_object() {
            for key in obj.keys() {
                if !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
        }
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&columns).expect("writing to memory");
    for (step, row) in series {
        let record: Vec<String> = columns
            .iter()
            .map(|c| match (c.as_str(), row.get(c)) {
                ("step", _) => step.to_string(),
                (_, None | Some(Value::Null)) => String::new(),
                (_, Some(Value::String(s))) => s.clone(),
                (_, Some(v)) => v.to_string(),
            })
            .collect();
        writer.write_record(&record).expect("writing to memory");
    }
    writer.into_inner().expect("flushing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_union_of_columns() {
        let series = vec![
            (0, json!({"a": 1.5, "b": null})),
            (1, json!({"a": 2, "c": "x"})),
        ];
        let text = String::from_utf8(metrics_csv(&series)).unwrap();
        assert_eq!(text, "step,a,b,c\n0,1.5,,\n1,2,,x\n");
    }

    #[test]
    fn npy_header_and_data_follow_the_format() {
        let bytes = weights_npy(&[vec![vec![1.0, 2.0], vec![3.0, -4.5]]]);
        assert_eq!(&bytes[..6], b"\x93NUMPY");
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(header.contains("'descr': '<f8'"), "{header}");
        assert!(header.contains("'fortran_order': False"));
        assert!(header.contains("'shape': (2, 2)"));
        assert_eq!((10 + header_len) % 64, 0, "data is 64-byte aligned");
        let data: Vec<f64> = bytes[10 + header_len..]
            .chunks(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(data, vec![1.0, 2.0, 3.0, -4.5], "row-major, row = target");
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let err = render(JobKind::Mi, "plot.png", None, &[], None)
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("metrics.csv, weights.npy, weights.json")
        );
        assert!(matches!(
            render(JobKind::Mi, "weights.npy", None, &[], None),
            Err(ArtifactError::NotReady(_))
        ));
    }
}
