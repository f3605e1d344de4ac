//! Throughput of the evolution engine (SCIENCE.md A6): exact-MI evaluations per second at
//! N = 6, 8, 10, and generations per second at N = 100 with the sampled correlation objective,
//! all with the API's default strategy, (16+64) with Gaussian mutation std 0.1 under the
//! Frobenius budget √N·3. Also the effect of warm-starting an offspring's solve from its
//! parent's π, and of preconditioning it with the parent's LU, on one thread.
//!
//! Run with `cargo bench --bench evolution`; `RAYON_NUM_THREADS` sets the pool size. The best
//! N = 8 genome is written as JSON (to `FLUXLAB_BENCH_JSON`, default
//! `$TMPDIR/fluxlab_evolution_bench.json`) so that `bench/python_evolution.py` can check that
//! it computes the same I.

use std::time::Instant;

use fluxlab::engine::control::Unattended;
use fluxlab::engine::evolve::{
    Constraint, CorrelationSampling, EnsembleInit, EvolutionConfig, EvolutionState, Init,
    Objective, ObjectiveSpec, best, initialize, step,
};
use fluxlab::engine::flux::exact::{
    ExactOptions, Neighbour, PRECONDITIONER_MAX_N, Preconditioner, analyze_small_near,
};
use fluxlab::engine::flux::network::Network;
use ndarray::Array2;
use serde_json::json;

/// The benchmark configuration for `n` neurons and one objective.
fn config(n: usize, objective: Objective, generations: u64) -> EvolutionConfig {
    EvolutionConfig {
        n,
        generations,
        constraint: Constraint::Frobenius {
            value: (n as f64).sqrt() * 3.0,
        },
        objectives: vec![ObjectiveSpec {
            objective,
            weight: 1.0,
        }],
        correlation_sampling: CorrelationSampling::default(),
        seed: 2024,
        ..EvolutionConfig::default()
    }
}

/// Gaussian start with entries N(0, 9/N), i.e. at about the budget's scale.
fn init() -> Init {
    Init::Ensemble(EnsembleInit {
        std: 3.0,
        scale_by_sqrt_n: true,
        ..EnsembleInit::default()
    })
}

/// CPU time (user + system, all threads) of this process in seconds, from /proc/self/stat
/// (Linux, clock ticks of 10 ms). On a machine shared with other work, wall-clock rates
/// understate what the engine does with the cores it actually gets.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<f64> = after_name
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    // Fields 14 and 15 of the file (utime, stime) are 11 and 12 after the command name.
    fields
        .get(11)
        .zip(fields.get(12))
        .map_or(0.0, |(u, s)| (u + s) / 100.0)
}

/// Wall-clock and CPU seconds of a run.
struct Timing {
    wall: f64,
    cpu: f64,
}

/// Runs a whole evolution; returns the final state and its timing.
fn timed_run(config: &EvolutionConfig) -> (EvolutionState, Timing) {
    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    let mut state = initialize(config, &init(), &Unattended).expect("never stopped");
    for _ in 0..config.generations {
        step(config, &mut state, &Unattended).expect("never stopped");
    }
    let timing = Timing {
        wall: start.elapsed().as_secs_f64(),
        cpu: cpu_seconds() - cpu_start,
    };
    (state, timing)
}

/// Single-thread cost of one solve (fastest of three) for 200 offspring-like neighbours of the
/// final population: cold, warm-started from the parent's π, and preconditioned with the
/// parent's LU (whose own cost is reported apart); and the products spent.
fn warm_start_effect(config: &EvolutionConfig, state: &EvolutionState) -> SolveCost {
    let options = ExactOptions {
        tolerance: config.mi_tolerance,
        ..ExactOptions::default()
    };
    let n = config.n;
    let mut cost = SolveCost::default();
    let networks: Vec<Network> = state
        .population
        .iter()
        .map(|p| {
            let w = Array2::from_shape_vec((n, n), p.genome.weights.clone()).expect("N×N");
            Network::new(w)
        })
        .collect();
    let t = Instant::now();
    let factorised: Vec<Option<Preconditioner>> = networks
        .iter()
        .map(|net| (n <= PRECONDITIONER_MAX_N).then(|| Preconditioner::new(net)))
        .collect();
    cost.lu_seconds = t.elapsed().as_secs_f64() / networks.len() as f64;
    let children = 200;
    for k in 0..children {
        let p = k % state.population.len();
        let parent = &state.population[p];
        let weights: Vec<f64> = parent
            .genome
            .weights
            .iter()
            .enumerate()
            .map(|(j, w)| w + 0.1 * (((j * 7919 + k * 104729) % 1000) as f64 / 500.0 - 1.0))
            .collect();
        let net = Network::new(Array2::from_shape_vec((n, n), weights).expect("N×N"));
        let warm = parent.stationary.as_deref();
        let variants = [
            Neighbour::default(),
            Neighbour {
                pi: warm,
                preconditioner: None,
            },
            Neighbour {
                pi: warm,
                preconditioner: factorised[p].as_ref(),
            },
        ];
        for (v, near) in variants.into_iter().enumerate() {
            // The fastest of three: preemption by other work only ever adds time.
            let mut fastest = f64::INFINITY;
            let mut products = 0;
            for _ in 0..3 {
                let t = Instant::now();
                let r = analyze_small_near(&net, near, &options, false);
                fastest = fastest.min(t.elapsed().as_secs_f64());
                products = r.convergence.iterations;
            }
            cost.seconds[v] += fastest / children as f64;
            cost.products[v] += products as f64 / children as f64;
        }
    }
    cost
}

/// Mean time and kernel products of one solve: cold, warm-started from the parent's π, and
/// also preconditioned with the parent's LU (`lu_seconds` per factorisation).
#[derive(Default)]
struct SolveCost {
    seconds: [f64; 3],
    products: [f64; 3],
    lu_seconds: f64,
}

/// Sizes from `FLUXLAB_BENCH_N` (comma-separated; default all of 6, 8, 10 and 100).
fn selected(n: usize) -> bool {
    std::env::var("FLUXLAB_BENCH_N").map_or(true, |list| {
        list.split(',').any(|s| s.trim().parse() == Ok(n))
    })
}

fn main() {
    let threads = rayon::current_num_threads();
    println!(
        "evolution benchmark, (16+64), mutation std 0.1, Frobenius √N·3, {threads} rayon threads"
    );
    println!("(per CPU-second: evaluations divided by the CPU time the process actually got)");
    println!(
        "{:>4} {:>12} {:>5} {:>8} {:>8} {:>10} {:>12} {:>12}",
        "N", "objective", "gens", "wall s", "CPU s", "evals/s", "evals/CPU-s", "best value"
    );
    let mut records = Vec::new();
    for (n, generations) in [(6usize, 300u64), (8, 150), (10, 15)] {
        if !selected(n) {
            continue;
        }
        let config = config(n, Objective::Mi, generations);
        let (state, t) = timed_run(&config);
        let top = best(&state);
        let mi = top.objectives.mi_bits.expect("mi objective");
        let evals = state.evaluations as f64;
        let (rate, cpu_rate) = (evals / t.wall, evals / t.cpu);
        println!(
            "{n:>4} {:>12} {generations:>5} {:>8.3} {:>8.2} {rate:>10.0} {cpu_rate:>12.0} {mi:>12.6}",
            "mi", t.wall, t.cpu
        );
        let cost = warm_start_effect(&config, &state);
        println!(
            "     one solve, one thread: cold {:.1} µs ({:.1} products), warm start {:.1} µs ({:.1}), \
             preconditioned {:.1} µs ({:.1}); parent LU {:.1} µs",
            cost.seconds[0] * 1e6,
            cost.products[0],
            cost.seconds[1] * 1e6,
            cost.products[1],
            cost.seconds[2] * 1e6,
            cost.products[2],
            cost.lu_seconds * 1e6
        );
        records.push(json!({
            "n": n, "objective": "mi", "generations": generations,
            "wall_seconds": t.wall, "cpu_seconds": t.cpu,
            "evaluations": state.evaluations, "evaluations_per_second": rate,
            "evaluations_per_cpu_second": cpu_rate,
            "best_mi_bits": mi, "best_weights": top.genome.weights,
            "cold_solve_us": cost.seconds[0] * 1e6, "cold_products": cost.products[0],
            "warm_solve_us": cost.seconds[1] * 1e6, "warm_products": cost.products[1],
            "preconditioned_solve_us": cost.seconds[2] * 1e6,
            "preconditioned_products": cost.products[2],
            "parent_lu_us": cost.lu_seconds * 1e6,
        }));
    }
    let n = 100;
    if !selected(n) {
        return;
    }
    let config = config(n, Objective::Correlation, 5);
    let (state, t) = timed_run(&config);
    let c = best(&state)
        .objectives
        .correlation_rms
        .expect("correlation objective");
    let gens = config.generations as f64;
    let evals = state.evaluations as f64;
    println!(
        "{n:>4} {:>12} {:>5} {:>8.3} {:>8.2} {:>10.0} {:>12.0} {c:>12.6}",
        "correlation",
        config.generations,
        t.wall,
        t.cpu,
        evals / t.wall,
        evals / t.cpu
    );
    println!(
        "     {:.2} generations/s, {:.2} per CPU-second (80 simulations of 2,200 steps each)",
        gens / t.wall,
        gens / t.cpu
    );
    records.push(json!({
        "n": n, "objective": "correlation", "generations": config.generations,
        "wall_seconds": t.wall, "cpu_seconds": t.cpu, "evaluations": state.evaluations,
        "generations_per_second": gens / t.wall, "generations_per_cpu_second": gens / t.cpu,
        "best_correlation_rms": c,
    }));
    let path = std::env::var("FLUXLAB_BENCH_JSON").unwrap_or_else(|_| {
        std::env::temp_dir()
            .join("fluxlab_evolution_bench.json")
            .to_string_lossy()
            .into_owned()
    });
    let text = serde_json::to_string(&json!({ "threads": threads, "runs": records }))
        .expect("serialisable");
    std::fs::write(&path, text).expect("write benchmark JSON");
    println!("results written to {path}");
}
