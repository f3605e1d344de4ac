//! Check values of SCIENCE.md B5, the operating-mode formula, the event-driven engine against the
//! dense f64 reference, JSON round trips, and the IDX reader's checks.

use rand::Rng;

use super::config::*;
use super::dataset::Dataset;
use super::eval::run_sample;
use super::idx::{IdxError, IdxLimits, mnist10k, read_idx_pair};
use super::layer::{self, LifParams, Pattern, Reach, SurrogateFn, max_interval};
use super::model::Model;
use super::network::Trace;
use super::reference;
use super::train::{batch_gradient, chunk_count};
use super::{DOMAIN_LIF, STREAM_TRAIN};
use crate::engine::rng::stream;

/// Asserts that `value` rounds to the printed decimal `text` (half a unit of its last digit).
fn printed(value: f32, text: &str) {
    let decimals = text.split('.').nth(1).map_or(0, str::len) as i32;
    let expected: f64 = text.parse().unwrap();
    let err = (value as f64 - expected).abs();
    assert!(err <= 0.5 * 10f64.powi(-decimals), "{value} is not {text}");
}

const B5_A: [f32; 8] = [0.3, 0.2, 0.0, 0.4, 0.3, -0.1, 0.5, 0.2];
const B5_C: [f32; 8] = [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, -1.0];

fn b5_params() -> LifParams<'static> {
    LifParams {
        leak: &[0.1],
        threshold: 1.0,
        reset: Reset::Zero,
    }
}

/// (u_t, spiking steps) of the B5 neuron.
fn b5_forward() -> (Vec<f32>, Vec<u32>) {
    let mut u = B5_A.to_vec();
    let mut s = Vec::new();
    layer::forward(&b5_params(), &mut u, &mut s);
    (u, s)
}

#[test]
fn b5_forward_check_values() {
    let (u, s) = b5_forward();
    let v = [
        "0.3", "0.47", "0.423", "0.7807", "1.00263", "0.0", "0.5", "0.65",
    ];
    for (t, text) in v.iter().enumerate() {
        printed(u[t].max(0.0), text);
    }
    assert_eq!(s, vec![4]);
}

fn b5_backward(kind: Surrogate) -> (Vec<f32>, f32) {
    let (u, _) = b5_forward();
    let (mut delta, mut dleak) = (Vec::new(), [0.0f32]);
    let sg = SurrogateFn { kind, beta: 10.0 };
    layer::backward(&b5_params(), sg, &u, &B5_C, &mut delta, &mut dleak);
    (delta, dleak[0])
}

#[test]
fn b5_gradients_flat_surrogate() {
    let (delta, dleak) = b5_backward(Surrogate::Flat);
    let want = ["0.6561", "0.729", "0.81", "0.9", "1.0", "0", "-0.9", "-1.0"];
    for (t, text) in want.iter().enumerate() {
        printed(delta[t], text);
    }
    printed(dleak, "-1.2608");
}

#[test]
fn b5_gradients_superspike_surrogate() {
    let (delta, dleak) = b5_backward(Surrogate::SuperSpike);
    let want = [
        "0.622904",
        "0.692116",
        "0.769018",
        "0.854464",
        "0.949405",
        "0",
        "-0.044444",
        "-0.049383",
    ];
    for (t, text) in want.iter().enumerate() {
        printed(delta[t], text);
    }
    printed(dleak, "-1.64702");
}

/// Does a neuron with leak 0.1 fed spikes of amplitude w at `times` ever spike?
fn fires(w: f32, times: &[usize], steps: usize) -> bool {
    let mut a = vec![0.0f32; steps];
    times.iter().for_each(|&t| a[t] = w);
    let mut s = Vec::new();
    layer::forward(&b5_params(), &mut a, &mut s);
    !s.is_empty()
}

#[test]
fn operating_modes_by_formula_and_by_simulation() {
    assert_eq!(max_interval(0.6, 0.1, Pattern::TwoSpikes), Reach::UpTo(3));
    assert_eq!(max_interval(0.6, 0.1, Pattern::Train), Reach::UpTo(8));
    assert_eq!(max_interval(0.6, 0.0, Pattern::Train), Reach::Any);
    assert_eq!(max_interval(0.4, 0.5, Pattern::TwoSpikes), Reach::Never);
    for m in 1..=8 {
        assert_eq!(fires(0.6, &[0, m], 20), m <= 3, "two spikes {m} apart");
    }
    for m in 1..=12 {
        let times: Vec<usize> = (0..400).step_by(m).collect();
        assert_eq!(fires(0.6, &times, 400), m <= 8, "a train of period {m}");
    }
}

/// A small network of every layer kind with weights scaled up so that all layers spike.
fn hybrid_config(layers: Vec<LayerSpec>, coding: Coding, decode: Decode, loss: Loss) -> LifConfig {
    LifConfig {
        layers,
        readout: Readout {
            kind: ReadoutKind::LeakyIntegrator,
            decode,
            trainable_leak: true,
            leak_init: 0.15,
        },
        loss,
        encoding: Encoding { coding, steps: 12 },
        batch_size: 40,
        seed: 3,
        ..LifConfig::default()
    }
}

fn lif(units: usize, reset: Reset, surrogate: Surrogate) -> LayerSpec {
    LayerSpec::Lif(LifSpec {
        units,
        leak_init: (0.0, 0.4),
        reset,
        surrogate,
        beta: 3.0,
        ..LifSpec::default()
    })
}

fn dense(units: usize) -> LayerSpec {
    LayerSpec::Dense(DenseSpec {
        units,
        activation: Activation::Relu,
    })
}

fn random_data(count: usize, features: usize, classes: usize, seed: u64) -> Dataset {
    let mut rng = stream(seed, &[99]);
    let images = (0..count * features)
        .map(|_| (rng.next_u32() >> 8) as f32 / (1 << 24) as f32)
        .collect();
    let labels = (0..count)
        .map(|_| (rng.next_u32() % classes as u32) as u8)
        .collect();
    Dataset {
        images,
        labels,
        features,
        classes,
        shape: vec![features],
    }
}

fn scaled_model(config: &LifConfig, features: usize, classes: usize, gain: f32) -> Model {
    let mut model = Model::init(config, features, classes);
    for p in model.layers.iter_mut().chain([&mut model.readout]) {
        p.weights.iter_mut().for_each(|w| *w *= gain);
        p.bias.iter_mut().for_each(|b| *b = b.abs() * 0.3);
    }
    model
}

fn close(what: &str, got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g as f64 - w).abs() <= 1e-5 * (1.0 + w.abs()),
            "{what}[{i}]: {g} vs reference {w}"
        );
    }
}

fn compare(got: &Model, want: &reference::Reference, scale: f64) {
    let s = |v: &[f64]| v.iter().map(|x| x * scale).collect::<Vec<_>>();
    for (l, (g, w)) in got.layers.iter().zip(&want.layers).enumerate() {
        close(&format!("layer {l} weights"), &g.weights, &s(&w.w));
        close(&format!("layer {l} bias"), &g.bias, &s(&w.b));
        close(&format!("layer {l} leak"), &g.leak, &s(&w.leak));
    }
    close("readout weights", &got.readout.weights, &s(&want.readout.w));
    close("readout bias", &got.readout.bias, &s(&want.readout.b));
    close("readout leak", &got.readout.leak, &s(&want.readout.leak));
}

/// Sums the reference over a batch, as the engine does.
fn reference_batch(
    config: &LifConfig,
    model: &Model,
    data: &Dataset,
    idx: &[usize],
) -> reference::Reference {
    let mut trace = Trace::new(config.layers.len());
    let mut total: Option<reference::Reference> = None;
    for &i in idx {
        let path = [DOMAIN_LIF, STREAM_TRAIN, 0, i as u64];
        let label = data.labels[i] as usize;
        let outcome = run_sample(
            config,
            model,
            data.sample(i),
            label,
            &path,
            &mut trace,
            None,
        );
        let x = trace.input.to_dense(model.inputs, config.encoding.steps);
        let rows: Vec<Vec<f64>> = x
            .chunks(model.inputs)
            .map(|r| r.iter().map(|&v| v as f64).collect())
            .collect();
        let r = reference::run(config, model, &rows, label);
        let scores: Vec<f32> = trace.scores.clone();
        close("scores", &scores, &r.scores);
        assert!(
            (outcome.loss - r.loss).abs() <= 1e-5 * (1.0 + r.loss.abs()),
            "loss"
        );
        total = Some(match total {
            None => r,
            Some(mut t) => {
                add_ref(&mut t, &r);
                t
            }
        });
    }
    total.expect("a non-empty batch")
}

fn add_ref(t: &mut reference::Reference, r: &reference::Reference) {
    let add = |a: &mut Vec<f64>, b: &Vec<f64>| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
    for (a, b) in t
        .layers
        .iter_mut()
        .zip(&r.layers)
        .chain([(&mut t.readout, &r.readout)])
    {
        add(&mut a.w, &b.w);
        add(&mut a.b, &b.b);
        add(&mut a.leak, &b.leak);
    }
}

/// The batch gradient of the engine (chunks, threads, reduction) against the summed reference.
fn check_against_reference(config: &LifConfig, features: usize, gain: f32) {
    let classes = 3;
    let data = random_data(40, features, classes, 11);
    let model = scaled_model(config, features, classes, gain);
    let idx: Vec<usize> = (0..40).collect();
    let mut buffers: Vec<Model> = (0..chunk_count(config.batch_size))
        .map(|_| model.zeros_like())
        .collect();
    let totals = batch_gradient(config, &model, &data, &idx, 0, &mut buffers);
    assert!(
        totals
            .spikes
            .iter()
            .zip(&config.layers)
            .all(|(&s, l)| s > 0 || matches!(l, LayerSpec::Dense(_)))
    );
    let want = reference_batch(config, &model, &data, &idx);
    compare(&buffers[0], &want, 1.0 / 40.0);
}

#[test]
fn event_driven_matches_dense_reference_poisson_hybrid() {
    let layers = vec![
        lif(12, Reset::Zero, Surrogate::Flat),
        dense(9),
        lif(7, Reset::Subtract, Surrogate::SuperSpike),
    ];
    let config = hybrid_config(
        layers,
        Coding::Poisson { rate: 0.8 },
        Decode::Last,
        Loss::CrossEntropy,
    );
    check_against_reference(&config, 10, 2.0);
}

#[test]
fn event_driven_matches_dense_reference_constant_input_into_dense() {
    let layers = vec![
        dense(8),
        lif(6, Reset::Subtract, Surrogate::Sigmoid),
        dense(5),
    ];
    let config = hybrid_config(
        layers,
        Coding::Constant { gain: 1.0 },
        Decode::Max,
        Loss::Mse,
    );
    check_against_reference(&config, 9, 2.0);
}

#[test]
fn event_driven_matches_dense_reference_latency_and_mean_decode() {
    let layers = vec![
        lif(10, Reset::Zero, Surrogate::Triangle),
        lif(8, Reset::Zero, Surrogate::Flat),
    ];
    let config = hybrid_config(
        layers,
        Coding::Latency { x_min: 0.1 },
        Decode::Mean,
        Loss::CrossEntropy,
    );
    check_against_reference(&config, 12, 4.0);
}

#[test]
fn f32_values_round_trip_through_json() {
    let mut rng = stream(5, &[1]);
    let mut values: Vec<f32> = (0..200_000)
        .map(|_| f32::from_bits(rng.next_u32()))
        .filter(|v| v.is_finite())
        .collect();
    values.extend([0.1, 1e-45, f32::MIN, f32::MIN_POSITIVE, 0.0, -0.0, 1e-30]);
    let text = serde_json::to_string(&values).unwrap();
    let back: Vec<f32> = serde_json::from_str(&text).unwrap();
    assert!(
        values
            .iter()
            .zip(&back)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

#[test]
fn config_reads_the_api_example_and_round_trips() {
    let api = r#"{"layers": [{"type": "lif", "units": 256, "leak_init": [0.0, 0.1], "trainable_leak": true,
        "surrogate": "flat", "beta": 10.0, "reset": "zero"}],
        "encoding": {"type": "poisson", "steps": 25, "rate": 1.0},
        "readout": {"type": "leaky_integrator", "decode": "last"}, "loss": "cross_entropy",
        "optimizer": {"type": "adam", "lr": 0.001}, "batch_size": 128, "epochs": 10, "seed": 1}"#;
    let config: LifConfig = serde_json::from_str(api).unwrap();
    assert_eq!(config, LifConfig::default());
    let hybrid = hybrid_config(
        vec![dense(4), lif(3, Reset::Subtract, Surrogate::SuperSpike)],
        Coding::Latency { x_min: 0.2 },
        Decode::Max,
        Loss::Mse,
    );
    let text = serde_json::to_string(&hybrid).unwrap();
    assert_eq!(serde_json::from_str::<LifConfig>(&text).unwrap(), hybrid);
    let raster: Encoding = serde_json::from_str(r#"{"type": "raster", "steps": 20}"#).unwrap();
    assert_eq!(
        raster,
        Encoding {
            coding: Coding::Raster,
            steps: 20
        }
    );
    assert!(config.validate(784, 10).is_ok());
}

#[test]
fn validation_names_fields_and_bounds() {
    let mut config = LifConfig::default();
    config.layers.push(LayerSpec::Lif(LifSpec {
        units: 0,
        leak_init: (0.5, 0.2),
        ..LifSpec::default()
    }));
    config.batch_size = 0;
    let errors = config.validate(784, 10).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["layers[1].units", "layers[1].leak_init[1]", "batch_size"]
    );
    let huge = LifConfig {
        layers: vec![lif(4096, Reset::Zero, Surrogate::Flat); 3],
        ..LifConfig::default()
    };
    assert_eq!(huge.validate(784, 10).unwrap_err()[0].field, "layers");
}

/// An IDX file: magic, dimensions (big-endian), payload.
fn idx_file(dims: &[u32], payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    dims.iter().for_each(|d| out.extend(d.to_be_bytes()));
    out.extend_from_slice(payload);
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn idx_reads_raw_and_gzip_and_names_each_error() {
    let images = idx_file(&[3, 2, 2], &[0, 255, 51, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    let labels = idx_file(&[3], &[0, 4, 2]);
    let limits = IdxLimits::default();
    let d = read_idx_pair(&images, &gzip(&labels), &limits).unwrap();
    assert_eq!(
        (d.len(), d.features, d.classes, d.shape.clone()),
        (3, 4, 5, vec![2, 2])
    );
    assert_eq!(d.sample(0), &[0.0, 1.0, 0.2, 0.0]);
    assert_eq!(read_idx_pair(&gzip(&images), &labels, &limits).unwrap(), d);
    let err = |i: &[u8], l: &[u8], lim: &IdxLimits| read_idx_pair(i, l, lim).unwrap_err();
    assert!(matches!(
        err(&labels, &labels, &limits),
        IdxError::BadMagic { file: "images", .. }
    ));
    assert!(matches!(
        err(&images, &idx_file(&[2], &[0, 1]), &limits),
        IdxError::CountMismatch {
            images: 3,
            labels: 2
        }
    ));
    assert!(matches!(
        err(&images[..18], &labels, &limits),
        IdxError::Size {
            file: "images",
            needed: 12,
            got: 2
        }
    ));
    let small = IdxLimits {
        max_classes: 4,
        ..limits.clone()
    };
    assert!(matches!(
        err(&images, &labels, &small),
        IdxError::LabelOutOfRange {
            index: 1,
            label: 4,
            max: 3
        }
    ));
    let tiny = IdxLimits {
        max_bytes: 10,
        ..limits.clone()
    };
    assert!(matches!(
        err(&gzip(&images), &labels, &tiny),
        IdxError::TooBig { file: "images", .. }
    ));
    assert!(matches!(
        err(&images, &[0x1f, 0x8b, 1, 2], &limits),
        IdxError::Gzip { file: "labels", .. }
    ));
    let few = IdxLimits {
        max_count: 2,
        ..limits
    };
    assert!(
        err(&images, &labels, &few)
            .to_string()
            .contains("image count is 3")
    );
}

#[test]
fn mnist10k_is_embedded_with_its_fixed_split() {
    let d = mnist10k();
    assert_eq!(
        (d.len(), d.features, d.classes, d.shape.clone()),
        (10_000, 784, 10, vec![28, 28])
    );
    let (train, test) = d.split(8000, 2000).unwrap();
    assert_eq!((train.len(), test.len()), (8000, 2000));
    assert_eq!(test.sample(1999), d.sample(9999));
    assert!(d.split(8000, 2001).is_err());
    let (own_train, own_test) = d.clone().into_split(300, 200).unwrap();
    let (train, test) = d.split(300, 200).unwrap();
    assert_eq!(
        (own_train.images, own_train.labels),
        (train.images, train.labels)
    );
    assert_eq!(
        (own_test.images, own_test.labels),
        (test.images, test.labels)
    );
    assert!(d.into_split(8000, 2001).is_err());
}
