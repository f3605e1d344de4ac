//! Loads the training and test sets a `lif` spec names: the embedded `mnist10k`, an uploaded IDX
//! pair (fetched through the job context), or a generated synthetic task.

use crate::engine::lif::{
    Dataset, IdxError, IdxLimits, IdxSummary, check_idx_pair, mnist10k, read_idx_pair, synthetic,
};
use crate::jobs::{JobContext, JobError};

use super::spec::{LifJobSpec, MNIST10K_SPLIT, Split};
use super::validate::default_split;

/// The data a run trains and tests on, with the name shown in the result.
pub struct Data {
    pub train: Dataset,
    pub test: Dataset,
    pub name: String,
}

/// Loads and splits the spec's data. Synthetic tasks are generated from the job's seed, so a
/// resumed run sees the same samples.
pub fn load(spec: &LifJobSpec, seed: u64, ctx: &dyn JobContext) -> Result<Data, JobError> {
    let d = &spec.dataset;
    if let Some(task) = &d.synthetic {
        let (train, test) =
            synthetic(task, seed).map_err(|e| JobError::Invalid(format!("dataset: {e}")))?;
        let name = match task {
            crate::engine::lif::SyntheticSpec::Coincidence(_) => "synthetic coincidence",
            crate::engine::lif::SyntheticSpec::Integration(_) => "synthetic integration",
        };
        return Ok(Data {
            train,
            test,
            name: name.into(),
        });
    }
    let (all, name, default) = if let Some(id) = &d.id {
        let files = ctx
            .dataset_files(id)
            .map_err(JobError::Internal)?
            .ok_or_else(|| {
                JobError::Invalid(format!("dataset `{id}` no longer exists (it was deleted)"))
            })?;
        let all = read_idx_pair(&files.images, &files.labels, &IdxLimits::default())
            .map_err(|e| JobError::Invalid(format!("dataset `{id}`: {e}")))?;
        let split = default_split(all.len());
        (all, files.name, split)
    } else {
        (
            mnist10k(),
            super::spec::MNIST10K.to_string(),
            MNIST10K_SPLIT,
        )
    };
    let Split { train, test } = spec.split.unwrap_or(default);
    let (train, test) = all
        .into_split(train, test)
        .map_err(|e| JobError::Invalid(format!("split: {e}")))?;
    Ok(Data { train, test, name })
}

/// What a dataset holds, as the datasets endpoints show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetSummary {
    pub count: usize,
    pub features: usize,
    pub classes: usize,
    pub shape: Vec<usize>,
}

impl DatasetSummary {
    fn of(d: &Dataset) -> DatasetSummary {
        DatasetSummary {
            count: d.len(),
            features: d.features,
            classes: d.classes,
            shape: d.shape.clone(),
        }
    }
}

/// The built-in `mnist10k`, decoded once from the embedded files.
pub fn mnist10k_summary() -> &'static DatasetSummary {
    static SUMMARY: std::sync::OnceLock<DatasetSummary> = std::sync::OnceLock::new();
    SUMMARY.get_or_init(|| DatasetSummary::of(&mnist10k()))
}

impl From<IdxSummary> for DatasetSummary {
    fn from(s: IdxSummary) -> Self {
        DatasetSummary {
            count: s.count,
            features: s.features,
            classes: s.classes,
            shape: s.shape,
        }
    }
}

/// Checks an uploaded IDX pair (raw or gzip; magic numbers, dimensions, counts, label range,
/// sizes implied by the headers, files neither shorter nor longer than that) with exactly the
/// limits training reads it with, so that whatever is stored can be trained on; `max_classes`,
/// when given, only narrows the label range. Streams the pixels without decoding them: it holds
/// the labels and one chunk of pixels at a time. Errors name the form field (`images` or
/// `labels`) they concern.
pub fn inspect_upload(
    images: &[u8],
    labels: &[u8],
    max_classes: Option<usize>,
) -> Result<DatasetSummary, crate::jobs::FieldError> {
    let defaults = IdxLimits::default();
    let limits = IdxLimits {
        max_classes: max_classes.map_or(defaults.max_classes, |c| c.min(defaults.max_classes)),
        ..defaults
    };
    check_idx_pair(images, labels, &limits)
        .map(DatasetSummary::from)
        .map_err(|e| {
            let field = match &e {
                IdxError::Gzip { file, .. }
                | IdxError::TooBig { file, .. }
                | IdxError::BadMagic { file, .. }
                | IdxError::Size { file, .. }
                | IdxError::Trailing { file, .. }
                | IdxError::EmptyDimension { file } => file,
                IdxError::TooMany { .. } => "images",
                IdxError::CountMismatch { .. } | IdxError::LabelOutOfRange { .. } => "labels",
            };
            crate::jobs::FieldError::new(field.to_string(), e.to_string())
        })
}
