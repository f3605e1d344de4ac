//! Dataset uploads against gzip amplification (GitHub issue 14, point 3): a 522 KB gzip whose
//! header announces 536,800,000 bytes of pixels is a 422 naming `images` and the limit, refused
//! from its header; uploads are checked with the limit training uses; repeated fields and broken
//! multipart bodies are named; and the real binary stays small while bombs and the largest
//! trainable upload arrive together.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

/// Peak resident memory allowed to the server while it checks the uploads of the memory test.
const MAX_PEAK_RSS_KB: u64 = 300 * 1000;

/// An IDX header: magic for unsigned bytes and the dimensions, big-endian.
fn header(dims: &[u32]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    dims.iter().for_each(|d| out.extend(d.to_be_bytes()));
    out
}

/// A gzip stream of `header(dims)` followed by `zeros` zero bytes, written in 1 MiB chunks.
fn gzip_zeros(dims: &[u32], zeros: usize) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(&header(dims)).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(chunk.len());
        e.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    e.finish().unwrap()
}

/// The upload of the issue: a valid header for 100,000 × 1 × 5,368 unsigned bytes and as many
/// zeros, about 522 KB of gzip for 536,800,000 bytes of pixels.
fn bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| gzip_zeros(&[100_000, 1, 5_368], 536_800_000))
}

/// The largest upload training accepts: 4,096 × 256 × 256 = 268,435,456 bytes of pixels, exactly
/// `IdxLimits::default().max_bytes`, with its 4,096 labels.
fn largest() -> &'static (Vec<u8>, Vec<u8>) {
    static LARGEST: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    LARGEST.get_or_init(|| {
        (
            gzip_zeros(&[4_096, 256, 256], 268_435_456),
            gzip_zeros(&[4_096], 4_096),
        )
    })
}

fn labels_for(count: u32) -> Vec<u8> {
    let mut out = header(&[count]);
    out.extend((0..count).map(|i| (i % 10) as u8));
    out
}

fn form(name: &str, images: Part, labels: Part) -> Form {
    Form::new()
        .text("name", name.to_string())
        .part("images", images)
        .part("labels", labels)
}

/// A file field (raw or gzip: the server tells them apart by content).
fn file(bytes: impl Into<std::borrow::Cow<'static, [u8]>>) -> Part {
    Part::bytes(bytes).file_name("file.idx")
}

async fn send(client: &reqwest::Client, base: &str, form: Form) -> (u16, Value) {
    let r = client
        .post(format!("{base}/v1/datasets"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A request with a hand-written body, for bodies reqwest would never produce.
async fn send_raw(
    client: &reqwest::Client,
    base: &str,
    content_type: &str,
    body: &'static str,
) -> (u16, Value) {
    let r = client
        .post(format!("{base}/v1/datasets"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "status {status}"
    );
    (status, r.json().await.unwrap())
}

/// The `errors[]` of a problem as (field, message) pairs.
fn errors(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors[] in {body}"))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Asserts the issue's bomb was refused for its header, naming `images` and the limit.
fn assert_bomb_refused(status: u16, body: &Value) {
    assert_eq!(status, 422, "{body}");
    let errors = errors(body);
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0].0, "images", "{body}");
    assert!(
        errors[0]
            .1
            .contains("536,800,000 bytes of pixels from the header, at most 268,435,456 allowed"),
        "{body}"
    );
}

#[tokio::test]
async fn the_gzip_bomb_of_the_issue_is_refused_naming_images_and_the_limit() {
    let s = common::TestServer::start().await;
    eprintln!("the bomb: {} bytes of gzip", bomb().len());
    assert!(bomb().len() < 600_000, "bomb of {} bytes", bomb().len());
    let (status, body) = send(
        &s.client,
        &s.base,
        form("bomb", file(bomb()), file(labels_for(100_000))),
    )
    .await;
    assert_bomb_refused(status, &body);
    let (_, list) = s.get("/v1/datasets").await;
    assert_eq!(list["datasets"].as_array().unwrap().len(), 1, "{list}");
    s.stop().await;
}

#[tokio::test]
async fn a_valid_small_pair_is_stored() {
    let s = common::TestServer::start().await;
    let mut images = header(&[20, 3, 4]);
    images.extend((0..240).map(|i| i as u8));
    let (status, body) = send(
        &s.client,
        &s.base,
        form("small", file(images), file(labels_for(20))),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["count"], 20);
    assert_eq!(body["shape"], serde_json::json!([3, 4]));
    assert_eq!(body["features"], 12);
    assert_eq!(body["classes"], 10);
    s.stop().await;
}

#[tokio::test]
async fn a_file_longer_than_its_header_is_refused() {
    let s = common::TestServer::start().await;
    let mut images = header(&[20, 3, 4]);
    images.extend([7u8; 240]);
    let mut labels = labels_for(20);
    labels.push(0);
    let (status, body) = send(&s.client, &s.base, form("long", file(images), file(labels))).await;
    assert_eq!(status, 422, "{body}");
    let errors = errors(&body);
    assert_eq!(errors[0].0, "labels", "{body}");
    assert!(
        errors[0].1.contains("more data after the 20 bytes"),
        "{body}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_field_given_twice_is_a_422_naming_it() {
    let s = common::TestServer::start().await;
    let mut images = header(&[2, 1, 1]);
    images.extend([0, 255]);
    let labels = labels_for(2);
    for twice in ["name", "images", "labels", "classes"] {
        let mut f = form("twice", file(images.clone()), file(labels.clone())).text("classes", "10");
        f = match twice {
            "images" => f.part("images", Part::bytes(images.clone())),
            "labels" => f.part("labels", Part::bytes(labels.clone())),
            other => f.text(other, "10"),
        };
        let (status, body) = send(&s.client, &s.base, f).await;
        assert_eq!(status, 422, "{twice}: {body}");
        assert_eq!(
            errors(&body),
            vec![(
                twice.to_string(),
                "given twice; send each field once".to_string()
            )],
            "{twice}"
        );
    }
    let (_, list) = s.get("/v1/datasets").await;
    assert_eq!(list["datasets"].as_array().unwrap().len(), 1, "{list}");
    s.stop().await;
}

#[tokio::test]
async fn a_malformed_multipart_body_names_where_it_broke() {
    let s = common::TestServer::start().await;
    // No boundary: the body cannot even be split into fields.
    let (status, body) = send_raw(&s.client, &s.base, "multipart/form-data", "name=x").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(errors(&body)[0].0, "body", "{body}");
    // A boundary that never comes.
    let (status, body) = send_raw(
        &s.client,
        &s.base,
        "multipart/form-data; boundary=XYZ",
        "this is not a multipart body",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(errors(&body)[0].0, "body", "{body}");
    // A body that ends inside the `images` field.
    let (status, body) = send_raw(
        &s.client,
        &s.base,
        "multipart/form-data; boundary=XYZ",
        "--XYZ\r\nContent-Disposition: form-data; name=\"images\"; filename=\"i.idx\"\r\n\r\n\
         \x00\x00\x08\x03 and then nothing",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(errors(&body)[0].0, "images", "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("malformed multipart body"),
        "{body}"
    );
    s.stop().await;
}

/// The real binary on a free port with a database of its own; killed when dropped, so a failing
/// assertion leaves no server behind.
struct Binary {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Binary {
    async fn start() -> Binary {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("x.db").display());
        let child = Command::new(env!("CARGO_BIN_EXE_fluxlab"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--database", &db])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start fluxlab");
        let server = Binary {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(format!("{}/readyz", server.base))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    /// `VmHWM` (peak resident set) of the server, in kB.
    fn peak_rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_bombs_and_the_largest_trainable_uploads_at_once_stay_below_300_mb() {
    // Build the files before the server starts, so the clock of its 30 s queue is not running.
    let (bomb, (images, labels)) = (bomb(), largest());
    let server = Binary::start().await;
    let idle = server.peak_rss_kb();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap();
    let bombs = (0..3).map(|i| {
        let (client, base) = (client.clone(), server.base.clone());
        tokio::spawn(async move {
            let f = form(&format!("bomb {i}"), file(bomb), file(labels_for(100_000)));
            send(&client, &base, f).await
        })
    });
    let valid = (0..2).map(|i| {
        let (client, base) = (client.clone(), server.base.clone());
        tokio::spawn(async move {
            let f = form(&format!("largest {i}"), file(images), file(labels));
            send(&client, &base, f).await
        })
    });
    let (bombs, valid): (Vec<_>, Vec<_>) = (bombs.collect(), valid.collect());
    for task in bombs {
        let (status, body) = task.await.unwrap();
        assert_bomb_refused(status, &body);
    }
    for task in valid {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["count"], 4_096, "{body}");
        assert_eq!(body["features"], 65_536, "{body}");
    }
    let peak = server.peak_rss_kb();
    eprintln!("fluxlab peak RSS: {idle} kB idle, {peak} kB after 3 bombs and 2 largest uploads");
    assert!(
        peak < MAX_PEAK_RSS_KB,
        "peak RSS {peak} kB, at most {MAX_PEAK_RSS_KB} kB allowed"
    );
}
