//! The result document of a `lif` job (API.md) and its metric rows: per-epoch figures, the final
//! test evaluation, leak statistics and the spike raster of one test sample.

use serde_json::{Value, json};

use crate::engine::lif::{EpochStats, LifConfig, Model, Raster, TrainState, spike_raster};

use super::data::Data;

/// Bins of the leak histograms.
const LEAK_BINS: usize = 20;

/// The metric row of one epoch: losses, accuracies, spike rate and mean leak per hidden layer
/// (and their means over the LIF layers), learning rate, seconds and throughput.
pub fn metrics_row(stats: &EpochStats) -> Value {
    let mut row = json!({
        "train_loss": stats.train_loss,
        "train_accuracy": stats.train_accuracy,
        "test_loss": stats.test_loss,
        "test_accuracy": stats.test_accuracy,
        "spike_rate": mean_of(&stats.spike_rates),
        "mean_leak": mean_of(&stats.mean_leak),
        "readout_leak": stats.readout_leak,
        "lr": stats.lr,
        "seconds": stats.seconds,
        "samples_per_second": stats.samples_per_second,
    });
    for (i, (rate, leak)) in stats.spike_rates.iter().zip(&stats.mean_leak).enumerate() {
        if rate.is_some() {
            row[format!("spike_rate_layer{i}")] = json!(rate);
        }
        if leak.is_some() {
            row[format!("mean_leak_layer{i}")] = json!(leak);
        }
    }
    row
}

fn mean_of(values: &[Option<f64>]) -> Option<f64> {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64)
}

/// The result as of the last finished epoch (also stored in checkpoints as `partial_result`, so
/// plots of a running job show the same figures). `None` before the first epoch.
pub fn build(
    config: &LifConfig,
    state: &TrainState,
    data: &Data,
    raster_sample: usize,
    elapsed_ms: u64,
) -> Option<Value> {
    let last = state.history.last()?;
    let epochs: Vec<Value> = state
        .history
        .iter()
        .map(|s| {
            json!({
                "epoch": s.epoch,
                "train_loss": s.train_loss,
                "train_accuracy": s.train_accuracy,
                "test_loss": s.test_loss,
                "test_accuracy": s.test_accuracy,
                "seconds": s.seconds,
                "samples_per_second": s.samples_per_second,
                "lr": s.lr,
                "spike_rates": s.spike_rates,
                "mean_leak": s.mean_leak,
            })
        })
        .collect();
    Some(json!({
        "test_accuracy": last.test_accuracy,
        "test_loss": last.test_loss,
        "epochs": epochs,
        "confusion_matrix": last.confusion_matrix,
        "spike_rates": last.spike_rates,
        "leak": leak_summary(config, &state.model),
        "raster": raster(config, &state.model, data, raster_sample),
        "dataset": {
            "name": data.name,
            "train": data.train.len(),
            "test": data.test.len(),
            "features": data.train.features,
            "shape": data.train.shape,
            "classes": state.model.classes,
        },
        "parameters": config.parameter_count(data.train.features, state.model.classes),
        "epochs_run": state.epoch,
        "elapsed_ms": elapsed_ms,
    }))
}

/// Mean, standard deviation and histogram of the learned leaks over all LIF layers and per layer
/// (`null` for dense layers), plus the read-out's leak.
/// The leaks of a LIF layer and the range they were initialised in; dense layers have none.
type LayerLeaks<'a> = (&'a [f32], (f64, f64));

fn leak_summary(config: &LifConfig, model: &Model) -> Value {
    let lif: Vec<Option<LayerLeaks>> = config
        .layers
        .iter()
        .zip(&model.layers)
        .map(|(spec, params)| match spec {
            crate::engine::lif::LayerSpec::Lif(l) => Some((&params.leak[..], l.leak_init)),
            _ => None,
        })
        .collect();
    let all: Vec<f64> = lif
        .iter()
        .flatten()
        .flat_map(|(l, _)| l.iter())
        .map(|&x| x as f64)
        .collect();
    let inits: Vec<(f64, f64)> = lif.iter().flatten().map(|&(_, init)| init).collect();
    let layers: Vec<Value> = lif
        .iter()
        .enumerate()
        .map(|(i, l)| match l {
            Some((l, init)) => {
                let v: Vec<f64> = l.iter().map(|&x| x as f64).collect();
                let mut s = stats(&v, &[*init]);
                s["layer"] = json!(i);
                s["initial"] = json!({"low": init.0, "high": init.1});
                s
            }
            None => Value::Null,
        })
        .collect();
    let mut doc = stats(&all, &inits);
    doc["layers"] = json!(layers);
    doc["readout"] = json!(model.readout.leak.first().map(|&x| x as f64));
    doc
}

fn stats(values: &[f64], inits: &[(f64, f64)]) -> Value {
    if values.is_empty() {
        return json!({"mean": null, "std": null, "histogram": null});
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    json!({"mean": mean, "std": std, "histogram": histogram(values, inits)})
}

/// [`LEAK_BINS`] equal-width bins over the range the leaks and their initial ranges span (so
/// leaks that stay within [0, 0.1] fill the bins instead of 2 of 20 bins over [0, 1], and the
/// initial distribution can be drawn on the same bins).
fn histogram(values: &[f64], inits: &[(f64, f64)]) -> Value {
    let lo = values
        .iter()
        .copied()
        .chain(inits.iter().map(|i| i.0))
        .fold(f64::INFINITY, f64::min);
    let mut hi = values
        .iter()
        .copied()
        .chain(inits.iter().map(|i| i.1))
        .fold(f64::NEG_INFINITY, f64::max);
    if hi - lo < 1e-6 {
        hi = lo + 0.05;
    }
    let width = (hi - lo) / LEAK_BINS as f64;
    let mut counts = vec![0u64; LEAK_BINS];
    for &v in values {
        let bin = (((v - lo) / width) as usize).min(LEAK_BINS - 1);
        counts[bin] += 1;
    }
    let edges: Vec<f64> = (0..=LEAK_BINS).map(|i| lo + width * i as f64).collect();
    json!({"edges": edges, "counts": counts})
}

/// Most input spikes recorded in `raster.input` (a 784-pixel Poisson-coded digit over 100
/// steps spikes tens of thousands of times); beyond it `truncated` is true.
pub const MAX_INPUT_SPIKES: usize = 20_000;

/// `[t, unit]` pairs of spikes given per step as the indices of the spiking units.
fn pairs(steps: &[Vec<u32>]) -> impl Iterator<Item = [u32; 2]> + '_ {
    steps
        .iter()
        .enumerate()
        .flat_map(|(t, units)| units.iter().map(move |&u| [t as u32, u]))
}

/// `raster.input`: the encoded input the network saw, as `[step, channel]` spikes in step
/// order, the first [`MAX_INPUT_SPIKES`] of them (`truncated` says whether there were more);
/// constant coding feeds a current instead of spikes (`spikes` empty, `current` per channel).
fn input_doc(units: usize, spikes: Option<&[Vec<u32>]>, current: Option<&[f32]>) -> Value {
    match (spikes, current) {
        (Some(steps), _) => {
            let total: usize = steps.iter().map(Vec::len).sum();
            let kept: Vec<[u32; 2]> = pairs(steps).take(MAX_INPUT_SPIKES).collect();
            json!({"units": units, "spikes": kept, "truncated": total > MAX_INPUT_SPIKES})
        }
        (None, Some(current)) => {
            json!({"units": units, "spikes": [], "truncated": false, "current": current})
        }
        (None, None) => Value::Null,
    }
}

/// Who spiked when for test sample `index`: `[t, unit]` pairs per LIF layer (dense layers do not
/// spike and are left out), and what the encoder fed the network for that sample (see
/// [`input_doc`]): the same encoding the layers' spikes come from.
fn raster(config: &LifConfig, model: &Model, data: &Data, index: usize) -> Value {
    let index = index.min(data.test.len().saturating_sub(1));
    let x: Vec<f64> = data.test.sample(index).iter().map(|&v| v as f64).collect();
    let Ok(r) = spike_raster(config, model, &x) else {
        return Value::Null;
    };
    let Raster {
        input,
        input_current,
        layers,
        class,
        ..
    } = r;
    let layer_docs: Vec<Value> = layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            l.as_ref().map(|steps| {
                let spikes: Vec<[u32; 2]> = pairs(steps).collect();
                json!({"layer": i, "units": config.layers[i].units(), "spikes": spikes})
            })
        })
        .collect();
    json!({
        "sample_index": index,
        "label": data.test.labels[index],
        "predicted": class,
        "steps": config.encoding.steps,
        "input": input_doc(model.inputs, input.as_deref(), input_current.as_deref()),
        "layers": layer_docs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_spikes_are_step_channel_pairs_capped_with_a_flag() {
        let steps = vec![vec![0, 2], vec![], vec![1]];
        let doc = input_doc(3, Some(&steps), None);
        assert_eq!(doc["units"], 3);
        assert_eq!(doc["spikes"], json!([[0, 0], [0, 2], [2, 1]]));
        assert_eq!(doc["truncated"], false);
        let dense: Vec<Vec<u32>> = (0..MAX_INPUT_SPIKES / 4 + 1)
            .map(|_| vec![0, 1, 2, 3])
            .collect();
        let doc = input_doc(4, Some(&dense), None);
        assert_eq!(doc["spikes"].as_array().unwrap().len(), MAX_INPUT_SPIKES);
        assert_eq!(doc["truncated"], true);
        let constant = input_doc(2, None, Some(&[0.5, 0.0]));
        assert_eq!(constant["spikes"], json!([]));
        assert_eq!(constant["current"], json!([0.5, 0.0]));
        assert!(input_doc(2, None, None).is_null());
    }
}
