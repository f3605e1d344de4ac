//! Operating modes of LIF neurons as a paired experiment (SCIENCE.md B1, issue 17): for each seed,
//! one network initialisation (the same weights and leaks) is trained on the `coincidence` and on
//! the `integration` task, once with trainable and once with frozen leaks. Reports each pair's
//! final mean leaks and accuracies with mean ± s.d. over seeds and how many pairs agree with the
//! claim "coincidence ends leakier than integration"; writes the final leak distributions of the
//! two tasks as one overlaid histogram (`docs/operating-modes-leaks.svg`).
//!
//! `cargo bench --bench operating_modes`; environment: OM_SEEDS (count, default 8), OM_EPOCHS
//! (default: the job default of the synthetic tasks), OM_INITS (comma-separated leak ranges
//! `lo-hi`, default `0-0.1,0.2-0.4`), OM_NETWORK (`synthetic` = the job defaults for a synthetic
//! task, `plain` = the job defaults for other data), OM_COINCIDENCE / OM_INTEGRATION (JSON
//! objects overriding the tasks' default settings), OM_UNITS (hidden LIF neurons), OM_SVG (output path, empty: none).
//! The Markdown goes to stdout.

use fluxlab::engine::lif::{
    LayerSpec, LifConfig, SyntheticSpec, TrainState, init_state, synthetic, train_epochs,
};
use fluxlab::jobs::lif::{default_task, synthetic_network};
use fluxlab::plots::{Bins, Figure, HistogramFigure, Size, render};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// One trained network: its final leaks (first layer) and test accuracy.
struct Outcome {
    leaks: Vec<f64>,
    accuracy: f64,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn sd(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0).max(1.0)).sqrt()
}

fn first_leaks(state: &TrainState) -> Vec<f64> {
    state.model.layers[0]
        .leak
        .iter()
        .map(|&l| l as f64)
        .collect()
}

fn config_for(task: &SyntheticSpec, seed: u64, init: (f64, f64), trainable: bool) -> LifConfig {
    let mut config = if env_or("OM_NETWORK", "synthetic") == "plain" {
        let mut plain = synthetic_network(task);
        let defaults = LifConfig::default();
        plain.readout = defaults.readout;
        plain.batch_size = defaults.batch_size;
        plain
    } else {
        synthetic_network(task)
    };
    config.seed = seed;
    if let Some(epochs) = std::env::var("OM_EPOCHS").ok().and_then(|e| e.parse().ok()) {
        config.epochs = epochs;
    }
    let units: Option<usize> = std::env::var("OM_UNITS").ok().and_then(|u| u.parse().ok());
    for layer in &mut config.layers {
        if let LayerSpec::Lif(l) = layer {
            l.leak_init = init;
            l.trainable_leak = trainable;
            l.units = units.unwrap_or(l.units);
        }
    }
    config
}

/// Trains `task` (data drawn from `seed`) from the initialisation of `seed`.
fn train(
    task: &SyntheticSpec,
    seed: u64,
    init: (f64, f64),
    trainable: bool,
) -> (Vec<f64>, Outcome) {
    let (train, test) = synthetic(task, seed).expect("valid task");
    let config = config_for(task, seed, init, trainable);
    let mut state = init_state(&config, train.features, train.classes);
    let initial = first_leaks(&state);
    let accuracy = train_epochs(&config, &mut state, &train, &test, config.epochs)
        .expect("unattended training never stops")
        .last()
        .map_or(f64::NAN, |stats| stats.test_accuracy);
    let leaks = first_leaks(&state);
    (initial, Outcome { leaks, accuracy })
}

/// The task `name` with its defaults, overridden by the JSON object in `variable` if set.
fn task(name: &str, variable: &str) -> SyntheticSpec {
    let mut spec = serde_json::to_value(default_task(name)).unwrap();
    if let Ok(text) = std::env::var(variable) {
        let overrides: serde_json::Value = serde_json::from_str(&text).expect("a JSON object");
        for (k, v) in overrides.as_object().expect("a JSON object") {
            spec[k] = v.clone();
        }
    }
    serde_json::from_value(spec).expect("a valid task")
}

fn parse_init(text: &str) -> (f64, f64) {
    let (lo, hi) = text.split_once('-').expect("leak range lo-hi");
    (lo.parse().expect("lo"), hi.parse().expect("hi"))
}

fn histogram(label: &str, values: &[f64], edges: &[f64]) -> Bins {
    let mut counts = vec![0.0; edges.len() - 1];
    for &v in values {
        let k = edges.partition_point(|&e| e <= v).clamp(1, edges.len() - 1) - 1;
        counts[k] += 1.0;
    }
    Bins {
        label: label.into(),
        edges: edges.to_vec(),
        counts,
    }
}

fn main() {
    let seeds: u64 = env_or("OM_SEEDS", "8").parse().expect("OM_SEEDS");
    let inits: Vec<(f64, f64)> = env_or("OM_INITS", "0-0.1,0.2-0.4")
        .split(',')
        .map(parse_init)
        .collect();
    let coincidence = task("coincidence", "OM_COINCIDENCE");
    let integration = task("integration", "OM_INTEGRATION");
    let sample = config_for(&coincidence, 1, inits[0], true);
    println!(
        "# Operating modes: paired experiment ({seeds} seeds, {} epochs, network `{}`)\n",
        sample.epochs,
        env_or("OM_NETWORK", "synthetic")
    );
    println!(
        "coincidence: `{}`  ",
        serde_json::to_string(&coincidence).unwrap()
    );
    println!(
        "integration: `{}`  ",
        serde_json::to_string(&integration).unwrap()
    );
    println!(
        "network: `{}`\n",
        serde_json::to_string(&(&sample.layers, &sample.readout, &sample.optimizer)).unwrap()
    );
    let mut pooled: Vec<(String, Vec<f64>)> = Vec::new();
    for &init in &inits {
        println!("## Leaks initialised uniform in [{}, {}]\n", init.0, init.1);
        println!(
            "| seed | initial mean leak | coincidence: final leak | integration: final leak | \
             difference | acc. coinc. trained / frozen | acc. integ. trained / frozen |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|");
        let mut rows: Vec<[f64; 7]> = Vec::new();
        let (mut all_c, mut all_i, mut all_init) = (Vec::new(), Vec::new(), Vec::new());
        for seed in 1..=seeds {
            let (init_c, c) = train(&coincidence, seed, init, true);
            let (init_i, i) = train(&integration, seed, init, true);
            assert_eq!(init_c, init_i, "a pair must start from the same leaks");
            let (_, c_frozen) = train(&coincidence, seed, init, false);
            let (_, i_frozen) = train(&integration, seed, init, false);
            let row = [
                mean(&init_c),
                mean(&c.leaks),
                mean(&i.leaks),
                mean(&c.leaks) - mean(&i.leaks),
                c.accuracy - c_frozen.accuracy,
                i.accuracy - i_frozen.accuracy,
                0.0,
            ];
            println!(
                "| {seed} | {:.3} | {:.3} | {:.3} | {:+.3} | {:.3} / {:.3} | {:.3} / {:.3} |",
                row[0],
                row[1],
                row[2],
                row[3],
                c.accuracy,
                c_frozen.accuracy,
                i.accuracy,
                i_frozen.accuracy
            );
            rows.push(row);
            all_c.extend(c.leaks);
            all_i.extend(i.leaks);
            all_init.extend(init_c);
        }
        let column = |k: usize| rows.iter().map(|r| r[k]).collect::<Vec<_>>();
        let (init_m, c_m, i_m, diff) = (column(0), column(1), column(2), column(3));
        let leakier = diff.iter().filter(|&&d| d > 0.0).count();
        let c_up = c_m.iter().zip(&init_m).filter(|(c, i)| c > i).count();
        let i_down = i_m.iter().zip(&init_m).filter(|(c, i)| c < i).count();
        println!(
            "\n- coincidence ends leakier than integration in **{leakier} of {seeds}** pairs; \
             difference {:+.3} ± {:.3} (mean ± s.d. over seeds)",
            mean(&diff),
            sd(&diff)
        );
        println!(
            "- final mean leak: coincidence {:.3} ± {:.3}, integration {:.3} ± {:.3}, \
             initial {:.3}",
            mean(&c_m),
            sd(&c_m),
            mean(&i_m),
            sd(&i_m),
            mean(&init_m)
        );
        println!(
            "- direction: coincidence raised its mean leak in {c_up} of {seeds} seeds, \
             integration lowered it in {i_down} of {seeds}"
        );
        println!(
            "- accuracy, trained minus frozen leaks: coincidence {:+.3} ± {:.3}, integration \
             {:+.3} ± {:.3}\n",
            mean(&column(4)),
            sd(&column(4)),
            mean(&column(5)),
            sd(&column(5))
        );
        let range = format!("[{}, {}]", init.0, init.1);
        pooled.push((format!("initial {range}"), all_init));
        pooled.push((format!("coincidence, from {range}"), all_c));
        pooled.push((format!("integration, from {range}"), all_i));
    }
    let path = env_or("OM_SVG", "docs/operating-modes-leaks.svg");
    if path.is_empty() {
        return;
    }
    let edges: Vec<f64> = (0..=40).map(|k| k as f64 / 40.0).collect();
    // The first initialisation's three distributions: initial, and each task's final leaks.
    let groups = pooled
        .iter()
        .take(3)
        .map(|(label, values)| histogram(label, values, &edges))
        .collect();
    let figure = Figure::Histogram(HistogramFigure {
        title: "Final leaks after training on each task (same initial leaks)".into(),
        subtitle: Some(format!(
            "all hidden neurons of {seeds} seeds; trainable leaks; `cargo bench --bench operating_modes`"
        )),
        x_label: "leak λ (fraction of potential lost per step)".into(),
        y_label: "neurons".into(),
        groups,
        grouped: false,
    });
    let svg = render(
        &figure,
        Size {
            width: 800,
            height: 450,
        },
    )
    .expect("render");
    std::fs::write(&path, svg).expect("write the SVG");
    eprintln!("wrote {path}");
}
