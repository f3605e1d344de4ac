//! Timing of the attractor search (SCIENCE.md A7): exhaustive enumeration at N = 20 and 24
//! on Gaussian networks with std = 1, and random-start sampling at N = 200 (a ring whose
//! walks close, and a Gaussian network whose chaotic walks mostly do not).
//! Run with `cargo bench --bench attractors`; figures go to bench/results/sampled.md.

use std::time::Instant;

use fluxlab::engine::control::Unattended;
use fluxlab::engine::flux::attractors::{AttractorOptions, find_attractors};
use fluxlab::engine::flux::ensemble::{Gaussian, NRooks, Permutation, Signs};
use fluxlab::engine::flux::network::Network;
use fluxlab::engine::rng::stream;

/// A Gaussian network with entries N(0, 1).
fn network(n: usize, seed: u64) -> Network {
    let spec = Gaussian::iid(n, 1.0);
    Network::new(spec.sample(&mut stream(seed, &[n as u64])))
}

/// The N-rooks ring j → j+1 with weight 1 and one inverting link.
fn ring(n: usize) -> Network {
    let spec = NRooks {
        n,
        q: 1.0,
        permutation: Permutation::Ring,
        signs: Signs::Given((0..n).map(|j| if j == 0 { -1.0 } else { 1.0 }).collect()),
    };
    Network::new(spec.sample(&mut stream(0, &[])))
}

fn main() {
    println!("rayon threads: {}", rayon::current_num_threads());
    println!(
        "| N | network | method | seconds | attractors | ⟨L⟩_attr | ⟨L⟩_state | max L | on cycles / unresolved |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let sampled = |starts, max_steps| AttractorOptions {
        starts,
        max_steps,
        ..AttractorOptions::default()
    };
    // (N, seed for the weights, options); seed 0 with N = 200 means a one-negative ring,
    // whose walks all close (period 400), the others are Gaussian std = 1.
    let cases = [
        (20, 1, AttractorOptions::default()),
        (24, 1, AttractorOptions::default()),
        (200, 0, sampled(1000, 10_000)),
        (200, 1, sampled(100, 10_000)),
    ];
    for (n, seed, options) in cases {
        let net = if seed == 0 { ring(n) } else { network(n, seed) };
        let start = Instant::now();
        let s = find_attractors(&net, &options, 1, 0, &Unattended).unwrap();
        let kind = if seed == 0 {
            "ring, 1 negative"
        } else {
            "gaussian"
        };
        let seconds = start.elapsed().as_secs_f64();
        let last = match s.cycle_state_fraction {
            Some(f) => format!("{f:.2e} of states"),
            None => format!(
                "{} of {} starts",
                s.unresolved_starts,
                s.starts.unwrap_or(0)
            ),
        };
        println!(
            "| {n} | {kind} | {} | {seconds:.2} | {} | {:.2} | {:.2} | {} | {last} |",
            s.method, s.count, s.mean_period, s.mean_period_state_weighted, s.max_period
        );
    }
}
