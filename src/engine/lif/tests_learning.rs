//! Whole-run tests: the synthetic tasks are learned and the leaks move towards the operating mode
//! each task needs; training is independent of the thread count; a run resumed from a JSON
//! checkpoint is bit-identical to an uninterrupted one; cancellation leaves the state alone; and
//! a short MNIST run learns.

use std::sync::atomic::Ordering;

use super::config::*;
use super::dataset::Dataset;
use super::idx::mnist10k;
use super::synthetic::{CoincidenceSpec, IntegrationSpec, SyntheticSpec, synthetic};
use super::train::{EpochStats, TrainError, TrainState, init_state, train_epoch, train_epochs};
use crate::engine::control::{StopFlag, Unattended};

/// 32 LIF neurons on a raster, read out by a fixed leaky integrator (λ_out = 0.5) decoded by its
/// maximum: such a read-out cannot count spikes by itself, so the hidden neurons have to take
/// the operating mode the task needs.
fn raster_config(steps: usize, leak_init: (f64, f64)) -> LifConfig {
    LifConfig {
        layers: vec![LayerSpec::Lif(LifSpec {
            units: 32,
            leak_init,
            ..LifSpec::default()
        })],
        readout: Readout {
            kind: ReadoutKind::LeakyIntegrator,
            decode: Decode::Max,
            trainable_leak: false,
            leak_init: 0.5,
        },
        encoding: Encoding {
            coding: Coding::Raster,
            steps,
        },
        optimizer: Optimizer::Adam {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        batch_size: 32,
        seed: 8,
        ..LifConfig::default()
    }
}

/// Trains `epochs` epochs and returns the state and the last epoch's figures.
fn run(
    config: &LifConfig,
    train: &Dataset,
    test: &Dataset,
    epochs: usize,
) -> (TrainState, EpochStats) {
    let mut state = init_state(config, train.features, train.classes);
    let last = train_epochs(config, &mut state, train, test, epochs)
        .unwrap()
        .pop()
        .expect("at least one epoch");
    (state, last)
}

fn mean_leak(state: &TrainState) -> f64 {
    state.model.mean_leaks()[0].expect("a LIF layer")
}

/// Trains 5 epochs on a synthetic task from leaks uniform in `leak_init`; returns (test
/// accuracy, mean leak before, mean leak after).
fn operating_mode(spec: SyntheticSpec, leak_init: (f64, f64)) -> (f64, f64, f64) {
    let (train, test) = synthetic(&spec, 8).unwrap();
    let config = raster_config(spec.steps(), leak_init);
    let before = mean_leak(&init_state(&config, train.features, 2));
    let (state, stats) = run(&config, &train, &test, 5);
    (stats.test_accuracy, before, mean_leak(&state))
}

fn coincidence() -> SyntheticSpec {
    SyntheticSpec::Coincidence(CoincidenceSpec {
        window: 1,
        ..CoincidenceSpec::default()
    })
}

fn integration() -> SyntheticSpec {
    SyntheticSpec::Integration(IntegrationSpec {
        steps: 40,
        spread: 3,
        margin: 2,
        ..IntegrationSpec::default()
    })
}

/// Starting as integrators (leaks in [0, 0.1]), the neurons become coincidence detectors.
#[test]
fn coincidence_is_learned_and_the_leaks_grow() {
    let (accuracy, before, after) = operating_mode(coincidence(), (0.0, 0.1));
    eprintln!("coincidence: accuracy {accuracy:.3}, leak {before:.3} → {after:.3}");
    assert!(accuracy > 0.95, "accuracy {accuracy}");
    assert!(after > 2.0 * before, "leak {before} → {after}");
}

/// Starting leaky (leaks in [0.2, 0.4]), the neurons become integrators.
#[test]
fn integration_is_learned_and_the_leaks_shrink() {
    let (accuracy, before, after) = operating_mode(integration(), (0.2, 0.4));
    eprintln!("integration: accuracy {accuracy:.3}, leak {before:.3} → {after:.3}");
    assert!(accuracy > 0.85, "accuracy {accuracy}");
    assert!(after < before - 0.05, "leak {before} → {after}");
}

/// A small hybrid network on the first 600 MNIST digits (Poisson, 8 steps).
fn small_mnist() -> (LifConfig, Dataset, Dataset) {
    let (train, test) = mnist10k().slice(0, 600).split(400, 200).unwrap();
    let config = LifConfig {
        layers: vec![
            LayerSpec::Lif(LifSpec {
                units: 24,
                ..LifSpec::default()
            }),
            LayerSpec::Dense(DenseSpec {
                units: 12,
                activation: Activation::Relu,
            }),
        ],
        encoding: Encoding {
            coding: Coding::Poisson { rate: 1.0 },
            steps: 8,
        },
        schedule: Some(Plateau::default()),
        batch_size: 50,
        seed: 5,
        ..LifConfig::default()
    };
    (config, train, test)
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// Everything of a state that must be reproduced exactly (timings excluded), as JSON text.
fn fingerprint(state: &TrainState) -> String {
    let mut s = state.clone();
    for h in &mut s.history {
        h.seconds = 0.0;
        h.samples_per_second = 0.0;
    }
    serde_json::to_string(&s).unwrap()
}

/// Asserts equality without printing megabytes of weights on failure.
fn assert_same(a: &TrainState, b: &TrainState, what: &str) {
    let (fa, fb) = (fingerprint(a), fingerprint(b));
    let first = fa.bytes().zip(fb.bytes()).position(|(x, y)| x != y);
    assert!(fa == fb, "{what}: states differ from byte {first:?} on");
}

#[test]
fn training_does_not_depend_on_the_thread_count() {
    let (config, train, test) = small_mnist();
    let one = pool(1).install(|| run(&config, &train, &test, 2).0);
    let two = pool(2).install(|| run(&config, &train, &test, 2).0);
    assert_same(&one, &two, "1 vs 2 threads");
}

#[test]
fn resuming_from_a_json_checkpoint_is_bit_identical() {
    let (config, train, test) = small_mnist();
    let (whole, _) = run(&config, &train, &test, 3);
    let mut state = init_state(&config, train.features, train.classes);
    train_epoch(
        &config,
        &mut state,
        &train,
        &test,
        &Unattended,
        &mut |_, _| {},
    )
    .unwrap();
    let checkpoint = serde_json::to_string(&state).unwrap();
    let mut resumed: TrainState = serde_json::from_str(&checkpoint).unwrap();
    assert!(
        resumed == state,
        "the checkpoint does not read back identical"
    );
    train_epochs(&config, &mut resumed, &train, &test, 2).unwrap();
    assert_same(&resumed, &whole, "resumed vs uninterrupted");
}

#[test]
fn a_stopped_epoch_leaves_the_state_unchanged() {
    let (config, train, test) = small_mnist();
    let mut state = init_state(&config, train.features, train.classes);
    let before = state.clone();
    let stop = StopFlag::default();
    let mut on_batch = |done: usize, _: usize| {
        if done == 3 {
            stop.0.store(true, Ordering::Relaxed);
        }
    };
    let result = train_epoch(&config, &mut state, &train, &test, &stop, &mut on_batch);
    assert_eq!(
        result.unwrap_err(),
        TrainError::Stopped(crate::engine::control::Stopped)
    );
    assert!(state == before, "a stopped epoch changed the state");
}

#[test]
fn data_that_does_not_fit_the_model_is_refused() {
    let (config, train, test) = small_mnist();
    let mut state = init_state(&config, train.features, 3);
    let err = train_epoch(
        &config,
        &mut state,
        &train,
        &test,
        &Unattended,
        &mut |_, _| {},
    );
    assert!(matches!(err, Err(TrainError::Data(m)) if m.contains("label")));
    let narrow = train.slice(0, 10);
    let narrow = Dataset {
        features: 392,
        images: narrow.images[..3920].to_vec(),
        ..narrow
    };
    let mut state = init_state(&config, train.features, train.classes);
    let err = train_epoch(
        &config,
        &mut state,
        &narrow,
        &test,
        &Unattended,
        &mut |_, _| {},
    );
    assert!(matches!(err, Err(TrainError::Data(m)) if m.contains("392")));
}

#[test]
fn mnist_smoke_run_learns_well_above_chance() {
    let (train, test) = mnist10k().split(1000, 500).unwrap();
    let config = LifConfig {
        layers: vec![LayerSpec::Lif(LifSpec {
            units: 64,
            ..LifSpec::default()
        })],
        encoding: Encoding {
            coding: Coding::Poisson { rate: 1.0 },
            steps: 10,
        },
        batch_size: 32,
        ..LifConfig::default()
    };
    let (_, stats) = run(&config, &train, &test, 1);
    eprintln!("mnist smoke: test accuracy {:.3}", stats.test_accuracy);
    assert!(
        stats.test_accuracy > 0.6,
        "accuracy {}",
        stats.test_accuracy
    );
    assert!(stats.spike_rates[0].unwrap() > 0.0);
}

/// Why the read-out leak of an MNIST run stays exactly 0 with `trainable_leak: true`: cross
/// entropy keeps rewarding larger class scores, so at λ_out = 0 (a perfect integrator) the
/// gradient asks for a negative leak — amplification — which the clamp to [0, 1] refuses.
/// Started leaky, the read-out leak falls at nearly Adam's full step (lr per update) every
/// update: the gradient's sign does not change.
#[test]
fn cross_entropy_drives_the_readout_leak_to_zero() {
    let (mut config, train, test) = small_mnist();
    config.readout.leak_init = 0.5;
    let (state, _) = run(&config, &train, &test, 3);
    let leaky = f64::from(state.model.readout.leak[0]);
    let updates = 3.0 * (train.len() as f64 / config.batch_size as f64).ceil();
    let lr = config.optimizer.lr();
    eprintln!("read-out leak 0.5 → {leaky} after {updates} updates of lr {lr}");
    assert!(
        leaky < 0.5 - 0.75 * lr * updates,
        "read-out leak 0.5 → {leaky}"
    );
    config.readout.leak_init = 0.0;
    let (state, _) = run(&config, &train, &test, 2);
    assert_eq!(state.model.readout.leak[0], 0.0);
}
