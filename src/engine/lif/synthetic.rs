//! Synthetic temporal tasks that separate the two operating modes of a LIF neuron (B1):
//! `coincidence` (do two input spikes arrive within Δ steps? — needs a large leak) and
//! `integration` (are there more than k spikes in a long window? — needs a small leak).
//! Samples are rasters [steps, channels] of 0/1, to be fed with the `raster` coding.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::dataset::Dataset;
use super::{DOMAIN_LIF, STREAM_SYNTHETIC};
use crate::engine::rng::{EngineRng, stream};

/// Two spikes at random channels and times; class 1 iff they are 1..=`window` steps apart
/// (otherwise window+1 .. steps−1 apart). Classes are balanced.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct CoincidenceSpec {
    pub channels: usize,
    pub steps: usize,
    pub window: usize,
    pub train: usize,
    pub test: usize,
}

impl Default for CoincidenceSpec {
    fn default() -> Self {
        CoincidenceSpec {
            channels: 4,
            steps: 20,
            window: 1,
            train: 2000,
            test: 500,
        }
    }
}

/// n spikes at distinct random (channel, step) cells; class 1 iff n > `threshold`, with n drawn
/// from threshold−margin−spread+1 ..= threshold−margin or threshold+margin+1 ..=
/// threshold+margin+spread (a margin leaves a gap of counts that never occur). Classes balanced.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct IntegrationSpec {
    pub channels: usize,
    pub steps: usize,
    pub threshold: usize,
    pub spread: usize,
    pub margin: usize,
    pub train: usize,
    pub test: usize,
}

impl Default for IntegrationSpec {
    fn default() -> Self {
        IntegrationSpec {
            channels: 4,
            steps: 80,
            threshold: 6,
            spread: 3,
            margin: 2,
            train: 2000,
            test: 500,
        }
    }
}

/// Which task to generate.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "task", rename_all = "lowercase")]
pub enum SyntheticSpec {
    Coincidence(CoincidenceSpec),
    Integration(IntegrationSpec),
}

/// Largest sample count of a synthetic split.
pub const MAX_SYNTHETIC_SAMPLES: usize = 200_000;

/// An impossible task description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("synthetic.{field}: {message}")]
pub struct SyntheticError {
    pub field: &'static str,
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> SyntheticError {
    SyntheticError {
        field,
        message: message.into(),
    }
}

impl SyntheticSpec {
    /// Steps per sample (the `raster` coding must use the same).
    pub fn steps(&self) -> usize {
        match self {
            SyntheticSpec::Coincidence(c) => c.steps,
            SyntheticSpec::Integration(i) => i.steps,
        }
    }

    /// Checks that the task can be generated within the engine's limits.
    pub fn validate(&self) -> Result<(), SyntheticError> {
        let (channels, steps, train, test) = match self {
            SyntheticSpec::Coincidence(c) => (c.channels, c.steps, c.train, c.test),
            SyntheticSpec::Integration(i) => (i.channels, i.steps, i.train, i.test),
        };
        if !(1..=256).contains(&channels) {
            return Err(bad("channels", "must be in [1, 256]"));
        }
        if !(2..=super::config::MAX_STEPS).contains(&steps) {
            return Err(bad("steps", "must be in [2, 1000]"));
        }
        if train.saturating_add(test) > MAX_SYNTHETIC_SAMPLES || train == 0 || test == 0 {
            return Err(bad(
                "train",
                format!("train and test must be ≥ 1, together ≤ {MAX_SYNTHETIC_SAMPLES}"),
            ));
        }
        match self {
            SyntheticSpec::Coincidence(c)
                if c.window == 0 || c.window.saturating_add(1) >= c.steps =>
            {
                Err(bad("window", "must be in [1, steps − 2]"))
            }
            SyntheticSpec::Integration(i)
                if i.spread == 0 || i.spread > i.threshold.saturating_add(1) =>
            {
                Err(bad("spread", "must be in [1, threshold + 1]"))
            }
            SyntheticSpec::Integration(i)
                if i.threshold.saturating_add(i.spread) > channels.saturating_mul(steps) =>
            {
                Err(bad(
                    "threshold",
                    "threshold + spread must not exceed channels × steps",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Uniform integer in 0..n (n ≥ 1).
fn below(rng: &mut EngineRng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

/// Generates (train, test) for `spec`; each split has its own stream from `seed`.
pub fn synthetic(spec: &SyntheticSpec, seed: u64) -> Result<(Dataset, Dataset), SyntheticError> {
    spec.validate()?;
    let (train, test) = match spec {
        SyntheticSpec::Coincidence(c) => (c.train, c.test),
        SyntheticSpec::Integration(i) => (i.train, i.test),
    };
    Ok((
        generate(spec, seed, 0, train),
        generate(spec, seed, 1, test),
    ))
}

fn generate(spec: &SyntheticSpec, seed: u64, split: u64, count: usize) -> Dataset {
    let mut rng = stream(seed, &[DOMAIN_LIF, STREAM_SYNTHETIC, split]);
    let (channels, steps) = match spec {
        SyntheticSpec::Coincidence(c) => (c.channels, c.steps),
        SyntheticSpec::Integration(i) => (i.channels, i.steps),
    };
    let features = channels * steps;
    let mut images = vec![0.0f32; count * features];
    let mut labels = Vec::with_capacity(count);
    for sample in images.chunks_exact_mut(features) {
        let label = below(&mut rng, 2);
        match spec {
            SyntheticSpec::Coincidence(c) => coincidence(c, label == 1, &mut rng, sample),
            SyntheticSpec::Integration(i) => integration(i, label == 1, &mut rng, sample),
        }
        labels.push(label as u8);
    }
    Dataset {
        images,
        labels,
        features,
        classes: 2,
        shape: vec![steps, channels],
    }
}

fn coincidence(c: &CoincidenceSpec, near: bool, rng: &mut EngineRng, raster: &mut [f32]) {
    let gap = if near {
        1 + below(rng, c.window)
    } else {
        c.window + 1 + below(rng, c.steps - 1 - c.window)
    };
    let t1 = below(rng, c.steps - gap);
    for t in [t1, t1 + gap] {
        let ch = below(rng, c.channels);
        raster[t * c.channels + ch] = 1.0;
    }
}

fn integration(s: &IntegrationSpec, many: bool, rng: &mut EngineRng, raster: &mut [f32]) {
    let n = if many {
        s.threshold + s.margin + 1 + below(rng, s.spread)
    } else {
        s.threshold + 1 - s.margin - s.spread + below(rng, s.spread)
    };
    let mut placed = 0;
    while placed < n {
        let cell = below(rng, raster.len());
        if raster[cell] == 0.0 {
            raster[cell] = 1.0;
            placed += 1;
        }
    }
}
