//! The flat weight layout that `model.json` documents (input-major: `weights[i * units + j]` is
//! input i → unit j) checked against an independent NumPy forward pass of a few MNIST digits,
//! and predictions that do not depend on an input's position in a request.

use std::process::Command;

use serde_json::json;

use super::config::*;
use super::eval::predict;
use super::idx::mnist10k;
use super::model::Model;

fn config(coding: Coding) -> LifConfig {
    LifConfig {
        layers: vec![LayerSpec::Dense(DenseSpec {
            units: 32,
            activation: Activation::Relu,
        })],
        readout: Readout {
            kind: ReadoutKind::LeakyIntegrator,
            decode: Decode::Last,
            trainable_leak: true,
            leak_init: 0.15,
        },
        encoding: Encoding { coding, steps: 12 },
        seed: 11,
        ..LifConfig::default()
    }
}

fn digits(count: usize) -> Vec<Vec<f64>> {
    let data = mnist10k();
    (0..count)
        .map(|k| {
            data.images[k * data.features..(k + 1) * data.features]
                .iter()
                .map(|&v| f64::from(v))
                .collect()
        })
        .collect()
}

#[test]
fn model_json_layout_matches_a_numpy_forward_pass() {
    let config = config(Coding::Constant { gain: 1.0 });
    let mut model = Model::init(&config, 784, 10);
    // Distinct positive biases, so a read-out unit is never silent by accident.
    for p in model.layers.iter_mut().chain([&mut model.readout]) {
        p.bias
            .iter_mut()
            .enumerate()
            .for_each(|(k, b)| *b = 0.05 + 0.01 * k as f32);
    }
    let inputs = digits(5);
    let ours = predict(&config, &model, &inputs, 1).unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    let document = json!({"model": model, "inputs": inputs, "steps": 12, "gain": 1.0});
    std::fs::write(file.path(), document.to_string()).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(format!("{root}/scripts/numpy-python.sh"))
        .arg(format!("{root}/scripts/model_forward.py"))
        .arg(file.path())
        .output()
        .expect("scripts/numpy-python.sh runs");
    assert!(
        out.status.success(),
        "NumPy forward pass failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<Vec<f64>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(theirs.len(), inputs.len());
    for (k, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        for (p, q) in a.probabilities.iter().zip(b) {
            assert!(
                (p - q).abs() < 1e-4,
                "digit {k}: fluxlab {:?} vs NumPy {b:?}",
                a.probabilities
            );
        }
        // The read-out must not be trivially uniform, or the layout would go untested.
        assert!(
            b.iter().any(|&q| (q - 0.1).abs() > 1e-3),
            "digit {k}: {b:?}"
        );
    }
}

#[test]
fn poisson_predictions_do_not_depend_on_the_position_in_a_request() {
    let config = config(Coding::Poisson { rate: 1.0 });
    let model = Model::init(&config, 784, 10);
    let inputs = digits(12);
    let first = predict(&config, &model, &inputs, 1).unwrap();
    let mut shifted = inputs[1..].to_vec();
    shifted.push(inputs[0].clone());
    let moved = predict(&config, &model, &shifted, 1).unwrap();
    for k in 0..11 {
        assert_eq!(moved[k], first[k + 1]);
    }
    assert_eq!(moved[11], first[0]);
    // Alone, an input gets the same answer too; K encodings average to another distribution.
    assert_eq!(
        predict(&config, &model, &inputs[3..4], 1).unwrap()[0],
        first[3]
    );
    let averaged = predict(&config, &model, &inputs[..2], 16).unwrap();
    assert_ne!(averaged[0].probabilities, first[0].probabilities);
    let sum: f64 = averaged[0].probabilities.iter().sum();
    assert!((sum - 1.0).abs() < 1e-9);
}
