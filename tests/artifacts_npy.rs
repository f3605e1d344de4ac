//! `weights.npy` downloads are read exactly as the NPY format specification (version 1.0, as
//! NumPy's `numpy.lib.format` documents it) says a reader must, and hold bit for bit the weight
//! matrices of the job's result: one network (2-D), an ensemble (3-D) and an evolved genome.

mod common;

use common::{TestServer, nrooks_spec};
use serde_json::{Value, json};

/// A parsed `.npy` file.
#[derive(Debug)]
struct Npy {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
    data: Vec<f64>,
}

/// Reads an `.npy` file per the format: magic, version, little-endian header length, an ASCII
/// Python dict literal ending in a newline and padded with spaces to a multiple of 64 bytes,
/// then the raw array data and nothing after it.
fn parse_npy(bytes: &[u8]) -> Npy {
    assert!(bytes.len() >= 10, "shorter than the fixed preamble");
    assert_eq!(&bytes[..6], b"\x93NUMPY", "magic string");
    let (major, minor) = (bytes[6], bytes[7]);
    assert_eq!((major, minor), (1, 0), "format version 1.0");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let start = 10 + header_len;
    assert!(bytes.len() >= start, "header runs past the end");
    assert_eq!(start % 64, 0, "data starts on a 64-byte boundary");
    let header = std::str::from_utf8(&bytes[10..start]).expect("header is ASCII");
    assert!(header.is_ascii(), "header is ASCII");
    assert!(
        header.ends_with('\n'),
        "header ends in a newline: {header:?}"
    );
    let dict = header.trim_end_matches('\n').trim_end_matches(' ');
    assert!(
        !dict.contains('\n'),
        "only the final byte is a newline: {header:?}"
    );
    let fields = parse_dict(dict);
    let mut keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["descr", "fortran_order", "shape"],
        "exactly the three keys"
    );
    let get = |key: &str| &fields.iter().find(|(k, _)| k == key).unwrap().1;
    let Literal::Str(descr) = get("descr") else {
        panic!("descr is a string")
    };
    let Literal::Bool(fortran_order) = get("fortran_order") else {
        panic!("fortran_order is a bool")
    };
    let Literal::Tuple(shape) = get("shape") else {
        panic!("shape is a tuple")
    };
    assert_eq!(descr, "<f8", "little-endian float64");
    let count: usize = shape.iter().product();
    let data_bytes = &bytes[start..];
    assert_eq!(data_bytes.len(), count * 8, "data holds exactly the array");
    let data = data_bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    Npy {
        descr: descr.clone(),
        fortran_order: *fortran_order,
        shape: shape.clone(),
        data,
    }
}

#[derive(Debug)]
enum Literal {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// Parses the dict literal `{'key': value, ...}` (trailing comma allowed) with string, bool and
/// integer-tuple values — the subset of Python literals the format uses.
fn parse_dict(text: &str) -> Vec<(String, Literal)> {
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.trim_end().strip_suffix('}'))
        .unwrap_or_else(|| panic!("a dict literal: {text:?}"));
    let mut rest = inner.trim();
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (key, after) = quoted(rest);
        rest = after
            .trim_start()
            .strip_prefix(':')
            .expect("`:` after a key")
            .trim_start();
        let value;
        if rest.starts_with('\'') {
            let (s, after) = quoted(rest);
            value = Literal::Str(s);
            rest = after;
        } else if let Some(after) = rest.strip_prefix("True") {
            value = Literal::Bool(true);
            rest = after;
        } else if let Some(after) = rest.strip_prefix("False") {
            value = Literal::Bool(false);
            rest = after;
        } else if let Some(after) = rest.strip_prefix('(') {
            let close = after.find(')').expect("tuple closes");
            let items = after[..close]
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<usize>().expect("tuple of integers"))
                .collect();
            value = Literal::Tuple(items);
            rest = &after[close + 1..];
        } else {
            panic!("unexpected value at {rest:?}");
        }
        out.push((key, value));
        rest = rest.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    out
}

fn quoted(text: &str) -> (String, &str) {
    let body = text.strip_prefix('\'').expect("a quoted string");
    let end = body.find('\'').expect("string closes");
    (body[..end].to_string(), &body[end + 1..])
}

fn matrix(value: &Value) -> Vec<Vec<f64>> {
    serde_json::from_value(value.clone()).expect("a weight matrix")
}

async fn npy_of(s: &TestServer, id: &str) -> Npy {
    let response = s
        .client
        .get(s.url(&format!("/v1/jobs/{id}/artifacts/weights.npy")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    parse_npy(&response.bytes().await.unwrap())
}

/// Row-major flattening of matrices, compared bit for bit.
fn assert_same(npy: &Npy, matrices: &[Vec<Vec<f64>>]) {
    assert_eq!(npy.descr, "<f8");
    assert!(!npy.fortran_order, "C order: row = target");
    let flat: Vec<u64> = matrices
        .iter()
        .flatten()
        .flatten()
        .map(|x| x.to_bits())
        .collect();
    let got: Vec<u64> = npy.data.iter().map(|x| x.to_bits()).collect();
    assert_eq!(got, flat, "NPY data equals the result's weights");
}

async fn finished(s: &TestServer, kind: &str, spec: Value) -> Value {
    let (status, body) = s
        .post("/v1/jobs?wait=60", json!({"kind": kind, "spec": spec}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "succeeded", "{body}");
    body
}

#[tokio::test]
async fn one_network_is_a_matrix_equal_to_the_result() {
    let s = TestServer::start().await;
    let job = finished(&s, "mi", nrooks_spec(5, 1.5)).await;
    let weights = matrix(&job["result"]["networks"][0]["weights"]);
    let npy = npy_of(&s, job["id"].as_str().unwrap()).await;
    assert_eq!(npy.shape, vec![5, 5]);
    assert_same(&npy, &[weights]);
    s.stop().await;
}

#[tokio::test]
async fn an_ensemble_is_a_stack_in_network_order() {
    let s = TestServer::start().await;
    let spec = json!({
        "network": {"ensemble": {"type": "gaussian", "n": 4, "std": 1.3, "replicates": 2},
                    "sweep": {"param": "std", "values": [0.5, 2.0]}},
        "method": "exact", "seed": 11
    });
    let job = finished(&s, "mi", spec).await;
    let nets = job["result"]["networks"].as_array().unwrap();
    assert_eq!(nets.len(), 4);
    let weights: Vec<_> = nets.iter().map(|n| matrix(&n["weights"])).collect();
    let npy = npy_of(&s, job["id"].as_str().unwrap()).await;
    assert_eq!(npy.shape, vec![4, 4, 4]);
    assert_same(&npy, &weights);
    s.stop().await;
}

#[tokio::test]
async fn an_evolved_genome_is_the_best_weights() {
    let s = TestServer::start().await;
    let spec = json!({
        "n": 4,
        "init": {"ensemble": {"type": "gaussian", "std": 1.0}},
        "strategy": "plus", "parents": 4, "offspring": 8, "generations": 5,
        "mutation": {"std": 0.2, "rate": 1.0},
        "constraint": {"type": "frobenius", "value": 6.0},
        "objectives": [{"name": "mi", "weight": 1.0}],
        "seed": 3, "checkpoint_every": 5
    });
    let job = finished(&s, "evolution", spec).await;
    let best = matrix(&job["result"]["best"]["weights"]);
    let npy = npy_of(&s, job["id"].as_str().unwrap()).await;
    assert_eq!(npy.shape, vec![4, 4]);
    assert_same(&npy, &[best]);
    s.stop().await;
}

#[test]
fn the_parser_rejects_what_the_format_forbids() {
    // A well-formed file built by hand: NumPy's own header layout for a (1, 2) float64 array.
    let mut header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }".to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut good = b"\x93NUMPY\x01\x00".to_vec();
    good.extend_from_slice(&(header.len() as u16).to_le_bytes());
    good.extend_from_slice(header.as_bytes());
    good.extend_from_slice(&1.5f64.to_le_bytes());
    good.extend_from_slice(&(-2.0f64).to_le_bytes());
    let npy = parse_npy(&good);
    assert_eq!(npy.shape, vec![1, 2]);
    assert_eq!(npy.data, vec![1.5, -2.0]);

    let truncated = good[..good.len() - 1].to_vec();
    assert!(std::panic::catch_unwind(|| parse_npy(&truncated)).is_err());
    let mut bad_magic = good.clone();
    bad_magic[1] = b'X';
    assert!(std::panic::catch_unwind(|| parse_npy(&bad_magic)).is_err());
}
