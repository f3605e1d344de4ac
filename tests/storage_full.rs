//! A full database (here: the `--max-database-bytes` cap, which SQLite reports exactly as a full
//! disk) gives 507 problem documents, `/readyz` says not ready, and nothing stored is lost.
//! Its own test binary: the "recently full" memory is process-wide.

mod common;

use common::TestServer;
use serde_json::json;

#[tokio::test]
async fn a_full_database_answers_507_and_is_not_ready() {
    let s = TestServer::start_with(|c| {
        c.runner.max_database_bytes = 1 << 20;
        c.runner.max_jobs = 1;
        c.runner.threads = 1;
    })
    .await;
    let (status, _) = s.get("/readyz").await;
    assert_eq!(status, 200);
    let weights: Vec<Vec<f64>> = (0..150)
        .map(|i| (0..150).map(|j| ((i + j) % 7) as f64 * 0.01).collect())
        .collect();
    let spec = json!({"network": {"weights": weights}, "method": "sampled",
                      "sampling": {"steps": 100, "burn_in": 0, "runs": 1}, "seed": 1});
    let mut stored = Vec::new();
    let mut full = None;
    for _ in 0..100 {
        let (status, body) = s
            .post("/v1/jobs", json!({"kind": "mi", "spec": spec}))
            .await;
        match status {
            201 => stored.push(body["id"].as_str().unwrap().to_string()),
            _ => {
                full = Some((status, body));
                break;
            }
        }
    }
    let (status, problem) = full.expect("the cap was reached");
    assert_eq!(status, 507, "{problem}");
    assert_eq!(problem["type"], "/problems/storage-full");
    assert!(problem["detail"].as_str().unwrap().contains("space"));
    let (status, ready) = s.get("/readyz").await;
    assert_eq!(status, 503, "{ready}");
    let (status, _) = s.get("/healthz").await;
    assert_eq!(status, 200, "alive, just not ready");
    for id in &stored {
        let (status, job) = s.get(&format!("/v1/jobs/{id}")).await;
        assert_eq!(status, 200);
        assert!(
            job["spec"]["network"]["weights"].is_array(),
            "nothing stored was lost"
        );
    }
    s.stop().await;
}
