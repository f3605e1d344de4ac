//! Exact analysis of small networks (SCIENCE.md A2, A3): the stationary distribution π of the
//! synchronous chain, the information flux I = H(π) − Σ_x π(x)·H(x(t+1) | x), and the
//! correlation proxy C from π, with an honest convergence report.
//!
//! π comes from a dense LU solve for N ≤ `dense_max_n` and otherwise from restarted GMRES on
//! matrix-free products π·T (one GEMM of two half-kernels each; see the `kernel` submodule).
//! Search loops over many nearby small networks use the sequential `small` solver instead,
//! optionally started from a neighbour's π and preconditioned with its LU (`preconditioner`).

mod dense;
mod gmres;
mod kernel;
mod preconditioner;
mod small;
#[cfg(test)]
mod tests;

use rayon::prelude::*;

use crate::engine::control::{Control, Stopped};
use crate::engine::flux::correlation::{self, CorrelationOptions, CorrelationStats};
use crate::engine::flux::network::{Network, Noise};

use kernel::Kernel;
pub use kernel::SHARED_NOISE_NODES;
pub use preconditioner::{LOCKSTEP, PRECONDITIONER_MAX_N, Preconditioner};
pub use small::{
    Neighbour, SMALL_MAX_N, SmallAnalysis, analyze_small, analyze_small_near,
    analyze_small_together,
};

/// Largest N supported: the half-kernels then take 2 · 2^16 · 2^8 · 8 B = 256 MiB and one
/// product π·T ~8.6 GFLOP; N = 17 would quadruple the work of every product.
pub const EXACT_MAX_N: usize = 16;

/// Largest N supported with shared noise, whose conditional entropy needs every one of the
/// 4^N transition probabilities for each of the [`SHARED_NOISE_NODES`] mixture components.
pub const EXACT_SHARED_NOISE_MAX_N: usize = 10;

/// How hard to work for π and which correlations to report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExactOptions {
    /// Target residual ‖π·T − π‖₁; a π that misses it is reported as not converged.
    pub tolerance: f64,
    /// Budget of kernel products (each O(4^N)) for the iterative solver.
    pub max_iterations: usize,
    /// Use the dense LU solve for N ≤ this (capped at 12, where it takes ~1–2 s and 256 MiB).
    pub dense_max_n: usize,
    /// Which pairs enter C.
    pub correlation: CorrelationOptions,
}

impl Default for ExactOptions {
    fn default() -> Self {
        ExactOptions {
            tolerance: 1e-12,
            max_iterations: 2000,
            dense_max_n: 8,
            correlation: CorrelationOptions::default(),
        }
    }
}

/// How π was obtained and how good it is, so that a non-converged result is never mistaken
/// for an exact one.
#[derive(Debug, Clone, PartialEq)]
pub struct Convergence {
    /// "dense_lu", "gmres", "dense_lu+gmres" (an LU solution refined by GMRES),
    /// "gmres_warm" (GMRES from a caller's start, [`analyze_exact_from`]), or
    /// "gmres_preconditioned" (the small solver with a neighbour's LU, [`analyze_small_near`]).
    pub solver: String,
    /// Kernel products (matrix–vector products) spent, including residual checks; a dense solve
    /// counts its one residual check.
    pub iterations: usize,
    /// ‖π·T − π‖₁ of the returned π, recomputed from it.
    pub residual_l1: f64,
    /// Whether `residual_l1` ≤ the requested tolerance.
    pub converged: bool,
}

/// Everything the exact analysis yields for one network.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactResult {
    /// Stationary distribution over state indices s = Σ x_n 2^n.
    pub pi: Vec<f64>,
    /// Which solver produced π, at what cost, and its residual.
    pub convergence: Convergence,
    /// Information flux I = H(π) − conditional entropy (bits).
    pub mi_bits: f64,
    /// H(π) = H(x(t)) = H(x(t+1)) in bits.
    pub state_entropy_bits: f64,
    /// Σ_x π(x)·H(x(t+1) | x(t) = x) in bits.
    pub conditional_entropy_bits: f64,
    /// C and the correlation matrix from π.
    pub correlation: CorrelationStats,
    /// The Gaussian approximation I_G from the exact stationary moments (what the sampled
    /// Gaussian estimate converges to; not I). `None` when the joint covariance is singular.
    pub gaussian_mi_bits: Option<f64>,
}

/// Exact π, I and C of `net` (N ≤ [`EXACT_MAX_N`], with shared noise N ≤
/// [`EXACT_SHARED_NOISE_MAX_N`]). Returns `Err(Stopped)` when `control` asks to stop.
///
/// # Panics
/// If N is 0 or beyond the limits above, or the correlation lag is not 0 or 1.
pub fn analyze_exact(
    net: &Network,
    options: &ExactOptions,
    control: &dyn Control,
) -> Result<ExactResult, Stopped> {
    analyze(net, options, None, control)
}

/// Like [`analyze_exact`], but the iterative solver starts from `start`, a distribution
/// believed close to π — typically the stationary distribution of a network one small
/// mutation away (an evolution's parent). A good start saves most of a solve, so the dense
/// factorisation is skipped. The result is a deterministic function of `net` and `start`.
///
/// # Panics
/// As [`analyze_exact`], and if `start` does not have 2^N entries.
pub fn analyze_exact_from(
    net: &Network,
    start: &[f64],
    options: &ExactOptions,
    control: &dyn Control,
) -> Result<ExactResult, Stopped> {
    assert_eq!(start.len(), 1 << net.n(), "a start needs 2^N entries");
    analyze(net, options, Some(start), control)
}

/// The analysis behind both entry points; `start` selects the warm-started solver.
fn analyze(
    net: &Network,
    options: &ExactOptions,
    start: Option<&[f64]>,
    control: &dyn Control,
) -> Result<ExactResult, Stopped> {
    let n = net.n();
    assert!(
        (1..=EXACT_MAX_N).contains(&n),
        "exact analysis needs 1 ≤ N ≤ {EXACT_MAX_N}, got {n}"
    );
    if matches!(net.noise, Noise::Shared { std } if std > 0.0) {
        assert!(
            n <= EXACT_SHARED_NOISE_MAX_N,
            "exact analysis with shared noise needs N ≤ {EXACT_SHARED_NOISE_MAX_N}, got {n}"
        );
    }
    assert!(
        options.correlation.lag <= 1,
        "correlation lag must be 0 or 1"
    );
    stop_point(control)?;
    control.progress(0.0, "building the transition kernel");
    let kernel = Kernel::new(net);
    stop_point(control)?;
    let (pi, convergence) = match start {
        Some(start) => stationary_from(&kernel, start.to_vec(), options, control)?,
        None => stationary(&kernel, options, control)?,
    };
    control.progress(1.0, "entropies and correlations");
    let state_entropy_bits = entropy_bits(&pi);
    let conditional_entropy_bits = conditional_entropy_bits(&kernel, &pi);
    let correlation = correlation_from_pi(kernel.marginal(), &pi, options.correlation);
    let gaussian_mi_bits = gaussian_from_pi(kernel.marginal(), &pi);
    Ok(ExactResult {
        gaussian_mi_bits,
        mi_bits: (state_entropy_bits - conditional_entropy_bits).max(0.0),
        pi,
        convergence,
        state_entropy_bits,
        conditional_entropy_bits,
        correlation,
    })
}

/// π by dense LU for small N, GMRES otherwise (also to refine an LU solution that misses
/// the tolerance).
fn stationary(
    kernel: &Kernel,
    options: &ExactOptions,
    control: &dyn Control,
) -> Result<(Vec<f64>, Convergence), Stopped> {
    let states = kernel.states();
    let mut start = vec![1.0 / states as f64; states];
    let mut solver = "gmres";
    let mut spent = 0;
    if kernel.n() <= options.dense_max_n.min(dense::DENSE_LIMIT_N) {
        control.progress(0.0, "dense LU solve");
        let pi = dense::solve(kernel);
        let residual_l1 = kernel.residual_l1(&pi, &mut vec![0.0; states]);
        if residual_l1 <= options.tolerance {
            return Ok((pi, convergence("dense_lu", 1, residual_l1, options)));
        }
        stop_point(control)?;
        start = pi;
        solver = "dense_lu+gmres";
        spent = 1;
    }
    let settings = gmres::Settings {
        tolerance: options.tolerance.max(0.0),
        max_iterations: options.max_iterations.max(1),
        restart: gmres::RESTART,
    };
    let outcome = gmres::solve(kernel, start, &settings, control)?;
    let iterations = spent + outcome.iterations;
    let report = convergence(solver, iterations, outcome.residual_l1, options);
    Ok((outcome.pi, report))
}

/// π by GMRES from a caller's start (no dense solve).
fn stationary_from(
    kernel: &Kernel,
    start: Vec<f64>,
    options: &ExactOptions,
    control: &dyn Control,
) -> Result<(Vec<f64>, Convergence), Stopped> {
    let settings = gmres::Settings {
        tolerance: options.tolerance.max(0.0),
        max_iterations: options.max_iterations.max(1),
        restart: gmres::RESTART,
    };
    let outcome = gmres::solve(kernel, start, &settings, control)?;
    let report = convergence(
        "gmres_warm",
        outcome.iterations,
        outcome.residual_l1,
        options,
    );
    Ok((outcome.pi, report))
}

fn convergence(
    solver: &str,
    iterations: usize,
    residual_l1: f64,
    options: &ExactOptions,
) -> Convergence {
    Convergence {
        solver: solver.to_string(),
        iterations,
        residual_l1,
        converged: residual_l1 <= options.tolerance,
    }
}

/// Clips negatives (rounding noise of the solvers) to zero and rescales to sum 1.
fn normalize(x: &mut [f64]) {
    x.iter_mut().for_each(|v| *v = v.max(0.0));
    let total: f64 = x.iter().sum();
    if total > 0.0 {
        x.iter_mut().for_each(|v| *v /= total);
    } else {
        let uniform = 1.0 / x.len() as f64;
        x.fill(uniform);
    }
}

/// Shannon entropy in bits of a probability vector (0·log 0 = 0).
fn entropy_bits(p: &[f64]) -> f64 {
    -p.iter()
        .filter(|&&v| v > 0.0)
        .map(|&v| v * v.log2())
        .sum::<f64>()
}

/// Σ_x π(x)·H(x(t+1) | x(t) = x), summed in state order so the result is deterministic.
fn conditional_entropy_bits(kernel: &Kernel, pi: &[f64]) -> f64 {
    let states = kernel.states();
    let row_len = if kernel.is_mixture() { states } else { 0 };
    let per_state: Vec<f64> = (0..states)
        .into_par_iter()
        .map_init(
            || vec![0.0; row_len],
            |row, x| {
                if pi[x] > 0.0 {
                    kernel.outcome_entropy_bits(x, row)
                } else {
                    0.0
                }
            },
        )
        .collect();
    pi.iter().zip(&per_state).map(|(p, h)| p * h).sum()
}

/// C from π: means Σ π·x_i; lag 1 cross moments Σ_x π(x)·x_i·E_η[p_j(x)]; lag 0 Σ π·x_i·x_j.
/// `probabilities[s * n + i]` = E_η[p_i(x_s)], for every state s (n follows from π's length).
fn correlation_from_pi(
    probabilities: &[f64],
    pi: &[f64],
    options: CorrelationOptions,
) -> CorrelationStats {
    let n = pi.len().trailing_zeros() as usize;
    let mut mean = vec![0.0; n];
    let mut next_mean = vec![0.0; n];
    let mut cross = vec![0.0; n * n];
    for (s, &weight) in pi.iter().enumerate() {
        let p = &probabilities[s * n..(s + 1) * n];
        for i in 0..n {
            next_mean[i] += weight * p[i];
            if s >> i & 1 == 0 {
                continue;
            }
            mean[i] += weight;
            let row = &mut cross[i * n..(i + 1) * n];
            for (j, c) in row.iter_mut().enumerate() {
                *c += weight
                    * if options.lag == 0 {
                        (s >> j & 1) as f64
                    } else {
                        p[j]
                    };
            }
        }
    }
    let mean_b = if options.lag == 0 { &mean } else { &next_mean };
    correlation::from_moments(&mean, mean_b, &cross, options)
}

/// Exact I_G: same-time moments E x_i x_j and lag-1 moments E x_i(t)·p_j(x(t)) under π (the
/// chain is stationary, so x(t+1) has the same same-time moments as x(t)).
fn gaussian_from_pi(probabilities: &[f64], pi: &[f64]) -> Option<f64> {
    let n = pi.len().trailing_zeros() as usize;
    let mut mean = vec![0.0; n];
    let mut second = vec![0.0; n * n];
    let mut cross = vec![0.0; n * n];
    for (s, &weight) in pi.iter().enumerate() {
        let p = &probabilities[s * n..(s + 1) * n];
        for i in (0..n).filter(|&i| s >> i & 1 == 1) {
            mean[i] += weight;
            for j in 0..n {
                second[i * n + j] += weight * (s >> j & 1) as f64;
                cross[i * n + j] += weight * p[j];
            }
        }
    }
    crate::engine::flux::sampled::gaussian_mi_exact(n, &mean, &second, &cross)
}

fn stop_point(control: &dyn Control) -> Result<(), Stopped> {
    if control.should_stop() {
        Err(Stopped)
    } else {
        Ok(())
    }
}
