//! The Gaussian estimate of the flux (A4): treat (x_t, x_{t+1}) as jointly Gaussian with the
//! sampled covariances, I_G = ½·log2(det Σ_t · det Σ_{t+1} / det Σ_{t,t+1}).
//!
//! Log-determinants come from Cholesky factors (faer, sequential so that the result never
//! depends on the thread count). The leading N × N block of the joint factor is the factor of
//! Σ_t, so two factorisations suffice: the joint 2N × 2N one and that of Σ_{t+1}.

use std::f64::consts::LN_2;

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{cholesky_in_place, cholesky_in_place_scratch};
use faer::{Mat, Par};

use crate::engine::vector_state::clear_upper_vector_state;

use super::moments::Moments;

/// A pivot whose conditional variance is below this fraction of the variable's variance
/// means an (almost) exact linear dependence: the determinant ratio is then meaningless.
const RELATIVE_PIVOT_FLOOR: f64 = 1e-10;

/// I_G in bits from pooled moments, or `None` (with a warning saying why) when the joint
/// covariance is singular. Neurons that never changed state are left out, with a warning.
pub(super) fn gaussian_mi(m: &Moments, warnings: &mut Vec<String>) -> Option<f64> {
    let t = m.samples as f64;
    let (mean_now, mean_next) = (m.mean_now(), m.mean_next());
    let is_variable = |mu: f64| mu * t > 0.5 && (1.0 - mu) * t > 0.5;
    let kept: Vec<usize> = (0..m.n)
        .filter(|&i| is_variable(mean_now[i]) && is_variable(mean_next[i]))
        .collect();
    if kept.len() < m.n {
        warnings.push(format!(
            "{} of {} neurons never changed state in the sample and were left out of the \
             Gaussian estimate.",
            m.n - kept.len(),
            m.n
        ));
    }
    let k = kept.len();
    if k == 0 {
        warnings.push("No neuron varied, so the Gaussian estimate is undefined.".into());
        return None;
    }
    if m.samples <= 2 * k as u64 {
        warnings.push(format!(
            "The Gaussian estimate needs more samples ({}) than twice the number of varying \
             neurons ({}); the joint covariance is singular.",
            m.samples,
            2 * k
        ));
        return None;
    }
    let joint = joint_covariance(m, &kept, &mean_now, &mean_next);
    let next_block = joint.submatrix(k, k, k, k).to_owned();
    let (Some(joint_pivots), Some(next_pivots)) = (log_pivots(joint), log_pivots(next_block))
    else {
        warnings.push(
            "The joint covariance of x(t), x(t+1) is singular (some neurons are exact linear \
             functions of others), so the Gaussian estimate is undefined."
                .into(),
        );
        return None;
    };
    // Joint pivots 0..k factor Σ_t; pivots k..2k factor the conditional covariance of x(t+1).
    let log_det_next: f64 = next_pivots.iter().sum();
    let log_det_conditional: f64 = joint_pivots[k..].iter().sum();
    let bits = 0.5 * (log_det_next - log_det_conditional) / LN_2;
    warn_about_bias(bits, k, m.samples, warnings);
    Some(bits)
}

/// I_G in bits of a stationary chain from exact moments (the limit the sampled estimate
/// converges to): `mean[i]` = E x_i, `second[i*n+j]` = E x_i x_j (same time) and
/// `cross[i*n+j]` = E x_i(t) x_j(t+1). Neurons with variance 0 are left out; `None` when the
/// joint covariance is singular or no neuron varies.
pub fn gaussian_mi_exact(n: usize, mean: &[f64], second: &[f64], cross: &[f64]) -> Option<f64> {
    let kept: Vec<usize> = (0..n)
        .filter(|&i| second[i * n + i] - mean[i] * mean[i] > 1e-12)
        .collect();
    let k = kept.len();
    if k == 0 {
        return None;
    }
    let joint = Mat::from_fn(2 * k, 2 * k, |r, c| {
        let (a, b) = (kept[r % k], kept[c % k]);
        match (r < k, c < k) {
            (true, true) | (false, false) => second[a * n + b] - mean[a] * mean[b],
            (true, false) => cross[a * n + b] - mean[a] * mean[b],
            (false, true) => cross[b * n + a] - mean[a] * mean[b],
        }
    });
    let next_block = joint.submatrix(k, k, k, k).to_owned();
    let joint_pivots = log_pivots(joint)?;
    let next_pivots = log_pivots(next_block)?;
    let log_det_next: f64 = next_pivots.iter().sum();
    let log_det_conditional: f64 = joint_pivots[k..].iter().sum();
    Some(0.5 * (log_det_next - log_det_conditional) / LN_2)
}

/// The 2k × 2k covariance [[Σ_t, Σ_{t,t+1}], [Σ_{t,t+1}ᵀ, Σ_{t+1}]] over the kept neurons
/// (maximum-likelihood normalisation 1/T; the ratio of determinants does not depend on it).
fn joint_covariance(m: &Moments, kept: &[usize], mean_now: &[f64], mean_next: &[f64]) -> Mat<f64> {
    let (n, k, t) = (m.n, kept.len(), m.samples as f64);
    let lag0_next = m.lag0_next();
    Mat::from_fn(2 * k, 2 * k, |r, c| {
        let (a, b) = (kept[r % k], kept[c % k]);
        match (r < k, c < k) {
            (true, true) => m.lag0[a * n + b] / t - mean_now[a] * mean_now[b],
            (false, false) => lag0_next[a * n + b] / t - mean_next[a] * mean_next[b],
            (true, false) => m.cross[a * n + b] / t - mean_now[a] * mean_next[b],
            (false, true) => m.cross[b * n + a] / t - mean_now[b] * mean_next[a],
        }
    })
}

/// ln L_ii² of the Cholesky factor (the log conditional variances, summing to ln det), or
/// `None` if the matrix is not numerically positive definite.
fn log_pivots(mut a: Mat<f64>) -> Option<Vec<f64>> {
    let dim = a.nrows();
    let diagonal: Vec<f64> = (0..dim).map(|i| a[(i, i)]).collect();
    let mut mem = MemBuffer::new(cholesky_in_place_scratch::<f64>(
        dim,
        Par::Seq,
        Default::default(),
    ));
    let stack = MemStack::new(&mut mem);
    cholesky_in_place(
        a.as_mut(),
        Default::default(),
        Par::Seq,
        stack,
        Default::default(),
    )
    .ok()?;
    clear_upper_vector_state();
    (0..dim)
        .map(|i| {
            let pivot = a[(i, i)] * a[(i, i)];
            (pivot > RELATIVE_PIVOT_FLOOR * diagonal[i]).then(|| pivot.ln())
        })
        .collect()
}

/// For independent variables the estimator's mean is about k²/(2·T·ln 2) bits (the number
/// of cross-covariances over twice the sample size); say so when that is not small.
fn warn_about_bias(bits: f64, k: usize, samples: u64, warnings: &mut Vec<String>) {
    let bias = (k * k) as f64 / (2.0 * samples as f64 * LN_2);
    if bias > 0.1 * bits.abs().max(1e-3) {
        warnings.push(format!(
            "The Gaussian estimate ({bits:.4} bits) carries a finite-sample upward bias of \
             about {bias:.4} bits (N²/(2·T·ln 2) with N = {k}, T = {samples}); sample more \
             steps to trust it."
        ));
    }
}
