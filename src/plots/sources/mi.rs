//! Plots of `mi` jobs. Networks come from the result, else from the latest checkpoint (which
//! holds the finished network analyses); the I–C scatter of a running job reads the metric rows
//! (one per finished network, more recent than the checkpoint).

use std::f64::consts::LN_2;

use serde_json::Value;

use super::{JobData, PlotInfo, matrix, num, plot, unavailable, waiting};
use crate::jobs::mi::sweep::mean_sd;
use crate::plots::histogram::integer_bins_shared;
use crate::plots::style::ColourMap;
use crate::plots::{
    Band, Figure, HeatmapFigure, HistogramFigure, Line, LineFigure, LinePanel, Point, ScatterFigure,
};

pub const PLOTS: [PlotInfo; 5] = [
    plot("sweep", "I and C against the swept parameter"),
    plot("ic_scatter", "Information flux I versus correlation C"),
    plot("weights", "Weight matrix of one network"),
    plot(
        "attractor_periods",
        "Attractor periods (deterministic limit)",
    ),
    plot("correlation", "Correlation matrix of one network"),
];

/// The plots that draw the one network [`JobData::network`] chooses.
pub const PER_NETWORK: [&str; 2] = ["weights", "correlation"];

/// Most distinct network sizes that get their own weak-coupling curve.
const MAX_CURVES: usize = 3;

pub fn figure(data: &JobData, info: PlotInfo) -> Figure {
    match info.name {
        "sweep" => sweep(data, info),
        "ic_scatter" => ic_scatter(data, info),
        "weights" => weights(data, info),
        "attractor_periods" => attractor_periods(data, info),
        _ => correlation(data, info),
    }
}

/// The network results available: the result's, else the checkpoint's.
pub(super) fn networks<'a>(data: &JobData<'a>) -> &'a [Value] {
    data.result
        .or(data.checkpoint)
        .and_then(|d| d["networks"].as_array())
        .map_or(&[], Vec::as_slice)
}

fn sweep_param(spec: &Value) -> Option<&str> {
    spec["network"]["sweep"]["param"].as_str()
}

fn lag(spec: &Value) -> i64 {
    spec["correlation"]["lag"].as_i64().unwrap_or(1)
}

/// What the scatter needs of one network: (n, C, I, swept value).
type IcRow = (Option<f64>, f64, Option<f64>, Option<f64>);

fn ic_rows(data: &JobData) -> Vec<IcRow> {
    let param = sweep_param(data.spec);
    let nets = networks(data);
    let from_result = data.result.is_some() || data.metrics.len() <= nets.len();
    if from_result && !nets.is_empty() {
        nets.iter()
            .map(|net| {
                let group = param.and_then(|p| num(&net["params"][p]));
                (
                    num(&net["n"]),
                    num(&net["correlation_rms"]).unwrap_or(f64::NAN),
                    num(&net["mi_bits"]),
                    group,
                )
            })
            .collect()
    } else {
        data.metrics
            .iter()
            .map(|(_, row)| {
                let group = param.and_then(|p| num(&row[p]));
                (
                    num(&row["n"]),
                    num(&row["correlation_rms"]).unwrap_or(f64::NAN),
                    num(&row["mi_bits"]),
                    group,
                )
            })
            .collect()
    }
}

fn ic_scatter(data: &JobData, info: PlotInfo) -> Figure {
    let rows = ic_rows(data);
    if rows.is_empty() {
        return waiting(data, info, "the first network to finish");
    }
    let points: Vec<Point> = rows
        .iter()
        .filter_map(|&(_, c, i, group)| i.map(|y| Point { x: c, y, group }))
        .collect();
    let withheld = rows.len() - points.len();
    if points.is_empty() {
        return unavailable(
            info,
            format!(
                "none of the {} networks has a reliable I (unconverged or undersampled)",
                rows.len()
            ),
        );
    }
    let mut sizes: Vec<u64> = rows.iter().filter_map(|r| r.0).map(|n| n as u64).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let c_max = rows
        .iter()
        .map(|r| r.1)
        .filter(|c| c.is_finite())
        .fold(0.0, f64::max);
    let curves = sizes
        .iter()
        .take(MAX_CURVES)
        .map(|&n| {
            let n = n as f64;
            let label = if sizes.len() == 1 {
                "weak coupling N²C²/(2 ln 2)".to_string()
            } else {
                format!("weak coupling, N = {n}")
            };
            Line {
                label,
                points: (0..=200)
                    .map(|k| {
                        let c = c_max * 1.1 * f64::from(k) / 200.0;
                        (c, n * n * c * c / (2.0 * LN_2))
                    })
                    .collect(),
                dashed: true,
            }
        })
        .collect();
    let mut subtitle = format!(
        "{} network{}",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    match sizes.as_slice() {
        [n] => subtitle.push_str(&format!(", N = {n}")),
        [] => {}
        many => subtitle.push_str(&format!(", N = {}…{}", many[0], many[many.len() - 1])),
    }
    if withheld > 0 {
        subtitle.push_str(&format!("; {withheld} without a reliable I not shown"));
    }
    if data.result.is_none() {
        subtitle.push_str(" (so far)");
    }
    Figure::Scatter(ScatterFigure {
        title: info.title.into(),
        subtitle: Some(subtitle),
        x_label: format!("C (RMS lag-{} Pearson correlation)", lag(data.spec)),
        y_label: "I (bits)".into(),
        points_label: "networks".into(),
        points,
        group_label: sweep_param(data.spec).map(str::to_string),
        curves,
        fit_to_points: true,
    })
}

/// True when the plot list of this spec includes the sweep plot.
pub fn is_sweep(spec: &Value) -> bool {
    sweep_param(spec).is_some()
}

/// Per swept value (in the order first seen): (value, I values, C values), from the networks
/// finished so far, in the result's order (so the means equal `summary.sweep`'s).
fn sweep_groups(data: &JobData, param: &str) -> Vec<(f64, Vec<f64>, Vec<f64>)> {
    let mut groups: Vec<(f64, Vec<f64>, Vec<f64>)> = Vec::new();
    for net in networks(data) {
        let Some(value) = num(&net["params"][param]) else {
            continue;
        };
        let k = match groups.iter().position(|g| g.0 == value) {
            Some(k) => k,
            None => {
                groups.push((value, Vec::new(), Vec::new()));
                groups.len() - 1
            }
        };
        if let Some(i) = num(&net["mi_bits"]) {
            groups[k].1.push(i);
        }
        if let Some(c) = num(&net["correlation_rms"]) {
            groups[k].2.push(c);
        }
    }
    groups
}

/// Mean line and ± s.d. band of one quantity per swept value.
fn mean_panel(y_label: &str, groups: &[(f64, Vec<f64>)]) -> LinePanel {
    let stats: Vec<(f64, Option<f64>, Option<f64>)> = groups
        .iter()
        .map(|(x, v)| {
            let (m, sd) = mean_sd(v);
            (*x, m, sd)
        })
        .collect();
    let points = stats
        .iter()
        .map(|&(x, m, _)| (x, m.unwrap_or(f64::NAN)))
        .collect();
    let band = stats
        .iter()
        .filter_map(|&(x, m, sd)| Some((x, m? - sd?, m? + sd?)))
        .collect::<Vec<_>>();
    LinePanel {
        y_label: y_label.into(),
        lines: vec![Line {
            label: "mean over replicates".into(),
            points,
            dashed: false,
        }],
        band: (!band.is_empty()).then(|| Band {
            label: "± 1 s.d.".into(),
            points: band,
        }),
        y_range: None,
    }
}

/// The closed form I = N·(1 − h2(σ(−q))) of an N-rooks sweep over q, where it applies
/// (symmetric input, no bias, no input noise: SCIENCE.md A5).
fn nrooks_curve(spec: &Value, param: &str, lo: f64, hi: f64) -> Option<Line> {
    let net = &spec["network"];
    let n = net["nrooks"]["n"].as_f64()?;
    let symmetric = net["input"].as_str().is_none_or(|i| i == "symmetric");
    let noiseless = num(&net["noise"]["std"]).is_none_or(|s| s == 0.0);
    if param != "q" || !symmetric || !noiseless || !net["bias"].is_null() {
        return None;
    }
    let points = (0..=200)
        .map(|k| {
            let q = lo + (hi - lo) * f64::from(k) / 200.0;
            (q, crate::engine::flux::network::nrooks_mi_bits(n, q))
        })
        .collect();
    Some(Line {
        label: "N-rooks closed form N·(1 − h₂(σ(−q)))".into(),
        points,
        dashed: true,
    })
}

fn sweep(data: &JobData, info: PlotInfo) -> Figure {
    let Some(param) = sweep_param(data.spec) else {
        return unavailable(info, "this job does not sweep a parameter");
    };
    let groups = sweep_groups(data, param);
    if groups.is_empty() {
        return waiting(data, info, "the first network to finish");
    }
    let replicates: Vec<usize> = groups.iter().map(|g| g.2.len()).collect();
    let (lo, hi) = groups
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), g| {
            (lo.min(g.0), hi.max(g.0))
        });
    let i_groups: Vec<(f64, Vec<f64>)> = groups.iter().map(|g| (g.0, g.1.clone())).collect();
    let c_groups: Vec<(f64, Vec<f64>)> = groups.iter().map(|g| (g.0, g.2.clone())).collect();
    let mut i_panel = mean_panel("I (bits)", &i_groups);
    if let Some(curve) = nrooks_curve(data.spec, param, lo, hi) {
        i_panel.lines.push(curve);
    }
    let c_panel = mean_panel(
        &format!("C (RMS lag-{} correlation)", lag(data.spec)),
        &c_groups,
    );
    let min = replicates.iter().min().copied().unwrap_or(0);
    let max = replicates.iter().max().copied().unwrap_or(0);
    let mut subtitle = format!(
        "{} values of {param}; {} replicate{} per value; mean ± 1 s.d.",
        groups.len(),
        if min == max {
            min.to_string()
        } else {
            format!("{min}–{max}")
        },
        if max == 1 { "" } else { "s" }
    );
    let without: usize = groups.iter().map(|g| g.2.len() - g.1.len()).sum();
    if without > 0 {
        subtitle.push_str(&format!(
            "; {without} network(s) without a reliable I left out of I"
        ));
    }
    if data.result.is_none() {
        subtitle.push_str(" (so far)");
    }
    Figure::Lines(LineFigure {
        title: info.title.into(),
        subtitle: Some(subtitle),
        x_label: param.into(),
        panels: vec![i_panel, c_panel],
    })
}

/// The chosen network's matrix under `key`; for a running job with an explicit matrix in its
/// spec, the weights of network 0 are known before any analysis finishes.
fn chosen_matrix(data: &JobData, key: &str) -> Option<Vec<Vec<f64>>> {
    if let Some(net) = networks(data).get(data.network) {
        return matrix(&net[key]);
    }
    (key == "weights" && data.network == 0)
        .then(|| matrix(&data.spec["network"]["weights"]))
        .flatten()
}

fn omitted(data: &JobData) -> bool {
    networks(data)
        .get(data.network)
        .is_some_and(|n| n["matrices_omitted"].as_bool() == Some(true))
}

/// Why there is no matrix to draw: the chosen network is not (yet) among those finished.
fn missing_network(data: &JobData, info: PlotInfo) -> Figure {
    let count = networks(data).len();
    if data.network == 0 || count == 0 {
        return waiting(data, info, "the first network to finish");
    }
    unavailable(
        info,
        format!(
            "network {} is not among the {count} network{} (0 to {}){}",
            data.network,
            if count == 1 { "" } else { "s" },
            count - 1,
            if data.result.is_none() {
                " finished so far"
            } else {
                ""
            }
        ),
    )
}

fn heatmap(
    info: PlotInfo,
    subtitle: String,
    values: Vec<Vec<f64>>,
    x: &str,
    y: &str,
    bar: &str,
) -> Figure {
    Figure::Heatmap(HeatmapFigure {
        title: info.title.into(),
        subtitle: Some(subtitle),
        x_label: x.into(),
        y_label: y.into(),
        bar_label: bar.into(),
        values,
        map: ColourMap::Diverging,
        annotate: false,
    })
}

/// Which network a heat map shows: its index among the networks, its swept value and
/// replicate (sweeps and ensembles), and N.
fn describe_chosen(data: &JobData, n: usize) -> String {
    let nets = networks(data);
    let Some(net) = nets.get(data.network) else {
        return format!("N = {n}, from the spec (no network finished yet)");
    };
    let mut s = format!("network {} of {}", data.network, nets.len());
    if let Some(params) = net["params"].as_object().filter(|p| !p.is_empty()) {
        for (k, v) in params {
            let v = num(v).map_or_else(|| v.to_string(), crate::plots::style::tick);
            s.push_str(&format!(", {k} = {v}"));
        }
    }
    if net["replicate"].as_u64().is_some_and(|r| r > 0) || sweep_param(data.spec).is_some() {
        s.push_str(&format!(", replicate {}", net["replicate"]));
    }
    s.push_str(&format!(", N = {n}"));
    s
}

fn weights(data: &JobData, info: PlotInfo) -> Figure {
    if omitted(data) {
        return unavailable(
            info,
            "weight matrices above N = 256 are not stored in results",
        );
    }
    match chosen_matrix(data, "weights") {
        Some(w) => heatmap(
            info,
            describe_chosen(data, w.len()),
            w,
            "source neuron j",
            "target neuron i",
            "weight Wᵢⱼ (j → i)",
        ),
        None => missing_network(data, info),
    }
}

fn correlation(data: &JobData, info: PlotInfo) -> Figure {
    if omitted(data) {
        return unavailable(
            info,
            "correlation matrices above N = 256 are not stored in results",
        );
    }
    let lag = lag(data.spec);
    match chosen_matrix(data, "correlation_matrix") {
        Some(c) => heatmap(
            info,
            format!(
                "{}; ρᵢⱼ = corr(xᵢ(t), xⱼ(t+{lag}))",
                describe_chosen(data, c.len())
            ),
            c,
            &format!("neuron j at t+{lag}"),
            "neuron i at t",
            "Pearson correlation ρᵢⱼ",
        ),
        None => missing_network(data, info),
    }
}

/// Attractor periods, one group per swept value (a single group without a sweep). Each network
/// is in exactly one group, so each of its attractors is counted once. (Pooling the values
/// would count replicate r's attractors once per value when the sweep leaves the deterministic
/// limit unchanged: a sweep over `std` with zero mean and no bias only scales one matrix per
/// replicate — common random numbers, `jobs::mi::build` — and the sign of each z_i with it.)
fn attractor_periods(data: &JobData, info: PlotInfo) -> Figure {
    if data.spec["attractors"] == Value::Bool(false) {
        return unavailable(
            info,
            "the attractor search is off for this job (spec.attractors)",
        );
    }
    let nets = networks(data);
    if nets.is_empty() {
        return waiting(data, info, "the first network to finish");
    }
    let param = sweep_param(data.spec);
    // (swept value, periods, networks searched), values in the order first seen.
    let mut groups: Vec<(Option<f64>, Vec<u64>, usize)> = Vec::new();
    let mut truncated = false;
    for net in nets {
        let a = &net["attractors"];
        if a.is_null() {
            continue;
        }
        let value = param.and_then(|p| num(&net["params"][p]));
        let k = match groups.iter().position(|g| g.0 == value) {
            Some(k) => k,
            None => {
                groups.push((value, Vec::new(), 0));
                groups.len() - 1
            }
        };
        groups[k].2 += 1;
        truncated |= a["list_truncated"].as_bool() == Some(true);
        groups[k].1.extend(
            a["list"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["period"].as_u64()),
        );
    }
    let with_search: usize = groups.iter().map(|g| g.2).sum();
    if with_search == 0 {
        return unavailable(info, "no attractor search was run for these networks");
    }
    let attractors: usize = groups.iter().map(|g| g.1.len()).sum();
    let mut subtitle = format!(
        "{attractors} attractors of {with_search} network{}",
        if with_search == 1 { "" } else { "s" }
    );
    if let Some(p) = param {
        subtitle.push_str(&format!("; one group per value of {p}"));
    }
    if truncated {
        subtitle.push_str("; long lists cut to their largest basins");
    }
    if data.result.is_none() {
        subtitle.push_str(" (so far)");
    }
    let labelled: Vec<(String, Vec<u64>)> = groups
        .into_iter()
        .map(|(value, periods, searched)| {
            let label = match (param, value) {
                (Some(p), Some(v)) => format!(
                    "{p} = {} ({searched} network{})",
                    crate::plots::style::tick(v),
                    if searched == 1 { "" } else { "s" }
                ),
                (Some(p), None) => format!("{p} unknown"),
                (None, _) => "periods".to_string(),
            };
            (label, periods)
        })
        .collect();
    Figure::Histogram(HistogramFigure {
        title: info.title.into(),
        subtitle: Some(subtitle),
        x_label: "period (time steps)".into(),
        y_label: "attractors".into(),
        groups: integer_bins_shared(&labelled),
        grouped: true,
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

    fn network(std: f64, replicate: u64, mi: Value) -> Value {
        json!({
            "n": 2, "params": {"std": std}, "replicate": replicate, "method": "exact",
            "weights": [[0.0, 2.0], [-1.5, 0.3]], "mi_bits": mi, "correlation_rms": 0.1 * std,
            "correlation_matrix": [[0.5, -0.2], [0.1, null]], "matrices_omitted": false,
            "attractors": {"count": 2, "list": [{"period": 1, "basin": 2}, {"period": 2, "basin": 2}],
                           "list_truncated": false}
        })
    }

    fn spec() -> Value {
        json!({"network": {"ensemble": {"n": 2}, "sweep": {"param": "std", "values": [0.5, 1.0]}},
               "correlation": {"lag": 1}, "attractors": true})
    }

    fn data<'a>(
        spec: &'a Value,
        status: &'a str,
        result: Option<&'a Value>,
        metrics: &'a [(i64, Value)],
        checkpoint: Option<&'a Value>,
    ) -> JobData<'a> {
        JobData {
            kind: JobKind::Mi,
            spec,
            status,
            result,
            metrics,
            checkpoint,
            network: 0,
        }
    }

    /// `network` picks which network the heat maps draw; the subtitle names its index, swept
    /// value, replicate and N; an index past the networks says so instead of drawing another.
    #[test]
    fn heat_maps_draw_the_chosen_network() {
        let spec = spec();
        let mut second = network(1.0, 1, json!(0.05));
        second["weights"] = json!([[0.0, -4.0], [4.0, 0.0]]);
        second["correlation_matrix"] = json!([[1.0, 0.9], [0.8, 1.0]]);
        let result = json!({"networks": [network(0.5, 0, json!(0.01)), second]});
        let mut d = data(&spec, "succeeded", Some(&result), &[], None);
        let Some(Figure::Heatmap(first)) = build(&d, "weights") else {
            panic!()
        };
        assert_eq!(first.values, vec![vec![0.0, 2.0], vec![-1.5, 0.3]]);
        assert_eq!(
            first.subtitle.as_deref(),
            Some("network 0 of 2, std = 0.5, replicate 0, N = 2")
        );
        d.network = 1;
        let Some(Figure::Heatmap(w)) = build(&d, "weights") else {
            panic!()
        };
        assert_eq!(w.values, vec![vec![0.0, -4.0], vec![4.0, 0.0]]);
        // Subscripts are real subscript characters (the embedded font has them, so PNG and
        // PDF match the SVG), never the TeX-like "W_ij".
        let svg = render(&Figure::Heatmap(w.clone()), Size::DEFAULT).unwrap();
        assert_svg(&svg, &["weight Wᵢⱼ (j → i)"]);
        assert!(!svg.contains("W_ij") && !svg.contains("_ij"));
        assert_eq!(
            w.subtitle.as_deref(),
            Some("network 1 of 2, std = 1, replicate 1, N = 2")
        );
        let Some(Figure::Heatmap(c)) = build(&d, "correlation") else {
            panic!()
        };
        assert_eq!(c.values[0][1], 0.9);
        let svg = render(&Figure::Heatmap(c.clone()), Size::DEFAULT).unwrap();
        assert_svg(
            &svg,
            &["Pearson correlation ρᵢⱼ", "ρᵢⱼ = corr(xᵢ(t), xⱼ(t+1))"],
        );
        assert!(!svg.contains("_ij") && !svg.contains("x_i"));
        assert!(c.subtitle.unwrap().starts_with("network 1 of 2, std = 1"));
        assert_eq!(super::super::network_count(&d), 2);
        assert!(super::super::uses_network(JobKind::Mi, "weights"));
        assert!(!super::super::uses_network(JobKind::Mi, "ic_scatter"));
        d.network = 2;
        for name in PER_NETWORK {
            let Some(Figure::Empty { message, .. }) = build(&d, name) else {
                panic!("{name}")
            };
            assert_eq!(message, "network 2 is not among the 2 networks (0 to 1)");
        }
    }

    /// The sweep plot's points are the means of each value's replicates; the band is ± 1 s.d.;
    /// a null I is left out of I but not of C.
    #[test]
    fn sweep_plot_shows_mean_and_sd_per_value() {
        let spec = spec();
        let result = json!({"networks": [network(0.5, 0, json!(0.01)), network(0.5, 1, json!(0.03)),
                                          network(1.0, 0, json!(null)), network(1.0, 1, json!(0.05))]});
        let d = data(&spec, "succeeded", Some(&result), &[], None);
        let Some(Figure::Lines(f)) = build(&d, "sweep") else {
            panic!()
        };
        crate::plots::testing::assert_legend_outside(&Figure::Lines(f.clone()), Size::DEFAULT);
        let i = &f.panels[0];
        assert_eq!(i.lines[0].points, vec![(0.5, 0.02), (1.0, 0.05)]);
        let band = &i.band.as_ref().unwrap().points;
        let sd = (2.0f64 * 0.01 * 0.01).sqrt();
        assert_eq!(band.len(), 1, "one replicate with I at std 1: no s.d.");
        assert!((band[0].1 - (0.02 - sd)).abs() < 1e-15 && (band[0].2 - (0.02 + sd)).abs() < 1e-15);
        let c = &f.panels[1].lines[0].points;
        assert!(
            (c[1].1 - 0.1).abs() < 1e-15,
            "both networks count for C: {c:?}"
        );
        assert!(
            f.subtitle
                .as_deref()
                .unwrap()
                .contains("1 network(s) without a reliable I")
        );
        let plain = json!({"network": {"ensemble": {"n": 2}}});
        assert!(
            build(
                &data(&plain, "succeeded", Some(&result), &[], None),
                "sweep"
            )
            .is_none()
        );
    }

    /// An N-rooks sweep over q carries the closed form N·(1 − h2(σ(−q))) (SCIENCE.md check
    /// values: N = 10, q = 2 → 4.72935 bits).
    #[test]
    fn nrooks_sweep_carries_the_closed_form() {
        let spec = json!({"network": {"nrooks": {"n": 10, "q": 1.0}, "sweep": {"param": "q", "values": [2.0, 4.0]}}});
        let curve = nrooks_curve(&spec, "q", 2.0, 4.0).unwrap();
        assert!(
            (curve.points[0].1 - 4.72935).abs() < 1e-5,
            "{:?}",
            curve.points[0]
        );
        assert!(
            (curve.points[200].1 - 8.70021).abs() < 1e-5,
            "{:?}",
            curve.points[200]
        );
        let noisy = json!({"network": {"nrooks": {"n": 10, "q": 1.0}, "noise": {"std": 0.5}}});
        assert!(nrooks_curve(&noisy, "q", 2.0, 4.0).is_none());
        assert!(nrooks_curve(&spec, "noise_std", 2.0, 4.0).is_none());
    }

    #[test]
    fn finished_job_plots_every_network() {
        let spec = spec();
        let result = json!({"networks": [network(0.5, 0, json!(0.01)), network(1.0, 0, json!(null)),
                                          network(1.0, 1, json!(0.05))]});
        let d = data(&spec, "succeeded", Some(&result), &[], None);
        let Some(Figure::Scatter(s)) = build(&d, "ic_scatter") else {
            panic!()
        };
        assert_eq!(s.points.len(), 2, "a null I is skipped, not drawn as 0");
        assert_eq!(s.points[1].group, Some(1.0));
        let curve = &s.curves[0];
        let (c, i) = curve.points[100];
        assert!(
            (i - 4.0 * c * c / (2.0 * LN_2)).abs() < 1e-12,
            "I ≈ N²C²/(2 ln 2) with N = 2"
        );
        let svg = render(&Figure::Scatter(s), Size::DEFAULT).unwrap();
        assert_svg(
            &svg,
            &[
                PLOTS[1].title,
                "I (bits)",
                "C (RMS lag-1 Pearson correlation)",
                "std = 0.5",
                "1 without a reliable I",
            ],
        );
        for name in [
            "sweep",
            "ic_scatter",
            "weights",
            "attractor_periods",
            "correlation",
        ] {
            let f = build(&d, name).unwrap();
            crate::plots::testing::preview(&format!("mi_{name}"), &f);
            let svg = render(&f, Size::DEFAULT).unwrap();
            assert_svg(
                &svg,
                &[PLOTS.iter().find(|p| p.name == name).unwrap().title],
            );
        }
        let Some(Figure::Histogram(h)) = build(&d, "attractor_periods") else {
            panic!()
        };
        let sums: Vec<f64> = h.groups.iter().map(|g| g.counts.iter().sum()).collect();
        assert_eq!(sums, vec![2.0, 4.0], "one group per std, each network once");
    }

    /// A two-value sweep whose networks have known periods: one group per value, each
    /// network's attractors counted once, on shared bins; a plain ensemble has one group.
    #[test]
    fn attractor_periods_are_grouped_by_sweep_value() {
        let with_periods = |std: f64, replicate: u64, periods: &[u64]| {
            let mut net = network(std, replicate, json!(0.01));
            let list: Vec<Value> = periods
                .iter()
                .map(|p| json!({"period": p, "basin": 1}))
                .collect();
            net["attractors"] =
                json!({"count": periods.len(), "list": list, "list_truncated": false});
            net
        };
        let spec = spec();
        let result = json!({"networks": [with_periods(0.5, 0, &[1, 2]), with_periods(0.5, 1, &[1]),
                                          with_periods(1.0, 0, &[3, 3]), with_periods(1.0, 1, &[1])]});
        let d = data(&spec, "succeeded", Some(&result), &[], None);
        let Some(Figure::Histogram(h)) = build(&d, "attractor_periods") else {
            panic!()
        };
        assert!(h.grouped);
        let labels: Vec<&str> = h.groups.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(labels, ["std = 0.5 (2 networks)", "std = 1 (2 networks)"]);
        assert_eq!(h.groups[0].edges, vec![0.5, 1.5, 2.5, 3.5]);
        assert_eq!(h.groups[0].edges, h.groups[1].edges);
        assert_eq!(h.groups[0].counts, vec![2.0, 1.0, 0.0]);
        assert_eq!(h.groups[1].counts, vec![1.0, 0.0, 2.0]);
        let subtitle = h.subtitle.as_deref().unwrap();
        assert!(subtitle.starts_with("6 attractors of 4 networks; one group per value of std"));
        let fig = Figure::Histogram(h);
        crate::plots::testing::assert_legend_outside(&fig, Size::DEFAULT);
        crate::plots::testing::preview("mi_attractor_periods_sweep", &fig);

        let plain = json!({"network": {"ensemble": {"n": 2}}, "attractors": true});
        let d = data(&plain, "succeeded", Some(&result), &[], None);
        let Some(Figure::Histogram(h)) = build(&d, "attractor_periods") else {
            panic!()
        };
        assert_eq!(h.groups.len(), 1);
        assert_eq!(h.groups[0].counts, vec![3.0, 1.0, 2.0]);
    }

    #[test]
    fn running_job_reads_metrics_and_checkpoint() {
        let spec = spec();
        let metrics = vec![
            (
                0,
                json!({"n": 2, "replicate": 0, "mi_bits": 0.02, "correlation_rms": 0.1, "std": 0.5}),
            ),
            (
                1,
                json!({"n": 2, "replicate": 1, "mi_bits": 0.03, "correlation_rms": 0.12, "std": 0.5}),
            ),
        ];
        let checkpoint = json!({"networks": [network(0.5, 0, json!(0.02))], "elapsed_ms": 5});
        let d = data(&spec, "running", None, &metrics, Some(&checkpoint));
        let Some(Figure::Scatter(s)) = build(&d, "ic_scatter") else {
            panic!()
        };
        assert_eq!(
            s.points.len(),
            2,
            "the metric rows are newer than the checkpoint"
        );
        assert!(s.subtitle.unwrap().contains("so far"));
        let Some(Figure::Heatmap(w)) = build(&d, "weights") else {
            panic!()
        };
        assert_eq!(w.values, vec![vec![0.0, 2.0], vec![-1.5, 0.3]]);
    }

    #[test]
    fn queued_job_says_it_waits() {
        let spec = spec();
        let d = data(&spec, "queued", None, &[], None);
        for p in PLOTS {
            let f = build(&d, p.name).unwrap();
            let Figure::Empty { title, message } = &f else {
                panic!("{f:?}")
            };
            assert_eq!(title, p.title);
            assert!(message.contains("no data yet"), "{message}");
            assert_svg(
                &render(&f, Size::DEFAULT).unwrap(),
                &[p.title, "no data yet"],
            );
        }
        // An explicit matrix is known before the analysis finishes.
        let spec = json!({"network": {"weights": [[0.0, 1.0], [1.0, 0.0]]}});
        let d = data(&spec, "running", None, &[], None);
        assert!(matches!(build(&d, "weights"), Some(Figure::Heatmap(_))));
        assert!(build(&d, "fitness").is_none());
    }

    #[test]
    fn large_networks_and_disabled_attractors_say_why() {
        let spec = json!({"network": {}, "attractors": false});
        let result = json!({"networks": [{"n": 300, "weights": null, "matrices_omitted": true,
                                           "correlation_rms": 0.1, "mi_bits": null, "attractors": null}]});
        let d = data(&spec, "succeeded", Some(&result), &[], None);
        let Some(Figure::Empty { message, .. }) = build(&d, "weights") else {
            panic!()
        };
        assert!(message.contains("N = 256"));
        let Some(Figure::Empty { message, .. }) = build(&d, "attractor_periods") else {
            panic!()
        };
        assert!(message.contains("off"));
        let f = build(&d, "ic_scatter").unwrap();
        assert_svg(
            &render(&f, Size::DEFAULT).unwrap(),
            &["none of the 1 networks has a reliable I"],
        );
    }
}
