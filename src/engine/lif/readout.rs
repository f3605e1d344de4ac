//! The non-spiking leaky-integrator read-out of SCIENCE.md B3, V_t = max(0, a_t + (1 − λ)·V_{t−1})
//! with one shared leak, decoded to class scores (last step, maximum or mean over time).

use super::config::Decode;

/// Integrates `a` (T × C, overwritten by u_t) and writes the class scores; for `Decode::Max`
/// `peak[c]` records the first step where class c reached its maximum.
pub fn forward(
    leak: f32,
    decode: Decode,
    a: &mut [f32],
    classes: usize,
    scores: &mut Vec<f32>,
    peak: &mut Vec<usize>,
) {
    let q = 1.0 - leak;
    let steps = a.len() / classes;
    let mut v = vec![0.0f32; classes];
    scores.clear();
    scores.resize(classes, 0.0);
    peak.clear();
    peak.resize(classes, 0);
    for (t, row) in a.chunks_exact_mut(classes).enumerate() {
        for c in 0..classes {
            let u = row[c] + q * v[c];
            row[c] = u;
            v[c] = u.max(0.0);
            match decode {
                Decode::Max if t == 0 || v[c] > scores[c] => {
                    scores[c] = v[c];
                    peak[c] = t;
                }
                Decode::Mean => scores[c] += v[c],
                _ => {}
            }
        }
    }
    match decode {
        Decode::Last => scores.copy_from_slice(&v),
        Decode::Mean => scores.iter_mut().for_each(|s| *s /= steps as f32),
        Decode::Max => {}
    }
}

/// ∂L/∂scores → ∂L/∂a_t (into `delta`, T × C); returns ∂L/∂λ_out.
pub fn backward(
    leak: f32,
    decode: Decode,
    u: &[f32],
    classes: usize,
    peak: &[usize],
    dscores: &[f32],
    delta: &mut Vec<f32>,
) -> f32 {
    let q = 1.0 - leak;
    let steps = u.len() / classes;
    delta.clear();
    delta.resize(u.len(), 0.0);
    let mut du_next = vec![0.0f32; classes];
    let mut dleak = 0.0f32;
    for t in (0..steps).rev() {
        for c in 0..classes {
            let direct = match decode {
                Decode::Last if t + 1 == steps => dscores[c],
                Decode::Max if t == peak[c] => dscores[c],
                Decode::Mean => dscores[c] / steps as f32,
                _ => 0.0,
            };
            let i = t * classes + c;
            let dv = direct + du_next[c] * q;
            let du = if u[i] > 0.0 { dv } else { 0.0 };
            delta[i] = du;
            let v_prev = if t > 0 { u[i - classes].max(0.0) } else { 0.0 };
            dleak -= du * v_prev;
            du_next[c] = du;
        }
    }
    dleak
}
