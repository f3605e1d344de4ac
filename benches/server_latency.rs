//! Server benchmark: latency of `GET /v1/jobs/{id}` while both cores compute.
//!
//! Starts the real app on 127.0.0.1:0 with a temporary database, keeps the compute pool busy with
//! exact N = 16 jobs (one per core), then sends sequential GETs for a fixed count and prints
//! p50 / p90 / p99 / max. Prints figures only; asserts nothing about time.

use std::time::{Duration, Instant};

use serde_json::json;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

#[tokio::main]
async fn main() {
    let requests: usize = std::env::var("FLUXLAB_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    let mut config = fluxlab::ServeConfig::for_database(format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ));
    config.runner.max_jobs = 2;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(fluxlab::serve(config, listener, async {
        let _ = stop_rx.await;
    }));
    let client = reqwest::Client::new();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut ids = Vec::new();
    for seed in 0..2 {
        let spec = json!({"network": {"ensemble": {"n": 16, "std": 1.0, "replicates": 4}},
                          "method": "exact", "attractors": false, "seed": seed});
        let r: serde_json::Value = client
            .post(format!("{base}/v1/jobs"))
            .json(&json!({"kind": "mi", "spec": spec}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(r["id"].as_str().unwrap().to_string());
    }
    // Wait until both jobs run.
    loop {
        let r: serde_json::Value = client
            .get(format!("{base}/v1/jobs?status=running"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if r["jobs"].as_array().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut latencies = Vec::with_capacity(requests);
    let started = Instant::now();
    for i in 0..requests {
        let t = Instant::now();
        let r = client
            .get(format!("{base}/v1/jobs/{}", ids[i % 2]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await.unwrap();
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let wall = started.elapsed().as_secs_f64();
    let still_running: serde_json::Value = client
        .get(format!("{base}/v1/jobs?status=running"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    latencies.sort_by(f64::total_cmp);
    println!(
        "GET /v1/jobs/{{id}} while {} exact N=16 jobs compute on {} cores",
        ids.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "requests {requests} in {wall:.2} s; load average before: {}",
        load_before.trim()
    );
    println!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies.last().unwrap()
    );
    println!(
        "jobs still running at the end: {}",
        still_running["jobs"].as_array().unwrap().len()
    );
    for id in &ids {
        let _ = client
            .post(format!("{base}/v1/jobs/{id}/cancel"))
            .send()
            .await;
    }
    let _ = stop_tx.send(());
    let _ = server.await;
}
