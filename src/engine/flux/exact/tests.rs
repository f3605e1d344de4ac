//! Tests of the exact analysis: the SCIENCE.md Part A check values, agreement with a
//! brute-force dense computation, solver paths, convergence reporting and cancellation.

use std::sync::atomic::AtomicBool;

use faer::Mat;
use faer::prelude::Solve;
use ndarray::Array2;

use super::kernel::{Kernel, SHARED_NOISE_NODES};
use super::*;
use crate::engine::control::{StopFlag, Unattended};
use crate::engine::flux::correlation::from_moments;
use crate::engine::flux::ensemble::{Gaussian, NRooks, Permutation, Signs};
use crate::engine::flux::gauss_hermite::GaussHermite;
use crate::engine::flux::network::{InputMode, h2, sigmoid};
use crate::engine::rng::{DOMAIN_NETWORK, stream};

fn gaussian_weights(n: usize, std: f64, seed: u64) -> Array2<f64> {
    let spec = Gaussian::iid(n, std);
    spec.sample(&mut stream(seed, &[DOMAIN_NETWORK, n as u64]))
}

fn ring_nrooks(n: usize, q: f64) -> Network {
    let spec = NRooks {
        n,
        q,
        permutation: Permutation::Ring,
        signs: Signs::Positive,
    };
    Network::new(spec.sample(&mut stream(0, &[])))
}

fn run(net: &Network, options: &ExactOptions) -> ExactResult {
    analyze_exact(net, options, &Unattended).expect("Unattended never stops")
}

fn forced(dense_max_n: usize) -> ExactOptions {
    ExactOptions {
        dense_max_n,
        ..ExactOptions::default()
    }
}

/// Per-neuron probability tables of the mixture components and their weights, built
/// independently of the kernel module (shared noise: σ(z + η_k) at Gauss–Hermite nodes).
fn brute_force_components(net: &Network) -> Vec<(f64, Vec<f64>)> {
    let Noise::Shared { std } = net.noise else {
        return vec![(1.0, net.probability_table())];
    };
    let n = net.n();
    let quadrature = GaussHermite::new(SHARED_NOISE_NODES);
    let total: f64 = quadrature.weights.iter().sum();
    let mut z = vec![0.0; n];
    let mut components = Vec::new();
    for (&node, &w) in quadrature.nodes.iter().zip(&quadrature.weights) {
        let eta = std::f64::consts::SQRT_2 * std * node;
        let mut table = Vec::with_capacity(n << n);
        for s in 0..1u64 << n {
            net.net_input_of_index(s, &mut z);
            table.extend(z.iter().map(|zi| sigmoid(zi + eta)));
        }
        components.push((w / total, table));
    }
    components
}

/// Dense row-major T: `t[x * M + y]` = T(y | x), straight from the definition.
fn brute_force_kernel(net: &Network) -> Vec<f64> {
    let n = net.n();
    let states = 1usize << n;
    let mut t = vec![0.0; states * states];
    for (weight, table) in brute_force_components(net) {
        for x in 0..states {
            for y in 0..states {
                let p: f64 = (0..n)
                    .map(|i| {
                        let pi = table[x * n + i];
                        if y >> i & 1 == 1 { pi } else { 1.0 - pi }
                    })
                    .product();
                t[x * states + y] += weight * p;
            }
        }
    }
    t
}

/// π from (Tᵀ − I)·π = 0 with the last equation replaced by Σ π = 1.
fn brute_force_pi(t: &[f64], states: usize) -> Vec<f64> {
    let system = Mat::from_fn(states, states, |i, j| {
        if i == states - 1 {
            1.0
        } else {
            t[j * states + i] - if i == j { 1.0 } else { 0.0 }
        }
    });
    let rhs = Mat::from_fn(states, 1, |i, _| if i == states - 1 { 1.0 } else { 0.0 });
    let solution = system.partial_piv_lu().solve(&rhs);
    (0..states).map(|i| solution[(i, 0)]).collect()
}

/// I = H(x_t) + H(x_{t+1}) − H(x_t, x_{t+1}) from the joint π(x)·T(y|x).
fn brute_force_mi(t: &[f64], pi: &[f64]) -> f64 {
    let states = pi.len();
    let joint: Vec<f64> = (0..states * states)
        .map(|k| pi[k / states] * t[k])
        .collect();
    let next: Vec<f64> = (0..states)
        .map(|y| (0..states).map(|x| joint[x * states + y]).sum())
        .collect();
    entropy_bits(pi) + entropy_bits(&next) - entropy_bits(&joint)
}

/// C from the joint distribution of (x_t, x_{t+lag}).
fn brute_force_correlation(
    t: &[f64],
    pi: &[f64],
    n: usize,
    options: CorrelationOptions,
) -> CorrelationStats {
    let states = pi.len();
    let bit = |s: usize, i: usize| (s >> i & 1) as f64;
    let mut mean_a = vec![0.0; n];
    let mut mean_b = vec![0.0; n];
    let mut cross = vec![0.0; n * n];
    for x in 0..states {
        for y in 0..states {
            let joint = if options.lag == 0 {
                if x == y { pi[x] } else { 0.0 }
            } else {
                pi[x] * t[x * states + y]
            };
            for i in 0..n {
                mean_a[i] += joint * bit(x, i);
                mean_b[i] += joint * bit(y, i);
                for j in 0..n {
                    cross[i * n + j] += joint * bit(x, i) * bit(y, j);
                }
            }
        }
    }
    from_moments(&mean_a, &mean_b, &cross, options)
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Checks π, I, the entropies and C of `net` against the brute-force computation.
fn assert_matches_brute_force(net: &Network, options: &ExactOptions, label: &str) {
    let states = 1usize << net.n();
    let t = brute_force_kernel(net);
    let pi = brute_force_pi(&t, states);
    let expected_mi = brute_force_mi(&t, &pi);
    let result = run(net, options);
    assert!(
        result.convergence.converged,
        "{label}: {:?}",
        result.convergence
    );
    assert!(
        max_abs_diff(&result.pi, &pi) < 1e-10,
        "{label}: π differs by {}",
        max_abs_diff(&result.pi, &pi)
    );
    assert!(
        (result.mi_bits - expected_mi).abs() < 1e-9,
        "{label}: I = {} vs brute force {expected_mi}",
        result.mi_bits
    );
    let identity = result.state_entropy_bits - result.conditional_entropy_bits;
    assert!((identity - result.mi_bits).abs() < 1e-12 || result.mi_bits == 0.0);
    let expected_c = brute_force_correlation(&t, &pi, net.n(), options.correlation);
    assert!(
        (result.correlation.rms - expected_c.rms).abs() < 1e-9,
        "{label}: C = {} vs {}",
        result.correlation.rms,
        expected_c.rms
    );
}

#[test]
fn nrooks_n4_check_values() {
    for (q, expected) in [(1.0, 0.64023), (2.0, 1.89174), (4.0, 3.48008)] {
        let r = run(&ring_nrooks(4, q), &ExactOptions::default());
        assert!(
            (r.mi_bits - expected).abs() < 5e-6,
            "q={q}: I={}",
            r.mi_bits
        );
        assert!(r.convergence.converged);
    }
    for (q, expected) in [(2.0, 0.38080), (4.0, 0.48201)] {
        let r = run(&ring_nrooks(4, q), &ExactOptions::default());
        assert!(
            (r.correlation.rms - expected).abs() < 5e-6,
            "q={q}: C={}",
            r.correlation.rms
        );
        let closed_form = (1.0 - 2.0 * sigmoid(-q)) / 2.0;
        assert!((r.correlation.rms - closed_form).abs() < 1e-12);
    }
}

#[test]
fn nrooks_n10_check_values() {
    for (q, expected) in [(2.0, 4.72935), (4.0, 8.70021), (8.0, 9.95646)] {
        let r = run(&ring_nrooks(10, q), &ExactOptions::default());
        assert_eq!(r.convergence.solver, "gmres");
        assert!(r.convergence.converged);
        assert!(
            (r.mi_bits - expected).abs() < 5e-6,
            "q={q}: I={}",
            r.mi_bits
        );
        let closed_form = 10.0 * (1.0 - h2(sigmoid(-q)));
        assert!((r.mi_bits - closed_form).abs() < 1e-10);
    }
}

#[test]
fn zero_weights_give_uniform_pi_and_no_information() {
    for dense_max_n in [0, 8] {
        for n in [1, 5] {
            let r = run(&Network::new(Array2::zeros((n, n))), &forced(dense_max_n));
            let uniform = 1.0 / (1usize << n) as f64;
            assert!(r.pi.iter().all(|p| (p - uniform).abs() < 1e-15));
            assert!(r.mi_bits.abs() < 1e-12, "I = {}", r.mi_bits);
            assert!(r.convergence.converged);
        }
    }
}

#[test]
fn matches_brute_force_on_random_networks() {
    for n in [1, 2, 3, 5, 8] {
        for seed in 0..3 {
            let mut net = Network::new(gaussian_weights(n, 1.5, seed));
            for dense_max_n in [0, 8] {
                let options = forced(dense_max_n);
                assert_matches_brute_force(&net, &options, &format!("n={n} seed={seed}"));
            }
            net.bias = (0..n).map(|i| 0.3 * i as f64 - 0.5).collect();
            assert_matches_brute_force(&net, &forced(0), &format!("biased n={n}"));
            net.input = InputMode::Binary;
            assert_matches_brute_force(&net, &forced(8), &format!("binary n={n}"));
            net.noise = Noise::Independent { std: 0.8 };
            assert_matches_brute_force(&net, &forced(0), &format!("noisy n={n}"));
        }
    }
}

#[test]
fn correlation_options_match_brute_force() {
    let net = Network::new(gaussian_weights(5, 2.0, 11));
    for (lag, include_diagonal) in [(0, false), (1, false), (1, true)] {
        let mut options = forced(0);
        options.correlation = CorrelationOptions {
            lag,
            include_diagonal,
        };
        assert_matches_brute_force(&net, &options, &format!("lag={lag}"));
    }
}

#[test]
fn shared_noise_matches_dense_mixture() {
    for (seed, std) in [(1, 0.5), (2, 1.5)] {
        let mut net = Network::new(gaussian_weights(4, 1.5, seed));
        net.noise = Noise::Shared { std };
        for dense_max_n in [0, 8] {
            assert_matches_brute_force(&net, &forced(dense_max_n), &format!("shared {std}"));
        }
    }
}

#[test]
fn shared_noise_at_its_size_limit_converges() {
    let mut net = Network::new(gaussian_weights(EXACT_SHARED_NOISE_MAX_N, 1.0, 4));
    net.noise = Noise::Shared { std: 1.0 };
    let r = run(&net, &ExactOptions::default());
    assert!(r.convergence.converged, "{:?}", r.convergence);
    assert!(r.mi_bits > 0.0 && r.mi_bits < EXACT_SHARED_NOISE_MAX_N as f64);
}

#[test]
fn matrix_free_equals_dense_lu_at_n10() {
    let net = Network::new(gaussian_weights(10, 1.0, 7));
    let dense = run(&net, &forced(10));
    let free = run(&net, &forced(0));
    assert_eq!(dense.convergence.solver, "dense_lu");
    assert_eq!(free.convergence.solver, "gmres");
    assert!(dense.convergence.converged && free.convergence.converged);
    assert!(max_abs_diff(&dense.pi, &free.pi) < 1e-10);
    assert!((dense.mi_bits - free.mi_bits).abs() < 1e-9);
}

/// Kernel products plain power iteration needs to reach `tolerance` (capped at `cap`).
fn power_iterations_needed(kernel: &Kernel, tolerance: f64, cap: usize) -> usize {
    let states = kernel.states();
    let mut x = vec![1.0 / states as f64; states];
    let mut image = vec![0.0; states];
    for products in 1..=cap {
        if kernel.residual_l1(&x, &mut image) <= tolerance {
            return products;
        }
        std::mem::swap(&mut x, &mut image);
        normalize(&mut x);
    }
    cap
}

#[test]
fn strongly_coupled_network_converges_much_faster_than_power_iteration() {
    // Weights of std 6: metastable states, second eigenvalue of T close to 1.
    let net = Network::new(gaussian_weights(8, 6.0, 4));
    let options = ExactOptions {
        tolerance: 1e-11,
        ..forced(0)
    };
    let r = run(&net, &options);
    assert!(r.convergence.converged);
    assert!(r.convergence.residual_l1 < 1e-10);
    let power = power_iterations_needed(&Kernel::new(&net), 1e-10, 200_000);
    assert!(
        r.convergence.iterations * 20 < power,
        "GMRES {} products vs power {power}",
        r.convergence.iterations
    );
    let t = brute_force_kernel(&net);
    let pi = brute_force_pi(&t, 256);
    assert!((r.mi_bits - brute_force_mi(&t, &pi)).abs() < 1e-9);
}

#[test]
fn exhausted_budget_reports_not_converged_with_true_residual() {
    let net = Network::new(gaussian_weights(10, 3.0, 3));
    let options = ExactOptions {
        max_iterations: 3,
        ..forced(0)
    };
    let r = run(&net, &options);
    assert!(!r.convergence.converged);
    assert!(r.convergence.iterations <= 3);
    let recomputed = Kernel::new(&net).residual_l1(&r.pi, &mut vec![0.0; 1024]);
    assert_eq!(r.convergence.residual_l1, recomputed);
    assert!(recomputed > options.tolerance);
    assert!((r.pi.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(r.pi.iter().all(|&p| p >= 0.0));
}

#[test]
fn raised_stop_flag_stops() {
    let stop = StopFlag(AtomicBool::new(true));
    for n in [4, 10] {
        let net = Network::new(gaussian_weights(n, 1.0, 0));
        assert_eq!(
            analyze_exact(&net, &ExactOptions::default(), &stop).unwrap_err(),
            Stopped
        );
    }
}
