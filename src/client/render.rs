//! Text the terminal client prints: the job table and result summaries.

use serde_json::Value;

/// A number for people: integers as they are, others with 4 significant digits.
pub fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e6) {
        format!("{x:.3e}")
    } else {
        let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 8) as usize;
        format!("{x:.digits$}")
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map(number).unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

/// The job list as a table with a header row.
pub fn job_table(jobs: &[Value]) -> String {
    let header = [
        "ID", "KIND", "STATUS", "PROGRESS", "NAME", "TAGS", "CREATED",
    ];
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            let tags: Vec<&str> = j["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            vec![
                cell(&j["id"]),
                cell(&j["kind"]),
                cell(&j["status"]),
                format!(
                    "{:.0}%",
                    j["progress"]["fraction"].as_f64().unwrap_or(0.0) * 100.0
                ),
                cell(&j["name"]),
                if tags.is_empty() {
                    "-".into()
                } else {
                    tags.join(",")
                },
                cell(&j["created_at"]),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(header.iter().map(|h| h.to_string()).collect())];
    out.extend(rows.into_iter().map(line));
    out.join("\n")
}

/// The scalar fields of a result, and those one level down (`summary.count`), as
/// `name: value` lines; bulky parts (`provenance`, arrays) are left out.
pub fn result_summary(result: &Value) -> String {
    let mut lines = Vec::new();
    let Some(obj) = result.as_object() else {
        return cell(result);
    };
    for (k, v) in obj {
        match v {
            Value::Object(inner) if k != "provenance" => {
                for (k2, v2) in inner {
                    if !v2.is_object() && !v2.is_array() {
                        lines.push(format!("{k}.{k2}: {}", cell(v2)));
                    }
                }
            }
            Value::Array(items) => lines.push(format!("{k}: {} items", items.len())),
            Value::Object(_) => {}
            scalar => lines.push(format!("{k}: {}", cell(scalar))),
        }
    }
    if let Some(p) = obj.get("provenance") {
        lines.push(format!(
            "provenance: fluxlab {} ({}), seed {}",
            cell(&p["fluxlab_version"]),
            cell(&p["git_commit"]),
            cell(&p["seed"])
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.123456), "0.1235");
        assert_eq!(number(12.3456), "12.35");
        assert_eq!(number(1.5e-5), "1.500e-5");
    }

    #[test]
    fn tables_align_columns() {
        let jobs = [json!({"id": "a", "kind": "mi", "status": "queued",
            "progress": {"fraction": 0.5}, "name": null, "tags": ["x", "y"], "created_at": "t"})];
        let table = job_table(&jobs);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[1].contains("50%") && lines[1].contains("x,y"),
            "{table}"
        );
        assert_eq!(lines[0].find("KIND"), lines[1].find("mi"));
    }
}
