//! Kind `lif`: train spiking (and hybrid) networks with surrogate gradients (SCIENCE.md Part B),
//! with progress per batch, metrics and a checkpoint per epoch, so a run resumes bit for bit.

pub mod data;
pub mod model;
pub mod result;
pub mod spec;
pub mod synthetic_defaults;
pub mod validate;

use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::control::Control;
use crate::engine::lif::{TrainError, TrainState, init_state, train_epoch};
use crate::jobs::validation::{fresh_seed, parse_spec};
use crate::jobs::{FieldError, JobContext, JobError, JobOutcome, Limits, read_stored, to_document};
pub use spec::{DatasetInfo, LifJobSpec};
pub use synthetic_defaults::{default_task, fill_synthetic_defaults, synthetic_network};

/// Parses, checks and normalises a `lif` spec. `uploaded` is the dataset named by
/// `spec.dataset.id`, looked up by the caller (`None` when there is none).
pub fn validate(
    mut spec: Value,
    _limits: &Limits,
    uploaded: Option<&DatasetInfo>,
) -> Result<Value, Vec<FieldError>> {
    fill_synthetic_defaults(&mut spec);
    let mut parsed: LifJobSpec = parse_spec(spec)?;
    let mut errors = Vec::new();
    let shape = validate::check_dataset(&parsed, uploaded, &mut errors);
    if let Some(shape) = &shape {
        validate::check_job_fields(&parsed, shape, &mut errors);
        if let Err(engine) = parsed.config().validate(shape.features, shape.classes) {
            errors.extend(engine.into_iter().map(|e| {
                let field = match e.field.strip_prefix("dataset.") {
                    Some(rest) => format!("spec.dataset ({rest})"),
                    None => format!("spec.{}", e.field),
                };
                FieldError::new(field, e.message)
            }));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if parsed.seed.is_none() {
        parsed.seed = Some(fresh_seed());
    }
    Ok(serde_json::to_value(&parsed).expect("spec serialises"))
}

/// The resumable state stored after an epoch; `partial_result` is the result document as of that
/// epoch (read by plots while the job runs), not needed to resume.
#[derive(Serialize, Deserialize)]
pub struct Checkpoint {
    pub state: TrainState,
    pub elapsed_ms: u64,
    #[serde(default)]
    pub partial_result: Value,
}

/// The control handed to the training engine: stops when the job should, and drops the
/// engine's per-epoch progress (a fraction of the current epoch, which would make the bar jump
/// back every epoch); `on_batch` reports the same batches as a fraction of the whole job.
struct WholeJob<'a>(&'a dyn JobContext);

impl Control for WholeJob<'_> {
    fn should_stop(&self) -> bool {
        self.0.should_stop()
    }
    fn progress(&self, _fraction_of_epoch: f64, _message: &str) {}
}

pub fn run(
    spec: &Value,
    _limits: &Limits,
    checkpoint: Option<Value>,
    ctx: &dyn JobContext,
) -> Result<JobOutcome, JobError> {
    let spec: LifJobSpec = read_stored(spec.clone(), "stored spec")?;
    let config = spec.config();
    ctx.report(0, 0, 0.0, "loading the dataset");
    let data = data::load(&spec, config.seed, ctx)?;
    let classes = data.train.classes.max(data.test.classes);
    let started = Instant::now();
    let (mut state, base_elapsed) = match checkpoint {
        Some(v) => {
            let c: Checkpoint = read_stored(v, "checkpoint")?;
            (c.state, c.elapsed_ms)
        }
        None => (init_state(&config, data.train.features, classes), 0),
    };
    let elapsed = |started: &Instant| base_elapsed + started.elapsed().as_millis() as u64;
    let save = |state: &TrainState, started: &Instant| -> Result<(), JobError> {
        let elapsed_ms = elapsed(started);
        let partial_result = result::build(&config, state, &data, spec.raster_sample, elapsed_ms)
            .unwrap_or(Value::Null);
        let doc = Checkpoint {
            state: state.clone(),
            elapsed_ms,
            partial_result,
        };
        ctx.checkpoint(state.epoch as u64, to_document(&doc)?);
        Ok(())
    };
    let epochs = config.epochs as u64;
    let batches = data.train.len().div_ceil(config.batch_size) as u64;
    let total = epochs * batches;
    let control = WholeJob(ctx);
    let control: &dyn Control = &control;
    while (state.epoch as u64) < epochs {
        let epoch = state.epoch as u64;
        let mut on_batch = |done: usize, _of: usize| {
            let step = epoch * batches + done as u64;
            let message = format!("epoch {} of {epochs}: batch {done} of {batches}", epoch + 1);
            ctx.report(step, total, step as f64 / total as f64, &message);
        };
        match train_epoch(
            &config,
            &mut state,
            &data.train,
            &data.test,
            control,
            &mut on_batch,
        ) {
            Ok(stats) => {
                ctx.metrics(stats.epoch as u64, result::metrics_row(&stats));
                let every = spec.checkpoint_every as u64;
                if (stats.epoch as u64).is_multiple_of(every) || stats.epoch as u64 == epochs {
                    save(&state, &started)?;
                }
            }
            Err(TrainError::Stopped(_)) => {
                save(&state, &started)?;
                return Ok(JobOutcome::Stopped);
            }
            Err(e @ (TrainError::Diverged { .. } | TrainError::Data(_))) => {
                return Err(JobError::Invalid(e.to_string()));
            }
        }
    }
    result::build(
        &config,
        &state,
        &data,
        spec.raster_sample,
        elapsed(&started),
    )
    .map(JobOutcome::Finished)
    .ok_or_else(|| JobError::Internal("no epoch was recorded".into()))
}
