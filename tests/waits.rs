//! Race-free waiting (issue 18, point 1): `?wait=S` on a job, its result and its artifacts blocks
//! until the job ends, or answers 202 with the job view (never an error body in place of a file).

mod common;

use common::TestServer;
use serde_json::json;

#[tokio::test]
async fn waiting_gets_end_with_the_job_or_answer_202_with_the_job_view() {
    let s = TestServer::start().await;
    let quick = s.submit("mi", common::nrooks_spec(4, 2.0)).await;
    let (status, result) = s.get(&format!("/v1/jobs/{quick}/result?wait=60")).await;
    assert_eq!(status, 200, "{result}");
    assert!(result["networks"].is_array());
    let (status, job) = s.get(&format!("/v1/jobs/{quick}?wait=5")).await;
    assert_eq!(status, 200);
    assert_eq!(job["status"], "succeeded");

    let long = s
        .submit(
            "evolution",
            json!({"n": 2, "parents": 1, "offspring": 1, "generations": 10_000_000, "seed": 3}),
        )
        .await;
    for path in [
        format!("/v1/jobs/{long}?wait=1"),
        format!("/v1/jobs/{long}/result?wait=1"),
        format!("/v1/jobs/{long}/artifacts/weights.npy?wait=1"),
    ] {
        let started = tokio::time::Instant::now();
        let r = s.client.get(s.url(&path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 202, "{path}");
        assert!(started.elapsed().as_secs_f64() >= 0.9, "{path} waited");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let view: serde_json::Value = r.json().await.unwrap();
        assert_eq!(view["id"], long.as_str(), "{path}: the job view");
        assert!(view["status"] == "running" || view["status"] == "queued");
    }
    for bad in ["-1", "301", "soon"] {
        let (status, problem) = s.get(&format!("/v1/jobs/{long}?wait={bad}")).await;
        assert_eq!(status, 422, "{bad}: {problem}");
    }
    let (status, _) = s.post(&format!("/v1/jobs/{long}/cancel"), json!({})).await;
    assert_eq!(status, 202);
    s.stop().await;
}
