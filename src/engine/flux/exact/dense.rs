//! Direct solve for small networks: the dense 2^N × 2^N kernel and one LU factorisation of
//! (I − Tᵀ + u·1ᵀ), which is cheaper than any iteration while 8^N stays small.

use faer::Mat;
use faer::prelude::Solve;
use rayon::prelude::*;

use super::kernel::Kernel;
use super::normalize;
use crate::engine::vector_state::clear_upper_vector_state;

/// Largest N the dense path accepts whatever the options say: T and the LU factors then take
/// 2 · 4^12 · 8 bytes = 256 MiB and the factorisation ~46 GFLOP.
pub(super) const DENSE_LIMIT_N: usize = 12;

/// π from a dense LU solve of (I − Tᵀ + u·1ᵀ)·π = u, normalised (tiny negatives clipped).
pub(super) fn solve(kernel: &Kernel) -> Vec<f64> {
    assert!(
        kernel.n() <= DENSE_LIMIT_N,
        "dense solve needs N ≤ {DENSE_LIMIT_N}"
    );
    let states = kernel.states();
    let transition = dense_transition(kernel);
    let u = 1.0 / states as f64;
    // Row i, column j: δ_ij − T(i | j) + u.
    let system = Mat::from_fn(states, states, |i, j| {
        let identity = if i == j { 1.0 } else { 0.0 };
        identity - transition[j * states + i] + u
    });
    let rhs = Mat::from_fn(states, 1, |_, _| u);
    let solution = system.partial_piv_lu().solve(&rhs);
    clear_upper_vector_state();
    let mut pi: Vec<f64> = (0..states).map(|i| solution[(i, 0)]).collect();
    normalize(&mut pi);
    pi
}

/// Row-major T: `t[x * 2^N + y]` = T(y | x).
fn dense_transition(kernel: &Kernel) -> Vec<f64> {
    let states = kernel.states();
    let mut t = vec![0.0; states * states];
    t.par_chunks_mut(states)
        .enumerate()
        .for_each(|(x, row)| kernel.transition_row(x, row));
    t
}
