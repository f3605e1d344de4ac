//! Every kind of bad input gets the right status and a problem document naming the field.

mod common;

use common::*;
use serde_json::{Value, json};

async fn expect_problem(s: &TestServer, body: String, status: u16, field: &str) -> Value {
    let (got, problem) = s.post_raw("/v1/jobs", body.clone()).await;
    assert_eq!(got, status, "body {body} → {problem}");
    assert_eq!(problem["status"], status);
    assert!(
        problem["title"].is_string()
            && problem["detail"].is_string()
            && problem["type"].is_string()
    );
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.iter().any(|f| f.starts_with(field)),
        "expected field {field} in {problem}"
    );
    problem
}

fn mi(spec: Value) -> String {
    json!({"kind": "mi", "spec": spec}).to_string()
}

#[tokio::test]
async fn bad_inputs_are_named() {
    let s = TestServer::start().await;
    // Malformed JSON.
    let (status, problem) = s.post_raw("/v1/jobs", "{\"kind\": \"mi\", ".into()).await;
    assert_eq!(status, 400, "{problem}");
    let r = s
        .client
        .post(s.url("/v1/jobs"))
        .body("{")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // Unknown kind, unknown field (top level and inside the spec), wrong type.
    expect_problem(
        &s,
        json!({"kind": "magic", "spec": {}}).to_string(),
        422,
        "kind",
    )
    .await;
    expect_problem(
        &s,
        json!({"kind": "mi", "spec": nrooks_spec(3, 1.0), "colour": 1}).to_string(),
        422,
        "colour",
    )
    .await;
    let mut spec = nrooks_spec(3, 1.0);
    spec["network"]["nrooks"]["colour"] = json!("red");
    expect_problem(&s, mi(spec), 422, "spec.network.nrooks").await;
    expect_problem(
        &s,
        mi(json!({"network": {"ensemble": {"n": "six"}}})),
        422,
        "spec.network.ensemble.n",
    )
    .await;
    expect_problem(&s, mi(json!({"network": {}})), 422, "spec.network").await;
    expect_problem(
        &s,
        mi(json!({"network": {"ensemble": {"n": 3}, "nrooks": {"n": 3, "q": 1}}})),
        422,
        "spec.network",
    )
    .await;
    // Non-square matrix, NaN and ∞ weights.
    expect_problem(
        &s,
        mi(json!({"network": {"weights": [[0, 1], [1]]}})),
        422,
        "spec.network.weights[1]",
    )
    .await;
    let nan = r#"{"kind":"mi","spec":{"network":{"weights":[[0,NaN],[1,0]]}}}"#;
    expect_problem(&s, nan.into(), 400, "spec.network.weights[0][1]").await;
    let inf = r#"{"kind":"mi","spec":{"network":{"weights":[[0,1e999],[1,0]]}}}"#;
    expect_problem(&s, inf.into(), 422, "spec.network.weights[0][1]").await;
    expect_problem(
        &s,
        mi(json!({"network": {"weights": [[0, 1e7], [1, 0]]}})),
        422,
        "spec.network.weights[0][1]",
    )
    .await;
    // Negative or zero sizes.
    expect_problem(
        &s,
        mi(json!({"network": {"ensemble": {"n": 0}}})),
        422,
        "spec.network.ensemble.n",
    )
    .await;
    expect_problem(
        &s,
        mi(json!({"network": {"nrooks": {"n": -3, "q": 1}}})),
        422,
        "spec.network.nrooks.n",
    )
    .await;
    expect_problem(
        &s,
        mi(json!({"network": {"ensemble": {"n": 4, "replicates": 0}}})),
        422,
        "spec.network.ensemble.replicates",
    )
    .await;
    expect_problem(
        &s,
        mi(json!({"network": {"ensemble": {"n": 40}}, "sampling": {"runs": 0}})),
        422,
        "spec.sampling.runs",
    )
    .await;
    expect_problem(
        &s,
        mi(json!({"network": {"ensemble": {"n": 4, "std": -1}}})),
        422,
        "spec.network.ensemble.std",
    )
    .await;
    // N beyond each method's limit, with the limit in the message.
    let p = expect_problem(
        &s,
        mi(json!({"network": {"ensemble": {"n": 17}}, "method": "exact"})),
        422,
        "spec.method",
    )
    .await;
    assert!(
        p["errors"][0]["message"].as_str().unwrap().contains("16"),
        "{p}"
    );
    let p = expect_problem(
        &s,
        mi(json!({"network": {"ensemble": {"n": 5000}}})),
        422,
        "spec.network.ensemble.n",
    )
    .await;
    assert!(
        p["errors"][0]["message"].as_str().unwrap().contains("2000"),
        "{p}"
    );
    let p = expect_problem(&s, mi(json!({"network": {"ensemble": {"n": 11}, "noise": {"std": 1, "shared": true}}, "method": "exact"})), 422, "spec.method").await;
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("shared"),
        "{p}"
    );
    // Steps beyond the bound.
    let p = expect_problem(
        &s,
        mi(json!({"network": {"ensemble": {"n": 100}}, "sampling": {"steps": 20000000}})),
        422,
        "spec.sampling.steps",
    )
    .await;
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("10000000"),
        "{p}"
    );
    expect_problem(&s, mi(json!({"network": {"ensemble": {"n": 2000}}, "sampling": {"steps": 10000000, "runs": 64}})), 422, "spec.sampling.steps").await;
    // The random-start attractor search is bounded too.
    let p = expect_problem(
        &s,
        mi(
            json!({"network": {"ensemble": {"n": 1000}}, "sampling": {"steps": 1000, "runs": 1},
        "attractors": {"starts": 100000, "max_steps": 10000000}}),
        ),
        422,
        "spec.attractors",
    )
    .await;
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("exceeds"),
        "{p}"
    );
    // Sweeps, permutations, signs, bias, lag.
    expect_problem(
        &s,
        mi(json!({"network": {"ensemble": {"n": 4}, "sweep": {"param": "q", "values": [1]}}})),
        422,
        "spec.network.sweep.param",
    )
    .await;
    expect_problem(
        &s,
        mi(json!({"network": {"ensemble": {"n": 4}, "sweep": {"param": "std", "values": []}}})),
        422,
        "spec.network.sweep.values",
    )
    .await;
    expect_problem(
        &s,
        mi(json!({"network": {"nrooks": {"n": 3, "q": 1, "permutation": [0, 0, 1]}}})),
        422,
        "spec.network.nrooks.permutation",
    )
    .await;
    expect_problem(
        &s,
        mi(json!({"network": {"nrooks": {"n": 3, "q": 1, "signs": [1, 0.5, 1]}}})),
        422,
        "spec.network.nrooks.signs",
    )
    .await;
    expect_problem(
        &s,
        mi(json!({"network": {"ensemble": {"n": 3}, "bias": [0, 1]}})),
        422,
        "spec.network.bias",
    )
    .await;
    expect_problem(
        &s,
        mi(json!({"network": {"ensemble": {"n": 3}}, "correlation": {"lag": 2}})),
        422,
        "spec.correlation.lag",
    )
    .await;
    // Envelope fields and ?wait.
    expect_problem(
        &s,
        json!({"kind": "mi", "spec": nrooks_spec(3, 1.0), "max_attempts": 0}).to_string(),
        422,
        "max_attempts",
    )
    .await;
    let (status, p) = s
        .post(
            "/v1/jobs?wait=61",
            json!({"kind": "mi", "spec": nrooks_spec(3, 1.0)}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(p["errors"][0]["field"], "wait");
    // Nothing of the above reached the queue.
    let (_, list) = s.get("/v1/jobs").await;
    assert!(list["jobs"].as_array().unwrap().is_empty(), "{list}");
    s.stop().await;
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let s = TestServer::start_with(|c| c.max_body_bytes = 4096).await;
    let row: Vec<f64> = vec![0.5; 40];
    let weights: Vec<Vec<f64>> = vec![row; 40];
    let body = mi(json!({"network": {"weights": weights}}));
    assert!(body.len() > 4096);
    let (status, problem) = s.post_raw("/v1/jobs", body).await;
    assert_eq!(status, 413, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("4096"));
    s.stop().await;
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let s = TestServer::start().await;
    for path in [
        "/v1/jobs/not-a-uuid",
        "/v1/jobs/01890a5d-ac96-774b-bcce-b302099a8057/result",
    ] {
        let (status, problem) = s.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(problem["status"], 404);
    }
    let (status, _) = s
        .post(
            "/v1/jobs/01890a5d-ac96-774b-bcce-b302099a8057/cancel",
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
    s.stop().await;
}
