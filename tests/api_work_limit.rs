//! The job-wide work limit (`--max-job-work`): specs that pass every per-network bound but ask
//! for years of compute in total are refused with 422 naming `spec` and the limit.

mod common;

use common::*;
use serde_json::{Value, json};

/// 1,000 sweep values × 10 replicates = 10,000 networks, the most one job may hold.
fn sweep_values() -> Vec<f64> {
    (1..=1000).map(|v| v as f64 / 100.0).collect()
}

/// Posts a job and returns the status and the problem (or job) document.
async fn post_job(s: &TestServer, kind: &str, spec: Value) -> (u16, Value) {
    s.post("/v1/jobs", json!({"kind": kind, "spec": spec}))
        .await
}

/// Asserts a 422 whose only error is on `spec` and names the limit.
fn assert_over_limit(status: u16, problem: &Value, limit: &str) {
    assert_eq!(status, 422, "{problem}");
    let errors = problem["errors"].as_array().expect("errors[]");
    assert_eq!(errors.len(), 1, "{problem}");
    assert_eq!(errors[0]["field"], "spec", "{problem}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("estimated work"), "{message}");
    assert!(message.contains(&format!("limit of {limit}")), "{message}");
    assert!(message.contains("--max-job-work"), "{message}");
}

#[tokio::test]
async fn years_of_compute_in_one_request_are_refused() {
    let s = TestServer::start().await;
    // 10,000 exact N = 16 networks.
    let exact = json!({"network": {"ensemble": {"n": 16, "replicates": 10},
                                   "sweep": {"param": "std", "values": sweep_values()}},
                       "method": "exact"});
    let (status, problem) = post_job(&s, "mi", exact).await;
    assert_over_limit(status, &problem, "1e16");
    // 10,000 sampled N = 2,000 networks, each at the per-network bound of 10^13.
    let sampled = json!({"network": {"ensemble": {"n": 2000, "replicates": 10},
                                     "sweep": {"param": "std", "values": sweep_values()}},
                         "method": "sampled",
                         "sampling": {"steps": 2_400_000, "burn_in": 100_000, "runs": 1},
                         "attractors": false});
    let (status, problem) = post_job(&s, "mi", sampled).await;
    assert_over_limit(status, &problem, "1e16");
    // An N = 16 evolution with 100,000 offspring for 10^7 generations.
    let evolution = json!({"n": 16, "parents": 16, "offspring": 100_000,
                           "generations": 10_000_000});
    let (status, problem) = post_job(&s, "evolution", evolution).await;
    assert_over_limit(status, &problem, "1e16");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("generations"),
        "{problem}"
    );
    // Nothing was queued.
    let (_, list) = s.get("/v1/jobs").await;
    assert_eq!(list["jobs"].as_array().unwrap().len(), 0, "{list}");
    s.stop().await;
}

#[tokio::test]
async fn ordinary_jobs_are_accepted() {
    let s = TestServer::start().await;
    s.submit("mi", nrooks_spec(4, 2.0)).await;
    // The README's sweep and a multi-day evolution (3·10⁶ generations at N = 10) pass too; the
    // evolution is cancelled at once.
    s.submit(
        "mi",
        json!({"network": {"ensemble": {"n": 10, "replicates": 3},
                           "sweep": {"param": "std", "values": [0.1, 0.2, 0.4, 0.8, 1.6, 3.2]}},
               "seed": 7}),
    )
    .await;
    let long = s
        .submit("evolution", json!({"n": 10, "generations": 3_000_000}))
        .await;
    let (status, _) = s.post(&format!("/v1/jobs/{long}/cancel"), json!({})).await;
    assert!(status < 300, "cancel answered {status}");
    s.stop().await;
}

#[tokio::test]
async fn a_lowered_limit_refuses_what_the_default_accepts() {
    // One exact N = 12 network is estimated at ~3.4·10^10 units (the solver's budget).
    let spec = json!({"network": {"ensemble": {"n": 12}}, "method": "exact", "seed": 1});
    let default = TestServer::start().await;
    let (status, body) = post_job(&default, "mi", spec.clone()).await;
    assert_eq!(status, 201, "{body}");
    default.stop().await;

    let strict = TestServer::start_with(|c| c.runner.max_job_work = 1e9).await;
    let (status, problem) = post_job(&strict, "mi", spec).await;
    assert_over_limit(status, &problem, "1e9");
    // Small jobs still pass.
    let (status, body) = post_job(&strict, "mi", nrooks_spec(4, 2.0)).await;
    assert_eq!(status, 201, "{body}");
    strict.stop().await;
}
