//! Plots of `lif` jobs. A finished job has its result document; a running one has the metric
//! rows (one per epoch) and, in its latest checkpoint, `partial_result` — the result document as
//! of the last finished epoch. Both have the shape of the result (API.md, kind `lif`).

use serde_json::Value;

use super::{JobData, PlotInfo, matrix, num, num_or_nan, plot, unavailable, waiting};
use crate::plots::style::ColourMap;
use crate::plots::{
    Bins, Figure, HeatmapFigure, HistogramFigure, Line, LineFigure, LinePanel, RasterFigure,
    RasterLayer,
};

pub const PLOTS: [PlotInfo; 5] = [
    plot("loss", "Loss per epoch"),
    plot("accuracy", "Accuracy per epoch"),
    plot("confusion", "Confusion matrix (test set)"),
    plot("leaks", "Learned leaks per layer"),
    plot("raster", "Spike raster of one test sample"),
];

pub fn figure(data: &JobData, info: PlotInfo) -> Figure {
    match info.name {
        "loss" => curves(data, info, "loss"),
        "accuracy" => curves(data, info, "accuracy"),
        "confusion" => confusion(data, info),
        "leaks" => leaks(data, info),
        _ => raster(data, info),
    }
}

/// The result document, or the running job's partial one, with a note saying which.
fn document<'a>(data: &JobData<'a>) -> Option<(&'a Value, &'static str)> {
    if let Some(r) = data.result {
        return Some((r, ""));
    }
    data.checkpoint
        .map(|c| &c["partial_result"])
        .filter(|p| p.is_object())
        .map(|p| (p, " (as of the latest checkpoint)"))
}

/// Per-epoch rows as (epoch, row): the result's `epochs`, else the metric rows (newest data
/// while running), else the partial result's `epochs`.
fn epochs<'a>(data: &JobData<'a>) -> Vec<(f64, &'a Value)> {
    let from_doc = |doc: &'a Value| -> Vec<(f64, &'a Value)> {
        doc["epochs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| (num_or_nan(&e["epoch"]), e))
            .collect()
    };
    if let Some(r) = data.result {
        return from_doc(r);
    }
    if !data.metrics.is_empty() {
        return data
            .metrics
            .iter()
            .map(|(s, row)| (*s as f64, row))
            .collect();
    }
    document(data).map(|(d, _)| from_doc(d)).unwrap_or_default()
}

fn curves(data: &JobData, info: PlotInfo, what: &str) -> Figure {
    let rows = epochs(data);
    if rows.is_empty() {
        return waiting(data, info, "the first epoch");
    }
    let series = |key: String| -> Vec<(f64, f64)> {
        rows.iter()
            .map(|(e, row)| (*e, num_or_nan(&row[key.as_str()])))
            .collect()
    };
    let train = series(format!("train_{what}"));
    let test = series(format!("test_{what}"));
    let (y_label, y_range) = if what == "loss" {
        let loss = data.spec["loss"]
            .as_str()
            .unwrap_or("loss")
            .replace('_', " ");
        (format!("loss ({loss})"), None)
    } else {
        let fractions = train
            .iter()
            .chain(&test)
            .all(|p| p.1.is_nan() || p.1 <= 1.0);
        if fractions {
            // Zoomed to the data (runs differ between 0.91 and 0.96, not between 0 and 1),
            // kept inside [0, 1]; `?y_min=0&y_max=1` shows the whole range.
            let (lo, hi) = train
                .iter()
                .chain(&test)
                .map(|p| p.1)
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
            let pad = ((hi - lo) * 0.1).max(0.005);
            let range = (lo.is_finite() && hi.is_finite())
                .then(|| ((lo - pad).max(0.0), (hi + pad).min(1.0)));
            ("accuracy (fraction correct)".to_string(), range)
        } else {
            ("accuracy".to_string(), None)
        }
    };
    let total = data.spec["epochs"].as_i64();
    let subtitle = match (data.result, total) {
        (None, Some(t)) => format!("{} of {t} epochs so far", rows.len()),
        _ => format!("{} epochs", rows.len()),
    };
    Figure::Lines(LineFigure {
        title: info.title.into(),
        subtitle: Some(subtitle),
        x_label: "epoch".into(),
        panels: vec![LinePanel {
            y_label,
            lines: vec![
                Line {
                    label: "train".into(),
                    points: train,
                    dashed: false,
                },
                Line {
                    label: "test".into(),
                    points: test,
                    dashed: false,
                },
            ],
            band: None,
            y_range,
        }],
    })
}

fn confusion(data: &JobData, info: PlotInfo) -> Figure {
    let Some((doc, note)) = document(data) else {
        return waiting(data, info, "the first epoch");
    };
    let Some(values) = matrix(&doc["confusion_matrix"]) else {
        return unavailable(info, format!("the result holds no confusion matrix{note}"));
    };
    let accuracy =
        num(&doc["test_accuracy"]).map_or(String::new(), |a| format!("test accuracy {a:.3}"));
    let samples: f64 = values.iter().flatten().filter(|v| v.is_finite()).sum();
    Figure::Heatmap(HeatmapFigure {
        title: info.title.into(),
        subtitle: Some(format!("{samples:.0} test samples; {accuracy}{note}")),
        x_label: "predicted class".into(),
        y_label: "true class".into(),
        bar_label: "test samples".into(),
        values,
        map: ColourMap::Sequential,
        annotate: true,
    })
}

fn bins(label: String, h: &Value) -> Bins {
    let list = |k: &str| -> Vec<f64> {
        h[k].as_array()
            .into_iter()
            .flatten()
            .map(num_or_nan)
            .collect()
    };
    Bins {
        label,
        edges: list("edges"),
        counts: list("counts"),
    }
}

/// The initial leaks of a layer (uniform in [low, high]) as the counts expected in the trained
/// histogram's bins, so the two can be compared on one axis.
fn initial_bins(layer: u64, initial: &Value, trained: &Bins) -> Option<Bins> {
    let (low, high) = (num(&initial["low"])?, num(&initial["high"])?);
    let units: f64 = trained.counts.iter().filter(|c| c.is_finite()).sum();
    if trained.edges.len() < 2 || units == 0.0 {
        return None;
    }
    let counts = trained
        .edges
        .windows(2)
        .enumerate()
        .map(|(k, e)| {
            if high > low {
                units * ((high.min(e[1]) - low.max(e[0])).max(0.0) / (high - low))
            } else {
                let last = k + 2 == trained.edges.len();
                let inside = low >= e[0] && (low < e[1] || (last && low <= e[1]));
                if inside { units } else { 0.0 }
            }
        })
        .collect();
    Some(Bins {
        label: format!("layer {layer} initial (uniform [{low}, {high}], expected)"),
        edges: trained.edges.clone(),
        counts,
    })
}

fn leaks(data: &JobData, info: PlotInfo) -> Figure {
    let Some((doc, note)) = document(data) else {
        return waiting(data, info, "the first epoch");
    };
    let leak = &doc["leak"];
    if !leak.is_object() {
        return unavailable(info, format!("this network has no leaky layers{note}"));
    }
    let groups: Vec<Bins> = leak["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, l)| l.is_object())
        .flat_map(|(k, l)| {
            let layer = l["layer"].as_u64().unwrap_or(k as u64);
            let stats = match (num(&l["mean"]), num(&l["std"])) {
                (Some(m), Some(s)) => format!(" (mean {m:.3} ± {s:.3})"),
                _ => String::new(),
            };
            let trained = bins(format!("layer {layer}{stats}"), &l["histogram"]);
            let initial = initial_bins(layer, &l["initial"], &trained);
            std::iter::once(trained).chain(initial)
        })
        .collect();
    let groups = if groups.is_empty() {
        vec![bins("all layers".into(), &leak["histogram"])]
    } else {
        groups
    };
    let overall = match (num(&leak["mean"]), num(&leak["std"])) {
        (Some(m), Some(s)) => format!("all layers: mean {m:.3} ± {s:.3}"),
        _ => String::new(),
    };
    Figure::Histogram(HistogramFigure {
        title: info.title.into(),
        subtitle: Some(format!("{overall}{note}")),
        x_label: "leak λ (fraction of potential lost per step)".into(),
        y_label: "neurons".into(),
        groups,
        grouped: false,
    })
}

fn raster(data: &JobData, info: PlotInfo) -> Figure {
    let Some((doc, note)) = document(data) else {
        return waiting(data, info, "the first epoch");
    };
    let r = &doc["raster"];
    if !r.is_object() {
        return unavailable(info, format!("the result holds no spike raster{note}"));
    }
    let spikes = |l: &Value| -> Vec<(f64, f64)> {
        l["spikes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| Some((num(s.get(0)?)?, num(s.get(1)?)?)))
            .collect()
    };
    // The encoded input is the bottom layer; constant coding feeds a current (no spikes) and
    // is only named in the subtitle.
    let input = &r["input"];
    let input_spikes = input["spikes"].as_array().is_some_and(|s| !s.is_empty())
        || (input.is_object() && input["current"].is_null());
    let mut layers: Vec<RasterLayer> = Vec::new();
    if input_spikes {
        layers.push(RasterLayer {
            label: "input".into(),
            units: input["units"].as_u64().unwrap_or(0) as usize,
            spikes: spikes(input),
        });
    }
    layers.extend(
        r["layers"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(k, l)| RasterLayer {
                label: format!("layer {}", l["layer"].as_u64().unwrap_or(k as u64)),
                units: l["units"].as_u64().unwrap_or(0) as usize,
                spikes: spikes(l),
            }),
    );
    let field = |k: &str| r[k].as_i64().map_or("?".to_string(), |v| v.to_string());
    let mut subtitle = format!(
        "test sample {}: label {}, predicted {}",
        field("sample_index"),
        field("label"),
        field("predicted")
    );
    if input["truncated"].as_bool() == Some(true) {
        subtitle.push_str(&format!(
            "; input: its first {} spikes",
            input["spikes"].as_array().map_or(0, Vec::len)
        ));
    } else if !input_spikes && input.is_object() {
        subtitle.push_str("; input: a constant current (no spikes)");
    }
    subtitle.push_str(note);
    Figure::Raster(RasterFigure {
        title: info.title.into(),
        subtitle: Some(subtitle),
        x_label: "time step".into(),
        y_label: "layer bands (unit 0 at the bottom of each)".into(),
        steps: num(&r["steps"]),
        layers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobKind;
    use crate::plots::sources::figure as build;
    use crate::plots::testing::{assert_svg, has_no_nan};
    use crate::plots::{Size, render};
    use serde_json::json;

    /// A result document of the shape the `lif` kind writes.
    fn result() -> Value {
        json!({
            "test_accuracy": 0.75, "test_loss": 0.6,
            "epochs": [
                {"epoch": 1, "train_loss": 1.2, "train_accuracy": 0.5, "test_loss": 1.0,
                 "test_accuracy": 0.55, "seconds": 1.0, "samples_per_second": 100.0},
                {"epoch": 2, "train_loss": 0.8, "train_accuracy": 0.7, "test_loss": null,
                 "test_accuracy": 0.75, "seconds": 1.0, "samples_per_second": 100.0}
            ],
            "confusion_matrix": [[5, 1, 0], [2, 4, 0], [0, 0, 8]],
            "spike_rates": [0.1, null],
            "leak": {"mean": 0.05, "std": 0.02,
                     "histogram": {"edges": [0.0, 0.05, 0.1], "counts": [10, 6]},
                     "layers": [{"layer": 0, "mean": 0.05, "std": 0.02,
                                 "histogram": {"edges": [0.0, 0.05, 0.1], "counts": [10, 6]}},
                                null]},
            "raster": {"sample_index": 3, "label": 2, "predicted": 2, "steps": 10,
                       "input": {"units": 5, "spikes": [[0, 0], [1, 4], [2, 2]], "truncated": false},
                       "layers": [{"layer": 0, "units": 4, "spikes": [[0, 1], [3, 2], [9, 3]]},
                                  {"layer": 1, "units": 3, "spikes": [[5, 0]]}]},
            "elapsed_ms": 2000
        })
    }

    fn data<'a>(
        status: &'a str,
        result: Option<&'a Value>,
        metrics: &'a [(i64, Value)],
        checkpoint: Option<&'a Value>,
    ) -> JobData<'a> {
        static SPEC: std::sync::LazyLock<Value> =
            std::sync::LazyLock::new(|| json!({"loss": "cross_entropy", "epochs": 5}));
        JobData {
            kind: JobKind::Lif,
            spec: &SPEC,
            status,
            result,
            metrics,
            checkpoint,
            network: 0,
        }
    }

    #[test]
    fn finished_job_renders_every_plot() {
        let result = result();
        let d = data("succeeded", Some(&result), &[], None);
        let expect: [(&str, &[&str]); 5] = [
            (
                "loss",
                &["loss (cross entropy)", "epoch", "train", "test", "2 epochs"],
            ),
            (
                "accuracy",
                &["accuracy (fraction correct)", "train", "test"],
            ),
            (
                "confusion",
                &[
                    "predicted class",
                    "true class",
                    "test samples",
                    "20 test samples; test accuracy 0.750",
                ],
            ),
            (
                "leaks",
                &[
                    "leak λ (fraction of potential lost per step)",
                    "neurons",
                    "all layers: mean 0.050 ± 0.020",
                ],
            ),
            (
                "raster",
                &[
                    "time step",
                    "input (5 units)",
                    "layer 0 (4 units)",
                    "layer 1 (3 units)",
                    "test sample 3: label 2, predicted 2",
                ],
            ),
        ];
        for (name, texts) in expect {
            let f = build(&d, name).unwrap();
            crate::plots::testing::preview(&format!("lif_{name}"), &f);
            let svg = render(&f, Size::DEFAULT).unwrap();
            let title = PLOTS.iter().find(|p| p.name == name).unwrap().title;
            assert_svg(&svg, &[title]);
            assert_svg(&svg, texts);
            assert!(has_no_nan(&svg), "{name}");
        }
        let Some(Figure::Heatmap(h)) = build(&d, "confusion") else {
            panic!()
        };
        assert_eq!(h.values[1], vec![2.0, 4.0, 0.0], "row = true class");
        // The encoded input is the bottom layer of the raster, its legend outside the spikes.
        let Some(Figure::Raster(r)) = build(&d, "raster") else {
            panic!()
        };
        assert_eq!(r.layers[0].label, "input");
        assert_eq!(r.layers[0].spikes, vec![(0.0, 0.0), (1.0, 4.0), (2.0, 2.0)]);
        crate::plots::testing::assert_legend_outside(&Figure::Raster(r), Size::DEFAULT);
    }

    /// The initial uniform leaks become expected counts on the trained histogram's bins.
    #[test]
    fn initial_leaks_are_expected_counts_on_the_same_bins() {
        let trained = Bins {
            label: "layer 0".into(),
            edges: vec![0.0, 0.05, 0.1, 0.15, 0.2],
            counts: vec![1.0, 2.0, 1.0, 0.0],
        };
        let spread = initial_bins(0, &json!({"low": 0.0, "high": 0.1}), &trained).unwrap();
        assert_eq!(spread.counts, vec![2.0, 2.0, 0.0, 0.0]);
        assert!(spread.label.contains("initial"));
        let point = initial_bins(0, &json!({"low": 0.2, "high": 0.2}), &trained).unwrap();
        assert_eq!(point.counts, vec![0.0, 0.0, 0.0, 4.0]);
        assert!(initial_bins(0, &Value::Null, &trained).is_none());
    }

    /// The accuracy axis is zoomed to the data, inside [0, 1].
    #[test]
    fn accuracy_axis_is_zoomed_to_the_runs() {
        let metrics = vec![
            (1, json!({"train_accuracy": 0.91, "test_accuracy": 0.93})),
            (2, json!({"train_accuracy": 0.95, "test_accuracy": 0.96})),
        ];
        let d = data("running", None, &metrics, None);
        let Some(Figure::Lines(f)) = build(&d, "accuracy") else {
            panic!()
        };
        let (lo, hi) = f.panels[0].y_range.unwrap();
        assert!(
            (lo - 0.905).abs() < 1e-12 && (hi - 0.965).abs() < 1e-12,
            "{lo} {hi}"
        );
    }

    #[test]
    fn running_job_reads_metrics_and_partial_result() {
        let metrics = vec![
            (
                1,
                json!({"train_loss": 1.2, "train_accuracy": 0.5, "test_loss": 1.0, "test_accuracy": 0.55}),
            ),
            (
                2,
                json!({"train_loss": 0.9, "train_accuracy": 0.6, "test_loss": 0.9, "test_accuracy": 0.6}),
            ),
            (
                3,
                json!({"train_loss": 0.8, "train_accuracy": 0.7, "test_loss": 0.8, "test_accuracy": 0.7}),
            ),
        ];
        let checkpoint = json!({"partial_result": result(), "optimizer": {}});
        let d = data("running", None, &metrics, Some(&checkpoint));
        let Some(Figure::Lines(f)) = build(&d, "loss") else {
            panic!()
        };
        assert_eq!(
            f.panels[0].lines[0].points.len(),
            3,
            "metric rows are the newest"
        );
        assert_eq!(f.subtitle.as_deref(), Some("3 of 5 epochs so far"));
        let Some(Figure::Heatmap(h)) = build(&d, "confusion") else {
            panic!()
        };
        assert!(h.subtitle.unwrap().contains("latest checkpoint"));
        assert!(matches!(build(&d, "raster"), Some(Figure::Raster(_))));
        let Some(Figure::Histogram(h)) = build(&d, "leaks") else {
            panic!()
        };
        assert_eq!(h.groups.len(), 1, "null layers are skipped");
        assert!(h.groups[0].label.starts_with("layer 0"));
    }

    #[test]
    fn nothing_yet_and_nothing_at_all() {
        let d = data("queued", None, &[], None);
        for p in PLOTS {
            let Some(Figure::Empty { message, .. }) = build(&d, p.name) else {
                panic!()
            };
            assert_eq!(message, "no data yet — waiting for the first epoch");
        }
        let d = data("cancelled", None, &[], None);
        let Some(Figure::Empty { message, .. }) = build(&d, "loss") else {
            panic!()
        };
        assert!(message.contains("cancelled"));
        // A dense-only network has no leaks; a result without a raster says so.
        let mut r = result();
        r["leak"] = Value::Null;
        r["raster"] = Value::Null;
        let d = data("succeeded", Some(&r), &[], None);
        let Some(Figure::Empty { message, .. }) = build(&d, "leaks") else {
            panic!()
        };
        assert!(message.contains("no leaky layers"));
        assert!(matches!(build(&d, "raster"), Some(Figure::Empty { .. })));
        // Only the top-level histogram: one group for all layers.
        let mut r = result();
        r["leak"]["layers"] = json!([null]);
        let d = data("succeeded", Some(&r), &[], None);
        let Some(Figure::Histogram(h)) = build(&d, "leaks") else {
            panic!()
        };
        assert_eq!(h.groups[0].label, "all layers");
        assert!(build(&d, "fitness").is_none());
    }
}
