//! Accuracy and training speed of the LIF engine on the mnist10k split (8,000 train / 2,000 test):
//! 784-256(LIF)-10 leaky-integrator read-out, 25 steps, Adam lr 1e-3, batch 128 (SCIENCE.md Part B,
//! the targets). Runs Poisson and constant coding with the four surrogates.
//! `cargo bench --bench lif`; environment: LIF_BENCH_EPOCHS (default 10), LIF_BENCH_RUNS (comma
//! separated `coding:surrogate[:lo-hi[:reset]]`, optionally a leak initialisation range and the
//! reset mode `zero` or `subtract`,
//! default the eight pairs with leaks in [0, 0.1]), LIF_BENCH_SEEDS (comma separated, default 1),
//! LIF_BENCH_TRAIN (training samples, default 8000). Figures go to bench/results/lif.md.

use std::time::Instant;

use fluxlab::engine::control::Unattended;
use fluxlab::engine::lif::{
    Coding, Encoding, LayerSpec, LifConfig, LifSpec, Reset, Surrogate, init_state, mnist10k,
    train_epoch,
};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn coding(name: &str) -> Coding {
    match name {
        "poisson" => Coding::Poisson { rate: 1.0 },
        "constant" => Coding::Constant { gain: 1.0 },
        "latency" => Coding::Latency { x_min: 0.0 },
        other => panic!("unknown coding {other}"),
    }
}

fn surrogate(name: &str) -> Surrogate {
    match name {
        "flat" => Surrogate::Flat,
        "superspike" => Surrogate::SuperSpike,
        "sigmoid" => Surrogate::Sigmoid,
        "triangle" => Surrogate::Triangle,
        other => panic!("unknown surrogate {other}"),
    }
}

/// `lo-hi` of a run's optional third field, e.g. `0.1-0.3`.
fn leak_range(text: Option<&str>) -> (f64, f64) {
    text.map_or(LifSpec::default().leak_init, |t| {
        let (lo, hi) = t.split_once('-').expect("a leak range is lo-hi");
        (lo.parse().expect("leak lo"), hi.parse().expect("leak hi"))
    })
}

/// The benchmark network for a run `coding:surrogate[:lo-hi[:reset]]` (the optional leak
/// initialisation range and reset mode); everything else at its default.
fn config(run: &str, epochs: usize, seed: u64) -> LifConfig {
    let mut parts = run.split(':');
    let coding_name = parts.next().expect("a coding");
    let surrogate_name = parts.next().expect("runs are coding:surrogate[:lo-hi]");
    LifConfig {
        layers: vec![LayerSpec::Lif(LifSpec {
            units: 256,
            surrogate: surrogate(surrogate_name),
            leak_init: leak_range(parts.next()),
            reset: match parts.next() {
                None | Some("zero") => Reset::Zero,
                Some("subtract") => Reset::Subtract,
                Some(other) => panic!("unknown reset {other}"),
            },
            ..LifSpec::default()
        })],
        encoding: Encoding {
            coding: coding(coding_name),
            steps: 25,
        },
        epochs,
        seed,
        ..LifConfig::default()
    }
}

fn main() {
    let epochs: usize = env_or("LIF_BENCH_EPOCHS", "10")
        .parse()
        .expect("LIF_BENCH_EPOCHS");
    let n_train: usize = env_or("LIF_BENCH_TRAIN", "8000")
        .parse()
        .expect("LIF_BENCH_TRAIN");
    let default_runs = "poisson:flat,poisson:superspike,poisson:sigmoid,poisson:triangle,\
                        constant:flat,constant:superspike,constant:sigmoid,constant:triangle";
    let runs = env_or("LIF_BENCH_RUNS", default_runs);
    let seeds: Vec<u64> = env_or("LIF_BENCH_SEEDS", "1")
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("LIF_BENCH_SEEDS is a list of integers")
        })
        .collect();
    let data = mnist10k();
    let (train, test) = data.split(8000, 2000).expect("mnist10k has 10,000 samples");
    let train = train.slice(0, n_train.min(8000));
    println!(
        "rayon threads: {}; {} train / {} test samples; {epochs} epochs",
        rayon::current_num_threads(),
        train.len(),
        test.len()
    );
    let mut rows = Vec::new();
    let runs: Vec<&str> = runs
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect();
    for (run, &seed) in runs.iter().flat_map(|r| seeds.iter().map(move |s| (r, s))) {
        let config = config(run, epochs, seed);
        let (c, s) = run
            .split_once(':')
            .expect("runs are coding:surrogate[:lo-hi]");
        let mut state = init_state(&config, train.features, train.classes);
        let start = Instant::now();
        let mut speeds = Vec::new();
        for _ in 0..epochs {
            let st = train_epoch(
                &config,
                &mut state,
                &train,
                &test,
                &Unattended,
                &mut |_, _| {},
            )
            .expect("unattended training never stops");
            println!(
                "{c:8} {s:10} epoch {:2}: train loss {:.4} acc {:.4} | test loss {:.4} acc {:.4} | \
                 {:.0} samples/s | spike rate {:.4} | mean leak {:.4} | readout leak {:.4}",
                st.epoch,
                st.train_loss,
                st.train_accuracy,
                st.test_loss,
                st.test_accuracy,
                st.samples_per_second,
                st.spike_rates[0].unwrap_or(0.0),
                st.mean_leak[0].unwrap_or(0.0),
                st.readout_leak
            );
            speeds.push(st.samples_per_second);
        }
        let checkpoint = serde_json::to_string(&state)
            .expect("states serialise")
            .len();
        println!("{c} {s}: checkpoint (TrainState as JSON) {checkpoint} bytes");
        let last = state.history.last().expect("at least one epoch");
        let best = state
            .history
            .iter()
            .map(|h| h.test_accuracy)
            .fold(0.0, f64::max);
        let mean_speed = speeds.iter().sum::<f64>() / speeds.len() as f64;
        rows.push(format!(
            "| {c} | {s} | {seed} | {epochs} | {:.2} % | {:.2} % | {:.0} | {:.4} | {:.0} s |",
            100.0 * last.test_accuracy,
            100.0 * best,
            mean_speed,
            last.mean_leak[0].unwrap_or(0.0),
            start.elapsed().as_secs_f64()
        ));
    }
    println!(
        "\n| coding | surrogate | seed | epochs | test accuracy (last) | best epoch | train samples/s | mean leak | wall |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    rows.iter().for_each(|r| println!("{r}"));
}
