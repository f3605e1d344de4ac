//! How much computing a validated job asks for, so that one request cannot occupy the server for
//! years while every per-network bound in [`Limits`] holds (issue 14, point 5).
//!
//! **Unit.** A *work unit* is one estimated floating-point multiply-add (or an operation of about
//! that cost: a weight read and add, a 0/1 count). An `exp`, `log` or sigmoid counts as
//! [`TRANSCENDENTAL`] units. The estimate follows the engine's real loops:
//!
//! - `mi`, per network (replicates × sweep values, each costed with its own swept noise):
//!   - exact: the transition kernel (2^N·N² net inputs, sigmoids), the stationary solve and the
//!     entropies and correlations from π (2^N·N²). One product π·T is one GEMM of 4^N multiply-adds
//!     per noise component (24 with shared noise) plus GMRES's Gram–Schmidt (~50·2^N). The solve is
//!     costed at the solver's **budget** of 2,000 products (a dense LU, (2^N)³/3, for N ≤ 8): the
//!     products actually spent depend on the weight scale, which a spec does not reveal: 1 for
//!     N-rooks, 14–230 for Gaussian std 0.25–16 at N = 12, 36–102 at N = 16, and up to ~700
//!     before GMRES gives up at std ≥ 32 (measured 2026-12-07). An exact `mi` estimate is
//!     therefore an upper bound: 9–70× the work of Gaussian networks, 2,000× that of N-rooks.
//!   - sampled: per run, (burn-in + steps) × (N²/2 for the incremental net input + N sigmoids),
//!     plus 1.5·N² per recorded step for the moment GEMMs, plus Cholesky factors for I_G.
//!   - attractors: 2^N·(N + [`GRAPH_STATE`]) when enumerated (memory-bound); beyond, the
//!     engine's own bound starts × max_steps × N² of the random-start walks (their length
//!     cannot be predicted).
//! - `evolution`: evaluations (μ initial, then per generation λ offspring, plus the μ parents
//!   again when an objective is sampled) × the cost of one evaluation, plus the preconditioner
//!   factorisations and the full `mi` analysis of the best genome at the end. An evaluation costs
//!   the network's probability table and an exact solve of typical length for an evolution (its
//!   genomes stay under a weight budget and start from their parent's π): 14 preconditioned
//!   products up to N = 8 (each also applying the LU, another 4^N), 30 warm-started ones for
//!   N = 9–12, 40 cold ones beyond (measured 13.6 at N = 8, ~29 at N = 10); and, when asked, the
//!   sampled correlation ((burn-in + steps) × runs × (N² + N sigmoids)) and the mean period
//!   (attractor cost as above).
//! - `lif`: per epoch, every training sample's forward pass, weight gradient and input gradient
//!   (up to 3 × T × Σ fan-in × fan-out over the hidden layers and the read-out, plus the neuron
//!   updates), every test sample's forward pass, and Adam once per batch; times the epochs.
//!   Layers fed by a constant (static) input run once per sample instead of T times. Spiking
//!   inputs are costed as dense, although the engine adds only the rows of neurons that spiked:
//!   the estimate is an upper bound there.
//!
//! **Calibration** (2026-12-07 02:08–02:31 UTC, `Intel(R) Xeon(R) Processor` (Sapphire Rapids,
//! AVX-512), 2 cores, optimised dev profile, whole jobs submitted over HTTP to one server running
//! one job at a time; other builds shared the machine, load average 1–4.7, so rates are
//! pessimistic). Work units per core-second (estimate ÷ (elapsed × 2 cores)):
//!
//! | job | rate |
//! |---|---|
//! | exact `mi`, products actually spent (N = 12 sweep of 14, N = 14 of 5, N = 16 of 2) | 0.8–1.2·10¹⁰ |
//! | exact `mi`, as estimated at the solver budget (same jobs) | 2.0–3.4·10¹¹ |
//! | sampled `mi`, N = 200 / 1,000 | 4.3·10⁹ / 6.6·10⁹ |
//! | random-start attractor walks, N = 200 (every walk ran to `max_steps`) | 1.5·10⁹ |
//! | attractor enumeration, N = 20–24 (idle benchmark: 124 ns at N = 24) | ~210 ns per state |
//! | evolution (16+64), `mi`, N = 6 / 8 / 10 / 12 | 2.8·10⁹ / 5.3–6.3·10⁹ / 0.8–1.2·10¹⁰ / 1.3·10¹⁰ |
//! | evolution, sampled `correlation` at N = 100, with the final analysis | 1.5·10⁹ |
//! | `lif` mnist10k 784-256-10, Poisson / constant coding; 784-256-256-10 Poisson | 5.7·10¹⁰ / 6.5·10⁹ / 4.3·10¹⁰ |
//!
//! So one core-second does roughly 3·10⁹–10¹⁰ units of solver, simulation and evolution work
//! (Poisson-coded LIF estimates pass several times faster, being dense upper bounds), and the
//! default limit [`DEFAULT_MAX_JOB_WORK`] = 10¹⁶ is about 10⁶–3·10⁶ core-seconds: 12–35
//! core-days, 6–17 days of this two-core machine.

use serde::Deserialize;
use serde_json::Value;

use super::evolution::EvolutionSpec;
use super::lif::LifJobSpec;
use super::lif::validate::{DataShape, check_dataset};
use super::mi::MiSpec;
use super::mi::build::network_count;
use super::mi::spec::{AttractorSettings, AttractorSpec, SamplingSpec};
use super::mi::validate::uses_exact;
use super::{JobKind, Limits, Resolved};
use crate::engine::evolve::{EvolutionConfig, Objective, WARM_START_MAX_N};
use crate::engine::flux::attractors::{AttractorOptions, EXHAUSTIVE_MAX_N};
use crate::engine::flux::exact::{ExactOptions, PRECONDITIONER_MAX_N, SHARED_NOISE_NODES};
use crate::engine::flux::network::NOISE_QUADRATURE_NODES;
use crate::engine::lif::{Coding, LayerSpec};

/// Default of `--max-job-work`: about 12 core-days of the exact solver on the calibration
/// machine. It accepts every example, test and benchmark job, (16+64) evolutions of up to ~4·10⁶
/// generations at N = 10 (6·10¹⁵ for 3·10⁶, about a week of core time) and the most generations
/// allowed at N ≤ 8, and refuses 10,000 exact N = 16 networks (8.6·10¹⁶ at the solver budget),
/// 10,000 sampled N = 2,000 networks at the per-network bound (2·10¹⁷) and an N = 16 evolution
/// of 10⁵ offspring × 10⁷ generations (10²⁴).
pub const DEFAULT_MAX_JOB_WORK: f64 = 1e16;

/// Work units of one `exp`, `log`, sigmoid or binary entropy.
pub const TRANSCENDENTAL: f64 = 10.0;
/// Work units per state of an attractor enumeration: its next-state table and graph walk are
/// memory-bound, about 100–200 ns of core time per state at N = 20–24 (measured).
pub const GRAPH_STATE: f64 = 1000.0;
/// Gram–Schmidt work per GMRES product in units of 2^N (restart 50: ~25 dots and axpys).
const ORTHOGONALISATION: f64 = 50.0;
/// Products per exact solve of an evolution's offspring (see the module docs).
const EVOLUTION_PRODUCTS_PRECONDITIONED: f64 = 14.0;
const EVOLUTION_PRODUCTS_WARM: f64 = 30.0;
const EVOLUTION_PRODUCTS_COLD: f64 = 40.0;
/// From this N an evolution factorises two hubs every five generations instead of each
/// parent's own system (`engine::evolve::hubs`).
const HUBS_FROM_N: usize = 8;
const HUB_FACTORISATIONS_PER_GENERATION: f64 = 2.0 / 5.0;
/// Work units per LIF neuron and step: membrane update and spike (forward), surrogate and
/// leak gradient (backward).
const CELL_FORWARD: f64 = 5.0;
const CELL_BACKWARD: f64 = 5.0;
/// Work units per trainable number and batch: Adam's update plus summing the chunk gradients.
const ADAM_PER_PARAM: f64 = 12.0;

/// Estimated work units of a validated, normalised spec (what [`super::validate`] returns);
/// `resolved` is what the spec refers to (the uploaded dataset of a `lif` job, whose size the
/// spec does not carry). A spec that does not parse costs 0: validation rejects it first.
pub fn estimate(kind: JobKind, spec: &Value, limits: &Limits, resolved: &Resolved) -> f64 {
    match kind {
        JobKind::Mi => MiSpec::deserialize(spec).map_or(0.0, |s| mi(&s, limits)),
        JobKind::Evolution => {
            EvolutionSpec::deserialize(spec).map_or(0.0, |s| evolution(&s, limits))
        }
        JobKind::Lif => LifJobSpec::deserialize(spec).map_or(0.0, |s| {
            let mut errors = Vec::new();
            check_dataset(&s, resolved.dataset.as_ref(), &mut errors)
                .map_or(0.0, |shape| lif(&s, &shape))
        }),
    }
}

/// What to suggest when a job of this kind is over the limit.
pub fn advice(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Mi => "use fewer networks, steps or runs, or a smaller N",
        JobKind::Evolution => "use fewer generations or offspring, or a smaller n",
        JobKind::Lif => "use fewer epochs, samples, time steps or units",
    }
}

fn pow2(n: usize) -> f64 {
    2f64.powi(n as i32)
}

// ---------------------------------------------------------------------------------------------
// mi

/// N of an `mi` spec's networks (0 when it has none).
fn mi_n(spec: &MiSpec) -> usize {
    let net = &spec.network;
    if let Some(w) = &net.weights {
        w.len()
    } else if let Some(e) = &net.ensemble {
        e.n.max(0) as usize
    } else {
        net.nrooks.as_ref().map_or(0, |r| r.n.max(0) as usize)
    }
}

/// An `mi` job: every network's analysis and attractor search.
pub fn mi(spec: &MiSpec, limits: &Limits) -> f64 {
    let n = mi_n(spec);
    if n == 0 {
        return 0.0;
    }
    let net = &spec.network;
    let values: Vec<Option<f64>> = match &net.sweep {
        Some(s) if !s.values.is_empty() => s.values.iter().map(|&v| Some(v)).collect(),
        _ => vec![None],
    };
    let replicates = (network_count(spec) / values.len()) as f64;
    let exact = uses_exact(spec, n, limits);
    let attractors = mi_attractors(n, &spec.attractors, limits);
    let sweeps_noise = net.sweep.as_ref().is_some_and(|s| s.param == "noise_std");
    let per_value: f64 = values
        .iter()
        .map(|value| {
            let noise = match value {
                Some(v) if sweeps_noise => *v,
                _ => net.noise.std,
            };
            let analysis = if exact {
                let components = if net.noise.shared && noise > 0.0 {
                    SHARED_NOISE_NODES
                } else {
                    1
                };
                let quadrature = !net.noise.shared && noise > 0.0;
                exact_network(n, components, quadrature)
            } else {
                sampled_network(n, &spec.sampling)
            };
            // Drawing the matrix: one random number per entry.
            analysis + attractors + (n * n) as f64 * TRANSCENDENTAL
        })
        .sum();
    replicates * per_value
}

fn mi_attractors(n: usize, spec: &AttractorSpec, limits: &Limits) -> f64 {
    let settings: AttractorSettings = spec.settings();
    if !settings.enabled {
        return 0.0;
    }
    attractor_search(
        n,
        &AttractorOptions {
            exhaustive_max_n: limits.attractors_exhaustive_max_n,
            starts: settings.starts.max(0) as usize,
            max_steps: settings.max_steps.max(0) as usize,
        },
    )
}

/// The attractors of one network: enumeration (a Gray-code pass adding one column per state,
/// then the graph walk) or the random-start walks at their bound.
pub fn attractor_search(n: usize, options: &AttractorOptions) -> f64 {
    let nf = n as f64;
    if n <= options.exhaustive_max_n.min(EXHAUSTIVE_MAX_N) {
        pow2(n) * (nf + GRAPH_STATE)
    } else {
        options.starts as f64 * options.max_steps as f64 * nf * nf
    }
}

/// Exact analysis of one network by the `mi` job's solver: kernel, π at the solver's product
/// budget (dense LU for N ≤ 8), conditional entropy and C. `components` is 1, or the Gauss–Hermite
/// nodes of shared noise; `quadrature` marks independent noise (48 nodes per firing probability).
pub fn exact_network(n: usize, components: usize, quadrature: bool) -> f64 {
    let options = ExactOptions::default();
    let budget = options.max_iterations as f64;
    let (s, nf, c) = (pow2(n), n as f64, components as f64);
    let product = c * s * s + ORTHOGONALISATION * s;
    let solve = if n <= options.dense_max_n {
        s * s * s / 3.0 + c * s * s + product
    } else {
        budget * product
    };
    kernel(n, components, quadrature) + solve + entropy_and_correlation(n, components) + s * nf
}

/// Net inputs, firing probabilities and the two half-kernels of every component.
fn kernel(n: usize, components: usize, quadrature: bool) -> f64 {
    let (s, nf, c) = (pow2(n), n as f64, components as f64);
    let nodes = if quadrature {
        NOISE_QUADRATURE_NODES as f64
    } else {
        1.0
    };
    let halves = pow2(n / 2) + pow2(n - n / 2);
    s * nf * nf + c * s * (nf * nodes * TRANSCENDENTAL + halves)
}

/// Σ_x π(x)·H(x(t+1) | x) (a full outcome row per state under shared noise) and C from π.
fn entropy_and_correlation(n: usize, components: usize) -> f64 {
    let (s, nf) = (pow2(n), n as f64);
    let entropy = if components > 1 {
        s * s * (components as f64 + TRANSCENDENTAL)
    } else {
        s * nf * TRANSCENDENTAL
    };
    entropy + s * nf * nf
}

/// Simulation of one network: every step updates z incrementally and draws N firing decisions;
/// recorded steps feed the moment GEMMs and the transition counts; I_G needs Cholesky factors.
pub fn sampled_network(n: usize, sampling: &SamplingSpec) -> f64 {
    let nf = n as f64;
    let runs = sampling.runs.max(0) as f64;
    let steps = sampling.steps.max(0) as f64;
    let burn_in = sampling.burn_in.max(0) as f64;
    let per_step = nf * nf / 2.0 + nf * TRANSCENDENTAL;
    let per_record = 1.5 * nf * nf + nf;
    runs * ((burn_in + steps) * per_step + steps * per_record) + (runs + 1.0) * 1.5 * nf * nf * nf
}

// ---------------------------------------------------------------------------------------------
// evolution

/// An `evolution` job: all evaluations, the factorisations that precondition them, and the
/// analysis of the best genome.
pub fn evolution(spec: &EvolutionSpec, limits: &Limits) -> f64 {
    let config = spec.config();
    let n = config.n;
    if n == 0 {
        return 0.0;
    }
    let given = spec.init.population.as_ref().map_or(0, Vec::len);
    let initial = config.parents.max(given) as f64;
    let per_generation =
        config.offspring as f64 + if config.is_noisy() { config.parents } else { 0 } as f64;
    let generations = config.generations as f64;
    let evaluation = evaluation(&config);
    let setup = generations * factorisations_per_generation(&config);
    (initial + generations * per_generation) * evaluation + setup + best_analysis(n, limits)
}

/// One measurement of a genome with every configured objective.
pub fn evaluation(config: &EvolutionConfig) -> f64 {
    let n = config.n;
    let nf = n as f64;
    // Mutation, constraint and the network's matrix.
    let mut work = nf * nf * TRANSCENDENTAL;
    let exact = config.has(Objective::Mi)
        || (config.has(Objective::Correlation) && !config.correlation_is_sampled());
    if exact {
        work += evolution_solve(n);
    }
    if config.correlation_is_sampled() {
        let s = config.correlation_sampling;
        work +=
            (s.steps as f64 + s.burn_in as f64) * s.runs as f64 * (nf * nf + nf * TRANSCENDENTAL);
    }
    if config.has(Objective::MeanPeriod) {
        work += attractor_search(
            n,
            &AttractorOptions {
                exhaustive_max_n: EXHAUSTIVE_MAX_N,
                starts: config.attractor_sampling.starts,
                max_steps: config.attractor_sampling.max_steps,
            },
        );
    }
    work
}

/// An offspring's exact solve: its probability table, a typical number of products (each also
/// applying the preconditioner's triangular factors up to N = 8), Gram–Schmidt, entropies and C.
fn evolution_solve(n: usize) -> f64 {
    let (s, nf) = (pow2(n), n as f64);
    let preconditioned = n <= PRECONDITIONER_MAX_N;
    let products = if preconditioned {
        EVOLUTION_PRODUCTS_PRECONDITIONED
    } else if n <= WARM_START_MAX_N {
        EVOLUTION_PRODUCTS_WARM
    } else {
        EVOLUTION_PRODUCTS_COLD
    };
    let per_product = s * s * if preconditioned { 2.0 } else { 1.0 };
    let table = s * nf * (nf + TRANSCENDENTAL) + s * (pow2(n / 2) + pow2(n - n / 2));
    table + products * per_product + products * products * s + entropy_and_correlation(n, 1)
}

/// LU factorisations per generation that precondition the offspring's solves: up to every
/// parent's own below N = 8, two hubs every five generations at N = 8, none beyond.
fn factorisations_per_generation(config: &EvolutionConfig) -> f64 {
    let n = config.n;
    let exact = config.has(Objective::Mi)
        || (config.has(Objective::Correlation) && !config.correlation_is_sampled());
    if !exact || n > PRECONDITIONER_MAX_N {
        return 0.0;
    }
    let s = pow2(n);
    let lu = s * s * s / 3.0 + s * s;
    let count = if n >= HUBS_FROM_N {
        HUB_FACTORISATIONS_PER_GENERATION
    } else {
        config.parents as f64
    };
    count * lu
}

/// The full `mi` analysis of the best genome (`jobs::mi::run::analyze_one`: default settings).
fn best_analysis(n: usize, limits: &Limits) -> f64 {
    let defaults: MiSpec = serde_json::from_value(serde_json::json!({
        "network": {"ensemble": {"n": n}}
    }))
    .expect("a minimal spec parses");
    mi(&defaults, limits)
}

// ---------------------------------------------------------------------------------------------
// lif

/// A `lif` job on data of this shape: training passes with BPTT, the test pass after every
/// epoch, and the optimiser.
pub fn lif(spec: &LifJobSpec, shape: &DataShape) -> f64 {
    let config = spec.config();
    let steps = config.encoding.steps as f64;
    let classes = shape.classes.max(1);
    let mut fan_in = config.encoding.input_units(shape.features);
    let mut static_input = matches!(config.encoding.coding, Coding::Constant { .. });
    let (mut train, mut test) = (0.0, 0.0);
    let mut linear = |l: usize, inputs: usize, units: usize, is_static: bool| {
        let rows = if is_static { 1.0 } else { steps };
        let macs = rows * inputs as f64 * units as f64;
        let passes = if l == 0 { 2.0 } else { 3.0 };
        train += passes * macs;
        test += macs;
    };
    for (l, layer) in config.layers.iter().enumerate() {
        let units = layer.units();
        linear(l, fan_in, units, static_input);
        static_input = static_input && matches!(layer, LayerSpec::Dense(_));
        fan_in = units;
    }
    linear(config.layers.len(), fan_in, classes, static_input);
    let units: usize = config.layers.iter().map(LayerSpec::units).sum::<usize>() + classes;
    let cells = units as f64 * steps;
    // Encoding draws or places one value per input and step.
    let encode = shape.features as f64 * steps.max(1.0) * 2.0;
    train += cells * (CELL_FORWARD + CELL_BACKWARD) + encode;
    test += cells * CELL_FORWARD + encode;
    let params = config.parameter_count(shape.features, classes) as f64;
    let batches = shape.split.train.div_ceil(config.batch_size.max(1)) as f64;
    let epoch = shape.split.train as f64 * train
        + shape.split.test as f64 * test
        + batches * params * ADAM_PER_PARAM;
    config.epochs as f64 * epoch
}
