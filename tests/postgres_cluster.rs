//! fluxlab on PostgreSQL with the real binary: an API process (`serve --max-jobs 0`) and
//! `fluxlab worker` processes sharing one database. Jobs run exactly once with the results of
//! the SQLite server, a worker killed mid-run is resumed bit-identically by another, remote
//! progress reaches the API's event stream, a cancel reaches the worker within a second, and a
//! database outage is a 503 that everything recovers from.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::binary::Binary;
use common::cluster::{OwnCluster, Worker, connections_to, fresh_database};
use futures::StreamExt;
use serde_json::{Value, json};

/// Worker flags for fast recovery in tests: a 2 s lease (renewed every ~0.7 s).
const FAST: &[&str] = &["--max-jobs", "2", "--threads", "1", "--lease-secs", "2"];

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

async fn submit(c: &reqwest::Client, api: &Binary, kind: &str, spec: &Value) -> String {
    let r = c
        .post(api.url("/v1/jobs"))
        .json(&json!({"kind": kind, "spec": spec}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_string()
}

/// Waits (with `?wait=`) until the job has ended; returns its view with the result.
async fn finished(c: &reqwest::Client, api: &Binary, id: &str, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let r = c
            .get(api.url(&format!("/v1/jobs/{id}?wait=30")))
            .send()
            .await;
        if let Ok(r) = r
            && r.status() == 200
        {
            let view: Value = r.json().await.unwrap();
            if ["succeeded", "failed", "cancelled"].contains(&view["status"].as_str().unwrap_or(""))
            {
                return view;
            }
        }
        assert!(
            Instant::now() < deadline,
            "job {id} did not end in {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get_json(c: &reqwest::Client, url: String) -> Value {
    c.get(url).send().await.unwrap().json().await.unwrap()
}

/// The 300 mixed jobs: small exact `mi`, short evolutions with checkpoints, tiny LIF trainings.
fn mixed_specs() -> Vec<(&'static str, Value)> {
    (0..300)
        .map(|i| match i % 3 {
            0 => (
                "mi",
                json!({"network": {"ensemble": {"n": 3 + i % 4, "std": 0.5 + (i % 10) as f64 * 0.1}},
                       "seed": i}),
            ),
            1 => (
                "evolution",
                json!({"n": 3, "init": {"ensemble": {"type": "gaussian", "std": 1.0}},
                       "strategy": "plus", "parents": 2, "offspring": 4, "generations": 6,
                       "mutation": {"std": 0.2, "rate": 1.0},
                       "constraint": {"type": "frobenius", "value": 3.0},
                       "objectives": [{"name": "mi", "weight": 1.0}],
                       "seed": i, "checkpoint_every": 2}),
            ),
            _ => (
                "lif",
                json!({"dataset": {"synthetic": {"task": "coincidence", "steps": 10, "channels": 4,
                                                  "window": 2, "train": 64, "test": 16}},
                       "encoding": {"type": "raster", "steps": 10},
                       "layers": [{"type": "lif", "units": 8}],
                       "batch_size": 32, "epochs": 1, "seed": i}),
            ),
        })
        .collect()
}

/// A result without its wall-clock fields, which differ run to run.
fn without_timings(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            for key in ["elapsed_ms", "seconds", "samples_per_second"] {
                map.remove(key);
            }
            for value in map.values_mut() {
                *value = without_timings(value.take());
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = without_timings(item.take());
            }
        }
        _ => {}
    }
    v
}

/// Submits every spec (16 at a time) and waits for each; returns id → final view.
async fn run_all(api: &Binary, specs: &[(&'static str, Value)]) -> Vec<Value> {
    let c = client();
    let ids: Vec<String> = futures::stream::iter(specs.iter())
        .map(|(kind, spec)| {
            let c = c.clone();
            async move { submit(&c, api, kind, spec).await }
        })
        .buffered(16)
        .collect()
        .await;
    futures::stream::iter(ids.iter())
        .map(|id| {
            let c = c.clone();
            async move { finished(&c, api, id, 600).await }
        })
        .buffered(16)
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_run_300_mixed_jobs_exactly_once_with_the_results_of_sqlite() {
    let db = fresh_database().await;
    let api = Binary::start_on(&db, &["--max-jobs", "0"]);
    let workers: Vec<Worker> = (0..3)
        .map(|i| Worker::start(&db, &format!("w{i}"), FAST))
        .collect();
    let specs = mixed_specs();
    let views = run_all(&api, &specs).await;

    // Every job succeeded on its first and only claim, and only workers claimed.
    let mut claims: HashMap<String, usize> = HashMap::new();
    for w in &workers {
        for id in w.claims() {
            *claims.entry(id).or_default() += 1;
        }
    }
    for view in &views {
        let id = view["id"].as_str().unwrap();
        assert_eq!(view["status"], "succeeded", "{view}");
        assert_eq!(view["attempts"], 1, "{view}");
        assert_eq!(claims.get(id), Some(&1), "claims of {id}");
    }
    assert_eq!(
        claims.values().sum::<usize>(),
        300,
        "no claim outside the workers"
    );
    let busy = workers.iter().filter(|w| !w.claims().is_empty()).count();
    assert!(busy >= 2, "the work was shared: {busy} workers claimed");

    // The API and the three workers are listed as live; pools stay small.
    let listed = get_json(&client(), api.url("/v1/workers")).await;
    let live = listed["workers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["live"] == true)
        .count();
    assert_eq!(live, 4, "{listed}");
    let connections = connections_to(&db).await;
    assert!(
        connections <= (8 + 1) + 3 * (2 + 1),
        "at most 9 for the API and 3 per worker: {connections}"
    );

    // The same specs in one SQLite process give the same results.
    let reference = Binary::start(&["--max-jobs", "2", "--threads", "2"]);
    let expected = run_all(&reference, &specs).await;
    for (got, want) in views.iter().zip(&expected) {
        assert_eq!(want["status"], "succeeded", "{want}");
        assert_eq!(
            without_timings(got["result"].clone()),
            without_timings(want["result"].clone()),
            "{} {}",
            got["kind"],
            got["id"]
        );
    }
}

fn long_evolution() -> Value {
    json!({
        "n": 8, "init": {"ensemble": {"type": "gaussian", "std": 1.0}},
        "strategy": "plus", "parents": 16, "offspring": 64, "generations": 300,
        "mutation": {"std": 0.1, "rate": 1.0, "adaptive": true},
        "constraint": {"type": "frobenius", "value": 8.49},
        "objectives": [{"name": "mi"}, {"name": "mean_period", "weight": 0.05}],
        "seed": 99, "checkpoint_every": 20
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_evolution_is_resumed_by_another_bit_identically() {
    let c = client();
    let reference = Binary::start(&[]);
    let id = submit(&c, &reference, "evolution", &long_evolution()).await;
    let expected = finished(&c, &reference, &id, 600).await;
    assert_eq!(expected["status"], "succeeded");
    let expected_metrics = get_json(&c, reference.url(&format!("/v1/jobs/{id}/metrics"))).await;
    drop(reference);

    let db = fresh_database().await;
    let api = Binary::start_on(&db, &["--max-jobs", "0"]);
    let mut first = Worker::start(&db, "first", FAST);
    let id = submit(&c, &api, "evolution", &long_evolution()).await;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let listed = get_json(&c, api.url(&format!("/v1/jobs/{id}/checkpoints"))).await;
        if listed.as_array().is_some_and(|l| l.len() >= 2) {
            break;
        }
        assert!(Instant::now() < deadline, "no checkpoints: {listed}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = Worker::start(&db, "second", FAST);
    first.kill_dash_nine();
    let view = get_json(&c, api.url(&format!("/v1/jobs/{id}"))).await;
    assert_eq!(view["status"], "running", "killed too late: {view}");

    let done = finished(&c, &api, &id, 600).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["attempts"], 2, "the kill used one attempt: {done}");
    assert_eq!(first.claims(), vec![id.clone()]);
    assert_eq!(second.claims(), vec![id.clone()]);
    assert!(
        second
            .log_text()
            .contains("recovered jobs whose lease expired"),
        "the second worker noticed the expired lease"
    );
    let (got, want) = (&done["result"], &expected["result"]);
    for key in ["best", "pareto_front", "evaluations"] {
        assert_eq!(got[key], want[key], "{key}");
    }
    let metrics = get_json(&c, api.url(&format!("/v1/jobs/{id}/metrics"))).await;
    assert_eq!(metrics, expected_metrics);
}

/// Reads SSE frames until `done`, returning (event, data) pairs.
async fn read_events(response: reqwest::Response, until: Duration) -> Vec<(String, Value)> {
    let mut events = Vec::new();
    let mut buffer = String::new();
    let mut stream = response.bytes_stream();
    let deadline = tokio::time::Instant::now() + until;
    while let Ok(Some(chunk)) = tokio::time::timeout_at(deadline, stream.next()).await {
        buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let mut name = String::new();
            let mut data = String::new();
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if !name.is_empty() {
                let done = name == "done";
                events.push((name, serde_json::from_str(&data).unwrap_or(Value::Null)));
                if done {
                    return events;
                }
            }
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_streams_a_remote_job_live_and_its_cancel_reaches_the_worker_within_a_second() {
    let c = client();
    let db = fresh_database().await;
    let api = Binary::start_on(&db, &["--max-jobs", "0"]);
    let worker = Worker::start(&db, "remote", FAST);
    let mut spec = long_evolution();
    spec["generations"] = json!(100_000);
    let id = submit(&c, &api, "evolution", &spec).await;
    let stream = c
        .get(api.url(&format!("/v1/jobs/{id}/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let reader = tokio::spawn(read_events(stream, Duration::from_secs(120)));

    // Live progress and metric rows of the remote run reach the API.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = get_json(&c, api.url(&format!("/v1/jobs/{id}"))).await;
        let generation = view["progress"]["step"].as_u64().unwrap_or(0);
        if view["status"] == "running" && generation >= 40 {
            break;
        }
        assert!(Instant::now() < deadline, "no progress: {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let asked = Instant::now();
    let r = c
        .post(api.url(&format!("/v1/jobs/{id}/cancel")))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let done = finished(&c, &api, &id, 30).await;
    let took = asked.elapsed();
    assert_eq!(done["status"], "cancelled", "{done}");
    assert!(
        took < Duration::from_secs(1),
        "cancel took {took:?} to reach the worker and be recorded"
    );
    assert_eq!(worker.claims(), vec![id.clone()]);

    let events = reader.await.unwrap();
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"snapshot"), "{names:?}");
    assert!(
        names.iter().filter(|n| **n == "progress").count() >= 2,
        "{names:?}"
    );
    assert!(names.contains(&"metrics"), "{names:?}");
    let (last, data) = events.last().unwrap();
    assert_eq!(
        (last.as_str(), &data["status"]),
        ("done", &json!("cancelled"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_seconds_without_postgres_is_a_503_and_every_job_still_finishes() {
    let cluster = OwnCluster::start();
    let db = common::cluster::fresh_database_on(&cluster.url).await;
    let api = Binary::start_on(&db, &["--max-jobs", "0"]);
    let _worker = Worker::start(
        &db,
        "survivor",
        &["--max-jobs", "2", "--threads", "1", "--lease-secs", "30"],
    );
    let c = client();
    let mut spec = long_evolution();
    spec["generations"] = json!(1500);
    let mut ids = Vec::new();
    for seed in 0..2 {
        spec["seed"] = json!(seed);
        ids.push(submit(&c, &api, "evolution", &spec).await);
    }
    for (kind, spec) in mixed_specs().into_iter().take(12) {
        ids.push(submit(&c, &api, kind, &spec).await);
    }
    // Wait until both long runs hold a slot, then take the database away for 10 s.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = get_json(&c, api.url(&format!("/v1/jobs/{}", ids[1]))).await;
        if view["status"] == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "{view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cluster.pause();
    let down = Instant::now();
    let mut answered = Vec::new();
    while down.elapsed() < Duration::from_secs(10) {
        for path in ["/v1/jobs", "/readyz"] {
            let r = c.get(api.url(path)).send().await.unwrap();
            let status = r.status().as_u16();
            let kind = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            answered.push((path, status, kind));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    cluster.resume();
    assert!(
        answered
            .iter()
            .all(|(_, status, kind)| *status == 503 && kind.starts_with("application/problem+json")),
        "every answer while down is a 503 problem: {answered:?}"
    );
    for id in &ids {
        let view = finished(&c, &api, id, 600).await;
        assert_eq!(view["status"], "succeeded", "{view}");
    }
    let ready = c.get(api.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[test]
fn a_worker_refuses_a_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("w.db").display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fluxlab"))
        .args(["worker", "--database", &db])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("needs a shared PostgreSQL database"),
        "{stderr}"
    );
}
