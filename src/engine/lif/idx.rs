//! The IDX format of MNIST-like data (gzip or raw), read as a stream. The header of each file
//! (magic number, dimensions) is read first and checked against the limits, together with the size
//! it implies, before anything is allocated for the payload; then exactly that many bytes are
//! inflated and a file shorter or longer than its header says is refused. A gzip bomb thus costs
//! its header and at most one small buffer. Also the built-in `mnist10k` set (SCIENCE.md B6),
//! embedded in the binary so that the server needs no data directory.

use std::io::{self, Read};

use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};

use super::dataset::Dataset;

/// IDX type code of unsigned bytes, the only one accepted.
const UBYTE: u8 = 0x08;

/// The first two bytes of every gzip member.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Payload bytes inflated per read: what streaming a file holds at once.
const CHUNK: usize = 64 * 1024;

const MNIST10K_IMAGES: &[u8] = include_bytes!("../../../data/mnist10k/images-idx3-ubyte.gz");
const MNIST10K_LABELS: &[u8] = include_bytes!("../../../data/mnist10k/labels-idx1-ubyte.gz");

/// Bounds on an IDX pair, checked against the headers before anything is allocated. Uploads are
/// checked with the same limits as training reads them, so a stored dataset can always be used.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct IdxLimits {
    /// Most payload bytes of one file after decompression (the pixels of the images file, the
    /// labels of the labels file), as implied by its header.
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

/// What a valid IDX pair holds, found without decoding its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxSummary {
    pub count: usize,
    pub features: usize,
    /// Largest label + 1.
    pub classes: usize,
    /// Per-sample dimensions.
    pub shape: Vec<usize>,
}

/// What is wrong with an IDX pair; each message names the file and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdxError {
    #[error("{file}: not a readable gzip stream ({message})")]
    Gzip { file: &'static str, message: String },
    #[error(
        "{file}: {} bytes of {what} from the header, at most {} allowed",
        grouped(.bytes),
        grouped(.limit)
    )]
    TooBig {
        file: &'static str,
        /// `pixels` or `labels`.
        what: &'static str,
        bytes: usize,
        limit: usize,
    },
    #[error("{file}: bad magic number {found:02x?}, expected 00 00 08 {dims:02x}")]
    BadMagic {
        file: &'static str,
        found: Vec<u8>,
        dims: u8,
    },
    /// The file ends early: in its header, or before the payload its header announces.
    #[error("{file}: {needed} bytes expected from the header, found {got}")]
    Size {
        file: &'static str,
        needed: usize,
        got: usize,
    },
    #[error(
        "{file}: more data after the {} bytes of payload its header announces",
        grouped(.needed)
    )]
    Trailing { file: &'static str, needed: usize },
    #[error("{file}: a dimension is zero")]
    EmptyDimension { file: &'static str },
    #[error("{what} is {}, at most {} allowed", grouped(.value), grouped(.limit))]
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

/// `n` with thousands separators (`536,800,000`): sizes in messages are read by people.
fn grouped(n: &usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Reads until `buf` is full or the stream ends; returns how many bytes were read. A raw slice
/// never fails, so any error comes from the gzip decoder.
fn read_full(file: &'static str, stream: &mut dyn Read, buf: &mut [u8]) -> Result<usize, IdxError> {
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(gzip_error(file, e)),
        }
    }
    Ok(got)
}

fn gzip_error(file: &'static str, e: io::Error) -> IdxError {
    IdxError::Gzip {
        file,
        message: e.to_string(),
    }
}

/// One IDX file whose header has been read and checked; its payload is still in the stream.
struct IdxFile<'a> {
    file: &'static str,
    stream: Box<dyn Read + 'a>,
    shape: Vec<usize>,
}

impl<'a> IdxFile<'a> {
    /// Opens `data` (inflated on the fly if it starts with the gzip magic) and reads its header:
    /// unsigned bytes with `dims` dimensions (2..=4 for images when `dims` is 0), none of them 0.
    fn open(file: &'static str, data: &'a [u8], dims: u8) -> Result<Self, IdxError> {
        let mut stream: Box<dyn Read + 'a> = if data.starts_with(&GZIP_MAGIC) {
            Box::new(MultiGzDecoder::new(data))
        } else {
            Box::new(data)
        };
        let mut magic = [0u8; 4];
        let got = read_full(file, &mut stream, &mut magic)?;
        let n = magic[3];
        let ok_dims = if dims == 0 {
            (2..=4).contains(&n)
        } else {
            n == dims
        };
        if got < 4 || magic[0] != 0 || magic[1] != 0 || magic[2] != UBYTE || !ok_dims {
            return Err(IdxError::BadMagic {
                file,
                found: magic[..got].to_vec(),
                dims: if dims == 0 { 3 } else { dims },
            });
        }
        let mut raw = vec![0u8; 4 * n as usize];
        let got = read_full(file, &mut stream, &mut raw)?;
        if got < raw.len() {
            return Err(IdxError::Size {
                file,
                needed: 4 + raw.len(),
                got: 4 + got,
            });
        }
        let shape: Vec<usize> = raw
            .chunks_exact(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .collect();
        if shape.contains(&0) {
            return Err(IdxError::EmptyDimension { file });
        }
        Ok(IdxFile {
            file,
            stream,
            shape,
        })
    }

    /// Inflates exactly `needed` payload bytes (through `Read::take`, so never more) and hands
    /// them to `sink` in chunks of at most [`CHUNK`] bytes; then a one-byte read makes sure that
    /// nothing follows (and lets the decoder check the gzip trailer).
    fn stream_payload(
        mut self,
        needed: usize,
        mut sink: impl FnMut(&[u8]),
    ) -> Result<(), IdxError> {
        let file = self.file;
        let mut buf = vec![0u8; CHUNK.min(needed).max(1)];
        let mut payload = (&mut self.stream).take(needed as u64);
        let mut got = 0;
        loop {
            match payload.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    sink(&buf[..n]);
                    got += n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(gzip_error(file, e)),
            }
        }
        if got < needed {
            return Err(IdxError::Size { file, needed, got });
        }
        if read_full(file, &mut self.stream, &mut [0u8; 1])? > 0 {
            return Err(IdxError::Trailing { file, needed });
        }
        Ok(())
    }
}

fn at_most(what: &'static str, value: usize, limit: usize) -> Result<(), IdxError> {
    if value > limit {
        return Err(IdxError::TooMany { what, value, limit });
    }
    Ok(())
}

fn fits(
    file: &'static str,
    what: &'static str,
    bytes: usize,
    limit: usize,
) -> Result<(), IdxError> {
    if bytes > limit {
        return Err(IdxError::TooBig {
            file,
            what,
            bytes,
            limit,
        });
    }
    Ok(())
}

/// An images and a labels file whose headers agree with each other and with the limits.
struct Pair<'a> {
    images: IdxFile<'a>,
    labels: IdxFile<'a>,
    count: usize,
    features: usize,
    /// Payload bytes of the images file.
    pixels: usize,
}

/// Reads both headers and checks them (count, values per image, matching counts, payload sizes
/// against `max_bytes`); nothing beyond the headers is inflated.
fn open_pair<'a>(
    images: &'a [u8],
    labels: &'a [u8],
    limits: &IdxLimits,
) -> Result<Pair<'a>, IdxError> {
    let images = IdxFile::open("images", images, 0)?;
    let labels = IdxFile::open("labels", labels, 1)?;
    let count = images.shape[0];
    at_most("image count", count, limits.max_count)?;
    let features = images.shape[1..]
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .unwrap_or(usize::MAX);
    at_most("values per image", features, limits.max_features)?;
    if labels.shape[0] != count {
        return Err(IdxError::CountMismatch {
            images: count,
            labels: labels.shape[0],
        });
    }
    let pixels = count.saturating_mul(features);
    fits("images", "pixels", pixels, limits.max_bytes)?;
    fits("labels", "labels", count, limits.max_bytes)?;
    Ok(Pair {
        images,
        labels,
        count,
        features,
        pixels,
    })
}

/// Reads the `count` labels (small: at most `max_count` bytes) and checks each is below
/// `max_classes`; returns them and the class count (largest label + 1).
fn read_labels(
    labels: IdxFile<'_>,
    count: usize,
    limits: &IdxLimits,
) -> Result<(Vec<u8>, usize), IdxError> {
    let mut out = Vec::with_capacity(count);
    labels.stream_payload(count, |b| out.extend_from_slice(b))?;
    let max = limits.max_classes.min(256);
    if let Some(index) = out.iter().position(|&l| l as usize >= max) {
        return Err(IdxError::LabelOutOfRange {
            index,
            label: out[index],
            max: max.saturating_sub(1),
        });
    }
    let classes = out.iter().map(|&l| l as usize + 1).max().unwrap_or(1);
    Ok((out, classes))
}

/// Checks an images file (count × dims…, unsigned bytes) and a labels file (count) exactly as
/// [`read_idx_pair`] does, and summarises them without decoding the pixels: it holds the labels
/// and one chunk of inflated pixels at a time, whatever the size of the files.
pub fn check_idx_pair(
    images: &[u8],
    labels: &[u8],
    limits: &IdxLimits,
) -> Result<IdxSummary, IdxError> {
    let pair = open_pair(images, labels, limits)?;
    let (_, classes) = read_labels(pair.labels, pair.count, limits)?;
    let shape = pair.images.shape[1..].to_vec();
    pair.images.stream_payload(pair.pixels, |_| {})?;
    Ok(IdxSummary {
        count: pair.count,
        features: pair.features,
        classes,
        shape,
    })
}

/// Reads an images file (count × dims…, unsigned bytes) and a labels file (count) into a data
/// set with values scaled to [0, 1]; classes = largest label + 1. The values are allocated once
/// the headers have passed the limits, and filled chunk by chunk as the pixels are inflated.
pub fn read_idx_pair(
    images: &[u8],
    labels: &[u8],
    limits: &IdxLimits,
) -> Result<Dataset, IdxError> {
    let pair = open_pair(images, labels, limits)?;
    let (labels, classes) = read_labels(pair.labels, pair.count, limits)?;
    let shape = pair.images.shape[1..].to_vec();
    let mut values = Vec::with_capacity(pair.pixels);
    pair.images.stream_payload(pair.pixels, |b| {
        values.extend(b.iter().map(|&p| p as f32 / 255.0))
    })?;
    Ok(Dataset {
        images: values,
        labels,
        features: pair.features,
        classes,
        shape,
    })
}

/// The built-in 10,000 MNIST digits (28 × 28, 10 classes), decoded from the copy embedded at
/// build time from data/mnist10k. Use [`Dataset::split`]`(8000, 2000)` for the benchmark split.
pub fn mnist10k() -> Dataset {
    read_idx_pair(MNIST10K_IMAGES, MNIST10K_LABELS, &IdxLimits::default())
        .expect("the embedded mnist10k files are valid IDX (checked by a test)")
}
