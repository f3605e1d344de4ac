//! Surrogate derivatives σ'(x) of the spike step function H(x), x = V − θ (SCIENCE.md B2): the
//! only place where BPTT through a LIF layer is not exact.

use super::config::Surrogate;

impl Surrogate {
    /// σ'(x) with shape parameter `beta` (ignored by `flat`).
    #[inline]
    pub fn derivative(self, x: f32, beta: f32) -> f32 {
        match self {
            Surrogate::Flat => 1.0,
            Surrogate::SuperSpike => {
                let d = beta * x.abs() + 1.0;
                1.0 / (d * d)
            }
            Surrogate::Sigmoid => {
                // β·S(z)(1 − S(z)) = β·e/(1 + e)² with e = exp(−|z|), z = βx. Beyond |z| = 40 the
                // value is below 5e-18·β and is taken as 0.
                let z = (beta * x).abs();
                if z > SIGMOID_CUTOFF {
                    return 0.0;
                }
                let e = exp_neg(z);
                beta * e / ((1.0 + e) * (1.0 + e))
            }
            Surrogate::Triangle => (1.0 - beta * x.abs()).max(0.0),
        }
    }
}

/// |βx| beyond which the sigmoid surrogate is 0.
const SIGMOID_CUTOFF: f32 = 40.0;

/// e^{−z} for z in [0, 40], as 2^{−n}·p(r) with n = round(z/ln 2), r = n·ln 2 − z (|r| ≤ 0.35)
/// and p the degree-6 Taylor polynomial (relative error < 2e-7). Plain arithmetic inlined into
/// the backward loop: calling libm's expf there cost ~200 ns a call on the benchmark machine.
#[inline(always)]
fn exp_neg(z: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let n = (z * LOG2_E + 0.5) as i32;
    let nf = n as f32;
    let r = nf * LN2_HI - z + nf * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r / 2.0 * (1.0 + r / 3.0 * (1.0 + r / 4.0 * (1.0 + r / 5.0 * (1.0 + r / 6.0)))));
    f32::from_bits(((127 - n) as u32) << 23) * p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surrogates_peak_at_threshold_and_match_their_formulas() {
        let beta = 10.0;
        assert_eq!(Surrogate::Flat.derivative(3.0, beta), 1.0);
        assert_eq!(Surrogate::SuperSpike.derivative(0.0, beta), 1.0);
        assert!((Surrogate::SuperSpike.derivative(0.1, beta) - 0.25).abs() < 1e-7);
        assert!((Surrogate::Sigmoid.derivative(0.0, beta) - 2.5).abs() < 1e-6);
        assert_eq!(Surrogate::Triangle.derivative(0.05, beta), 0.5);
        assert_eq!(Surrogate::Triangle.derivative(-0.2, beta), 0.0);
        assert_eq!(Surrogate::Sigmoid.derivative(-50.0, beta), 0.0);
        for i in 0..=4000 {
            let z = i as f32 / 100.0;
            let exact = (-(z as f64)).exp();
            assert!((exp_neg(z) as f64 / exact - 1.0).abs() < 3e-7, "exp(-{z})");
        }
    }
}
