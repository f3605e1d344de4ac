//! The IDX format of MNIST-like data (gzip or raw): magic numbers, dimensions, sizes and labels are
//! checked before anything is allocated beyond the caller's limits. Also the built-in `mnist10k`
//! set (SCIENCE.md B6), embedded in the binary so that the server needs no data directory.

use std::borrow::Cow;
use std::io::Read;

use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};

use super::dataset::Dataset;

/// IDX type code of unsigned bytes, the only one accepted.
const UBYTE: u8 = 0x08;

const MNIST10K_IMAGES: &[u8] = include_bytes!("../../../data/mnist10k/images-idx3-ubyte.gz");
const MNIST10K_LABELS: &[u8] = include_bytes!("../../../data/mnist10k/labels-idx1-ubyte.gz");

/// Bounds on an uploaded pair, checked before allocation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct IdxLimits {
    /// Most bytes of one file after decompression.
    pub max_bytes: usize,
    pub max_count: usize,
    /// Most values per sample (product of the image dimensions).
    pub max_features: usize,
    pub max_classes: usize,
}

impl Default for IdxLimits {
    fn default() -> Self {
        IdxLimits {
            max_bytes: 256 << 20,
            max_count: 100_000,
            max_features: 65_536,
            max_classes: 256,
        }
    }
}

/// What is wrong with an IDX pair; each message names the file and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdxError {
    #[error("{file}: not a readable gzip stream ({message})")]
    Gzip { file: &'static str, message: String },
    #[error("{file}: larger than {limit} bytes")]
    TooBig { file: &'static str, limit: usize },
    #[error("{file}: bad magic number {found:02x?}, expected 00 00 08 {dims:02x}")]
    BadMagic {
        file: &'static str,
        found: Vec<u8>,
        dims: u8,
    },
    #[error("{file}: {needed} bytes expected from the header, found {got}")]
    Size {
        file: &'static str,
        needed: usize,
        got: usize,
    },
    #[error("{file}: a dimension is zero")]
    EmptyDimension { file: &'static str },
    #[error("{what} is {value}, at most {limit} allowed")]
    TooMany {
        what: &'static str,
        value: usize,
        limit: usize,
    },
    #[error("{images} images but {labels} labels")]
    CountMismatch { images: usize, labels: usize },
    #[error("label {label} of sample {index} is out of range (at most {max})")]
    LabelOutOfRange { index: usize, label: u8, max: usize },
}

/// The bytes of `data`, inflated if they start with the gzip magic, at most `limit` of them.
fn inflate<'a>(
    file: &'static str,
    data: &'a [u8],
    limit: usize,
) -> Result<Cow<'a, [u8]>, IdxError> {
    if !data.starts_with(&[0x1f, 0x8b]) {
        if data.len() > limit {
            return Err(IdxError::TooBig { file, limit });
        }
        return Ok(Cow::Borrowed(data));
    }
    let mut out = Vec::new();
    MultiGzDecoder::new(data)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| IdxError::Gzip {
            file,
            message: e.to_string(),
        })?;
    if out.len() > limit {
        return Err(IdxError::TooBig { file, limit });
    }
    Ok(Cow::Owned(out))
}

/// Checks the magic (unsigned bytes, `dims` dimensions, or 2..=4 for images when `dims` is 0)
/// and returns the dimensions and the payload.
fn header<'a>(
    file: &'static str,
    data: &'a [u8],
    dims: u8,
) -> Result<(Vec<usize>, &'a [u8]), IdxError> {
    let n = data.get(3).copied().unwrap_or(0);
    let ok_dims = if dims == 0 {
        (2..=4).contains(&n)
    } else {
        n == dims
    };
    if data.len() < 4 || data[0] != 0 || data[1] != 0 || data[2] != UBYTE || !ok_dims {
        return Err(IdxError::BadMagic {
            file,
            found: data[..data.len().min(4)].to_vec(),
            dims: if dims == 0 { 3 } else { dims },
        });
    }
    let head = 4 + 4 * n as usize;
    if data.len() < head {
        return Err(IdxError::Size {
            file,
            needed: head,
            got: data.len(),
        });
    }
    let shape: Vec<usize> = data[4..head]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    if shape.contains(&0) {
        return Err(IdxError::EmptyDimension { file });
    }
    Ok((shape, &data[head..]))
}

fn at_most(what: &'static str, value: usize, limit: usize) -> Result<(), IdxError> {
    if value > limit {
        return Err(IdxError::TooMany { what, value, limit });
    }
    Ok(())
}

fn exact_size(file: &'static str, payload: &[u8], needed: usize) -> Result<(), IdxError> {
    if payload.len() != needed {
        return Err(IdxError::Size {
            file,
            needed,
            got: payload.len(),
        });
    }
    Ok(())
}

/// Reads an images file (count × dims…, unsigned bytes) and a labels file (count) into a data
/// set with values scaled to [0, 1]; classes = largest label + 1.
pub fn read_idx_pair(
    images: &[u8],
    labels: &[u8],
    limits: &IdxLimits,
) -> Result<Dataset, IdxError> {
    let images = inflate("images", images, limits.max_bytes)?;
    let labels = inflate("labels", labels, limits.max_bytes)?;
    let (shape, pixels) = header("images", &images, 0)?;
    let (label_shape, label_bytes) = header("labels", &labels, 1)?;
    let count = shape[0];
    at_most("image count", count, limits.max_count)?;
    let features = shape[1..]
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .unwrap_or(usize::MAX);
    at_most("values per image", features, limits.max_features)?;
    if label_shape[0] != count {
        return Err(IdxError::CountMismatch {
            images: count,
            labels: label_shape[0],
        });
    }
    exact_size("images", pixels, count * features)?;
    exact_size("labels", label_bytes, count)?;
    let max = limits.max_classes.min(256);
    if let Some(index) = label_bytes.iter().position(|&l| l as usize >= max) {
        let label = label_bytes[index];
        return Err(IdxError::LabelOutOfRange {
            index,
            label,
            max: max - 1,
        });
    }
    let classes = label_bytes
        .iter()
        .map(|&l| l as usize + 1)
        .max()
        .unwrap_or(1);
    Ok(Dataset {
        images: pixels.iter().map(|&p| p as f32 / 255.0).collect(),
        labels: label_bytes.to_vec(),
        features,
        classes,
        shape: shape[1..].to_vec(),
    })
}

/// The built-in 10,000 MNIST digits (28 × 28, 10 classes), decoded from the copy embedded at
/// build time from data/mnist10k. Use [`Dataset::split`]`(8000, 2000)` for the benchmark split.
pub fn mnist10k() -> Dataset {
    read_idx_pair(MNIST10K_IMAGES, MNIST10K_LABELS, &IdxLimits::default())
        .expect("the embedded mnist10k files are valid IDX (checked by a test)")
}
