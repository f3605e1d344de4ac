//! Benchmark of the exact analysis (π, I, C) on Gaussian std = 1 networks, N = 8 … 16.
//!
//! Run with `cargo bench --bench exact`. `FLUXLAB_BENCH_N=8,10,12` picks the sizes. The weight
//! matrices and results are written as JSON (to `FLUXLAB_BENCH_JSON`, default
//! `$TMPDIR/fluxlab_exact_bench.json`) so that `bench/numpy_exact.py` solves the same networks.

use std::time::Instant;

use fluxlab::engine::control::Unattended;
use fluxlab::engine::flux::ensemble::Gaussian;
use fluxlab::engine::flux::exact::{ExactOptions, ExactResult, analyze_exact};
use fluxlab::engine::flux::network::Network;
use fluxlab::engine::rng::{DOMAIN_NETWORK, stream};
use serde_json::json;

/// Seed of every benchmark network (network N uses the stream [DOMAIN_NETWORK, N]).
const SEED: u64 = 20240101;

/// The benchmark network of size `n`: W_ij ~ N(0, 1), zero bias, symmetric input.
fn network(n: usize) -> Network {
    let spec = Gaussian::iid(n, 1.0);
    Network::new(spec.sample(&mut stream(SEED, &[DOMAIN_NETWORK, n as u64])))
}

/// Repetitions per size: the fastest run is reported (small sizes are noisy under load).
fn repetitions(n: usize) -> usize {
    match n {
        0..=12 => 5,
        13..=14 => 3,
        _ => 1,
    }
}

/// Runs the analysis `repetitions(n)` times; returns the fastest time and the result.
fn time_analysis(net: &Network) -> (f64, ExactResult) {
    let options = ExactOptions::default();
    let mut best: Option<(f64, ExactResult)> = None;
    for _ in 0..repetitions(net.n()) {
        let start = Instant::now();
        let result = analyze_exact(net, &options, &Unattended).expect("never stopped");
        let seconds = start.elapsed().as_secs_f64();
        if best.as_ref().is_none_or(|(s, _)| seconds < *s) {
            best = Some((seconds, result));
        }
    }
    best.expect("at least one repetition")
}

/// Sizes from `FLUXLAB_BENCH_N` (comma-separated) or the default 8, 10, 12, 14, 16.
fn sizes() -> Vec<usize> {
    match std::env::var("FLUXLAB_BENCH_N") {
        Ok(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .expect("FLUXLAB_BENCH_N: comma-separated sizes")
            })
            .collect(),
        Err(_) => vec![8, 10, 12, 14, 16],
    }
}

/// Peak resident memory of this process in MiB (Linux), if available.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let threads = rayon::current_num_threads();
    println!("exact analysis, Gaussian std=1 networks (seed {SEED}), {threads} rayon threads");
    println!(
        "{:>3} {:>10} {:>9} {:>6} {:>10} {:>12} {:>10}",
        "N", "seconds", "solver", "iters", "residual", "I (bits)", "GFLOP/s"
    );
    let mut records = Vec::new();
    for n in sizes() {
        let net = network(n);
        let (seconds, result) = time_analysis(&net);
        let c = &result.convergence;
        // Each matrix-free product is 2·4^N flops (the dense path is not a product count).
        let gflops = if c.solver == "gmres" {
            format!(
                "{:.1}",
                2.0 * 4f64.powi(n as i32) * c.iterations as f64 / seconds / 1e9
            )
        } else {
            "-".to_string()
        };
        println!(
            "{n:>3} {seconds:>10.4} {:>9} {:>6} {:>10.2e} {:>12.8} {gflops:>10}",
            c.solver, c.iterations, c.residual_l1, result.mi_bits
        );
        let weights: Vec<Vec<f64>> = net.weights.rows().into_iter().map(|r| r.to_vec()).collect();
        records.push(json!({
            "n": n,
            "weights": weights,
            "mi_bits": result.mi_bits,
            "seconds": seconds,
            "solver": c.solver,
            "iterations": c.iterations,
            "residual_l1": c.residual_l1,
        }));
    }
    if let Some(mib) = peak_rss_mib() {
        println!("peak resident memory: {mib:.0} MiB");
    }
    let path = std::env::var("FLUXLAB_BENCH_JSON").unwrap_or_else(|_| {
        std::env::temp_dir()
            .join("fluxlab_exact_bench.json")
            .to_string_lossy()
            .into_owned()
    });
    let text =
        serde_json::to_string(&json!({ "seed": SEED, "networks": records })).expect("serialisable");
    std::fs::write(&path, text).expect("write benchmark JSON");
    println!("networks and results written to {path}");
}
