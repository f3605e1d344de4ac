//! Restarted GMRES for the stationary distribution. Power iteration stalls on slowly mixing
//! (strongly coupled) networks, whose kernels have eigenvalues close to 1; GMRES instead solves
//! the nonsingular system (I − Tᵀ + u·1ᵀ)·π = u (u uniform), whose few small eigenvalues a
//! Krylov space captures in a handful of products.

use crate::engine::control::{Control, Stopped};

use super::kernel::Kernel;
use super::{normalize, stop_point};

/// Krylov vectors kept per restart cycle (memory: this many vectors of 2^N doubles).
pub(super) const RESTART: usize = 50;
/// Restart cycles without a 10 % gain in the true residual before giving up (rounding floor).
const STALL_RESTARTS: usize = 3;

/// Limits of one solve.
pub(super) struct Settings {
    pub tolerance: f64,
    /// Kernel products allowed in total, including the residual checks.
    pub max_iterations: usize,
    pub restart: usize,
}

/// The best distribution found and its true residual ‖π·T − π‖₁.
pub(super) struct Outcome {
    pub pi: Vec<f64>,
    pub iterations: usize,
    pub residual_l1: f64,
}

/// Reports log-residual progress, never moving backwards.
struct Progress<'a> {
    control: &'a dyn Control,
    tolerance: f64,
    initial: Option<f64>,
    fraction: f64,
}

impl Progress<'_> {
    fn report(&mut self, residual_l1: f64, iterations: usize) {
        let initial = *self.initial.get_or_insert(residual_l1);
        if initial > self.tolerance && residual_l1 > 0.0 {
            let done = (initial / residual_l1).ln() / (initial / self.tolerance).ln();
            self.fraction = self.fraction.max(done.clamp(0.0, 1.0));
        }
        let message = format!("GMRES: {iterations} products, residual {residual_l1:.2e}");
        self.control.progress(self.fraction, &message);
    }
}

/// Solves for π starting from `start`, until ‖π·T − π‖₁ ≤ tolerance, the product budget is
/// spent or the residual stops improving. The returned π is normalised and non-negative, and
/// its residual was computed from it.
pub(super) fn solve(
    kernel: &Kernel,
    start: Vec<f64>,
    settings: &Settings,
    control: &dyn Control,
) -> Result<Outcome, Stopped> {
    let states = kernel.states();
    let mut progress = Progress {
        control,
        tolerance: settings.tolerance,
        initial: None,
        fraction: 0.0,
    };
    let mut x = start;
    let mut image = vec![0.0; states];
    let mut used = 0;
    let mut best: Option<Outcome> = None;
    let mut stalled = 0;
    loop {
        normalize(&mut x);
        stop_point(control)?;
        kernel.apply(&x, &mut image);
        used += 1;
        let residual: Vec<f64> = image.iter().zip(&x).map(|(t, x)| t - x).collect();
        let residual_l1: f64 = residual.iter().map(|r| r.abs()).sum();
        progress.report(residual_l1, used);
        match &best {
            Some(b) if residual_l1 > 0.9 * b.residual_l1 => stalled += 1,
            _ => stalled = 0,
        }
        if best.as_ref().is_none_or(|b| residual_l1 < b.residual_l1) {
            best = Some(Outcome {
                pi: x.clone(),
                iterations: 0,
                residual_l1,
            });
        }
        let steps = settings
            .restart
            .min(settings.max_iterations.saturating_sub(used + 1));
        if residual_l1 <= settings.tolerance || steps == 0 || stalled >= STALL_RESTARTS {
            let mut outcome = best.expect("at least one residual was computed");
            outcome.iterations = used;
            return Ok(outcome);
        }
        // The cycle watches ‖r‖₂; convert the L1 tolerance with the shape of the current
        // residual (‖r‖₂/‖r‖₁ lies between 1/√M for a spread vector and 1 for a spike).
        let cycle = Cycle {
            kernel,
            steps,
            target: 0.5 * settings.tolerance * norm2(&residual) / residual_l1,
        };
        let correction = cycle.run(residual, control, &mut used, &mut progress)?;
        for (xi, c) in x.iter_mut().zip(&correction) {
            *xi += c;
        }
    }
}

/// One restart cycle of GMRES on A = I − Tᵀ + u·1ᵀ from the residual r₀ = u − A·x.
struct Cycle<'a> {
    kernel: &'a Kernel,
    steps: usize,
    /// Stop early once the least-squares residual estimate ‖r‖₂ falls below this.
    target: f64,
}

impl Cycle<'_> {
    /// Returns the correction that minimises ‖r₀ − A·c‖₂ over the Krylov space built.
    fn run(
        &self,
        r0: Vec<f64>,
        control: &dyn Control,
        used: &mut usize,
        progress: &mut Progress,
    ) -> Result<Vec<f64>, Stopped> {
        let states = r0.len();
        let beta = norm2(&r0);
        let mut basis = vec![scaled(r0, 1.0 / beta)];
        let mut columns: Vec<Vec<f64>> = Vec::with_capacity(self.steps);
        let mut rotations: Vec<(f64, f64)> = Vec::with_capacity(self.steps);
        let mut g = vec![beta];
        let mut w = vec![0.0; states];
        for j in 0..self.steps {
            stop_point(control)?;
            operator(self.kernel, &basis[j], &mut w);
            *used += 1;
            let mut h = orthogonalize(&basis, &mut w);
            let norm = norm2(&w);
            h.push(norm);
            for (i, &(c, s)) in rotations.iter().enumerate() {
                rotate(&mut h, i, c, s);
            }
            let (c, s) = givens(h[j], h[j + 1]);
            rotate(&mut h, j, c, s);
            h.truncate(j + 1);
            rotations.push((c, s));
            g.push(-s * g[j]);
            g[j] *= c;
            columns.push(h);
            let estimate = g[j + 1].abs();
            if j % 8 == 7 {
                progress.report(estimate * (states as f64).sqrt(), *used);
            }
            if estimate <= self.target || norm <= 1e-14 * beta || j + 1 == self.steps {
                break;
            }
            basis.push(scaled(w.clone(), 1.0 / norm));
        }
        let y = back_substitute(&columns, &g);
        let mut correction = vec![0.0; states];
        for (v, &yi) in basis.iter().zip(&y) {
            for (c, vi) in correction.iter_mut().zip(v) {
                *c += yi * vi;
            }
        }
        Ok(correction)
    }
}

/// `out = A·v = v − Tᵀ·v + u·(1ᵀ·v)` with u = 1/2^N.
fn operator(kernel: &Kernel, v: &[f64], out: &mut [f64]) {
    kernel.apply(v, out);
    let shift = v.iter().sum::<f64>() / v.len() as f64;
    for (o, vi) in out.iter_mut().zip(v) {
        *o = vi - *o + shift;
    }
}

/// Modified Gram–Schmidt of `w` against the basis; returns the projection coefficients.
fn orthogonalize(basis: &[Vec<f64>], w: &mut [f64]) -> Vec<f64> {
    let mut h = Vec::with_capacity(basis.len() + 1);
    for v in basis {
        let coefficient = dot(v, w);
        for (wi, vi) in w.iter_mut().zip(v) {
            *wi -= coefficient * vi;
        }
        h.push(coefficient);
    }
    h
}

/// The rotation (c, s) with [c s; −s c]·(a, b) = (r, 0).
fn givens(a: f64, b: f64) -> (f64, f64) {
    let r = a.hypot(b);
    if r == 0.0 { (1.0, 0.0) } else { (a / r, b / r) }
}

/// Applies rotation (c, s) to entries i and i + 1 of `h`.
#[inline(always)]
pub(super) fn rotate(h: &mut [f64], i: usize, c: f64, s: f64) {
    let (a, b) = (h[i], h[i + 1]);
    h[i] = c * a + s * b;
    h[i + 1] = -s * a + c * b;
}

/// Solves R·y = g for the upper-triangular R stored by columns (`columns[j][i]` = R_ij).
/// Shared by both GMRES solvers (inlined into the small solver's vector-width variants).
#[inline(always)]
pub(super) fn back_substitute(columns: &[Vec<f64>], g: &[f64]) -> Vec<f64> {
    let k = columns.len();
    let mut y = vec![0.0; k];
    for i in (0..k).rev() {
        let tail: f64 = (i + 1..k).map(|j| columns[j][i] * y[j]).sum();
        let diagonal = columns[i][i];
        y[i] = if diagonal == 0.0 {
            0.0
        } else {
            (g[i] - tail) / diagonal
        };
    }
    y
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm2(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn scaled(mut v: Vec<f64>, factor: f64) -> Vec<f64> {
    v.iter_mut().for_each(|x| *x *= factor);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn givens_zeroes_the_second_entry() {
        let (c, s) = givens(3.0, 4.0);
        let mut h = [3.0, 4.0];
        rotate(&mut h, 0, c, s);
        assert!((h[0] - 5.0).abs() < 1e-15 && h[1].abs() < 1e-15);
    }

    #[test]
    fn back_substitution_solves_triangular_system() {
        // R = [[2, 1], [0, 4]], g = [4, 8] → y = [1, 2].
        let y = back_substitute(&[vec![2.0], vec![1.0, 4.0]], &[4.0, 8.0]);
        assert_eq!(y, vec![1.0, 2.0]);
    }
}
