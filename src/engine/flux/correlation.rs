//! The correlation proxy C (SCIENCE.md A3): Pearson correlations between neuron pairs, from
//! first and second moments that the exact and sampled methods each compute their own way.

/// Which pairs enter C.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelationOptions {
    /// 1: ρ_ij = corr(x_i(t), x_j(t+1)) (default); 0: equal-time correlations.
    pub lag: u8,
    /// Include i = j (ignored for lag 0, where ρ_ii = 1 is always excluded).
    pub include_diagonal: bool,
}

impl Default for CorrelationOptions {
    fn default() -> Self {
        CorrelationOptions {
            lag: 1,
            include_diagonal: true,
        }
    }
}

/// The correlation matrix (`matrix[i][j]` = ρ_ij), mean activities and C.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationStats {
    pub matrix: Vec<Vec<f64>>,
    pub mean_activity: Vec<f64>,
    pub rms: f64,
}

/// Builds C from binary moments: `mean_a[i]` = E[x_i(t)], `mean_b[j]` = E[x_j(t + lag)],
/// `cross[i * n + j]` = E[x_i(t)·x_j(t + lag)]. Binary variances are μ(1 − μ); a neuron with
/// zero variance gives ρ = 0 for all its pairs.
pub fn from_moments(
    mean_a: &[f64],
    mean_b: &[f64],
    cross: &[f64],
    options: CorrelationOptions,
) -> CorrelationStats {
    let n = mean_a.len();
    let mut matrix = vec![vec![0.0; n]; n];
    let mut sum_sq = 0.0;
    let mut pairs = 0usize;
    for i in 0..n {
        let var_a = mean_a[i] * (1.0 - mean_a[i]);
        for j in 0..n {
            let diagonal = i == j;
            if diagonal && options.lag == 0 {
                matrix[i][j] = 1.0;
                continue;
            }
            let var_b = mean_b[j] * (1.0 - mean_b[j]);
            let denom = (var_a * var_b).sqrt();
            let rho = if denom > 1e-300 {
                ((cross[i * n + j] - mean_a[i] * mean_b[j]) / denom).clamp(-1.0, 1.0)
            } else {
                0.0
            };
            matrix[i][j] = rho;
            if !diagonal || options.include_diagonal {
                sum_sq += rho * rho;
                pairs += 1;
            }
        }
    }
    let rms = if pairs > 0 {
        (sum_sq / pairs as f64).sqrt()
    } else {
        0.0
    };
    CorrelationStats {
        matrix,
        mean_activity: mean_a.to_vec(),
        rms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_copy_pairs() {
        // Two neurons, x_1(t+1) = x_0(t) and x_0(t+1) = x_1(t), uniform activity 1/2.
        let mean = [0.5, 0.5];
        let cross = [0.25, 0.5, 0.5, 0.25];
        let c = from_moments(&mean, &mean, &cross, CorrelationOptions::default());
        assert_eq!(c.matrix, vec![vec![0.0, 1.0], vec![1.0, 0.0]]);
        assert!((c.rms - (0.5f64).sqrt()).abs() < 1e-12);
        let no_diag = CorrelationOptions {
            lag: 1,
            include_diagonal: false,
        };
        assert!((from_moments(&mean, &mean, &cross, no_diag).rms - 1.0).abs() < 1e-12);
    }

    #[test]
    fn constant_neuron_has_zero_correlation() {
        let mean = [1.0, 0.5];
        let cross = [1.0, 0.5, 0.5, 0.5];
        let c = from_moments(&mean, &mean, &cross, CorrelationOptions::default());
        assert_eq!(c.matrix[0], vec![0.0, 0.0]);
    }
}
