//! `evolution` jobs over HTTP: results, metrics, artifacts, forks, Pareto mode, determinism and
//! bad specs.

mod common;

use common::*;
use serde_json::{Value, json};

fn small_spec(seed: u64) -> Value {
    json!({
        "n": 4,
        "init": {"ensemble": {"type": "gaussian", "std": 1.0}},
        "strategy": "plus", "parents": 4, "offspring": 12, "generations": 30,
        "mutation": {"std": 0.2, "rate": 1.0},
        "constraint": {"type": "frobenius", "value": 6.0},
        "objectives": [{"name": "mi", "weight": 1.0}],
        "seed": seed, "checkpoint_every": 10
    })
}

async fn run(s: &TestServer, spec: Value) -> Value {
    let (status, body) = s
        .post(
            "/v1/jobs?wait=60",
            json!({"kind": "evolution", "spec": spec}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "succeeded", "{body}");
    body
}

#[tokio::test]
async fn evolution_result_metrics_artifacts_and_fork() {
    let s = TestServer::start().await;
    let body = run(&s, small_spec(1)).await;
    let id = body["id"].as_str().unwrap().to_string();
    let result = &body["result"];
    let best = &result["best"];
    assert_eq!(best["weights"].as_array().unwrap().len(), 4);
    let mi = best["objectives"]["mi_bits"].as_f64().unwrap();
    assert!(mi > 0.0 && mi <= 4.0);
    assert!(
        (best["analysis"]["mi_bits"].as_f64().unwrap() - mi).abs() < 1e-6,
        "the analysis recomputes I exactly"
    );
    let frob: f64 = best["weights"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_f64().unwrap().powi(2))
        .sum();
    assert!(
        (frob.sqrt() - 6.0).abs() < 1e-9,
        "the Frobenius budget holds"
    );
    assert!(best["rook_score"].as_f64().unwrap() > 0.0);
    assert!(best["is_permutation"].is_boolean());
    assert!(result["pareto_front"].is_null());
    assert_eq!(result["mean_period_weighting"], "attractor");
    assert_eq!(result["generations_run"], 30);
    assert!(result["evaluations"].as_u64().unwrap() >= 30 * 12);

    let (_, metrics) = s.get(&format!("/v1/jobs/{id}/metrics")).await;
    let series = metrics["series"].as_array().unwrap();
    assert_eq!(series.len(), 31, "generation 0 and one row per generation");
    for key in [
        "best_mi_bits",
        "mean_mi_bits",
        "std_mi_bits",
        "step_size",
        "best_rook_score",
    ] {
        assert!(
            series[30][key].is_number(),
            "metrics row lacks {key}: {}",
            series[30]
        );
    }
    let bests: Vec<f64> = series
        .iter()
        .map(|r| r["best_mi_bits"].as_f64().unwrap())
        .collect();
    assert!(
        bests.windows(2).all(|w| w[1] >= w[0] - 1e-12),
        "(μ+λ) never loses its best: {bests:?}"
    );
    let (_, cps) = s.get(&format!("/v1/jobs/{id}/checkpoints")).await;
    assert!(!cps.as_array().unwrap().is_empty());

    let npy = s
        .client
        .get(s.url(&format!("/v1/jobs/{id}/artifacts/weights.npy")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let header_len = u16::from_le_bytes([npy[8], npy[9]]) as usize;
    assert!(
        std::str::from_utf8(&npy[10..10 + header_len])
            .unwrap()
            .contains("'shape': (4, 4)")
    );

    // Fork: start a new run from the finished one's best genome.
    let mut fork = small_spec(2);
    fork["init"] = json!({"from_job": id});
    fork["generations"] = json!(5);
    let body = run(&s, fork).await;
    assert_eq!(
        body["spec"]["init"]["population"].as_array().unwrap().len(),
        1
    );
    let forked_best = body["result"]["best"]["objectives"]["mi_bits"]
        .as_f64()
        .unwrap();
    assert!(
        forked_best >= mi - 1e-9,
        "a (μ+λ) fork keeps the best it started from"
    );
    s.stop().await;
}

#[tokio::test]
async fn same_spec_twice_gives_identical_runs() {
    let s = TestServer::start().await;
    let a = run(&s, small_spec(7)).await;
    let b = run(&s, small_spec(7)).await;
    assert_eq!(a["result"]["best"], b["result"]["best"]);
    let (_, ma) = s
        .get(&format!("/v1/jobs/{}/metrics", a["id"].as_str().unwrap()))
        .await;
    let (_, mb) = s
        .get(&format!("/v1/jobs/{}/metrics", b["id"].as_str().unwrap()))
        .await;
    assert_eq!(ma, mb);
    s.stop().await;
}

#[tokio::test]
async fn pareto_mode_returns_a_front() {
    let s = TestServer::start().await;
    let mut spec = small_spec(3);
    spec["mode"] = json!("pareto");
    spec["objectives"] = json!([{"name": "mi"}, {"name": "mean_period"}]);
    let body = run(&s, spec).await;
    let front = body["result"]["pareto_front"].as_array().unwrap();
    assert!(!front.is_empty());
    for p in front {
        assert!(
            p["objectives"]["mi_bits"].is_number() && p["objectives"]["mean_period"].is_number()
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn bad_evolution_specs_are_422_naming_the_field() {
    let s = TestServer::start().await;
    let (_, mi_job) = s
        .post(
            "/v1/jobs?wait=20",
            json!({"kind": "mi", "spec": nrooks_spec(3, 1.0)}),
        )
        .await;
    let mi_id = mi_job["id"].as_str().unwrap();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"n": 17}), "spec."),
        (
            json!({"strategy": "comma", "parents": 20, "offspring": 10}),
            "spec.",
        ),
        (json!({"objectives": []}), "spec.objectives"),
        (
            json!({"constraint": {"type": "frobenius", "value": -1.0}}),
            "spec.constraint",
        ),
        (
            json!({"objectives": [{"name": "beauty"}]}),
            "spec.objectives[0]",
        ),
        (
            json!({"init": {"from_job": "01890a5d-ac96-774b-bcce-b302099a8057"}}),
            "spec.init.from_job",
        ),
        (json!({"init": {"from_job": mi_id}}), "spec.init.from_job"),
        (json!({"n": 0}), "spec.n"),
        (json!({"generations": 0}), "spec.generations"),
        (json!({"colour": "red"}), "spec"),
    ];
    for (patch, field) in cases {
        let mut spec = small_spec(1);
        for (k, v) in patch.as_object().unwrap() {
            spec[k] = v.clone();
        }
        let (status, problem) = s
            .post("/v1/jobs", json!({"kind": "evolution", "spec": spec}))
            .await;
        assert_eq!(status, 422, "{patch} → {problem}");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{patch}: expected {field} in {problem}"
        );
    }
    s.stop().await;
}
