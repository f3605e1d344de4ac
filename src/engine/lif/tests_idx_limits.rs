//! The IDX reader's size limits (GitHub issue 14, point 3): a header implying more than
//! `max_bytes` is refused before any payload is inflated, a stream shorter or longer than its
//! header is refused, a gzip bomb costs no more than its header, and the upload check agrees with
//! the training reader on everything it accepts.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::idx::{IdxError, IdxLimits, IdxSummary, check_idx_pair, read_idx_pair};

/// An IDX header: magic for unsigned bytes and the dimensions, big-endian.
fn header(dims: &[u32]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    dims.iter().for_each(|d| out.extend(d.to_be_bytes()));
    out
}

fn idx_file(dims: &[u32], payload: &[u8]) -> Vec<u8> {
    let mut out = header(dims);
    out.extend_from_slice(payload);
    out
}

/// A gzip stream of `head` followed by `zeros` zero bytes, written in 1 MiB chunks.
fn gzip_zeros(head: &[u8], zeros: usize) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(head).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(chunk.len());
        e.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    e.finish().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    gzip_zeros(data, 0)
}

/// Both readers on the same pair: they must agree on every error, and on the summary.
fn both(images: &[u8], labels: &[u8], limits: &IdxLimits) -> Result<IdxSummary, IdxError> {
    let checked = check_idx_pair(images, labels, limits);
    let read = read_idx_pair(images, labels, limits).map(|d| IdxSummary {
        count: d.len(),
        features: d.features,
        classes: d.classes,
        shape: d.shape.clone(),
    });
    assert_eq!(checked, read, "check_idx_pair and read_idx_pair disagree");
    checked
}

#[test]
fn header_over_the_byte_limit_is_refused_before_any_payload_is_read() {
    // The header of the upload: 100,000 × 1 × 5,368 = 536,800,000 bytes, and no payload
    // at all, so only a check of the header itself can answer `TooBig` rather than `Size`.
    let head = header(&[100_000, 1, 5_368]);
    let labels = idx_file(&[100_000], &[]);
    let limits = IdxLimits::default();
    for images in [head.clone(), gzip(&head)] {
        let e = both(&images, &labels, &limits).unwrap_err();
        assert_eq!(
            e,
            IdxError::TooBig {
                file: "images",
                what: "pixels",
                bytes: 536_800_000,
                limit: 268_435_456
            }
        );
        assert_eq!(
            e.to_string(),
            "images: 536,800,000 bytes of pixels from the header, at most 268,435,456 allowed"
        );
    }
    // Exactly at the limit passes the header check (and then fails for the missing payload).
    let at = IdxLimits {
        max_bytes: 536_800_000,
        ..limits
    };
    assert!(matches!(
        both(&head, &labels, &at).unwrap_err(),
        IdxError::Size {
            file: "labels",
            needed: 100_000,
            got: 0
        }
    ));
}

#[test]
fn header_over_the_count_or_feature_limit_is_refused() {
    let labels = idx_file(&[3], &[0, 1, 2]);
    let few = IdxLimits {
        max_features: 3,
        ..IdxLimits::default()
    };
    let e = both(&header(&[3, 2, 2]), &labels, &few).unwrap_err();
    assert_eq!(e.to_string(), "values per image is 4, at most 3 allowed");
    let e = both(&header(&[100_001, 1, 1]), &labels, &IdxLimits::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "image count is 100,001, at most 100,000 allowed"
    );
    // Dimensions whose product overflows are over the limit, not a wrap-around.
    let e = both(
        &header(&[2, u32::MAX, u32::MAX]),
        &labels,
        &IdxLimits::default(),
    );
    assert!(matches!(
        e,
        Err(IdxError::TooMany {
            what: "values per image",
            ..
        })
    ));
}

#[test]
fn a_stream_shorter_than_its_header_is_refused() {
    let labels = idx_file(&[3], &[0, 1, 2]);
    let limits = IdxLimits::default();
    let short = idx_file(&[3, 2, 2], &[7; 11]);
    for images in [short.clone(), gzip(&short)] {
        assert_eq!(
            both(&images, &labels, &limits).unwrap_err(),
            IdxError::Size {
                file: "images",
                needed: 12,
                got: 11
            }
        );
    }
    // Cut inside the header's dimensions.
    assert_eq!(
        both(&short[..9], &labels, &limits).unwrap_err(),
        IdxError::Size {
            file: "images",
            needed: 16,
            got: 9
        }
    );
    // A gzip stream cut short is refused too (as a damaged stream or a short one).
    let images = gzip(&idx_file(&[3, 2, 2], &[7; 12]));
    let cut = &images[..images.len() - 12];
    assert!(matches!(
        both(cut, &labels, &limits).unwrap_err(),
        IdxError::Gzip { file: "images", .. } | IdxError::Size { file: "images", .. }
    ));
}

#[test]
fn a_stream_longer_than_its_header_is_refused() {
    let images = idx_file(&[3, 2, 2], &[7; 12]);
    let limits = IdxLimits::default();
    let long = idx_file(&[3], &[0, 1, 2, 3]);
    for labels in [long.clone(), gzip(&long)] {
        let e = both(&images, &labels, &limits).unwrap_err();
        assert_eq!(
            e,
            IdxError::Trailing {
                file: "labels",
                needed: 3
            }
        );
        assert_eq!(
            e.to_string(),
            "labels: more data after the 3 bytes of payload its header announces"
        );
    }
    // A second gzip member with more data is more data too.
    let labels = idx_file(&[3], &[0, 1, 2]);
    let mut two = gzip(&images);
    two.extend(gzip(&[0]));
    assert!(matches!(
        both(&two, &labels, &limits).unwrap_err(),
        IdxError::Trailing { file: "images", .. }
    ));
    // ... while a file split over two members is still one file.
    let mut split = gzip(&images[..10]);
    split.extend(gzip(&images[10..]));
    let s = both(&split, &gzip(&labels), &limits).unwrap();
    assert_eq!((s.count, s.features, s.classes), (3, 4, 3));
}

#[test]
fn a_gzip_bomb_is_refused_after_its_header_or_its_announced_payload() {
    // A header within the limits (10 × 28 × 28) followed by 64 MiB of zeros: refused after
    // 7,840 pixels and one more byte, whatever follows.
    let bomb = gzip_zeros(&header(&[10, 28, 28]), 64 << 20);
    assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
    let labels = idx_file(&[10], &[0; 10]);
    assert_eq!(
        both(&bomb, &labels, &IdxLimits::default()).unwrap_err(),
        IdxError::Trailing {
            file: "images",
            needed: 7_840
        }
    );
    // A labels bomb the same way.
    let images = idx_file(&[10, 1, 1], &[0; 10]);
    let bomb = gzip_zeros(&header(&[10]), 64 << 20);
    assert!(matches!(
        both(&images, &bomb, &IdxLimits::default()).unwrap_err(),
        IdxError::Trailing {
            file: "labels",
            needed: 10
        }
    ));
    // A bomb whose header is honest but too large: refused by the header check alone.
    let tiny = IdxLimits {
        max_bytes: 1 << 20,
        ..IdxLimits::default()
    };
    let bomb = gzip_zeros(&header(&[1024, 256, 256]), 64 << 20);
    let labels = idx_file(&[1024], &[0; 1024]);
    assert_eq!(
        both(&bomb, &labels, &tiny).unwrap_err().to_string(),
        "images: 67,108,864 bytes of pixels from the header, at most 1,048,576 allowed"
    );
}

#[test]
fn a_damaged_gzip_trailer_is_refused() {
    let labels = idx_file(&[3], &[0, 1, 2]);
    let mut images = gzip(&idx_file(&[3, 2, 2], &[7; 12]));
    let crc = images.len() - 8;
    images[crc] ^= 0xff;
    assert!(matches!(
        both(&images, &labels, &IdxLimits::default()).unwrap_err(),
        IdxError::Gzip { file: "images", .. }
    ));
}

#[test]
fn the_check_summarises_what_training_reads() {
    let images = idx_file(&[4, 3, 2], &(0..24).collect::<Vec<u8>>());
    let labels = idx_file(&[4], &[1, 0, 6, 2]);
    let s = both(&gzip(&images), &labels, &IdxLimits::default()).unwrap();
    assert_eq!(
        s,
        IdxSummary {
            count: 4,
            features: 6,
            classes: 7,
            shape: vec![3, 2]
        }
    );
    let d = read_idx_pair(&images, &gzip(&labels), &IdxLimits::default()).unwrap();
    let last: Vec<f32> = (18..24).map(|p| p as f32 / 255.0).collect();
    assert_eq!(d.sample(3), &last[..]);
    // Larger than one inflation chunk: values land in order across chunk boundaries.
    let pixels: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let images = gzip(&idx_file(&[1_000, 200], &pixels));
    let labels = idx_file(&[1_000], &[3; 1_000]);
    let d = read_idx_pair(&images, &labels, &IdxLimits::default()).unwrap();
    assert!(
        d.images
            .iter()
            .zip(&pixels)
            .all(|(&v, &p)| v == p as f32 / 255.0)
    );
    assert_eq!(
        check_idx_pair(&images, &labels, &IdxLimits::default())
            .unwrap()
            .classes,
        4
    );
}
