//! Gauss–Hermite quadrature for expectations over Gaussian input noise. Written by hand: the
//! node computation is a dozen lines of Newton iteration and no small crate offers it.

/// Nodes t_k and weights w_k with ∫ f(t)·e^{−t²} dt ≈ Σ w_k f(t_k).
#[derive(Debug, Clone)]
pub struct GaussHermite {
    pub nodes: Vec<f64>,
    pub weights: Vec<f64>,
}

impl GaussHermite {
    /// `n` nodes, found by Newton's method on the orthonormal Hermite recurrence.
    pub fn new(n: usize) -> Self {
        assert!(n >= 1);
        let mut nodes = vec![0.0; n];
        let mut weights = vec![0.0; n];
        let m = n.div_ceil(2);
        let pi_quarter = std::f64::consts::PI.powf(-0.25);
        let nf = n as f64;
        let mut z = 0.0f64;
        for i in 0..m {
            // Initial guesses for the largest roots first (standard asymptotic estimates).
            z = match i {
                0 => (2.0 * nf + 1.0).sqrt() - 1.85575 * (2.0 * nf + 1.0).powf(-1.0 / 6.0),
                1 => z - 1.14 * nf.powf(0.426) / z,
                2 => 1.86 * z - 0.86 * nodes[0],
                3 => 1.91 * z - 0.91 * nodes[1],
                _ => 2.0 * z - nodes[i - 2],
            };
            let mut pp = 0.0;
            for _ in 0..100 {
                let mut p1 = pi_quarter;
                let mut p2 = 0.0;
                for j in 0..n {
                    let p3 = p2;
                    p2 = p1;
                    let jf = j as f64;
                    p1 = z * (2.0 / (jf + 1.0)).sqrt() * p2 - (jf / (jf + 1.0)).sqrt() * p3;
                }
                pp = (2.0 * nf).sqrt() * p2;
                let step = p1 / pp;
                z -= step;
                if step.abs() < 1e-15 {
                    break;
                }
            }
            nodes[i] = z;
            nodes[n - 1 - i] = -z;
            weights[i] = 2.0 / (pp * pp);
            weights[n - 1 - i] = weights[i];
        }
        GaussHermite { nodes, weights }
    }

    /// E[f(η)] for η ~ N(mean, std²).
    pub fn expect_normal(&self, mean: f64, std: f64, f: impl Fn(f64) -> f64) -> f64 {
        let scale = std::f64::consts::SQRT_2 * std;
        let norm = std::f64::consts::PI.sqrt();
        self.nodes
            .iter()
            .zip(&self.weights)
            .map(|(&t, &w)| w * f(mean + scale * t))
            .sum::<f64>()
            / norm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_gaussian_moments() {
        let q = GaussHermite::new(48);
        assert!((q.expect_normal(0.0, 1.0, |_| 1.0) - 1.0).abs() < 1e-12);
        assert!((q.expect_normal(0.5, 2.0, |x| x) - 0.5).abs() < 1e-12);
        assert!((q.expect_normal(0.0, 2.0, |x| x * x) - 4.0).abs() < 1e-10);
        assert!((q.expect_normal(0.0, 1.0, |x| x.powi(4)) - 3.0).abs() < 1e-10);
    }
}
