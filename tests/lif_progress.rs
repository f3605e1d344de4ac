//! A LIF job's progress is a fraction of the whole job (issue 19): over its event stream the
//! fraction never goes back at an epoch boundary, and the step counts the batches of all epochs.

mod common;

use std::time::Duration;

use common::TestServer;
use futures::StreamExt;
use serde_json::{Value, json};

#[tokio::test]
async fn lif_progress_rises_over_the_whole_job() {
    let s = TestServer::start().await;
    let spec = json!({
        "dataset": {"builtin": "mnist10k"},
        "split": {"train": 2048, "test": 128},
        "encoding": {"type": "poisson", "steps": 8},
        "layers": [{"type": "lif", "units": 32}],
        "batch_size": 64, "epochs": 3, "seed": 3
    });
    let id = s.submit("lif", spec).await;
    let response = s
        .client
        .get(s.url(&format!("/v1/jobs/{id}/events")))
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !text.contains("event: done") {
        match tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("SSE timed out")
        {
            Some(Ok(bytes)) => text.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    // Progress events: `event: progress` followed by its `data:` line.
    let lines: Vec<&str> = text.lines().collect();
    let progress: Vec<Value> = lines
        .windows(2)
        .filter(|w| w[0] == "event: progress")
        .filter_map(|w| w[1].strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let fractions: Vec<f64> = progress
        .iter()
        .filter_map(|p| p["fraction"].as_f64())
        .collect();
    assert!(
        fractions.len() >= 3,
        "too few progress events to judge: {fractions:?}"
    );
    assert!(
        fractions.windows(2).all(|w| w[1] >= w[0]),
        "the fraction went back: {fractions:?}"
    );
    // 3 epochs of 32 batches (long enough that the throttled stream shows several epochs):
    // the step counts batches of the whole job, and the fraction is step / total (not the
    // fraction of the current epoch).
    for p in progress.iter().filter(|p| p["total_steps"] == 96) {
        let step = p["step"].as_f64().unwrap();
        assert!(
            (p["fraction"].as_f64().unwrap() - step / 96.0).abs() < 1e-9,
            "{p}"
        );
    }
    assert!(
        progress.iter().any(|p| p["step"].as_u64() > Some(32)),
        "no progress seen after the first epoch: {fractions:?}"
    );
    s.stop().await;
}
