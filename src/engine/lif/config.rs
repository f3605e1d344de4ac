//! The description of a `lif` training run (SCIENCE.md B1–B4): layers, read-out, loss, optimiser,
//! schedule and input encoding, with the defaults of API.md and validation that names the field and
//! the bound, so the job layer can answer 422 without knowing the engine's internals.

use serde::{Deserialize, Serialize};

/// Most layers (LIF or dense) a network may have before the read-out.
pub const MAX_LAYERS: usize = 8;
/// Most units in one layer.
pub const MAX_UNITS: usize = 4096;
/// Most time steps per sample.
pub const MAX_STEPS: usize = 1000;
/// Largest mini-batch.
pub const MAX_BATCH: usize = 4096;
/// Most epochs in one run.
pub const MAX_EPOCHS: usize = 1000;
/// Most trainable numbers (weights, biases, leaks); bounds model, moment and gradient memory.
pub const MAX_PARAMS: usize = 4_000_000;
/// Most (unit × step) cells per sample; bounds the per-thread BPTT trace.
pub const MAX_UNIT_STEPS: usize = 2_000_000;
/// Most classes (labels are bytes).
pub const MAX_CLASSES: usize = 256;

/// How a LIF neuron forgets its spike.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Reset {
    /// B1: the membrane restarts from zero one step after a spike (k_t = 1 − s_{t−1}).
    #[default]
    Zero,
    /// The threshold is subtracted one step after a spike: u_t = a_t + (1 − λ)·V_{t−1} − θ·s_{t−1}.
    Subtract,
}

/// Surrogate derivative of the spike step function (B2); x = V − θ.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Surrogate {
    /// σ'(x) = 1: the paper's constant surrogate.
    #[default]
    Flat,
    /// σ'(x) = 1 / (β·|x| + 1)².
    SuperSpike,
    /// σ'(x) = β·S(βx)·(1 − S(βx)).
    Sigmoid,
    /// σ'(x) = max(0, 1 − β·|x|).
    Triangle,
}

/// A spiking layer (B1). Every field has the default of SCIENCE.md, so `{"type":"lif","units":N}`
/// is a complete description.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LifSpec {
    pub units: usize,
    /// Leaks start uniform in [lo, hi].
    pub leak_init: (f64, f64),
    pub trainable_leak: bool,
    /// Keep every leak in [0, 1] after each optimiser step.
    pub clamp_leak: bool,
    pub threshold: f64,
    pub reset: Reset,
    pub surrogate: Surrogate,
    /// Shape parameter β of the surrogate (unused by `flat`).
    pub beta: f64,
}

impl Default for LifSpec {
    fn default() -> Self {
        LifSpec {
            units: 256,
            leak_init: (0.0, 0.1),
            trainable_leak: true,
            clamp_leak: true,
            threshold: 1.0,
            reset: Reset::Zero,
            surrogate: Surrogate::Flat,
            beta: 10.0,
        }
    }
}

/// Non-linearity of a non-spiking layer.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    #[default]
    Relu,
}

/// A non-spiking layer y_t = relu(W·x_t + b), applied at every step (the paper's hybrid networks).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DenseSpec {
    pub units: usize,
    pub activation: Activation,
}

impl Default for DenseSpec {
    fn default() -> Self {
        DenseSpec {
            units: 128,
            activation: Activation::Relu,
        }
    }
}

/// One hidden layer; LIF and dense layers may follow each other in any order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum LayerSpec {
    Lif(LifSpec),
    Dense(DenseSpec),
}

impl LayerSpec {
    /// Number of units of the layer.
    pub fn units(&self) -> usize {
        match self {
            LayerSpec::Lif(l) => l.units,
            LayerSpec::Dense(d) => d.units,
        }
    }
}

/// How the read-out's membrane trace becomes class scores (B3).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Decode {
    /// V_{T−1}.
    #[default]
    Last,
    /// max_t V_t per class.
    Max,
    /// mean_t V_t per class.
    Mean,
}

/// Kind of read-out layer.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReadoutKind {
    #[default]
    LeakyIntegrator,
}

/// The non-spiking leaky-integrator read-out with one shared leak λ_out (always kept in [0, 1]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Readout {
    /// The only read-out there is (named in specs as `"type": "leaky_integrator"`).
    #[serde(rename = "type")]
    pub kind: ReadoutKind,
    pub decode: Decode,
    pub trainable_leak: bool,
    pub leak_init: f64,
}

impl Default for Readout {
    fn default() -> Self {
        Readout {
            kind: ReadoutKind::LeakyIntegrator,
            decode: Decode::Last,
            trainable_leak: true,
            leak_init: 0.0,
        }
    }
}

/// Training loss on the class scores.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// −ln softmax(z)_y.
    #[default]
    CrossEntropy,
    /// mean over classes of (z_c − onehot_c)².
    Mse,
}

/// The optimiser (only Adam for now; tagged so that others can be added without breaking specs).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Optimizer {
    Adam {
        #[serde(default = "default_lr")]
        lr: f64,
        #[serde(default = "default_beta1")]
        beta1: f64,
        #[serde(default = "default_beta2")]
        beta2: f64,
        #[serde(default = "default_eps")]
        eps: f64,
    },
}

fn default_lr() -> f64 {
    1e-3
}
fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_eps() -> f64 {
    1e-8
}

impl Default for Optimizer {
    fn default() -> Self {
        Optimizer::Adam {
            lr: default_lr(),
            beta1: default_beta1(),
            beta2: default_beta2(),
            eps: default_eps(),
        }
    }
}

impl Optimizer {
    /// The initial learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            Optimizer::Adam { lr, .. } => lr,
        }
    }
}

/// Reduce-on-plateau: multiply the learning rate by `factor` once the epoch's training loss has
/// not improved (by a relative 1e-4) for more than `patience` epochs, never below `min_lr`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Plateau {
    pub factor: f64,
    pub patience: u32,
    pub min_lr: f64,
}

impl Default for Plateau {
    fn default() -> Self {
        Plateau {
            factor: 0.5,
            patience: 2,
            min_lr: 1e-6,
        }
    }
}

/// How pixel values x ∈ [0, 1] become input over time (B4).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Coding {
    /// Spike with probability min(1, x·rate) at every step.
    Poisson {
        #[serde(default = "one")]
        rate: f64,
    },
    /// The current x·gain at every step (direct coding).
    Constant {
        #[serde(default = "one")]
        gain: f64,
    },
    /// One spike at step ⌊(1 − x)·(T − 1)⌋ for x > x_min.
    Latency {
        #[serde(default)]
        x_min: f64,
    },
    /// The sample already is a raster of shape [steps, channels]; a value ≥ 0.5 is a spike.
    /// Used by the synthetic temporal tasks.
    Raster,
}

fn one() -> f64 {
    1.0
}

/// The input coding and the number of time steps T.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Encoding {
    #[serde(flatten)]
    pub coding: Coding,
    pub steps: usize,
}

impl Default for Encoding {
    fn default() -> Self {
        Encoding {
            coding: Coding::Poisson { rate: 1.0 },
            steps: 25,
        }
    }
}

impl Encoding {
    /// Number of input units the network sees for a dataset with `features` values per sample.
    pub fn input_units(&self, features: usize) -> usize {
        match self.coding {
            Coding::Raster => features / self.steps.max(1),
            _ => features,
        }
    }
}

/// A complete `lif` run. `Default` is the API.md example (784-256-10 on mnist10k, Poisson, 25 steps).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct LifConfig {
    pub layers: Vec<LayerSpec>,
    pub readout: Readout,
    pub loss: Loss,
    pub optimizer: Optimizer,
    pub schedule: Option<Plateau>,
    pub encoding: Encoding,
    pub batch_size: usize,
    pub epochs: usize,
    pub seed: u64,
}

impl Default for LifConfig {
    fn default() -> Self {
        LifConfig {
            layers: vec![LayerSpec::Lif(LifSpec::default())],
            readout: Readout::default(),
            loss: Loss::CrossEntropy,
            optimizer: Optimizer::default(),
            schedule: None,
            encoding: Encoding::default(),
            batch_size: 128,
            epochs: 10,
            seed: 1,
        }
    }
}

/// One validation failure: the JSON path of the field and what is wrong with it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Collects validation failures with their field paths.
struct Checker(Vec<FieldError>);

impl Checker {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    fn range(&mut self, field: &str, value: f64, lo: f64, hi: f64) {
        if !(value.is_finite() && value >= lo && value <= hi) {
            self.fail(field, format!("must be in [{lo}, {hi}], got {value}"));
        }
    }

    fn count(&mut self, field: &str, value: usize, lo: usize, hi: usize) {
        if value < lo || value > hi {
            self.fail(field, format!("must be in [{lo}, {hi}], got {value}"));
        }
    }
}

impl LifConfig {
    /// Checks every bound for a dataset with `features` values per sample and `classes` classes.
    /// All failures are returned at once, each naming its field (e.g. `layers[0].units`).
    pub fn validate(&self, features: usize, classes: usize) -> Result<(), Vec<FieldError>> {
        let mut c = Checker(Vec::new());
        c.count("layers", self.layers.len(), 0, MAX_LAYERS);
        for (i, layer) in self.layers.iter().enumerate() {
            check_layer(&mut c, &format!("layers[{i}]"), layer);
        }
        c.range("readout.leak_init", self.readout.leak_init, 0.0, 1.0);
        check_optimizer(&mut c, &self.optimizer);
        if let Some(p) = &self.schedule {
            c.range("schedule.factor", p.factor, 1e-6, 0.999_999);
            c.count("schedule.patience", p.patience as usize, 0, 1000);
            c.range("schedule.min_lr", p.min_lr, 0.0, 1.0);
        }
        check_encoding(&mut c, &self.encoding, features);
        c.count("batch_size", self.batch_size, 1, MAX_BATCH);
        c.count("epochs", self.epochs, 1, MAX_EPOCHS);
        c.count("dataset.features", features, 1, usize::MAX);
        c.count("dataset.classes", classes, 1, MAX_CLASSES);
        if c.0.is_empty() {
            check_size(&mut c, self, features, classes);
        }
        if c.0.is_empty() { Ok(()) } else { Err(c.0) }
    }

    /// Number of trainable numbers (weights, biases, leaks) of the network.
    pub fn parameter_count(&self, features: usize, classes: usize) -> usize {
        let mut inputs = self.encoding.input_units(features);
        let mut total = 0;
        for layer in &self.layers {
            let units = layer.units();
            let leaks = if matches!(layer, LayerSpec::Lif(_)) {
                units
            } else {
                0
            };
            total += inputs * units + units + leaks;
            inputs = units;
        }
        total + inputs * classes + classes + 1
    }

    /// Rough peak memory of training in bytes, excluding the dataset itself: model, two Adam
    /// moments, the per-chunk gradient buffers and the per-thread BPTT traces.
    pub fn memory_estimate(&self, features: usize, classes: usize, threads: usize) -> usize {
        let params = self.parameter_count(features, classes);
        let chunks = crate::engine::lif::train::chunk_count(self.batch_size);
        let cells = self.unit_steps(features, classes);
        4 * params * (3 + chunks) + threads * cells * 4 * 6
    }

    fn unit_steps(&self, features: usize, classes: usize) -> usize {
        let units: usize = self.layers.iter().map(LayerSpec::units).sum();
        (units + classes + self.encoding.input_units(features)) * self.encoding.steps
    }
}

fn check_layer(c: &mut Checker, path: &str, layer: &LayerSpec) {
    c.count(&format!("{path}.units"), layer.units(), 1, MAX_UNITS);
    if let LayerSpec::Lif(l) = layer {
        let (lo, hi) = l.leak_init;
        c.range(&format!("{path}.leak_init[0]"), lo, 0.0, 1.0);
        c.range(&format!("{path}.leak_init[1]"), hi, lo.max(0.0), 1.0);
        c.range(&format!("{path}.threshold"), l.threshold, 1e-6, 1e6);
        c.range(&format!("{path}.beta"), l.beta, 1e-6, 1e6);
    }
}

fn check_optimizer(c: &mut Checker, optimizer: &Optimizer) {
    let Optimizer::Adam {
        lr,
        beta1,
        beta2,
        eps,
    } = *optimizer;
    c.range("optimizer.lr", lr, 1e-12, 1.0);
    c.range("optimizer.beta1", beta1, 0.0, 0.999_999);
    c.range("optimizer.beta2", beta2, 0.0, 0.999_999_999);
    c.range("optimizer.eps", eps, 1e-30, 1.0);
}

fn check_encoding(c: &mut Checker, e: &Encoding, features: usize) {
    c.count("encoding.steps", e.steps, 1, MAX_STEPS);
    match e.coding {
        Coding::Poisson { rate } => c.range("encoding.rate", rate, 0.0, 1e6),
        Coding::Constant { gain } => c.range("encoding.gain", gain, -1e6, 1e6),
        Coding::Latency { x_min } => c.range("encoding.x_min", x_min, 0.0, 1.0),
        Coding::Raster => {
            if e.steps == 0 || !features.is_multiple_of(e.steps) {
                c.fail(
                    "encoding.steps",
                    format!("a raster needs features ({features}) divisible by steps"),
                );
            }
        }
    }
}

fn check_size(c: &mut Checker, config: &LifConfig, features: usize, classes: usize) {
    let params = config.parameter_count(features, classes);
    if params > MAX_PARAMS {
        c.fail(
            "layers",
            format!("the network has {params} parameters, at most {MAX_PARAMS} allowed"),
        );
    }
    let cells = config.unit_steps(features, classes);
    if cells > MAX_UNIT_STEPS {
        c.fail(
            "encoding.steps",
            format!("units × steps is {cells}, at most {MAX_UNIT_STEPS} allowed"),
        );
    }
}
