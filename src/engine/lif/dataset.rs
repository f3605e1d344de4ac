//! Labelled samples in memory: values in [0, 1], one row of `features` per sample, with the
//! per-sample shape kept for display (e.g. [28, 28] images or [steps, channels] rasters).

use serde::{Deserialize, Serialize};

/// A labelled data set; `images` is count × features, row-major.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Dataset {
    pub images: Vec<f32>,
    pub labels: Vec<u8>,
    pub features: usize,
    pub classes: usize,
    pub shape: Vec<usize>,
}

/// A split that asks for more samples than there are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("split of {train} + {test} samples exceeds the {count} available")]
pub struct SplitError {
    pub train: usize,
    pub test: usize,
    pub count: usize,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The values of sample `i`.
    pub fn sample(&self, i: usize) -> &[f32] {
        &self.images[i * self.features..(i + 1) * self.features]
    }

    /// Samples `start..end` as a new data set (same classes and shape).
    pub fn slice(&self, start: usize, end: usize) -> Dataset {
        Dataset {
            images: self.images[start * self.features..end * self.features].to_vec(),
            labels: self.labels[start..end].to_vec(),
            features: self.features,
            classes: self.classes,
            shape: self.shape.clone(),
        }
    }

    /// The fixed split of the benchmarks: the first `train` samples and the last `test` ones.
    pub fn split(&self, train: usize, test: usize) -> Result<(Dataset, Dataset), SplitError> {
        let count = self.len();
        if train.saturating_add(test) > count {
            return Err(SplitError { train, test, count });
        }
        Ok((self.slice(0, train), self.slice(count - test, count)))
    }

    /// [`Dataset::split`] that keeps this dataset's buffer as the training set (only the test
    /// set is copied), so loading a large set peaks at the data plus its test part rather than
    /// at twice the data.
    pub fn into_split(
        mut self,
        train: usize,
        test: usize,
    ) -> Result<(Dataset, Dataset), SplitError> {
        let count = self.len();
        if train.saturating_add(test) > count {
            return Err(SplitError { train, test, count });
        }
        let test_set = self.slice(count - test, count);
        self.images.truncate(train * self.features);
        self.images.shrink_to_fit();
        self.labels.truncate(train);
        self.labels.shrink_to_fit();
        Ok((self, test_set))
    }
}
