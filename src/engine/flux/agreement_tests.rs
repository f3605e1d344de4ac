//! Cross-checks between methods: sampled estimates of I and C agree with the exact values on
//! small random networks within their standard errors.

use super::correlation::CorrelationOptions;
use super::ensemble::Gaussian;
use super::exact::{ExactOptions, analyze_exact};
use super::network::Network;
use super::sampled::{SamplingOptions, analyze_sampled};
use crate::engine::control::Unattended;
use crate::engine::rng::stream;

fn random_network(seed: u64, std: f64) -> Network {
    let spec = Gaussian::iid(6, std);
    Network::new(spec.sample(&mut stream(seed, &[1])))
}

#[test]
fn sampled_agrees_with_exact_on_n6_within_standard_errors() {
    for (seed, std) in [(1, 0.5), (2, 1.0), (3, 1.5)] {
        let net = random_network(seed, std);
        let exact = analyze_exact(&net, &ExactOptions::default(), &Unattended).unwrap();
        let options = SamplingOptions {
            steps: 200_000,
            burn_in: 1_000,
            runs: 8,
            correlation: CorrelationOptions::default(),
        };
        let sampled = analyze_sampled(&net, &options, seed, 0, &Unattended).unwrap();
        let se = sampled
            .miller_madow_stderr_bits
            .expect("8 runs give a standard error");
        let diff = (sampled.mi_miller_madow_bits - exact.mi_bits).abs();
        assert!(
            diff <= 4.0 * se + 2e-3,
            "seed {seed}: Miller–Madow {} vs exact {} (stderr {se})",
            sampled.mi_miller_madow_bits,
            exact.mi_bits
        );
        let c_se = sampled.correlation_stderr.expect("C stderr");
        let c_diff = (sampled.correlation.rms - exact.correlation.rms).abs();
        assert!(
            c_diff <= 4.0 * c_se + 2e-3,
            "seed {seed}: sampled C {} vs exact {} (stderr {c_se})",
            sampled.correlation.rms,
            exact.correlation.rms
        );
        for (m_s, m_e) in sampled
            .correlation
            .mean_activity
            .iter()
            .zip(&exact.correlation.mean_activity)
        {
            assert!((m_s - m_e).abs() < 0.01, "mean activity {m_s} vs {m_e}");
        }
        assert!(
            sampled.warnings.is_empty(),
            "64 states are well sampled: {:?}",
            sampled.warnings
        );
    }
}
