//! The all-to-all part of every layer, a_t = W·x_t + b, with its gradients. Weights are stored
//! input-major (`w[i * units + j]` connects input i to unit j), so a spiking input adds one
//! contiguous row per spike (event-driven) in the forward pass and in the weight gradient; real
//! valued inputs go through faer's GEMM.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use crate::engine::vector_state::clear_upper_vector_state;

use super::activity::{Activity, SpikeTrain};
use super::simd::widest;

/// dst += src, element by element (vectorised by the compiler).
#[inline]
pub fn add(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += *s;
    }
}

/// dst += a·src, element by element.
#[inline]
pub fn add_scaled(dst: &mut [f32], src: &[f32], a: f32) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += a * *s;
    }
}

/// dst −= src, element by element.
#[inline]
pub fn sub(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d -= *s;
    }
}

/// Steps in 0..steps that are not in the sorted list `times`.
#[inline(always)]
fn silent_steps(times: &[u32], steps: usize) -> impl Iterator<Item = usize> + '_ {
    let mut next = 0;
    (0..steps).filter(move |&t| {
        if next < times.len() && times[next] as usize == t {
            next += 1;
            false
        } else {
            true
        }
    })
}

/// An input that fires at more than half of the steps is cheaper to handle by its silences.
#[inline(always)]
fn mostly_on(times: &[u32], steps: usize) -> bool {
    2 * times.len() > steps
}

widest! {
    /// out[t] += W_i for every spike (i, t): the event-driven forward pass. An input that is
    /// mostly on is added once to a common row and taken out at its silent steps instead.
    fn forward_events(w: &[f32], units: usize, s: &SpikeTrain, out: &mut [f32]) => forward_events_portable
}

#[inline(always)]
fn forward_events_portable(w: &[f32], units: usize, s: &SpikeTrain, out: &mut [f32]) {
    let mut common: Option<Vec<f32>> = None;
    for i in 0..s.units {
        let row = &w[i * units..(i + 1) * units];
        let times = s.times(i);
        if mostly_on(times, s.steps) {
            add(common.get_or_insert_with(|| vec![0.0; units]), row);
            for t in silent_steps(times, s.steps) {
                sub(&mut out[t * units..(t + 1) * units], row);
            }
        } else {
            for &t in times {
                let t = t as usize;
                add(&mut out[t * units..(t + 1) * units], row);
            }
        }
    }
    if let Some(common) = common {
        out.chunks_exact_mut(units).for_each(|r| add(r, &common));
    }
}

widest! {
    /// ∂L/∂W_i += ∂L/∂a_t for every spike (i, t): the event-driven weight gradient, with the
    /// same treatment of mostly-on inputs (Σ over all steps minus the silent ones).
    fn backward_events(units: usize, s: &SpikeTrain, delta: &[f32], gw: &mut [f32]) => backward_events_portable
}

#[inline(always)]
fn backward_events_portable(units: usize, s: &SpikeTrain, delta: &[f32], gw: &mut [f32]) {
    let mut total: Option<Vec<f32>> = None;
    for i in 0..s.units {
        let g = &mut gw[i * units..(i + 1) * units];
        let times = s.times(i);
        if mostly_on(times, s.steps) {
            add(g, total.get_or_insert_with(|| sum_rows(delta, units)));
            for t in silent_steps(times, s.steps) {
                sub(g, &delta[t * units..(t + 1) * units]);
            }
        } else {
            for &t in times {
                let t = t as usize;
                add(g, &delta[t * units..(t + 1) * units]);
            }
        }
    }
}

/// Borrowed weights and bias of one layer.
#[derive(Clone, Copy)]
pub struct Linear<'a> {
    pub w: &'a [f32],
    pub b: &'a [f32],
    pub inputs: usize,
    pub units: usize,
}

/// Borrowed gradient accumulators of one layer (added to, never overwritten).
pub struct LinearGrad<'a> {
    pub w: &'a mut [f32],
    pub b: &'a mut [f32],
}

impl Linear<'_> {
    fn row(&self, i: usize) -> &[f32] {
        &self.w[i * self.units..(i + 1) * self.units]
    }

    /// a = W·x + b for an input that is the same at every step (one row of `units`).
    pub fn forward_static(&self, x: &[f32], out: &mut Vec<f32>) {
        out.clear();
        out.extend_from_slice(self.b);
        for (i, &xi) in x.iter().enumerate() {
            if xi != 0.0 {
                add_scaled(out, self.row(i), xi);
            }
        }
    }

    /// a_t = W·x_t + b for every step, step-major into `out` (T × units).
    pub fn forward(&self, input: &Activity, steps: usize, out: &mut Vec<f32>) {
        if let Activity::Static(x) = input {
            self.forward_static(x, out);
            let row = out.clone();
            for _ in 1..steps {
                out.extend_from_slice(&row);
            }
            return;
        }
        out.clear();
        for _ in 0..steps {
            out.extend_from_slice(self.b);
        }
        match input {
            Activity::Spikes(s) => forward_events(self.w, self.units, s, out),
            Activity::Dense(x) => matmul(
                MatMut::from_row_major_slice_mut(out, steps, self.units),
                Accum::Add,
                MatRef::from_row_major_slice(x, steps, self.inputs),
                MatRef::from_row_major_slice(self.w, self.inputs, self.units),
                1.0f32,
                Par::Seq,
            ),
            Activity::Static(_) => unreachable!("handled above"),
        }
        clear_upper_vector_state();
    }

    /// Adds ∂L/∂W and ∂L/∂b for `delta` = ∂L/∂a (T × units, or one row when the input is static
    /// and the gradient is already summed over steps). When `dx` is given it receives ∂L/∂x in the
    /// input's own form: T × inputs, or one row of `inputs` for a static input.
    pub fn backward(
        &self,
        input: &Activity,
        delta: &[f32],
        grad: LinearGrad<'_>,
        dx: Option<&mut Vec<f32>>,
    ) {
        let rows = delta.len() / self.units;
        if let Activity::Static(x) = input {
            let summed = sum_rows(delta, self.units);
            self.backward_static(x, &summed, grad, dx);
            return;
        }
        for r in 0..rows {
            add(grad.b, &delta[r * self.units..(r + 1) * self.units]);
        }
        match input {
            Activity::Spikes(s) => backward_events(self.units, s, delta, grad.w),
            Activity::Dense(x) => matmul(
                MatMut::from_row_major_slice_mut(grad.w, self.inputs, self.units),
                Accum::Add,
                MatRef::from_row_major_slice(x, rows, self.inputs).transpose(),
                MatRef::from_row_major_slice(delta, rows, self.units),
                1.0f32,
                Par::Seq,
            ),
            Activity::Static(_) => unreachable!("handled above"),
        }
        clear_upper_vector_state();
        if let Some(dx) = dx {
            self.input_gradient(delta, rows, dx);
        }
    }

    fn backward_static(
        &self,
        x: &[f32],
        g: &[f32],
        grad: LinearGrad<'_>,
        dx: Option<&mut Vec<f32>>,
    ) {
        add(grad.b, g);
        for (i, &xi) in x.iter().enumerate() {
            if xi != 0.0 {
                add_scaled(&mut grad.w[i * self.units..(i + 1) * self.units], g, xi);
            }
        }
        if let Some(dx) = dx {
            self.input_gradient(g, 1, dx);
        }
    }

    /// dx = delta · Wᵀ (rows × inputs).
    fn input_gradient(&self, delta: &[f32], rows: usize, dx: &mut Vec<f32>) {
        dx.clear();
        dx.resize(rows * self.inputs, 0.0);
        matmul(
            MatMut::from_row_major_slice_mut(dx, rows, self.inputs),
            Accum::Replace,
            MatRef::from_row_major_slice(delta, rows, self.units),
            MatRef::from_row_major_slice(self.w, self.inputs, self.units).transpose(),
            1.0f32,
            Par::Seq,
        );
        // The LIF and surrogate loops that follow are scalar/SSE code.
        clear_upper_vector_state();
    }
}

/// Σ over rows of a row-major matrix with `width` columns (a single row is returned as is).
fn sum_rows(m: &[f32], width: usize) -> Vec<f32> {
    let mut out = m[..width].to_vec();
    for row in m[width..].chunks_exact(width) {
        add(&mut out, row);
    }
    out
}
