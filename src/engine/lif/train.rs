//! Mini-batch training by BPTT, one epoch per call. Each batch is cut into chunks whose size
//! depends only on the batch size; chunks run on the rayon pool, each summing its samples'
//! gradients in order into its own buffer, and the buffers are then added in chunk order. So the
//! result does not depend on the number of threads. All randomness is named by (seed, epoch,
//! sample), and the state after an epoch is everything needed to continue bit-identically.

use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::adam::{AdamState, ScheduleState};
use super::config::LifConfig;
use super::dataset::Dataset;
use super::eval::{Totals, evaluate, expected_features, run_sample};
use super::linear::add;
use super::model::{Model, roles};
use super::network::Trace;
use super::{DOMAIN_LIF, STREAM_SHUFFLE, STREAM_TRAIN};
use crate::engine::control::{Control, Stopped, Unattended};
use crate::engine::rng::stream;
use rand::Rng;

/// Smallest chunk of a batch handled by one task.
pub const CHUNK_MIN: usize = 16;
/// Most chunks per batch (bounds the gradient buffers to this many model copies).
pub const MAX_CHUNKS: usize = 8;
/// Elements per task when the chunk buffers are summed.
const REDUCE_BLOCK: usize = 16 * 1024;

/// Samples per chunk for a configured batch size (never depends on the thread count).
pub fn chunk_len(batch_size: usize) -> usize {
    CHUNK_MIN.max(batch_size.div_ceil(MAX_CHUNKS))
}

/// Number of chunk buffers a full batch needs.
pub fn chunk_count(batch_size: usize) -> usize {
    batch_size.div_ceil(chunk_len(batch_size)).max(1)
}

/// The figures of one finished epoch.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// 1 for the first epoch.
    pub epoch: u32,
    /// Mean loss and accuracy over the epoch's training passes (weights changing along the way).
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub test_loss: f64,
    pub test_accuracy: f64,
    /// Wall time of the whole epoch, evaluation included.
    pub seconds: f64,
    /// Training samples per second (training passes only, evaluation excluded).
    pub samples_per_second: f64,
    /// Spikes per neuron and step on the test set, per hidden layer (`None` for dense layers).
    pub spike_rates: Vec<Option<f64>>,
    /// Mean leak per hidden layer after the epoch (`None` for dense layers).
    pub mean_leak: Vec<Option<f64>>,
    pub readout_leak: f64,
    /// Learning rate used during the epoch.
    pub lr: f64,
    /// Test-set confusion matrix after the epoch, `[true][predicted]`.
    #[serde(default)]
    pub confusion_matrix: Vec<Vec<u64>>,
}

/// Everything a checkpoint holds; serialise it after an epoch, deserialise and continue.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TrainState {
    pub model: Model,
    pub adam: AdamState,
    /// Completed epochs; also names the next epoch's shuffle and Poisson streams, which is all
    /// the random state there is.
    pub epoch: u32,
    pub schedule: ScheduleState,
    pub history: Vec<EpochStats>,
}

/// Why an epoch did not finish; on either the state passed in is unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Stopped(#[from] Stopped),
    #[error("training diverged in epoch {epoch}, batch {batch}: non-finite loss or gradient")]
    Diverged { epoch: u32, batch: usize },
    #[error("{0}")]
    Data(String),
}

/// Checks that `data` fits `model`: the values per sample the encoding expects and labels below
/// the model's class count (the engine indexes by both).
pub fn check_data(
    config: &LifConfig,
    model: &Model,
    data: &Dataset,
    name: &str,
) -> Result<(), TrainError> {
    let expected = expected_features(config, model);
    if data.features != expected || data.images.len() != data.len() * data.features {
        return Err(TrainError::Data(format!(
            "{name} set has {} values per sample, the model expects {expected}",
            data.features
        )));
    }
    match data.labels.iter().find(|&&l| l as usize >= model.classes) {
        Some(l) => Err(TrainError::Data(format!(
            "{name} set has label {l}, the model has {} classes",
            model.classes
        ))),
        None => Ok(()),
    }
}

/// A fresh state: seeded weights, zero moments, epoch 0.
pub fn init_state(config: &LifConfig, features: usize, classes: usize) -> TrainState {
    let model = Model::init(config, features, classes);
    TrainState {
        adam: AdamState::new(&model),
        model,
        epoch: 0,
        schedule: ScheduleState::default(),
        history: Vec::new(),
    }
}

/// Trains `epochs` more epochs of `state` unattended (no cancellation, no progress reports) and
/// returns each epoch's figures. For tests, benches and scripts; a job drives [`train_epoch`]
/// itself, to checkpoint, report and stop between epochs.
pub fn train_epochs(
    config: &LifConfig,
    state: &mut TrainState,
    train: &Dataset,
    test: &Dataset,
    epochs: usize,
) -> Result<Vec<EpochStats>, TrainError> {
    (0..epochs)
        .map(|_| train_epoch(config, state, train, test, &Unattended, &mut |_, _| {}))
        .collect()
}

/// The order in which epoch `epoch` visits the `n` training samples (Fisher–Yates).
pub fn shuffled(seed: u64, epoch: u64, n: usize) -> Vec<usize> {
    let mut rng = stream(seed, &[DOMAIN_LIF, STREAM_SHUFFLE, epoch]);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// Trains one epoch and evaluates on `test` (both must pass [`check_data`]). `on_batch(done, batches)` is called after every
/// batch. The state is only replaced when the epoch completes.
pub fn train_epoch(
    config: &LifConfig,
    state: &mut TrainState,
    train: &Dataset,
    test: &Dataset,
    control: &dyn Control,
    on_batch: &mut dyn FnMut(usize, usize),
) -> Result<EpochStats, TrainError> {
    check_data(config, &state.model, train, "training")?;
    check_data(config, &state.model, test, "test")?;
    let start = Instant::now();
    let mut next = state.clone();
    let lr = next.schedule.lr(config);
    let totals = run_batches(config, &mut next, train, control, on_batch)?;
    let train_seconds = start.elapsed().as_secs_f64();
    if control.should_stop() {
        return Err(Stopped.into());
    }
    let eval = evaluate(config, &next.model, test);
    if let Some(plateau) = &config.schedule {
        next.schedule.observe(plateau, totals.mean_loss());
    }
    next.epoch += 1;
    let tidy_all = |v: Vec<Option<f64>>| v.into_iter().map(|x| x.map(tidy)).collect();
    let stats = EpochStats {
        epoch: next.epoch,
        train_loss: tidy(totals.mean_loss()),
        train_accuracy: tidy(totals.accuracy()),
        test_loss: tidy(eval.loss),
        test_accuracy: tidy(eval.accuracy),
        seconds: tidy(start.elapsed().as_secs_f64()),
        samples_per_second: tidy(train.len() as f64 / train_seconds.max(1e-9)),
        spike_rates: tidy_all(eval.spike_rates),
        mean_leak: tidy_all(next.model.mean_leaks()),
        readout_leak: tidy(next.model.readout.leak[0] as f64),
        lr: tidy(lr),
        confusion_matrix: eval.confusion_matrix,
    };
    next.history.push(stats.clone());
    *state = next;
    Ok(stats)
}

/// A reported figure rounded to 10 significant digits (and |x| < 1e-12 to 0). serde_json's default
/// float parser is exact for such short decimals, so a checkpoint's history reads back
/// bit-identical; full-precision f64 text may come back one ulp off.
fn tidy(x: f64) -> f64 {
    if !x.is_finite() || x.abs() < 1e-12 {
        return if x.is_finite() { 0.0 } else { x };
    }
    format!("{x:.9e}").parse().unwrap_or(x)
}

/// All batches of the next epoch, updating `state.model` and `state.adam` in place.
fn run_batches(
    config: &LifConfig,
    state: &mut TrainState,
    train: &Dataset,
    control: &dyn Control,
    on_batch: &mut dyn FnMut(usize, usize),
) -> Result<Totals, TrainError> {
    let epoch = state.epoch;
    let order = shuffled(config.seed, epoch as u64, train.len());
    let roles = roles(config);
    let lr = state.schedule.lr(config);
    let mut buffers: Vec<Model> = (0..chunk_count(config.batch_size))
        .map(|_| state.model.zeros_like())
        .collect();
    let batches = order.len().div_ceil(config.batch_size);
    let mut totals = Totals::new(config.layers.len());
    for (b, idx) in order.chunks(config.batch_size).enumerate() {
        if control.should_stop() {
            return Err(Stopped.into());
        }
        let t = batch_gradient(config, &state.model, train, idx, epoch, &mut buffers);
        if !t.loss.is_finite() || !all_finite(&buffers[0]) {
            return Err(TrainError::Diverged {
                epoch: epoch + 1,
                batch: b,
            });
        }
        state
            .adam
            .step(&config.optimizer, lr, &roles, &mut state.model, &buffers[0]);
        totals.merge(&t);
        on_batch(b + 1, batches);
        let message = format!("epoch {}: batch {}/{batches}", epoch + 1, b + 1);
        control.progress((b + 1) as f64 / batches as f64, &message);
    }
    Ok(totals)
}

fn all_finite(m: &Model) -> bool {
    m.tensors().iter().all(|t| t.iter().all(|x| x.is_finite()))
}

/// Mean-loss gradient of one batch, left in `buffers[0]`; returns the batch's totals.
pub(crate) fn batch_gradient(
    config: &LifConfig,
    model: &Model,
    data: &Dataset,
    idx: &[usize],
    epoch: u32,
    buffers: &mut [Model],
) -> Totals {
    let scale = 1.0 / idx.len() as f64;
    let len = chunk_len(config.batch_size);
    let used = idx.len().div_ceil(len);
    let parts: Vec<Totals> = buffers[..used]
        .par_iter_mut()
        .zip(idx.par_chunks(len))
        .map(|(grads, chunk)| {
            grads.fill_zero();
            let mut trace = Trace::new(config.layers.len());
            let mut totals = Totals::new(config.layers.len());
            for &i in chunk {
                let path = [DOMAIN_LIF, STREAM_TRAIN, epoch as u64, i as u64];
                let x = data.sample(i);
                let label = data.labels[i] as usize;
                let outcome = run_sample(
                    config,
                    model,
                    x,
                    label,
                    &path,
                    &mut trace,
                    Some((scale, grads)),
                );
                totals.record(&trace, outcome, label, config);
            }
            totals
        })
        .collect();
    reduce(&mut buffers[..used]);
    let mut totals = Totals::new(config.layers.len());
    parts.iter().for_each(|p| totals.merge(p));
    totals
}

/// buffers[0] += buffers[1] + buffers[2] + …, in that order for every element.
fn reduce(buffers: &mut [Model]) {
    let Some((first, rest)) = buffers.split_first_mut() else {
        return;
    };
    let others: Vec<Vec<&[f32]>> = rest.iter().map(|m| m.tensors()).collect();
    for (ti, dst) in first.tensors_mut().into_iter().enumerate() {
        dst.par_chunks_mut(REDUCE_BLOCK)
            .enumerate()
            .for_each(|(bi, block)| {
                let off = bi * REDUCE_BLOCK;
                for o in &others {
                    add(block, &o[ti][off..off + block.len()]);
                }
            });
    }
}
