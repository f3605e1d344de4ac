//! Plug-in and Miller–Madow estimates of I[x(t); x(t+1)] from counted transitions (A4).
//!
//! Every state gets a 64-bit fingerprint: for N ≤ 64 the state index itself (exact), for
//! larger N a hash of its bitset. A transition is keyed by its two fingerprints, exactly for
//! N ≤ 32 and hashed beyond. Among D distinct keys the chance of any collision is about
//! D²/2^65 (below 3·10⁻⁶ for D = 10⁷, the most a job may sample), and one collision merges
//! two bins of about one count each, which moves an entropy by O(1/n) bits: negligible.
//!
//! Counting is done by sorting the keys, so memory is 8 bytes per sample and independent of
//! how many distinct states occur.

use std::f64::consts::LN_2;

/// SplitMix64's finaliser: a bijective, well-avalanched 64-bit mixer.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fingerprint of a state given as a bitset (bit n = neuron n): the index itself for N ≤ 64.
pub(super) fn fingerprint(bits: &[u64]) -> u64 {
    if bits.len() == 1 {
        return bits[0];
    }
    bits.iter()
        .enumerate()
        .fold(0x6A09_E667_F3BC_C909, |h, (k, &w)| {
            mix(h ^ mix(w.wrapping_add((k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))))
        })
}

/// Key of the transition a → b: exact for N ≤ 32, a hash of the pair otherwise.
fn pair_key(a: u64, b: u64, n: usize) -> u64 {
    if n <= 32 {
        a << 32 | b
    } else {
        mix(mix(a) ^ b.rotate_left(17) ^ 0xD1B5_4A32_D192_ED03)
    }
}

/// Sample size, occupied bins and Σ c·ln c of one histogram.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Histogram {
    samples: u64,
    bins: u64,
    sum_c_ln_c: f64,
}

impl Histogram {
    /// Counts `keys` by sorting them in place.
    fn of(keys: &mut [u64]) -> Self {
        keys.sort_unstable();
        let mut bins = 0;
        let mut sum_c_ln_c = 0.0;
        for run in keys.chunk_by(|a, b| a == b) {
            let c = run.len() as f64;
            bins += 1;
            sum_c_ln_c += c * c.ln();
        }
        Histogram {
            samples: keys.len() as u64,
            bins,
            sum_c_ln_c,
        }
    }

    /// Plug-in entropy in nats: ln n − Σ c ln c / n.
    fn plugin_nats(&self) -> f64 {
        let n = self.samples as f64;
        n.ln() - self.sum_c_ln_c / n
    }

    /// Miller–Madow correction (m − 1)/(2n) in nats, m = occupied bins.
    fn miller_madow_nats(&self) -> f64 {
        (self.bins as f64 - 1.0) / (2.0 * self.samples as f64)
    }
}

/// Mutual-information estimates (bits) and the number of distinct transitions seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct MiEstimate {
    pub plugin_bits: f64,
    pub miller_madow_bits: f64,
    pub distinct_transitions: u64,
}

impl MiEstimate {
    fn from_histograms(x: Histogram, y: Histogram, xy: Histogram) -> Self {
        let plugin = x.plugin_nats() + y.plugin_nats() - xy.plugin_nats();
        let correction = x.miller_madow_nats() + y.miller_madow_nats() - xy.miller_madow_nats();
        MiEstimate {
            plugin_bits: plugin / LN_2,
            miller_madow_bits: (plugin + correction) / LN_2,
            distinct_transitions: xy.bins,
        }
    }
}

/// Estimates from several trajectories of state fingerprints (each x_0 … x_T), pooled: the
/// transitions of all of them are counted together. Peak extra memory: 8 bytes per transition.
pub(super) fn estimate(trajectories: &[&[u64]], n: usize) -> MiEstimate {
    let total: usize = trajectories.iter().map(|t| t.len().saturating_sub(1)).sum();
    let mut keys: Vec<u64> = Vec::with_capacity(total);
    let mut histogram = |key: &dyn Fn(&[u64], usize) -> u64| {
        keys.clear();
        for t in trajectories {
            keys.extend((0..t.len().saturating_sub(1)).map(|k| key(t, k)));
        }
        Histogram::of(&mut keys)
    };
    let x = histogram(&|t, k| t[k]);
    let y = histogram(&|t, k| t[k + 1]);
    let xy = histogram(&|t, k| pair_key(t[k], t[k + 1], n));
    MiEstimate::from_histograms(x, y, xy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternating_bit_carries_one_bit() {
        // x(t+1) = 1 − x(t): transitions 01, 10, 01, 10 → H(X) = H(Y) = H(XY) = 1 bit.
        let traj = [0u64, 1, 0, 1, 0];
        let e = estimate(&[&traj], 1);
        assert!((e.plugin_bits - 1.0).abs() < 1e-12);
        assert_eq!(e.distinct_transitions, 2);
        // Miller–Madow adds (1 + 1 − 1)/(2·4·ln 2) bits.
        assert!((e.miller_madow_bits - (1.0 + 1.0 / (8.0 * LN_2))).abs() < 1e-12);
    }

    #[test]
    fn independent_sequence_has_no_plugin_information() {
        // Transitions 00, 01, 11, 10 (twice): X, Y and XY uniform → I = 1 + 1 − 2 = 0.
        let traj = [0u64, 0, 1, 1, 0, 0, 1, 1, 0];
        assert!(estimate(&[&traj], 1).plugin_bits.abs() < 1e-12);
    }

    #[test]
    fn pooling_counts_all_runs_together() {
        let a = [0u64, 1];
        let b = [1u64, 0];
        let e = estimate(&[&a, &b], 1);
        assert!((e.plugin_bits - 1.0).abs() < 1e-12);
        let alone = estimate(&[&a], 1);
        assert_eq!(alone.plugin_bits, 0.0);
    }

    #[test]
    fn fingerprints_are_exact_for_small_states() {
        assert_eq!(fingerprint(&[5]), 5);
        assert_ne!(fingerprint(&[5, 0]), fingerprint(&[0, 5]));
        assert_eq!(pair_key(3, 4, 10), 3 << 32 | 4);
        assert_ne!(pair_key(3, 4, 40), pair_key(4, 3, 40));
    }
}
