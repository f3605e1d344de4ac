//! Per-value statistics of a sweep (issue 19): for each value of the swept parameter, the mean
//! and sample standard deviation over its replicates of I and C, and of the attractor count and
//! mean period. The `sweep` plot computes the same figures from the same numbers in the same
//! order, so its points equal these means.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::result::NetworkResult;

/// One value of the swept parameter and what its replicates gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SweepPoint {
    /// The swept parameter's value.
    pub value: f64,
    /// Networks (replicates) at this value.
    pub networks: usize,
    /// Networks at this value with an I (the others were unconverged or withheld).
    pub mi_networks: usize,
    /// Mean I over those networks (bits); null when none has one.
    pub mi_bits_mean: Option<f64>,
    /// Sample standard deviation (n − 1) of I over those networks; null below two.
    pub mi_bits_sd: Option<f64>,
    pub correlation_rms_mean: f64,
    /// Sample standard deviation of C; null below two networks.
    pub correlation_rms_sd: Option<f64>,
    /// Mean number of attractors found (deterministic limit); null when none was analysed.
    pub attractors_mean: Option<f64>,
    /// Mean over networks of their mean attractor period; null when no network has one.
    pub mean_period_mean: Option<f64>,
}

/// Mean and sample standard deviation (None below two values).
pub fn mean_sd(values: &[f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.len() >= 2)
        .then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    (Some(mean), sd)
}

/// The statistics per value of `param`, values in the order they first occur.
pub fn sweep_points(networks: &[NetworkResult], param: &str) -> Vec<SweepPoint> {
    let mut values: Vec<f64> = Vec::new();
    for net in networks {
        if let Some(v) = net.params.get(param).and_then(|v| v.as_f64())
            && !values.contains(&v)
        {
            values.push(v);
        }
    }
    values
        .into_iter()
        .map(|value| {
            let group: Vec<&NetworkResult> = networks
                .iter()
                .filter(|n| n.params.get(param).and_then(|v| v.as_f64()) == Some(value))
                .collect();
            let mi: Vec<f64> = group.iter().filter_map(|n| n.mi_bits).collect();
            let c: Vec<f64> = group.iter().map(|n| n.correlation_rms).collect();
            let counts: Vec<f64> = group
                .iter()
                .filter_map(|n| n.attractors.as_ref().map(|a| a.count as f64))
                .collect();
            let periods: Vec<f64> = group
                .iter()
                .filter_map(|n| n.attractors.as_ref().and_then(|a| a.mean_period))
                .collect();
            let (mi_mean, mi_sd) = mean_sd(&mi);
            let (c_mean, c_sd) = mean_sd(&c);
            SweepPoint {
                value,
                networks: group.len(),
                mi_networks: mi.len(),
                mi_bits_mean: mi_mean,
                mi_bits_sd: mi_sd,
                correlation_rms_mean: c_mean.unwrap_or(f64::NAN),
                correlation_rms_sd: c_sd,
                attractors_mean: mean_sd(&counts).0,
                mean_period_mean: mean_sd(&periods).0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_sd() {
        assert_eq!(mean_sd(&[]), (None, None));
        assert_eq!(mean_sd(&[2.0]), (Some(2.0), None));
        let (m, s) = mean_sd(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m, Some(2.5));
        assert!((s.unwrap() - 1.2909944487358056).abs() < 1e-15);
    }
}
