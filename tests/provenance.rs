//! Issue 18: every result records its provenance: the fluxlab version, the git commit of the
//! build, the resolved spec and seed, the engine's numeric settings and the thread counts.

mod common;

use common::TestServer;
use serde_json::{Value, json};

async fn result_of(s: &TestServer, kind: &str, spec: Value) -> Value {
    let (status, job) = s
        .post("/v1/jobs?wait=60", json!({"kind": kind, "spec": spec}))
        .await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["status"], "succeeded", "{job}");
    let (status, result) = s
        .get(&format!("/v1/jobs/{}/result", job["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        result, job["result"],
        "the wait answer carries the same result"
    );
    let (_, view) = s
        .get(&format!("/v1/jobs/{}", job["id"].as_str().unwrap()))
        .await;
    let p = result["provenance"].clone();
    assert_eq!(p["spec"], view["spec"], "the resolved spec as stored");
    p
}

fn check_common(p: &Value, kind: &str) {
    assert_eq!(p["fluxlab_version"], env!("CARGO_PKG_VERSION"));
    let commit = p["git_commit"].as_str().unwrap();
    assert!(
        commit == "unknown"
            || (commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{commit}"
    );
    // Tests run in a git checkout: the commit is known there.
    if std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.git")).exists() {
        assert_ne!(commit, "unknown");
    }
    assert_eq!(p["kind"], kind);
    assert!(p["threads"].as_u64().unwrap() >= 1);
    assert!(p["host_threads"].as_u64().unwrap() >= 1);
    assert_eq!(p["seed"], p["spec"]["seed"]);
}

#[tokio::test]
async fn results_record_their_provenance() {
    let s = TestServer::start().await;
    // No seed given: the one chosen at submission is recorded.
    let p = result_of(
        &s,
        "mi",
        json!({"network": {"nrooks": {"n": 3, "q": 2.0, "permutation": "ring", "signs": "positive"}},
               "method": "exact"}),
    )
    .await;
    check_common(&p, "mi");
    assert!(p["seed"].as_u64().is_some(), "{p}");
    assert_eq!(p["engine"]["exact"]["tolerance"], 1e-12);
    assert!(p["engine"]["exact"]["max_iterations"].as_u64().unwrap() > 0);
    assert_eq!(p["engine"]["float"], "f64");

    let p = result_of(
        &s,
        "evolution",
        json!({"n": 3, "init": {"ensemble": {"type": "gaussian", "std": 1.0}},
               "strategy": "plus", "parents": 2, "offspring": 4, "generations": 3,
               "objectives": [{"name": "mi", "weight": 1.0}], "seed": 5}),
    )
    .await;
    check_common(&p, "evolution");
    assert_eq!(p["seed"], 5);
    assert_eq!(
        p["engine"]["exact"]["tolerance"],
        p["engine"]["config"]["mi_tolerance"]
    );
    assert_eq!(p["engine"]["config"]["n"], 3);

    let p = result_of(
        &s,
        "lif",
        json!({"dataset": {"synthetic": {"task": "coincidence", "steps": 20, "channels": 4}},
               "encoding": {"type": "raster", "steps": 20},
               "layers": [{"type": "lif", "units": 8}],
               "batch_size": 16, "epochs": 1, "seed": 3}),
    )
    .await;
    check_common(&p, "lif");
    assert_eq!(p["engine"]["float"], "f32");
    assert_eq!(p["engine"]["config"]["seed"], 3);
}
