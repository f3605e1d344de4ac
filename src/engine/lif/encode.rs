//! Input encodings of SCIENCE.md B4: Poisson spikes, constant (direct) current, latency code, and
//! pre-made rasters for the synthetic temporal tasks. Poisson draws come from a stream named by the
//! caller (epoch and sample), so a sample is encoded identically on any thread and after a resume.

use rand::Rng;

use super::activity::Activity;
use super::config::{Coding, Encoding};
use crate::engine::rng::{EngineRng, stream};

/// 2³², the scale of the integer spike thresholds.
const TWO_32: f64 = 4_294_967_296.0;

/// Encodes pixels `x` into `out`; Poisson coding draws from stream(seed, path), in the order
/// pixel by pixel, step by step, and only for pixels with 0 < x·rate < 1.
pub fn encode(enc: &Encoding, x: &[f32], seed: u64, path: &[u64], out: &mut Activity) {
    let steps = enc.steps;
    match enc.coding {
        Coding::Poisson { rate } => poisson(x, rate, steps, (seed, path), out),
        Coding::Constant { gain } => {
            let v = out.values_mut(true);
            v.clear();
            v.extend(x.iter().map(|&xi| (xi as f64 * gain) as f32));
        }
        Coding::Latency { x_min } => latency(x, x_min, steps, out),
        Coding::Raster => raster(x, steps, out),
    }
}

/// Spike at each step with probability p = min(1, x·rate): the pixel's `steps` draws are 32-bit
/// little-endian words of the stream, and draw r spikes if r < ⌊p·2³²⌋.
fn poisson(x: &[f32], rate: f64, steps: usize, (seed, path): (u64, &[u64]), out: &mut Activity) {
    let s = out.spikes_mut();
    s.reset(x.len(), steps);
    let mut rng: Option<EngineRng> = None;
    let mut bytes = vec![0u8; 4 * steps];
    for &xi in x {
        let p = (xi as f64 * rate).min(1.0);
        if p >= 1.0 {
            (0..steps).for_each(|t| s.push(t));
        } else if p > 0.0 {
            let threshold = (p * TWO_32) as u64;
            rng.get_or_insert_with(|| stream(seed, path))
                .fill_bytes(&mut bytes);
            s.push_where(steps, |t| {
                let w = &bytes[4 * t..4 * t + 4];
                (u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as u64) < threshold
            });
        }
        s.end_unit();
    }
}

/// One spike at ⌊(1 − x)·(T − 1)⌋ for x > x_min: bright pixels fire first.
fn latency(x: &[f32], x_min: f64, steps: usize, out: &mut Activity) {
    let s = out.spikes_mut();
    s.reset(x.len(), steps);
    for &xi in x {
        let xi = xi as f64;
        if xi > x_min {
            let t = ((1.0 - xi.min(1.0)) * (steps - 1) as f64).floor() as usize;
            s.push(t.min(steps - 1));
        }
        s.end_unit();
    }
}

/// `x` is a step-major raster [steps, channels]; values ≥ 0.5 are spikes.
fn raster(x: &[f32], steps: usize, out: &mut Activity) {
    let channels = x.len() / steps;
    let s = out.spikes_mut();
    s.reset(channels, steps);
    for i in 0..channels {
        for t in 0..steps {
            if x[t * channels + i] >= 0.5 {
                s.push(t);
            }
        }
        s.end_unit();
    }
}
