//! Losses on the read-out's class scores (SCIENCE.md B3) and the softmax used for probabilities.

use super::config::Loss;

/// softmax(z) in f64, shifted by max(z) so that large scores do not overflow.
pub fn softmax(z: &[f32]) -> Vec<f64> {
    let m = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    let e: Vec<f64> = z.iter().map(|&v| (v as f64 - m).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|v| v / sum).collect()
}

/// ln Σ exp(z), stable for large scores.
fn log_sum_exp(z: &[f32]) -> f64 {
    let m = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    m + z.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln()
}

/// Index of the largest score (the first one on ties).
pub fn argmax(z: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = i;
        }
    }
    best
}

impl Loss {
    /// The loss of one sample with label `label`; writes `scale`·∂loss/∂z into `grad`.
    pub fn value_and_grad(self, z: &[f32], label: usize, scale: f64, grad: &mut Vec<f32>) -> f64 {
        grad.clear();
        match self {
            Loss::CrossEntropy => {
                let p = softmax(z);
                grad.extend(p.iter().enumerate().map(|(c, &pc)| {
                    let target = if c == label { 1.0 } else { 0.0 };
                    ((pc - target) * scale) as f32
                }));
                log_sum_exp(z) - z[label] as f64
            }
            Loss::Mse => {
                let n = z.len() as f64;
                let mut total = 0.0;
                for (c, &v) in z.iter().enumerate() {
                    let e = v as f64 - if c == label { 1.0 } else { 0.0 };
                    total += e * e;
                    grad.push((2.0 * e / n * scale) as f32);
                }
                total / n
            }
        }
    }

    /// The loss alone (evaluation).
    pub fn value(self, z: &[f32], label: usize) -> f64 {
        self.value_and_grad(z, label, 0.0, &mut Vec::new())
    }
}
