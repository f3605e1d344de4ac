//! Crash test with the real binary: `kill -9` mid-sweep, restart on the same database, and the
//! resumed job ends with exactly the result of an uninterrupted run with the same seed.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Server {
    child: Child,
    base: String,
}

/// A failing assertion must not leave a server running after the test.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(db: &str) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_fluxlab"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database",
            db,
            "--lease-secs",
            "5",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start fluxlab");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while http::get(&format!("{base}/readyz")).is_none() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, base }
}

/// Minimal blocking HTTP over a std socket, so this test needs no async runtime around the child.
mod http {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    pub fn request(method: &str, url: &str, body: Option<&str>) -> Option<(u16, String)> {
        let rest = url.strip_prefix("http://")?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut stream = TcpStream::connect(host).ok()?;
        let body = body.unwrap_or("");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(req.as_bytes()).ok()?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).ok()?;
        let text = String::from_utf8_lossy(&raw).to_string();
        let status = text.split_whitespace().nth(1)?.parse().ok()?;
        let (head, payload) = text.split_once("\r\n\r\n")?;
        let payload = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(payload)
        } else {
            payload.to_string()
        };
        Some((status, payload))
    }

    fn dechunk(mut s: &str) -> String {
        let mut out = String::new();
        while let Some((size, rest)) = s.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || rest.len() < n {
                break;
            }
            out.push_str(&rest[..n]);
            s = rest[n..].trim_start_matches("\r\n");
        }
        out
    }

    pub fn get(url: &str) -> Option<(u16, String)> {
        request("GET", url, None)
    }
}

fn get(server: &Server, path: &str) -> Value {
    let (_, body) = http::request("GET", &format!("{}{path}", server.base), None).expect("GET");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

fn post(server: &Server, path: &str, body: Value) -> (u16, Value) {
    let (status, text) = http::request(
        "POST",
        &format!("{}{path}", server.base),
        Some(&body.to_string()),
    )
    .expect("POST");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn wait_for(server: &Server, id: &str, status: &str, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let job = get(server, &format!("/v1/jobs/{id}"));
        if job["status"] == status {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} never became {status}: {job}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Submits `spec` on a database of its own and waits for it to succeed; returns the server,
/// still up so the caller can read the reference result, and the job id.
fn run_uninterrupted(dir: &std::path::Path, kind: &str, spec: Value) -> (Server, String) {
    let db = format!(
        "sqlite://{}",
        dir.join(format!("{kind}-reference.db")).display()
    );
    let server = start(&db);
    let (status, job) = post(&server, "/v1/jobs", json!({"kind": kind, "spec": spec}));
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    wait_for(&server, &id, "succeeded", 600);
    (server, id)
}

/// Submits `spec`, kills the server with SIGKILL once `checkpoints` checkpoints exist while the
/// job still runs, restarts on the same database and waits for the job to succeed there.
fn run_killed_and_restarted(
    dir: &std::path::Path,
    kind: &str,
    spec: Value,
    checkpoints: usize,
) -> (Server, String) {
    let db = format!(
        "sqlite://{}",
        dir.join(format!("{kind}-crash.db")).display()
    );
    let mut first = start(&db);
    let (status, job) = post(&first, "/v1/jobs", json!({"kind": kind, "spec": spec}));
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let listed = get(&first, &format!("/v1/jobs/{id}/checkpoints"));
        if listed.as_array().is_some_and(|c| c.len() >= checkpoints) {
            break;
        }
        assert!(Instant::now() < deadline, "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = get(&first, &format!("/v1/jobs/{id}"));
    assert_eq!(
        before["status"], "running",
        "killed too late to test a resume: {before}"
    );
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();
    let second = start(&db);
    wait_for(&second, &id, "succeeded", 600);
    (second, id)
}

fn sweep_spec() -> Value {
    json!({
        "network": {"ensemble": {"type": "gaussian", "n": 40, "std": 0.5, "replicates": 2},
                    "sweep": {"param": "std", "values": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.4]}},
        "method": "sampled",
        "sampling": {"steps": 60000, "burn_in": 500, "runs": 2},
        "attractors": {"starts": 50, "max_steps": 20000},
        "seed": 2024
    })
}

#[test]
fn kill_dash_nine_then_restart_resumes_to_the_identical_result() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, id) = run_uninterrupted(dir.path(), "mi", sweep_spec());
    let expected = get(&reference, &format!("/v1/jobs/{id}/result"));
    let expected_metrics = get(&reference, &format!("/v1/jobs/{id}/metrics"));
    drop(reference);

    let (second, id) = run_killed_and_restarted(dir.path(), "mi", sweep_spec(), 1);
    let finished = get(&second, &format!("/v1/jobs/{id}"));
    assert_eq!(finished["attempts"], 2, "the crash used up one attempt");
    let resumed = get(&second, &format!("/v1/jobs/{id}/result"));
    assert_eq!(resumed["networks"], expected["networks"]);
    assert_eq!(resumed["summary"], expected["summary"]);
    let metrics = get(&second, &format!("/v1/jobs/{id}/metrics"));
    assert_eq!(metrics, expected_metrics);
}

fn evolution_spec() -> Value {
    json!({
        "n": 8, "init": {"ensemble": {"type": "gaussian", "std": 1.0}},
        "strategy": "plus", "parents": 16, "offspring": 64, "generations": 400,
        "mutation": {"std": 0.1, "rate": 1.0, "adaptive": true},
        "constraint": {"type": "frobenius", "value": 8.49},
        "objectives": [{"name": "mi"}, {"name": "mean_period", "weight": 0.05}],
        "seed": 99, "checkpoint_every": 20
    })
}

#[test]
fn evolution_killed_mid_run_resumes_bit_identically() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, id) = run_uninterrupted(dir.path(), "evolution", evolution_spec());
    let expected = get(&reference, &format!("/v1/jobs/{id}/result"));
    let expected_metrics = get(&reference, &format!("/v1/jobs/{id}/metrics"));
    drop(reference);

    let (second, id) = run_killed_and_restarted(dir.path(), "evolution", evolution_spec(), 2);
    let resumed = get(&second, &format!("/v1/jobs/{id}/result"));
    assert_eq!(resumed["best"], expected["best"]);
    assert_eq!(resumed["pareto_front"], expected["pareto_front"]);
    assert_eq!(resumed["evaluations"], expected["evaluations"]);
    assert_eq!(
        get(&second, &format!("/v1/jobs/{id}/metrics")),
        expected_metrics
    );
}

fn lif_spec() -> Value {
    json!({
        "dataset": {"builtin": "mnist10k"}, "split": {"train": 3000, "test": 500},
        "encoding": {"type": "poisson", "steps": 10},
        "layers": [{"type": "lif", "units": 64}],
        "batch_size": 64, "epochs": 8, "seed": 5, "checkpoint_every": 1
    })
}

/// A metric series without its wall-clock columns (seconds and throughput differ run to run).
fn without_timings(mut v: Value) -> Value {
    for row in v["series"].as_array_mut().into_iter().flatten() {
        let row = row.as_object_mut().unwrap();
        row.remove("seconds");
        row.remove("samples_per_second");
    }
    v
}

#[test]
fn lif_killed_mid_training_resumes_to_identical_weights_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, id) = run_uninterrupted(dir.path(), "lif", lif_spec());
    let expected = get(&reference, &format!("/v1/jobs/{id}/result"));
    let expected_model = get(&reference, &format!("/v1/jobs/{id}/artifacts/model.json"));
    let expected_metrics = without_timings(get(&reference, &format!("/v1/jobs/{id}/metrics")));
    drop(reference);

    let (second, id) = run_killed_and_restarted(dir.path(), "lif", lif_spec(), 1);
    let resumed = get(&second, &format!("/v1/jobs/{id}/result"));
    for key in [
        "test_accuracy",
        "test_loss",
        "confusion_matrix",
        "spike_rates",
        "leak",
        "raster",
    ] {
        assert_eq!(resumed[key], expected[key], "{key}");
    }
    let model = get(&second, &format!("/v1/jobs/{id}/artifacts/model.json"));
    assert_eq!(
        model["model"], expected_model["model"],
        "identical final weights"
    );
    assert_eq!(
        without_timings(get(&second, &format!("/v1/jobs/{id}/metrics"))),
        expected_metrics
    );
}
