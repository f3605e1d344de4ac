//! Spiking networks trained by BPTT with surrogate gradients (SCIENCE.md Part B): LIF layers with
//! per-neuron trainable leaks mixed freely with dense ReLU layers, a leaky-integrator read-out,
//! Poisson / constant / latency / raster input, Adam with an optional plateau schedule, IDX data,
//! the built-in mnist10k set and synthetic temporal tasks. Spikes are processed as events, batches
//! run on the rayon pool in a fixed reduction order, and every random draw is named by
//! (seed, purpose, epoch, sample): results are independent of the thread count and a run resumed
//! from a checkpoint is bit-identical to an uninterrupted one.

pub mod activity;
pub mod adam;
pub mod config;
pub mod dataset;
pub mod encode;
pub mod eval;
pub mod idx;
pub mod layer;
pub mod linear;
pub mod loss;
pub mod model;
pub mod network;
pub mod readout;
mod simd;
pub mod surrogate;
pub mod synthetic;
pub mod train;

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_idx_limits;
#[cfg(test)]
mod tests_learning;
#[cfg(test)]
mod tests_model_layout;

pub use config::{
    Activation, Coding, Decode, DenseSpec, Encoding, FieldError, LayerSpec, LifConfig, LifSpec,
    Loss, Optimizer, Plateau, Readout, ReadoutKind, Reset, Surrogate,
};
pub use dataset::{Dataset, SplitError};
pub use eval::{
    Evaluation, InputError, Prediction, Raster, evaluate, expected_features, predict, spike_raster,
};
pub use idx::{IdxError, IdxLimits, IdxSummary, check_idx_pair, mnist10k, read_idx_pair};
pub use layer::{Pattern, Reach, max_interval};
pub use model::Model;
pub use synthetic::{CoincidenceSpec, IntegrationSpec, SyntheticError, SyntheticSpec, synthetic};
pub use train::{
    EpochStats, TrainError, TrainState, check_data, init_state, train_epoch, train_epochs,
};

/// Stream domain of this engine (see [`crate::engine::rng`]).
pub const DOMAIN_LIF: u64 = 5;
/// Sub-streams: weight initialisation (per layer).
pub const STREAM_INIT: u64 = 1;
/// Sample order of an epoch.
pub const STREAM_SHUFFLE: u64 = 2;
/// Poisson draws of a training sample in an epoch.
pub const STREAM_TRAIN: u64 = 3;
/// Poisson draws of an evaluated sample (the same every epoch).
pub const STREAM_EVAL: u64 = 4;
/// Poisson draws of a prediction request input.
pub const STREAM_PREDICT: u64 = 5;
/// Synthetic data generation (per split).
pub const STREAM_SYNTHETIC: u64 = 6;
