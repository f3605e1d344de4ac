//! The trained network of a finished `lif` job: the `model.json` artifact and predictions. Both
//! read the final checkpoint, which always holds the state after the last epoch.

use serde_json::{Value, json};

use crate::engine::lif::{InputError, LifConfig, Model, Prediction, expected_features, predict};
use crate::jobs::FieldError;

use super::{Checkpoint, spec::LifJobSpec};

/// Most inputs in one predict request.
pub const MAX_PREDICT_INPUTS: usize = 1000;
/// Most encodings averaged per input (`samples`).
pub const MAX_PREDICT_SAMPLES: usize = 100;
/// Most forward passes (inputs × samples) in one request.
pub const MAX_PREDICT_PASSES: usize = 10_000;

/// Why a model cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the stored model is unreadable: {0}")]
    Corrupt(String),
    #[error("invalid input")]
    Input(Vec<FieldError>),
}

fn parse(spec: &Value, checkpoint: &Value) -> Result<(LifJobSpec, Checkpoint), ModelError> {
    let spec: LifJobSpec =
        serde_json::from_value(spec.clone()).map_err(|e| ModelError::Corrupt(e.to_string()))?;
    let checkpoint: Checkpoint = serde_json::from_value(checkpoint.clone())
        .map_err(|e| ModelError::Corrupt(e.to_string()))?;
    Ok((spec, checkpoint))
}

/// `model.json`: the spec, the engine configuration, what inputs look like, and every trained
/// number of the hidden layers and the read-out. Each layer (`model.layers[l]`, then
/// `model.readout`) has `inputs`, `units`, flat `weights` stored input-major —
/// `weights[i * units + j]` connects input i to unit j, i.e. a row-major `inputs × units`
/// matrix, so pre-activations are `x @ W + bias` — `bias` (one per unit) and `leak` (one per
/// unit for LIF layers, none for dense layers, one shared value for the read-out).
pub fn document(spec: &Value, checkpoint: &Value) -> Result<Value, ModelError> {
    let (parsed, c) = parse(spec, checkpoint)?;
    let config = parsed.config();
    let model = &c.state.model;
    Ok(json!({
        "format": "fluxlab-lif-model",
        "version": 1,
        "epochs_trained": c.state.epoch,
        "input_values": expected_features(&config, model),
        "classes": model.classes,
        "config": config,
        "spec": spec,
        "model": model,
    }))
}

/// A trained network ready to predict (parsed once, shared by requests).
pub struct LoadedModel {
    config: LifConfig,
    model: Model,
}

impl LoadedModel {
    /// Parses the stored spec and the final checkpoint.
    pub fn load(spec: &Value, checkpoint: &Value) -> Result<LoadedModel, ModelError> {
        let (parsed, c) = parse(spec, checkpoint)?;
        Ok(LoadedModel {
            config: parsed.config(),
            model: c.state.model,
        })
    }

    /// Classifies `inputs` (each the values of one sample in [0, 1]), averaging the class
    /// probabilities over `samples` encodings of each.
    pub fn predict(
        &self,
        inputs: &[Vec<f64>],
        samples: usize,
    ) -> Result<Vec<Prediction>, ModelError> {
        check_count(inputs, samples)?;
        predict(&self.config, &self.model, inputs, samples).map_err(|e| {
            let field = match &e {
                InputError::Length { index, .. } => format!("inputs[{index}]"),
                InputError::Range {
                    index, position, ..
                } => format!("inputs[{index}][{position}]"),
            };
            ModelError::Input(vec![FieldError::new(field, e.to_string())])
        })
    }
}

fn check_count(inputs: &[Vec<f64>], samples: usize) -> Result<(), ModelError> {
    if inputs.is_empty() || inputs.len() > MAX_PREDICT_INPUTS {
        return Err(ModelError::Input(vec![FieldError::new(
            "inputs",
            format!(
                "give between 1 and {MAX_PREDICT_INPUTS} inputs, got {}",
                inputs.len()
            ),
        )]));
    }
    if !(1..=MAX_PREDICT_SAMPLES).contains(&samples) {
        return Err(ModelError::Input(vec![FieldError::new(
            "samples",
            format!("samples must be between 1 and {MAX_PREDICT_SAMPLES}, got {samples}"),
        )]));
    }
    if inputs.len().saturating_mul(samples) > MAX_PREDICT_PASSES {
        return Err(ModelError::Input(vec![FieldError::new(
            "samples",
            format!(
                "inputs × samples = {} exceeds the limit of {MAX_PREDICT_PASSES} forward passes",
                inputs.len().saturating_mul(samples)
            ),
        )]));
    }
    Ok(())
}
