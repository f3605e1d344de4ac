//! Restarted GMRES on (I − Tᵀ + u·1ᵀ)·π = u for the small solver, written as a machine that
//! pauses whenever it needs the preconditioner applied. Alone, a solver is simply resumed
//! after each application; siblings that share a preconditioner (an evolution's offspring of
//! one hub) are resumed in lock step, and the vectors they wait on are preconditioned in one
//! pass over the factors ([`Preconditioner::solve_many_in_place`]), which costs about half as
//! much per vector. Each solver's arithmetic is the same either way, so its result is too.

use super::super::gmres::{back_substitute, rotate};
use super::super::preconditioner::Preconditioner;
use super::super::{ExactOptions, normalize};
use super::{Factors, NARROW, WIDE};

/// Krylov vectors per restart cycle: strongly coupled networks (an evolution's N-rooks-like
/// genomes) need 50–60 products at N = 8, and a restart throws away what the basis has learnt.
pub(super) const RESTART: usize = 80;
/// Krylov vectors allocated up front; the basis grows when a cycle needs more. A preconditioned
/// solve needs about ten, and a full-size basis (166 KiB at N = 8) would come from fresh,
/// page-faulting memory on every call.
const INITIAL_BASIS: usize = 16;
/// Restart cycles without a 10 % gain in the true residual before giving up.
const STALL_RESTARTS: usize = 3;

/// The best π found, the products spent and its true residual ‖π·T − π‖₁.
pub(super) type Solution = (Vec<f64>, usize, f64);

/// Where a solver stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `x` is the next iterate: measure its residual, then stop or start a cycle.
    Measure,
    /// `pending` holds v_j and is to become M⁻¹·v_j; then Arnoldi step j continues.
    Arnoldi,
    /// `pending` holds V·y and is to become M⁻¹·V·y; then it is added to `x`.
    Correct,
    Finished,
}

/// One GMRES solve with all its scratch allocated once.
pub(super) struct Solver<'a> {
    factors: &'a Factors,
    /// A neighbour's A⁻¹ (right preconditioning).
    preconditioner: Option<&'a Preconditioner>,
    tolerance: f64,
    /// Products allowed in total, the residual checks included.
    budget: usize,
    phase: Phase,
    /// The current iterate.
    x: Vec<f64>,
    /// Products spent so far.
    used: usize,
    best: Option<(Vec<f64>, f64)>,
    stalled: usize,
    /// The vector the preconditioner is to be applied to, in place.
    pending: Vec<f64>,
    /// All ones, to sum a vector with [`dot`]'s parallel add chains.
    ones: Vec<f64>,
    /// Krylov basis, vector k at `basis[k * states..]`.
    basis: Vec<f64>,
    /// Hessenberg columns after rotation (column j has j + 1 entries).
    columns: Vec<Vec<f64>>,
    rotations: Vec<(f64, f64)>,
    /// x·T, or A·M⁻¹·v_j during a cycle.
    image: Vec<f64>,
    /// The cycle in progress: right-hand side of the least-squares problem, step, step limit,
    /// target for |g[j + 1]| and ‖r₀‖₂.
    g: Vec<f64>,
    j: usize,
    steps: usize,
    target: f64,
    beta: f64,
}

impl<'a> Solver<'a> {
    pub(super) fn new(
        factors: &'a Factors,
        preconditioner: Option<&'a Preconditioner>,
        start: Vec<f64>,
        options: &ExactOptions,
    ) -> Self {
        let states = factors.states;
        Solver {
            factors,
            preconditioner,
            tolerance: options.tolerance.max(0.0),
            budget: options.max_iterations.max(1),
            phase: Phase::Measure,
            x: start,
            used: 0,
            best: None,
            stalled: 0,
            pending: vec![0.0; states],
            ones: vec![1.0; states],
            basis: vec![0.0; INITIAL_BASIS.min(RESTART + 1) * states],
            columns: Vec::with_capacity(RESTART),
            rotations: Vec::with_capacity(RESTART),
            image: vec![0.0; states],
            g: Vec::with_capacity(RESTART + 1),
            j: 0,
            steps: 0,
            target: 0.0,
            beta: 0.0,
        }
    }

    /// Runs the solve to its end. On x86-64 the same code is also compiled for AVX-512 and for
    /// AVX2 (with FMA) and chosen at run time; every version performs the same IEEE operations
    /// in the same order, so the result does not depend on which one runs.
    pub(super) fn solve(mut self) -> Solution {
        run_together(std::slice::from_mut(&mut self));
        self.solution()
    }

    fn solution(self) -> Solution {
        let (pi, residual_l1) = self.best.expect("one residual was computed");
        (pi, self.used, residual_l1)
    }

    /// Runs until the solver next needs `pending` preconditioned (true) or has finished.
    #[inline(always)]
    fn advance<const C: usize>(&mut self) -> bool {
        loop {
            match self.phase {
                Phase::Finished => return false,
                Phase::Measure => {
                    if !self.measure::<C>() {
                        self.phase = Phase::Finished;
                        return false;
                    }
                    self.phase = Phase::Arnoldi;
                    return true;
                }
                Phase::Arnoldi => {
                    if !self.arnoldi_step::<C>() {
                        self.combine();
                        self.phase = Phase::Correct;
                    }
                    return true;
                }
                Phase::Correct => {
                    for (xi, c) in self.x.iter_mut().zip(&self.pending) {
                        *xi += c;
                    }
                    self.phase = Phase::Measure;
                }
            }
        }
    }

    /// Measures the residual of the normalised iterate and keeps the best one; returns false
    /// when the solve is over, otherwise starts a cycle from the residual with `pending` = v₀.
    #[inline(always)]
    fn measure<const C: usize>(&mut self) -> bool {
        normalize(&mut self.x);
        self.factors.apply::<C>(&self.x, &mut self.image);
        self.used += 1;
        // r = u − A·x = x·T − x for a normalised x.
        let residual: Vec<f64> = self.image.iter().zip(&self.x).map(|(t, x)| t - x).collect();
        let residual_l1: f64 = residual.iter().map(|r| r.abs()).sum();
        match &self.best {
            Some((_, b)) if residual_l1 > 0.9 * b => self.stalled += 1,
            _ => self.stalled = 0,
        }
        if self.best.as_ref().is_none_or(|(_, b)| residual_l1 < *b) {
            self.best = Some((self.x.clone(), residual_l1));
        }
        let steps = RESTART.min(self.budget.saturating_sub(self.used + 1));
        if residual_l1 <= self.tolerance || steps == 0 || self.stalled >= STALL_RESTARTS {
            return false;
        }
        // The cycle watches ‖r‖₂: convert the L1 target with the residual's own shape. No
        // safety factor: the true residual of the result is measured anyway, and a miss only
        // costs another cycle. At N = 8 in an evolution (9,616 solves, 2026-12-06) a factor of
        // 0.5 cost 13.42 products per solve against 13.13 without, and no solve missed.
        self.target = self.tolerance * norm2(&residual) / residual_l1;
        self.steps = steps;
        self.beta = norm2(&residual);
        let states = self.factors.states;
        for (b, r) in self.basis[..states].iter_mut().zip(&residual) {
            *b = r / self.beta;
        }
        self.columns.clear();
        self.rotations.clear();
        self.g.clear();
        self.g.push(self.beta);
        self.j = 0;
        self.pending.copy_from_slice(&self.basis[..states]);
        true
    }

    /// Arnoldi step j with `pending` = M⁻¹·v_j; returns true with `pending` = v_{j+1} when the
    /// cycle goes on, false when it has reached its target or its length.
    #[inline(always)]
    fn arnoldi_step<const C: usize>(&mut self) -> bool {
        let (states, j) = (self.factors.states, self.j);
        // image = A·M⁻¹·v_j with A·v = v − Tᵀ·v + u·(1ᵀ·v).
        self.factors.apply::<C>(&self.pending, &mut self.image);
        let shift = dot(&self.pending, &self.ones) / states as f64;
        for (o, vi) in self.image.iter_mut().zip(&self.pending) {
            *o = vi - *o + shift;
        }
        self.used += 1;
        let mut h = orthogonalize(&self.basis[..(j + 1) * states], &mut self.image);
        let norm = norm2(&self.image);
        h.push(norm);
        for (i, &(c, s)) in self.rotations.iter().enumerate() {
            rotate(&mut h, i, c, s);
        }
        let (c, s) = givens(h[j], h[j + 1]);
        rotate(&mut h, j, c, s);
        h.truncate(j + 1);
        self.rotations.push((c, s));
        self.g.push(-s * self.g[j]);
        self.g[j] *= c;
        self.columns.push(h);
        if self.g[j + 1].abs() <= self.target || norm <= 1e-14 * self.beta || j + 1 == self.steps {
            return false;
        }
        if self.basis.len() < (j + 2) * states {
            self.basis.resize((j + 2) * states, 0.0);
        }
        let next = &mut self.basis[(j + 1) * states..(j + 2) * states];
        // One division in all, then a multiplication per entry (a 512-bit division takes
        // about 16 cycles).
        let inverse = 1.0 / norm;
        for (v, wi) in next.iter_mut().zip(&self.image) {
            *v = wi * inverse;
        }
        self.pending.copy_from_slice(next);
        self.j = j + 1;
        true
    }

    /// `pending = V·y` for the coefficients y that minimise ‖r₀ − A·M⁻¹·V·y‖₂ over the
    /// Krylov space of the cycle just ended.
    #[inline(always)]
    fn combine(&mut self) {
        let states = self.factors.states;
        self.g.truncate(self.columns.len());
        let y = back_substitute(&self.columns, &self.g);
        self.pending.fill(0.0);
        for (v, &yi) in self.basis.chunks_exact(states).zip(&y) {
            for (c, vi) in self.pending.iter_mut().zip(v) {
                *c += yi * vi;
            }
        }
    }
}

/// Runs solvers to their ends in lock step, preconditioning the vectors they wait on together.
/// Every solver must have the same preconditioner (or none).
pub(super) fn solve_together(mut solvers: Vec<Solver>) -> Vec<Solution> {
    run_together(&mut solvers);
    solvers.into_iter().map(Solver::solution).collect()
}

/// Dispatches [`lock_step`] to the widest vector code the CPU offers.
fn run_together(solvers: &mut [Solver]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("fma") {
            // SAFETY: the CPU supports AVX-512F and FMA, as checked just above.
            return unsafe { lock_step_avx512(solvers) };
        }
        if has!("avx2") && has!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA, as checked just above.
            return unsafe { lock_step_avx2(solvers) };
        }
    }
    lock_step::<NARROW>(solvers);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn lock_step_avx512(solvers: &mut [Solver]) {
    lock_step::<WIDE>(solvers);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn lock_step_avx2(solvers: &mut [Solver]) {
    lock_step::<NARROW>(solvers);
}

/// Advances every unfinished solver to its next request, serves all requests with one pass
/// over the factors per [`LOCKSTEP`](crate::engine::flux::exact::LOCKSTEP) vectors, and
/// repeats until all have finished.
#[inline(always)]
fn lock_step<const C: usize>(solvers: &mut [Solver]) {
    let Some(first) = solvers.first() else {
        return;
    };
    let preconditioner = first.preconditioner;
    assert!(
        solvers
            .iter()
            .all(|s| s.preconditioner.map(std::ptr::from_ref)
                == preconditioner.map(std::ptr::from_ref)),
        "solvers in lock step share one preconditioner"
    );
    loop {
        let mut waiting: Vec<&mut [f64]> = Vec::with_capacity(solvers.len());
        for s in solvers.iter_mut() {
            if s.advance::<C>() {
                waiting.push(&mut s.pending);
            }
        }
        match (preconditioner, waiting.len()) {
            (_, 0) => return,
            (Some(p), 1) => p.solve_in_place(waiting[0]),
            (Some(p), _) => p.solve_many_in_place(&mut waiting),
            (None, _) => {}
        }
    }
}

/// Modified Gram–Schmidt of `w` against the basis vectors in `basis`; returns the
/// coefficients.
#[inline(always)]
fn orthogonalize(basis: &[f64], w: &mut [f64]) -> Vec<f64> {
    let states = w.len();
    let mut h = Vec::with_capacity(basis.len() / states + 1);
    for v in basis.chunks_exact(states) {
        let coefficient = dot(v, w);
        for (wi, vi) in w.iter_mut().zip(v) {
            *wi -= coefficient * vi;
        }
        h.push(coefficient);
    }
    h
}

/// The rotation (c, s) with [c s; −s c]·(a, b) = (r, 0).
#[inline(always)]
fn givens(a: f64, b: f64) -> (f64, f64) {
    let r = a.hypot(b);
    if r == 0.0 { (1.0, 0.0) } else { (a / r, b / r) }
}

/// Dot product with 32 partial sums: four independent add chains of eight lanes (four 512-bit
/// or eight 256-bit registers), combined in a fixed order whatever the vector width. One chain
/// waited on its own adds (4 cycles each) instead of on the loads; the dot products of the
/// Gram–Schmidt loop were about a quarter of the GMRES bookkeeping.
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 8;
    const CHAINS: usize = 4;
    const STRIDE: usize = LANES * CHAINS;
    let mut acc = [[0.0; LANES]; CHAINS];
    let (ca, cb) = (a.chunks_exact(STRIDE), b.chunks_exact(STRIDE));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        let (x, y): (&[f64; STRIDE], &[f64; STRIDE]) =
            (x.try_into().unwrap(), y.try_into().unwrap());
        for (c, chain) in acc.iter_mut().enumerate() {
            for (k, sum) in chain.iter_mut().enumerate() {
                *sum += x[c * LANES + k] * y[c * LANES + k];
            }
        }
    }
    // Without this barrier LLVM vectorises the loop for the pairwise reduction below (128-bit
    // halves and shuffles, several times the instructions of one 512-bit loop); end to end the
    // difference was within the benchmark's noise (2026-12-06).
    let acc = std::hint::black_box(acc);
    let lanes: [f64; LANES] =
        std::array::from_fn(|k| (acc[0][k] + acc[1][k]) + (acc[2][k] + acc[3][k]));
    let quads = [
        lanes[0] + lanes[4],
        lanes[1] + lanes[5],
        lanes[2] + lanes[6],
        lanes[3] + lanes[7],
    ];
    (quads[0] + quads[1]) + (quads[2] + quads[3]) + tail
}

#[inline(always)]
fn norm2(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}
