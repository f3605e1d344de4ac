//! Checks of a `lif` spec against the dataset it names, each failure naming its field under
//! `spec.` and the bound.

use crate::engine::lif::{Coding, SyntheticSpec};
use crate::jobs::FieldError;

use super::spec::{DatasetInfo, LifJobSpec, MNIST10K, MNIST10K_SPLIT, Split};

/// Sample counts, values per sample and classes of the data a spec trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataShape {
    pub split: Split,
    pub features: usize,
    pub classes: usize,
}

/// The default split of an uploaded dataset of `count` samples: the last fifth tests.
pub fn default_split(count: usize) -> Split {
    let test = (count / 5).max(1).min(count.saturating_sub(1));
    Split {
        train: count - test,
        test,
    }
}

/// Checks the dataset reference and split; returns the shape of the data when they are usable.
pub fn check_dataset(
    spec: &LifJobSpec,
    uploaded: Option<&DatasetInfo>,
    errors: &mut Vec<FieldError>,
) -> Option<DataShape> {
    let d = &spec.dataset;
    let given = [d.builtin.is_some(), d.id.is_some(), d.synthetic.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        errors.push(FieldError::new(
            "spec.dataset",
            "give exactly one of `builtin` (\"mnist10k\"), `id` (an uploaded dataset) or `synthetic`",
        ));
        return None;
    }
    if let Some(name) = &d.builtin {
        if name != MNIST10K {
            errors.push(FieldError::new(
                "spec.dataset.builtin",
                format!("unknown built-in dataset `{name}`; available: {MNIST10K}"),
            ));
            return None;
        }
        let split = spec.split.unwrap_or(MNIST10K_SPLIT);
        return check_split(split, 10_000, errors).then_some(DataShape {
            split,
            features: 784,
            classes: 10,
        });
    }
    if let Some(id) = &d.id {
        let Some(info) = uploaded.filter(|i| &i.id == id) else {
            errors.push(FieldError::new(
                "spec.dataset.id",
                format!("no dataset with id `{id}` (see GET /v1/datasets)"),
            ));
            return None;
        };
        let split = spec.split.unwrap_or_else(|| default_split(info.count));
        return check_split(split, info.count, errors).then_some(DataShape {
            split,
            features: info.features,
            classes: info.classes,
        });
    }
    let task = d.synthetic.as_ref()?;
    check_synthetic(spec, task, errors)
}

fn check_split(split: Split, count: usize, errors: &mut Vec<FieldError>) -> bool {
    let before = errors.len();
    if split.train == 0 {
        errors.push(FieldError::new("spec.split.train", "must be at least 1"));
    }
    if split.test == 0 {
        errors.push(FieldError::new("spec.split.test", "must be at least 1"));
    }
    if split.train.saturating_add(split.test) > count {
        errors.push(FieldError::new(
            "spec.split",
            format!(
                "train + test is {} but the dataset has {count} samples",
                split.train.saturating_add(split.test)
            ),
        ));
    }
    errors.len() == before
}

fn check_synthetic(
    spec: &LifJobSpec,
    task: &SyntheticSpec,
    errors: &mut Vec<FieldError>,
) -> Option<DataShape> {
    if spec.split.is_some() {
        errors.push(FieldError::new(
            "spec.split",
            "a synthetic task sets its own sizes: give `train` and `test` inside `dataset.synthetic`",
        ));
    }
    if let Err(e) = task.validate() {
        errors.push(FieldError::new(
            format!("spec.dataset.synthetic.{}", e.field),
            e.message,
        ));
        return None;
    }
    if spec.encoding.coding != Coding::Raster || spec.encoding.steps != task.steps() {
        errors.push(FieldError::new(
            "spec.encoding",
            format!(
                "a synthetic task is a spike raster: use {{\"type\": \"raster\", \"steps\": {}}}",
                task.steps()
            ),
        ));
        return None;
    }
    let (channels, train, test) = match task {
        SyntheticSpec::Coincidence(c) => (c.channels, c.train, c.test),
        SyntheticSpec::Integration(i) => (i.channels, i.train, i.test),
    };
    Some(DataShape {
        split: Split { train, test },
        features: channels * task.steps(),
        classes: 2,
    })
}

/// Checks the fields that do not depend on the engine: raster encoding only for raster data,
/// checkpoint interval, the raster sample.
pub fn check_job_fields(spec: &LifJobSpec, shape: &DataShape, errors: &mut Vec<FieldError>) {
    if spec.dataset.synthetic.is_none() && spec.encoding.coding == Coding::Raster {
        errors.push(FieldError::new(
            "spec.encoding.type",
            "`raster` reads each sample as [steps, channels] spikes and is meant for synthetic \
             tasks; use `poisson`, `constant` or `latency` for images",
        ));
    }
    if spec.dataset.synthetic.is_none()
        && spec.encoding.coding != Coding::Raster
        && shape.features == 0
    {
        errors.push(FieldError::new("spec.dataset", "samples have no values"));
    }
    let max_epochs = crate::engine::lif::config::MAX_EPOCHS;
    if spec.checkpoint_every == 0 || spec.checkpoint_every > max_epochs {
        errors.push(FieldError::new(
            "spec.checkpoint_every",
            format!(
                "must be between 1 and {max_epochs}, got {}",
                spec.checkpoint_every
            ),
        ));
    }
    if spec.raster_sample >= shape.split.test {
        errors.push(FieldError::new(
            "spec.raster_sample",
            format!(
                "must be below the test set size {}, got {}",
                shape.split.test, spec.raster_sample
            ),
        ));
    }
}
