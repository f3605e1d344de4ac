//! Running a trained network: one sample end to end (shared with training), evaluation with a
//! confusion matrix and spike rates, predictions with class probabilities, and spike rasters.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::activity::Activity;
use super::config::{Coding, LayerSpec, LifConfig};
use super::dataset::Dataset;
use super::encode::encode;
use super::loss::{argmax, softmax};
use super::model::Model;
use super::network::{self, Trace};
use super::{DOMAIN_LIF, STREAM_EVAL, STREAM_PREDICT};

/// Samples per evaluation task.
const EVAL_CHUNK: usize = 32;

/// Loss and decision on one sample.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    pub loss: f64,
    pub predicted: usize,
}

/// Encodes `x` with the stream named by `path`, runs the network and, when `train` holds
/// (scale, gradient buffer), adds scale·∂loss/∂θ into the buffer.
pub fn run_sample(
    config: &LifConfig,
    model: &Model,
    x: &[f32],
    label: usize,
    path: &[u64],
    trace: &mut Trace,
    train: Option<(f64, &mut Model)>,
) -> Outcome {
    encode(&config.encoding, x, config.seed, path, &mut trace.input);
    network::forward(config, model, trace);
    let loss = match train {
        Some((scale, grads)) => {
            let loss = config
                .loss
                .value_and_grad(&trace.scores, label, scale, &mut trace.dscores);
            network::backward(config, model, trace, grads);
            loss
        }
        None => config.loss.value(&trace.scores, label),
    };
    Outcome {
        loss,
        predicted: argmax(&trace.scores),
    }
}

/// Sums over samples: loss, correct decisions, spikes per hidden layer.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub loss: f64,
    pub correct: usize,
    pub count: usize,
    pub spikes: Vec<u64>,
}

impl Totals {
    /// Empty totals for `layers` hidden layers.
    pub fn new(layers: usize) -> Totals {
        Totals {
            spikes: vec![0; layers],
            ..Totals::default()
        }
    }

    /// Adds one sample.
    pub fn record(&mut self, trace: &Trace, outcome: Outcome, label: usize, config: &LifConfig) {
        self.loss += outcome.loss;
        self.correct += (outcome.predicted == label) as usize;
        self.count += 1;
        for l in 0..config.layers.len() {
            self.spikes[l] += trace.spike_count(l).unwrap_or(0) as u64;
        }
    }

    /// Adds another set of totals (in a fixed order, for reproducible sums).
    pub fn merge(&mut self, other: &Totals) {
        self.loss += other.loss;
        self.correct += other.correct;
        self.count += other.count;
        for (a, b) in self.spikes.iter_mut().zip(&other.spikes) {
            *a += b;
        }
    }

    /// Mean loss per sample (0 for no samples).
    pub fn mean_loss(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.loss / self.count as f64
        }
    }

    /// Fraction of correct decisions (0 for no samples).
    pub fn accuracy(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.correct as f64 / self.count as f64
        }
    }

    /// Spikes per neuron and step for each LIF layer, `None` for dense layers.
    pub fn spike_rates(&self, config: &LifConfig) -> Vec<Option<f64>> {
        let cells = (self.count * config.encoding.steps).max(1) as f64;
        config
            .layers
            .iter()
            .zip(&self.spikes)
            .map(|(spec, &s)| match spec {
                LayerSpec::Lif(l) => Some(s as f64 / (cells * l.units as f64)),
                LayerSpec::Dense(_) => None,
            })
            .collect()
    }
}

/// How a trained network does on a data set.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub count: usize,
    pub loss: f64,
    pub accuracy: f64,
    /// `confusion_matrix[true][predicted]`.
    pub confusion_matrix: Vec<Vec<u64>>,
    pub spike_rates: Vec<Option<f64>>,
}

/// Evaluates `model` on every sample of `data` (Poisson draws named by the sample index only, so
/// every epoch sees the same test spikes). `data` must fit the model (see
/// [`check_data`](super::train::check_data)), otherwise this panics.
pub fn evaluate(config: &LifConfig, model: &Model, data: &Dataset) -> Evaluation {
    let index: Vec<usize> = (0..data.len()).collect();
    let parts: Vec<(Totals, Vec<(usize, usize)>)> = index
        .par_chunks(EVAL_CHUNK)
        .map(|chunk| {
            let mut trace = Trace::new(config.layers.len());
            let mut totals = Totals::new(config.layers.len());
            let mut pairs = Vec::with_capacity(chunk.len());
            for &i in chunk {
                let label = data.labels[i] as usize;
                let path = [DOMAIN_LIF, STREAM_EVAL, i as u64];
                let o = run_sample(
                    config,
                    model,
                    data.sample(i),
                    label,
                    &path,
                    &mut trace,
                    None,
                );
                totals.record(&trace, o, label, config);
                pairs.push((label, o.predicted));
            }
            (totals, pairs)
        })
        .collect();
    let classes = model.classes;
    let mut confusion = vec![vec![0u64; classes]; classes];
    let mut totals = Totals::new(config.layers.len());
    for (t, pairs) in &parts {
        totals.merge(t);
        for &(label, predicted) in pairs {
            if label < classes {
                confusion[label][predicted] += 1;
            }
        }
    }
    Evaluation {
        count: totals.count,
        loss: totals.mean_loss(),
        accuracy: totals.accuracy(),
        confusion_matrix: confusion,
        spike_rates: totals.spike_rates(config),
    }
}

/// A request input that the model cannot take.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error("input {index} has {got} values, the model expects {expected}")]
    Length {
        index: usize,
        got: usize,
        expected: usize,
    },
    #[error("input {index}, value {position} is {value}, outside [0, 1]")]
    Range {
        index: usize,
        position: usize,
        value: f64,
    },
}

/// Values per input sample the model expects.
pub fn expected_features(config: &LifConfig, model: &Model) -> usize {
    match config.encoding.coding {
        Coding::Raster => model.inputs * config.encoding.steps,
        _ => model.inputs,
    }
}

fn check_input(
    config: &LifConfig,
    model: &Model,
    index: usize,
    x: &[f64],
) -> Result<Vec<f32>, InputError> {
    let expected = expected_features(config, model);
    if x.len() != expected {
        return Err(InputError::Length {
            index,
            got: x.len(),
            expected,
        });
    }
    match x.iter().position(|v| !(0.0..=1.0).contains(v)) {
        Some(position) => Err(InputError::Range {
            index,
            position,
            value: x[position],
        }),
        None => Ok(x.iter().map(|&v| v as f32).collect()),
    }
}

/// A predicted class with the softmax of the scores.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Prediction {
    pub class: usize,
    pub probabilities: Vec<f64>,
}

/// Classifies each input (values in [0, 1]), averaging the softmax over `samples` encodings
/// (≥ 1; only Poisson coding makes them differ). Encoding k of input x draws from
/// stream(seed, [DOMAIN_LIF, PREDICT, input_key(x), k]): a prediction is a function of the model
/// and the input alone, whatever else is in the request and wherever x stands in it.
pub fn predict(
    config: &LifConfig,
    model: &Model,
    inputs: &[Vec<f64>],
    samples: usize,
) -> Result<Vec<Prediction>, InputError> {
    let samples = samples.max(1);
    let xs: Vec<Vec<f32>> = inputs
        .iter()
        .enumerate()
        .map(|(i, x)| check_input(config, model, i, x))
        .collect::<Result<_, _>>()?;
    Ok(xs
        .par_iter()
        .map_init(
            || Trace::new(config.layers.len()),
            |trace, x| {
                let key = input_key(x);
                let mut probabilities = vec![0.0; model.classes];
                for k in 0..samples as u64 {
                    let path = [DOMAIN_LIF, STREAM_PREDICT, key, k];
                    encode(&config.encoding, x, config.seed, &path, &mut trace.input);
                    network::forward(config, model, trace);
                    for (p, q) in probabilities.iter_mut().zip(softmax(&trace.scores)) {
                        *p += q / samples as f64;
                    }
                }
                Prediction {
                    class: argmax_f64(&probabilities),
                    probabilities,
                }
            },
        )
        .collect())
}

/// A 64-bit key of an input's values (the f32 bytes it is encoded from): the Poisson stream of a
/// prediction is named by the model's seed and this key, so a prediction depends on the input
/// alone, never on its position in a request.
pub fn input_key(x: &[f32]) -> u64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for v in x {
        h.update(v.to_le_bytes());
    }
    let d = h.finalize();
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// Index of the largest value (the first on ties).
fn argmax_f64(v: &[f64]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, &x)| {
            if x > bv { (i, x) } else { (bi, bv) }
        })
        .0
}

/// Who spiked when, for plots: per step the indices of spiking units.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Raster {
    /// The encoded input (`None` for constant coding, which does not spike).
    pub input: Option<Vec<Vec<u32>>>,
    /// Constant coding: the current each input channel feeds at every step (`None` when the
    /// coding spikes).
    #[serde(default)]
    pub input_current: Option<Vec<f32>>,
    /// Per hidden layer (`None` for dense layers).
    pub layers: Vec<Option<Vec<Vec<u32>>>>,
    /// The read-out membrane V_t, per step, per class.
    pub readout: Vec<Vec<f32>>,
    pub class: usize,
}

/// Runs one input (as [`predict`] does with its first encoding) and records every spike.
pub fn spike_raster(
    config: &LifConfig,
    model: &Model,
    input: &[f64],
) -> Result<Raster, InputError> {
    let x = check_input(config, model, 0, input)?;
    let mut trace = Trace::new(config.layers.len());
    encode(
        &config.encoding,
        &x,
        config.seed,
        &[DOMAIN_LIF, STREAM_PREDICT, input_key(&x), 0],
        &mut trace.input,
    );
    network::forward(config, model, &mut trace);
    let steps_of = |a: &Activity| match a {
        Activity::Spikes(s) => Some(s.by_step()),
        _ => None,
    };
    Ok(Raster {
        input: steps_of(&trace.input),
        input_current: match &trace.input {
            Activity::Static(v) => Some(v.clone()),
            _ => None,
        },
        layers: trace.layers.iter().map(|l| steps_of(&l.out)).collect(),
        readout: trace
            .readout_u
            .chunks(model.classes)
            .map(|row| row.iter().map(|u| u.max(0.0)).collect())
            .collect(),
        class: argmax(&trace.scores),
    })
}
