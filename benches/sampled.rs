//! Timing of the sampled flux estimator (SCIENCE.md A4) on Gaussian networks: N = 100 and
//! 1,000, 10⁵ recorded steps per run, 1 and 4 runs, with std = 1 and with std = 1/√N.
//! Run with `cargo bench --bench sampled`; figures go to bench/results/sampled.md.

use std::time::Instant;

use fluxlab::engine::control::Unattended;
use fluxlab::engine::flux::ensemble::Gaussian;
use fluxlab::engine::flux::network::Network;
use fluxlab::engine::flux::sampled::{SamplingOptions, analyze_sampled};
use fluxlab::engine::rng::stream;

/// A Gaussian network with entries N(0, 1), optionally divided by √N.
fn network(n: usize, scaled: bool) -> Network {
    let spec = Gaussian {
        n,
        mean: 0.0,
        std: 1.0,
        density: 1.0,
        balance: None,
        self_connections: true,
        scale_by_sqrt_n: scaled,
    };
    Network::new(spec.sample(&mut stream(2024, &[n as u64])))
}

fn main() {
    let steps = std::env::var("SAMPLED_BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    println!(
        "rayon threads: {}; {steps} recorded steps per run, burn-in 1000",
        rayon::current_num_threads()
    );
    println!("| N | std | runs | seconds | steps/s | C | I_G (bits) | distinct / samples |");
    println!("|---|---|---|---|---|---|---|---|");
    for n in [100, 1000] {
        for scaled in [false, true] {
            let net = network(n, scaled);
            for runs in [1, 4] {
                let options = SamplingOptions {
                    steps,
                    burn_in: 1000,
                    runs,
                    ..SamplingOptions::default()
                };
                let start = Instant::now();
                let r = analyze_sampled(&net, &options, 1, 0, &Unattended).unwrap();
                let seconds = start.elapsed().as_secs_f64();
                let total = ((steps + 1000) * runs) as f64;
                let ig = r
                    .mi_gaussian_bits
                    .map_or("—".to_string(), |v| format!("{v:.3}"));
                println!(
                    "| {n} | {} | {runs} | {seconds:.2} | {:.0} | {:.4} | {ig} | {} / {} |",
                    if scaled { "1/√N" } else { "1" },
                    total / seconds,
                    r.correlation.rms,
                    r.distinct_transitions,
                    r.samples,
                );
            }
        }
    }
}
