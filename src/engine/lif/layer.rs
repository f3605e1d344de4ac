//! The LIF dynamics of SCIENCE.md B1 on one sample's input currents a_t (T × n, step-major) and
//! their exact BPTT apart from the surrogate; also the operating-mode formula of B5.

use serde::{Deserialize, Serialize};

use super::config::{Reset, Surrogate};
use super::simd::widest;

/// The per-neuron constants of a LIF layer during one pass.
#[derive(Clone, Copy)]
pub struct LifParams<'a> {
    pub leak: &'a [f32],
    pub threshold: f32,
    pub reset: Reset,
}

impl LifParams<'_> {
    fn units(&self) -> usize {
        self.leak.len()
    }

    fn keep(&self) -> Vec<f32> {
        self.leak.iter().map(|l| 1.0 - l).collect()
    }
}

widest! {
    /// Runs the layer: `a` (T × n) is overwritten by the pre-floor membrane u_t, which is all the
    /// backward pass needs (V_t = max(0, u_t), s_t = [V_t ≥ θ]); `cells` receives t·n + j for
    /// every spike, in increasing order.
    pub fn forward(p: &LifParams<'_>, a: &mut [f32], cells: &mut Vec<u32>) => forward_portable
}

#[inline(always)]
fn forward_portable(p: &LifParams<'_>, a: &mut [f32], cells: &mut Vec<u32>) {
    let n = p.units();
    let q = p.keep();
    let theta = p.threshold;
    cells.clear();
    let mut v = vec![0.0f32; n];
    let mut s = vec![0.0f32; n];
    for (t, row) in a.chunks_exact_mut(n).enumerate() {
        let lanes = row.iter_mut().zip(&q).zip(v.iter_mut()).zip(s.iter_mut());
        match p.reset {
            Reset::Zero => lanes.for_each(|(((u, &q), v), s)| {
                *u += q * *v * (1.0 - *s);
                *v = u.max(0.0);
                *s = if *v >= theta { 1.0 } else { 0.0 };
            }),
            Reset::Subtract => lanes.for_each(|(((u, &q), v), s)| {
                *u += q * *v - theta * *s;
                *v = u.max(0.0);
                *s = if *v >= theta { 1.0 } else { 0.0 };
            }),
        }
        push_nonzero(&s, t * n, cells);
    }
}

/// Appends offset + j for every s[j] ≠ 0, without a data-dependent branch.
fn push_nonzero(s: &[f32], offset: usize, cells: &mut Vec<u32>) {
    let mut len = cells.len();
    cells.resize(len + s.len(), 0);
    for (j, &sj) in s.iter().enumerate() {
        cells[len] = (offset + j) as u32;
        len += (sj != 0.0) as usize;
    }
    cells.truncate(len);
}

/// The surrogate used by a layer.
#[derive(Clone, Copy)]
pub struct SurrogateFn {
    pub kind: Surrogate,
    pub beta: f32,
}

/// BPTT through the layer. `c` = ∂L/∂s_t (T × n); writes ∂L/∂a_t into `delta` and adds ∂L/∂λ
/// into `dleak`. `u` is what [`forward`] left in place of the currents.
pub fn backward(
    p: &LifParams<'_>,
    sg: SurrogateFn,
    u: &[f32],
    c: &[f32],
    delta: &mut Vec<f32>,
    dleak: &mut [f32],
) {
    let b = sg.beta;
    // One copy of the loop per surrogate, so that the inner loop has no dispatch in it.
    match sg.kind {
        Surrogate::Flat => backward_with(p, u, c, delta, dleak, |_| 1.0),
        Surrogate::SuperSpike => backward_with(p, u, c, delta, dleak, |x| {
            Surrogate::SuperSpike.derivative(x, b)
        }),
        Surrogate::Sigmoid => backward_with(p, u, c, delta, dleak, |x| {
            Surrogate::Sigmoid.derivative(x, b)
        }),
        Surrogate::Triangle => backward_with(p, u, c, delta, dleak, |x| {
            Surrogate::Triangle.derivative(x, b)
        }),
    }
}

/// The B1 recursion, run backwards in time over whole rows of n neurons:
/// δV_t = c_t·σ'(V_t − θ) + δu_{t+1}·(1 − λ)·k_{t+1}, δu_t = δV_t·[u_t > 0],
/// ∂L/∂λ −= δu_t·V_{t−1}·k_t.
#[inline(always)]
fn backward_with(
    p: &LifParams<'_>,
    u: &[f32],
    c: &[f32],
    delta: &mut Vec<f32>,
    dleak: &mut [f32],
    deriv: impl Fn(f32) -> f32,
) {
    let n = p.units();
    let steps = u.len() / n;
    let q = p.keep();
    let theta = p.threshold;
    let zero_reset = p.reset == Reset::Zero;
    delta.clear();
    delta.resize(u.len(), 0.0);
    let mut du_next = vec![0.0f32; n];
    let mut k_next = vec![0.0f32; n];
    let none = vec![0.0f32; n];
    for t in (0..steps).rev() {
        let row = t * n..(t + 1) * n;
        let prev = if t > 0 {
            &u[row.start - n..row.start]
        } else {
            &none[..]
        };
        let (ut, ct, dt) = (&u[row.clone()], &c[row.clone()], &mut delta[row]);
        for j in 0..n {
            let v_prev = prev[j].max(0.0);
            let k = if zero_reset && v_prev >= theta {
                0.0
            } else {
                1.0
            };
            let dv = ct[j] * deriv(ut[j].max(0.0) - theta) + du_next[j] * q[j] * k_next[j];
            let du = if ut[j] > 0.0 { dv } else { 0.0 };
            dt[j] = du;
            dleak[j] -= du * v_prev * k;
            du_next[j] = du;
            k_next[j] = k;
        }
    }
}

/// Whether a train of input spikes of amplitude w reaches the threshold (B5, θ = 1).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// Not even at the shortest spacing of one step.
    Never,
    /// Only if the spikes arrive at most this many steps apart.
    UpTo(u64),
    /// At any spacing.
    Any,
}

/// Input patterns of the operating-mode formula.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// Two spikes m steps apart.
    TwoSpikes,
    /// An endless train with period m.
    Train,
}

/// The largest spacing m at which spikes of amplitude `w` (in units of θ) drive a neuron with leak
/// `leak` to threshold: q^m ≥ 1/w − 1 for two spikes, q^m ≥ 1 − w for an endless train, q = 1 − λ.
/// Small leaks integrate (large m), large leaks only pass coincidences.
pub fn max_interval(w: f64, leak: f64, pattern: Pattern) -> Reach {
    if w >= 1.0 {
        return Reach::Any;
    }
    if w <= 0.0 {
        return Reach::Never;
    }
    let target = match pattern {
        Pattern::TwoSpikes => 1.0 / w - 1.0,
        Pattern::Train => 1.0 - w,
    };
    let q = 1.0 - leak;
    if q >= 1.0 {
        return if target <= 1.0 {
            Reach::Any
        } else {
            Reach::Never
        };
    }
    if q <= 0.0 || target >= 1.0 {
        return Reach::Never;
    }
    let m = (target.ln() / q.ln()).floor();
    if m < 1.0 {
        Reach::Never
    } else {
        Reach::UpTo(m as u64)
    }
}
