//! The wire spec of a `lif` job (API.md § Kind `lif`), with the defaults of the API example, the
//! dataset reference and its translation into the engine's configuration.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::engine::lif::{
    Encoding, LayerSpec, LifConfig, LifSpec, Loss, Optimizer, Plateau, Readout, SyntheticSpec,
};

/// Name of the built-in dataset (SCIENCE.md Part B, the benchmarks' split).
pub const MNIST10K: &str = "mnist10k";
/// The fixed split of `mnist10k`: the first 8,000 samples train, the last 2,000 test.
pub const MNIST10K_SPLIT: Split = Split {
    train: 8000,
    test: 2000,
};

/// `POST /v1/jobs` spec for kind `lif`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LifJobSpec {
    pub dataset: DatasetRef,
    /// Train on the first `train` samples, test on the last `test` ones. Default: 8000/2000 for
    /// `mnist10k`, 80 % / 20 % for an uploaded dataset; synthetic tasks carry their own sizes.
    #[serde(default)]
    pub split: Option<Split>,
    /// `{"type": "poisson" | "constant" | "latency" | "raster", "steps": T, ...}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub encoding: Encoding,
    /// Hidden layers in order: `{"type": "lif", ...}` or `{"type": "dense", "units": n}`.
    #[serde(default = "default_layers")]
    #[schema(value_type = Vec<Object>)]
    pub layers: Vec<LayerSpec>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub readout: Readout,
    /// `cross_entropy` (default) or `mse`.
    #[serde(default)]
    #[schema(value_type = String)]
    pub loss: Loss,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub optimizer: Optimizer,
    /// Optional reduce-on-plateau schedule `{factor, patience, min_lr}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub schedule: Option<Plateau>,
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Chosen by the server (and stored) when absent.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Checkpoint after every this many epochs (and always after the last).
    #[serde(default = "one")]
    pub checkpoint_every: usize,
    /// Index (within the test set) of the sample whose spike raster the result shows.
    #[serde(default)]
    pub raster_sample: usize,
}

/// Exactly one of a built-in name, an uploaded dataset's id, or a synthetic task.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `{"task": "coincidence" | "integration", ...}` (use with the `raster` encoding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub synthetic: Option<SyntheticSpec>,
}

/// Sample counts of the training and test sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Split {
    pub train: usize,
    pub test: usize,
}

/// What the server knows of an uploaded dataset when a spec names it (looked up by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetInfo {
    pub id: String,
    pub count: usize,
    pub features: usize,
    pub classes: usize,
}

fn default_layers() -> Vec<LayerSpec> {
    vec![LayerSpec::Lif(LifSpec::default())]
}
fn default_batch() -> usize {
    128
}
fn default_epochs() -> usize {
    10
}
fn one() -> usize {
    1
}

impl LifJobSpec {
    /// The engine configuration (the seed must have been filled in by validation).
    pub fn config(&self) -> LifConfig {
        LifConfig {
            layers: self.layers.clone(),
            readout: self.readout.clone(),
            loss: self.loss,
            optimizer: self.optimizer,
            schedule: self.schedule,
            encoding: self.encoding,
            batch_size: self.batch_size,
            epochs: self.epochs,
            seed: self.seed.unwrap_or(0),
        }
    }
}

/// The uploaded dataset id a raw spec refers to, if any (so the caller can look it up).
pub fn dataset_id_of(spec: &serde_json::Value) -> Option<&str> {
    spec.get("dataset")?.get("id")?.as_str()
}
