//! Plots of `evolution` jobs. Curves come from the metric rows (one per generation, written as
//! the run goes); the best genome and the Pareto front from the result, else from the latest
//! checkpoint's population (read with the engine's own state type, so "best" means exactly
//! what the result will call best).

use serde::Deserialize;
use serde_json::Value;

use super::{JobData, PlotInfo, column, has_column, matrix, num, plot, unavailable, waiting};
use crate::engine::evolve::{self, EvolutionState};
use crate::plots::style::ColourMap;
use crate::plots::{
    Band, Figure, HeatmapFigure, Line, LineFigure, LinePanel, Point, ScatterFigure,
};

pub const PLOTS: [PlotInfo; 4] = [
    plot("fitness", "Objectives per generation"),
    plot("pareto", "Pareto front"),
    plot("best_weights", "Weight matrix of the best genome"),
    plot("rook_score", "Rook score of the best genome per generation"),
];

/// Objective names of the spec → metric / result names, axis labels.
const OBJECTIVES: [(&str, &str, &str); 3] = [
    ("mi", "mi_bits", "I (bits)"),
    ("correlation", "correlation_rms", "C (RMS correlation)"),
    ("mean_period", "mean_period", "mean period (steps)"),
];

pub fn is_pareto(spec: &Value) -> bool {
    spec["mode"].as_str() == Some("pareto")
}

pub fn figure(data: &JobData, info: PlotInfo) -> Figure {
    match info.name {
        "fitness" => fitness(data, info),
        "pareto" => pareto(data, info),
        "best_weights" => best_weights(data, info),
        _ => rook_score(data, info),
    }
}

/// The spec's objectives as (metric name, axis label), in the spec's order.
fn objectives(spec: &Value) -> Vec<(&'static str, &'static str)> {
    let listed: Vec<&str> = spec["objectives"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["name"].as_str())
        .collect();
    let listed = if listed.is_empty() {
        vec!["mi"]
    } else {
        listed
    };
    listed
        .iter()
        .filter_map(|name| OBJECTIVES.iter().find(|o| o.0 == *name))
        .map(|o| (o.1, o.2))
        .collect()
}

fn generations_note(data: &JobData) -> String {
    let last = data.metrics.last().map_or(0, |m| m.0);
    match data.spec["generations"].as_i64() {
        Some(total) if data.result.is_none() => format!("generation {last} of {total} so far"),
        _ => format!("{last} generations"),
    }
}

fn fitness(data: &JobData, info: PlotInfo) -> Figure {
    if data.metrics.is_empty() {
        return waiting(data, info, "the first generation");
    }
    let mut panels = Vec::new();
    // The spec's objectives first, then any other objective the rows carry.
    let mut names = objectives(data.spec);
    for o in OBJECTIVES {
        if !names.iter().any(|n| n.0 == o.1) && has_column(data.metrics, &format!("best_{}", o.1)) {
            names.push((o.1, o.2));
        }
    }
    let optimum = nrooks_optimum(data.spec);
    for (name, label) in names {
        let best = column(data.metrics, &format!("best_{name}"));
        let mean = column(data.metrics, &format!("mean_{name}"));
        let std = column(data.metrics, &format!("std_{name}"));
        let band = mean
            .iter()
            .zip(&std)
            .map(|(&(x, m), &(_, s))| (x, m - s, m + s))
            .collect();
        let first = best.first().map_or(0.0, |p| p.0);
        let last = best.last().map_or(0.0, |p| p.0);
        let mut lines = vec![
            Line {
                label: "population mean".into(),
                points: mean,
                dashed: false,
            },
            Line {
                label: "best".into(),
                points: best,
                dashed: false,
            },
        ];
        if let (Some((q, i_star)), "mi") = (optimum, name) {
            lines.push(Line {
                label: format!("N-rooks optimum N·(1 − h₂(σ(−q))) = {i_star:.4}, q = {q:.3}"),
                points: vec![(first, i_star), (last.max(first + 1.0), i_star)],
                dashed: true,
            });
        }
        panels.push(LinePanel {
            y_label: label.into(),
            lines,
            band: Some(Band {
                label: "mean ± std".into(),
                points: band,
            }),
            y_range: None,
        });
    }
    Figure::Lines(LineFigure {
        title: info.title.into(),
        subtitle: Some(generations_note(data)),
        x_label: "generation".into(),
        panels,
    })
}

/// The known optimum of I under a Frobenius budget B (SCIENCE.md A5–A6): the N-rooks matrix
/// with q = B/√N (its norm is q·√N), I* = N·(1 − h2(σ(−q))). Only where that closed form holds:
/// symmetric input and no evolved bias. `(q, I*)`.
fn nrooks_optimum(spec: &Value) -> Option<(f64, f64)> {
    let n = spec["n"].as_f64()?;
    let constraint = &spec["constraint"];
    if constraint["type"].as_str() != Some("frobenius")
        || spec["input"].as_str().is_some_and(|i| i != "symmetric")
        || spec["evolve_bias"].as_bool() == Some(true)
    {
        return None;
    }
    let q = num(&constraint["value"])? / n.sqrt();
    Some((q, crate::engine::flux::network::nrooks_mi_bits(n, q)))
}

/// The population of the latest checkpoint (`{state, elapsed_ms}`), when it can be read.
fn checkpoint_state(data: &JobData) -> Option<EvolutionState> {
    let state = &data.checkpoint?["state"];
    EvolutionState::deserialize(state).ok()
}

fn pareto(data: &JobData, info: PlotInfo) -> Figure {
    let names = objectives(data.spec);
    let (Some(x), Some(y)) = (names.first(), names.get(1)) else {
        return unavailable(info, "a Pareto front needs two objectives");
    };
    let (points, note) = if let Some(result) = data.result {
        let front = result["pareto_front"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let pts = front
            .iter()
            .map(|m| Point {
                x: num(&m["objectives"][x.0]).unwrap_or(f64::NAN),
                y: num(&m["objectives"][y.0]).unwrap_or(f64::NAN),
                group: None,
            })
            .collect::<Vec<_>>();
        let g = num(&result["generations_run"]).unwrap_or(f64::NAN);
        (pts, format!("generation {g}"))
    } else if let Some(state) = checkpoint_state(data) {
        let pts = state
            .pareto_front
            .iter()
            .flatten()
            .map(|i| {
                let v = |name: &str| match name {
                    "mi_bits" => i.objectives.mi_bits,
                    "correlation_rms" => i.objectives.correlation_rms,
                    _ => i.objectives.mean_period,
                };
                Point {
                    x: v(x.0).unwrap_or(f64::NAN),
                    y: v(y.0).unwrap_or(f64::NAN),
                    group: None,
                }
            })
            .collect();
        (
            pts,
            format!("generation {} (latest checkpoint)", state.generation),
        )
    } else {
        return waiting(data, info, "the first checkpoint");
    };
    let extra = if names.len() > 2 {
        "; first two objectives shown"
    } else {
        ""
    };
    Figure::Scatter(ScatterFigure {
        title: info.title.into(),
        subtitle: Some(format!(
            "{} non-dominated genomes, {note}{extra}",
            points.len()
        )),
        x_label: x.1.into(),
        y_label: y.1.into(),
        points_label: "first front".into(),
        points,
        group_label: None,
        curves: Vec::new(),
        fit_to_points: true,
    })
}

fn best_weights(data: &JobData, info: PlotInfo) -> Figure {
    let (weights, note) = if let Some(result) = data.result {
        let best = &result["best"];
        let rook =
            num(&best["rook_score"]).map_or(String::new(), |r| format!(", rook score {r:.3}"));
        let g = num(&result["generations_run"]).unwrap_or(f64::NAN);
        (matrix(&best["weights"]), format!("generation {g}{rook}"))
    } else if let Some(state) = checkpoint_state(data) {
        let best = evolve::best(&state);
        let n = best.genome.n();
        let w = best
            .genome
            .weights
            .chunks(n.max(1))
            .map(<[f64]>::to_vec)
            .collect();
        let rook = evolve::rook_score(&best.genome.weights, n);
        (
            Some(w),
            format!(
                "generation {} (latest checkpoint), rook score {rook:.3}",
                state.generation
            ),
        )
    } else {
        return waiting(data, info, "the first checkpoint");
    };
    match weights {
        Some(values) => Figure::Heatmap(HeatmapFigure {
            title: info.title.into(),
            subtitle: Some(format!("N = {}, {note}", values.len())),
            x_label: "source neuron j".into(),
            y_label: "target neuron i".into(),
            bar_label: "weight Wᵢⱼ (j → i)".into(),
            values,
            map: ColourMap::Diverging,
            annotate: false,
        }),
        None => unavailable(info, "the result holds no weight matrix"),
    }
}

fn rook_score(data: &JobData, info: PlotInfo) -> Figure {
    if data.metrics.is_empty() {
        return waiting(data, info, "the first generation");
    }
    Figure::Lines(LineFigure {
        title: info.title.into(),
        subtitle: Some(format!("{}; 1 = an N-rooks matrix", generations_note(data))),
        x_label: "generation".into(),
        panels: vec![LinePanel {
            y_label: "rook score".into(),
            lines: vec![Line {
                label: "best genome".into(),
                points: column(data.metrics, "best_rook_score"),
                dashed: false,
            }],
            band: None,
            y_range: Some((0.0, 1.05)),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobKind;
    use crate::plots::sources::figure as build;
    use crate::plots::testing::assert_svg;
    use crate::plots::{Size, render};
    use serde_json::json;

    fn rows() -> Vec<(i64, Value)> {
        (0..5)
            .map(|g| {
                let g = g as f64;
                (g as i64, json!({"best_mi_bits": 1.0 + g / 10.0, "mean_mi_bits": 0.5 + g / 10.0,
                                  "std_mi_bits": 0.1, "best_mean_period": 2.0, "mean_mean_period": 1.5,
                                  "std_mean_period": null, "best_rook_score": 0.5 + g / 10.0}))
            })
            .collect()
    }

    /// N = 10 under the budget ‖W‖_F = 2·√10 has q = 2: I* = 4.72935 bits (SCIENCE.md).
    #[test]
    fn the_nrooks_optimum_follows_the_budget() {
        let spec =
            json!({"n": 10, "constraint": {"type": "frobenius", "value": 2.0 * 10f64.sqrt()}});
        let (q, i) = nrooks_optimum(&spec).unwrap();
        assert!(
            (q - 2.0).abs() < 1e-12 && (i - 4.72935).abs() < 1e-5,
            "{q} {i}"
        );
        for other in [
            json!({"n": 10, "constraint": {"type": "box", "bound": 1}}),
            json!({"n": 10, "constraint": {"type": "frobenius", "value": 6}, "input": "binary"}),
        ] {
            assert!(nrooks_optimum(&other).is_none(), "{other}");
        }
    }

    #[test]
    fn fitness_has_a_panel_per_objective() {
        let spec = json!({"mode": "pareto", "generations": 10,
                          "objectives": [{"name": "mi"}, {"name": "mean_period"}]});
        let metrics = rows();
        let d = JobData {
            kind: JobKind::Evolution,
            spec: &spec,
            status: "running",
            result: None,
            metrics: &metrics,
            checkpoint: None,
            network: 0,
        };
        let Some(Figure::Lines(f)) = build(&d, "fitness") else {
            panic!()
        };
        crate::plots::testing::preview("evolution_fitness", &Figure::Lines(f.clone()));
        crate::plots::testing::preview("evolution_rook_score", &build(&d, "rook_score").unwrap());
        crate::plots::testing::preview("evolution_waiting", &build(&d, "best_weights").unwrap());
        assert_eq!(f.panels.len(), 2);
        assert!(
            f.panels[1].band.as_ref().unwrap().points[0].1.is_nan(),
            "a null std is missing"
        );
        let svg = render(&Figure::Lines(f), Size::DEFAULT).unwrap();
        assert_svg(
            &svg,
            &[
                PLOTS[0].title,
                "generation",
                "I (bits)",
                "mean period (steps)",
                "best",
                "mean ± std",
                "generation 4 of 10",
            ],
        );
        let svg = render(&build(&d, "rook_score").unwrap(), Size::DEFAULT).unwrap();
        assert_svg(&svg, &[PLOTS[3].title, "rook score"]);
        // No checkpoint yet: the genome plots wait.
        for name in ["pareto", "best_weights"] {
            let Some(Figure::Empty { message, .. }) = build(&d, name) else {
                panic!()
            };
            assert!(message.contains("waiting for the first checkpoint"));
        }
    }

    #[test]
    fn finished_job_reads_its_result() {
        let spec =
            json!({"mode": "pareto", "objectives": [{"name": "mi"}, {"name": "correlation"}]});
        let result = json!({
            "best": {"weights": [[0.0, 1.0], [-1.0, 0.0]], "rook_score": 1.0},
            "pareto_front": [{"objectives": {"mi_bits": 1.0, "correlation_rms": 0.3}},
                             {"objectives": {"mi_bits": 0.5, "correlation_rms": null}}],
            "generations_run": 30
        });
        let metrics = rows();
        let d = JobData {
            kind: JobKind::Evolution,
            spec: &spec,
            status: "succeeded",
            result: Some(&result),
            metrics: &metrics,
            checkpoint: None,
            network: 0,
        };
        let Some(Figure::Scatter(s)) = build(&d, "pareto") else {
            panic!()
        };
        crate::plots::testing::preview("evolution_pareto", &Figure::Scatter(s.clone()));
        crate::plots::testing::preview(
            "evolution_best_weights",
            &build(&d, "best_weights").unwrap(),
        );
        assert_eq!(
            s.points[0],
            Point {
                x: 1.0,
                y: 0.3,
                group: None
            }
        );
        let svg = render(&Figure::Scatter(s), Size::DEFAULT).unwrap();
        assert_svg(
            &svg,
            &[
                PLOTS[1].title,
                "I (bits)",
                "C (RMS correlation)",
                "first front",
            ],
        );
        let svg = render(&build(&d, "best_weights").unwrap(), Size::DEFAULT).unwrap();
        assert_svg(
            &svg,
            &[PLOTS[2].title, "rook score 1.000", "source neuron j"],
        );
    }

    #[test]
    fn weighted_mode_has_no_pareto_plot_and_queued_waits() {
        let spec = json!({"mode": "weighted"});
        let d = JobData {
            kind: JobKind::Evolution,
            spec: &spec,
            status: "queued",
            result: None,
            metrics: &[],
            checkpoint: None,
            network: 0,
        };
        assert!(build(&d, "pareto").is_none());
        let Some(Figure::Empty { message, .. }) = build(&d, "fitness") else {
            panic!()
        };
        assert_eq!(message, "no data yet — waiting for the first generation");
    }
}
