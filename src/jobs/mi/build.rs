//! Turns an `mi` spec into the list of networks it describes (replicates × sweep values), each
//! built on demand and deterministically from the job seed.

use ndarray::Array2;
use serde_json::{Map, Value, json};

use super::spec::{InputSpec, MiSpec, PermutationSpec, SignsSpec};
use crate::engine::flux::ensemble::{Gaussian, NRooks, Permutation, Signs};
use crate::engine::flux::network::{InputMode, Network, Noise};
use crate::engine::rng::{DOMAIN_NETWORK, stream};

/// One network of the job: its position, the swept parameter value and its replicate number.
pub struct PlannedNetwork {
    pub index: usize,
    pub params: Map<String, Value>,
    pub replicate: usize,
    pub network: Network,
}

/// Number of networks the spec describes.
pub fn network_count(spec: &MiSpec) -> usize {
    let net = &spec.network;
    let replicates = net
        .ensemble
        .as_ref()
        .map(|e| e.replicates)
        .or(net.nrooks.as_ref().map(|r| r.replicates))
        .unwrap_or(1)
        .max(1) as usize;
    let values = net.sweep.as_ref().map_or(1, |s| s.values.len());
    replicates * values
}

/// Builds network `index` (sweep value major, replicate minor). Replicate r draws from the same
/// random stream for every sweep value (common random numbers), so a sweep over `std` scales
/// one matrix instead of drawing a new one per value.
pub fn build_network(spec: &MiSpec, seed: u64, index: usize) -> PlannedNetwork {
    let net = &spec.network;
    let values = net.sweep.as_ref().map_or(1, |s| s.values.len());
    let replicates = network_count(spec) / values;
    let (value_index, replicate) = (index / replicates, index % replicates);
    let mut params = Map::new();
    let swept = net
        .sweep
        .as_ref()
        .map(|s| (s.param.as_str(), s.values[value_index]));
    if let Some((param, value)) = swept {
        params.insert(param.to_string(), json!(value));
    }
    let param = |name: &str, default: f64| match swept {
        Some((p, v)) if p == name => v,
        _ => default,
    };
    let mut rng = stream(seed, &[DOMAIN_NETWORK, replicate as u64]);
    let weights = if let Some(w) = &net.weights {
        let n = w.len();
        Array2::from_shape_fn((n, n), |(i, j)| w[i][j])
    } else if let Some(e) = &net.ensemble {
        Gaussian {
            n: e.n as usize,
            mean: param("mean", e.mean),
            std: param("std", e.std),
            density: param("density", e.density),
            balance: match swept {
                Some(("balance", v)) => Some(v),
                _ => e.balance,
            },
            self_connections: e.self_connections,
            scale_by_sqrt_n: e.scale_by_sqrt_n,
        }
        .sample(&mut rng)
    } else {
        let r = net.nrooks.as_ref().expect("validated: one network source");
        NRooks {
            n: r.n as usize,
            q: param("q", r.q),
            permutation: match &r.permutation {
                PermutationSpec::Named(s) if s == "ring" => Permutation::Ring,
                PermutationSpec::Named(_) => Permutation::Random,
                PermutationSpec::Given(t) => {
                    Permutation::Given(t.iter().map(|&v| v as usize).collect())
                }
            },
            signs: match &r.signs {
                SignsSpec::Named(s) if s == "positive" => Signs::Positive,
                SignsSpec::Named(_) => Signs::Random,
                SignsSpec::Given(s) => Signs::Given(s.clone()),
            },
        }
        .sample(&mut rng)
    };
    let n = weights.nrows();
    let noise_std = param("noise_std", net.noise.std);
    let noise = match (noise_std > 0.0, net.noise.shared) {
        (false, _) => Noise::None,
        (true, false) => Noise::Independent { std: noise_std },
        (true, true) => Noise::Shared { std: noise_std },
    };
    let network = Network {
        weights,
        bias: net.bias.clone().unwrap_or_else(|| vec![0.0; n]),
        input: match net.input {
            InputSpec::Symmetric => InputMode::Symmetric,
            InputSpec::Binary => InputMode::Binary,
        },
        noise,
    };
    PlannedNetwork {
        index,
        params,
        replicate,
        network,
    }
}
