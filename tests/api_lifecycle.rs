//! HTTP integration tests of the job lifecycle on a real server.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use serde_json::{Value, json};

#[tokio::test]
async fn nrooks_with_wait_returns_the_exact_result() {
    let s = TestServer::start().await;
    let (status, body) = s
        .post(
            "/v1/jobs?wait=30",
            json!({"kind": "mi", "name": "rooks", "spec": nrooks_spec(4, 2.0)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "succeeded");
    assert_eq!(body["name"], "rooks");
    assert_eq!(body["progress"]["fraction"], 1.0);
    let net = &body["result"]["networks"][0];
    assert!(
        (net["mi_bits"].as_f64().unwrap() - 1.89174).abs() < 1e-5,
        "{net}"
    );
    assert!((net["correlation_rms"].as_f64().unwrap() - 0.38080).abs() < 1e-5);
    assert_eq!(net["method"], "exact");
    assert!(net["sampled"].is_null());
    assert!(net["convergence"]["residual_l1"].as_f64().unwrap() < 1e-9);
    assert_eq!(net["attractors"]["method"], "exhaustive");
    // Ring of 4 positive rooks: 6 attractors (SCIENCE.md table).
    assert_eq!(net["attractors"]["count"], 6);
    let id = body["id"].as_str().unwrap();

    let (status, result) = s.get(&format!("/v1/jobs/{id}/result")).await;
    assert_eq!(status, 200);
    assert_eq!(result["summary"]["count"], 1);
    let (_, metrics) = s.get(&format!("/v1/jobs/{id}/metrics")).await;
    assert_eq!(metrics["series"].as_array().unwrap().len(), 1);
    assert_eq!(metrics["series"][0]["step"], 0);

    let r = s
        .client
        .delete(s.url(&format!("/v1/jobs/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, problem) = s.get(&format!("/v1/jobs/{id}")).await;
    assert_eq!(status, 404);
    assert_eq!(problem["status"], 404);
    s.stop().await;
}

#[tokio::test]
async fn submit_without_wait_is_201_with_location_and_recorded_seed() {
    let s = TestServer::start().await;
    let mut spec = nrooks_spec(3, 1.0);
    spec.as_object_mut().unwrap().remove("seed");
    let r = s
        .client
        .post(s.url("/v1/jobs"))
        .json(&json!({"kind": "mi", "spec": spec, "priority": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let view: Value = r.json().await.unwrap();
    assert_eq!(
        location,
        format!("/v1/jobs/{}", view["id"].as_str().unwrap())
    );
    assert_eq!(view["priority"], 5);
    assert!(
        view["spec"]["seed"].is_u64(),
        "a seed is chosen and recorded: {view}"
    );
    for key in [
        "id",
        "kind",
        "status",
        "attempts",
        "max_attempts",
        "progress",
        "created_at",
        "error",
        "spec",
    ] {
        assert!(view.get(key).is_some(), "job view lacks {key}");
    }
    s.wait_status(view["id"].as_str().unwrap(), &["succeeded"], 30)
        .await;
    s.stop().await;
}

#[tokio::test]
async fn gaussian_sweep_reports_every_network_and_spearman() {
    let s = TestServer::start().await;
    let spec = json!({
        "network": {"ensemble": {"type": "gaussian", "n": 6, "std": 1.0, "replicates": 2},
                    "sweep": {"param": "std", "values": [0.1, 0.3, 0.6, 1.0]}},
        "method": "exact", "seed": 3
    });
    let (status, body) = s
        .post("/v1/jobs?wait=60", json!({"kind": "mi", "spec": spec}))
        .await;
    assert_eq!(status, 200, "{body}");
    let result = &body["result"];
    let nets = result["networks"].as_array().unwrap();
    assert_eq!(nets.len(), 8);
    assert_eq!(nets[0]["params"]["std"], 0.1);
    assert_eq!(nets[7]["params"]["std"], 1.0);
    assert_eq!(nets[1]["replicate"], 1);
    // Common random numbers: replicate r scales the same matrix across std values.
    let w0 = nets[0]["weights"][0][1].as_f64().unwrap();
    let w6 = nets[6]["weights"][0][1].as_f64().unwrap();
    assert!((w6 - w0 * 10.0).abs() < 1e-9);
    let rho = result["summary"]["spearman_mi_vs_correlation"]
        .as_f64()
        .unwrap();
    assert!(
        rho > 0.7,
        "I and C should rise together in a weak-to-moderate sweep: {rho}"
    );
    s.stop().await;
}

#[tokio::test]
async fn list_filters_and_pages() {
    let s = TestServer::start().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(s.submit("mi", nrooks_spec(3, 1.0)).await);
    }
    for id in &ids {
        s.wait_status(id, &["succeeded"], 30).await;
    }
    let (_, page1) = s.get("/v1/jobs?limit=2&kind=mi&status=succeeded").await;
    let jobs1 = page1["jobs"].as_array().unwrap();
    assert_eq!(jobs1.len(), 2);
    assert_eq!(jobs1[0]["id"], ids[4].as_str(), "newest first");
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = s.get(&format!("/v1/jobs?limit=2&cursor={cursor}")).await;
    assert_eq!(page2["jobs"][0]["id"], ids[2].as_str());
    let (_, page3) = s
        .get(&format!(
            "/v1/jobs?limit=2&cursor={}",
            page2["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(page3["jobs"].as_array().unwrap().len(), 1);
    assert!(page3["next_cursor"].is_null());
    let (_, none) = s.get("/v1/jobs?status=failed").await;
    assert!(none["jobs"].as_array().unwrap().is_empty());
    let (status, problem) = s.get("/v1/jobs?status=bogus").await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "status");
    let (status, problem) = s.get("/v1/jobs?limit=501").await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "limit");
    s.stop().await;
}

#[tokio::test]
async fn hundred_concurrent_submissions_all_finish() {
    let s = TestServer::start().await;
    let futures = (0..100).map(|i| {
        let spec =
            json!({"network": {"ensemble": {"n": 4, "std": 0.5 + i as f64 * 0.01}}, "seed": i});
        let client = s.client.clone();
        let url = s.url("/v1/jobs");
        async move {
            let r = client
                .post(url)
                .json(&json!({"kind": "mi", "spec": spec}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    });
    let ids: Vec<String> = futures::future::join_all(futures).await;
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 100);
    for id in &ids {
        s.wait_status(id, &["succeeded"], 120).await;
    }
    let (_, all) = s.get("/v1/jobs?limit=500&status=succeeded").await;
    assert_eq!(all["jobs"].as_array().unwrap().len(), 100);
    s.stop().await;
}

/// A sampled sweep that takes several seconds: for cancel, resume and SSE tests.
fn slow_spec(seed: u64) -> Value {
    json!({
        "network": {"ensemble": {"n": 30, "std": 0.3, "replicates": 1},
                    "sweep": {"param": "std", "values": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
                                                         1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0]}},
        "method": "sampled",
        "sampling": {"steps": 150000, "burn_in": 100, "runs": 2},
        "attractors": false,
        "seed": seed
    })
}

#[tokio::test]
async fn cancel_queued_and_running_then_resume() {
    let s = TestServer::start_with(|c| c.runner.max_jobs = 1).await;
    let running = s.submit("mi", slow_spec(1)).await;
    let queued = s.submit("mi", slow_spec(2)).await;
    s.wait_status(&running, &["running"], 10).await;

    let (status, view) = s
        .post(&format!("/v1/jobs/{queued}/cancel"), json!({}))
        .await;
    assert_eq!(status, 202);
    assert_eq!(
        view["status"], "cancelled",
        "a queued job is cancelled at once"
    );

    // Let it finish a few networks, then cancel: it checkpoints and stops.
    s.wait_metrics(&running, 2).await;
    let (status, _) = s
        .post(&format!("/v1/jobs/{running}/cancel"), json!({}))
        .await;
    assert_eq!(status, 202);
    let job = s.wait_status(&running, &["cancelled"], 30).await;
    assert!(job["finished_at"].is_string());
    let (_, cps) = s.get(&format!("/v1/jobs/{running}/checkpoints")).await;
    assert!(
        !cps.as_array().unwrap().is_empty(),
        "a cancelled running job leaves a checkpoint"
    );
    let (_, latest) = s
        .get(&format!("/v1/jobs/{running}/checkpoints/latest"))
        .await;
    let done_before = latest["data"]["networks"].as_array().unwrap().len();
    assert!(done_before >= 2);

    let (status, _) = s.get(&format!("/v1/jobs/{running}/result")).await;
    assert_eq!(status, 409);
    let (status, problem) = s
        .post(&format!("/v1/jobs/{running}/cancel"), json!({}))
        .await;
    assert_eq!(status, 409);
    assert_eq!(problem["job_status"], "cancelled");

    let (status, view) = s
        .post(&format!("/v1/jobs/{running}/resume"), json!({}))
        .await;
    assert_eq!(status, 202);
    assert_eq!(view["status"], "queued");
    s.wait_status(&running, &["succeeded"], 300).await;
    let (_, result) = s.get(&format!("/v1/jobs/{running}/result")).await;
    assert_eq!(result["networks"].as_array().unwrap().len(), 20);
    let (status, _) = s
        .post(&format!("/v1/jobs/{running}/resume"), json!({}))
        .await;
    assert_eq!(status, 409, "a succeeded job cannot be resumed");
    s.stop().await;
}

#[tokio::test]
async fn delete_of_active_job_is_409() {
    let s = TestServer::start_with(|c| c.runner.max_jobs = 1).await;
    let id = s.submit("mi", slow_spec(5)).await;
    let r = s
        .client
        .delete(s.url(&format!("/v1/jobs/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let problem: Value = r.json().await.unwrap();
    assert!(problem["job_status"] == "queued" || problem["job_status"] == "running");
    s.post(&format!("/v1/jobs/{id}/cancel"), json!({})).await;
    s.wait_status(&id, &["cancelled"], 30).await;
    let r = s
        .client
        .delete(s.url(&format!("/v1/jobs/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    s.stop().await;
}

#[tokio::test]
async fn events_stream_snapshot_progress_metrics_and_done() {
    let s = TestServer::start().await;
    let spec = json!({
        "network": {"ensemble": {"n": 12, "std": 1.0, "replicates": 6}},
        "method": "exact", "seed": 9
    });
    let id = s.submit("mi", spec).await;
    let response = s
        .client
        .get(s.url(&format!("/v1/jobs/{id}/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !text.contains("event: done") {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("SSE timed out");
        match chunk {
            Some(Ok(bytes)) => text.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(names.first(), Some(&"snapshot"), "{text}");
    assert!(names.contains(&"progress"), "{names:?}");
    assert!(names.contains(&"metrics"), "{names:?}");
    assert_eq!(names.last(), Some(&"done"));
    let done_data = text
        .split("event: done\ndata: ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    let done: Value = serde_json::from_str(done_data).unwrap();
    assert_eq!(done["status"], "succeeded");
    s.stop().await;
}

#[tokio::test]
async fn service_endpoints() {
    let s = TestServer::start().await;
    assert_eq!(s.get("/healthz").await.0, 200);
    assert_eq!(s.get("/readyz").await.0, 200);
    let (_, doc) = s.get("/openapi.json").await;
    assert!(doc["paths"]["/v1/jobs"]["post"].is_object());
    for path in [
        "/v1/jobs/{id}/events",
        "/v1/jobs/{id}/artifacts/{name}",
        "/v1/jobs/{id}/checkpoints/latest",
        "/metrics",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["MiSpec"].is_object());
    s.post(
        "/v1/jobs?wait=20",
        json!({"kind": "mi", "spec": nrooks_spec(3, 1.0)}),
    )
    .await;
    let text = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("fluxlab_jobs{status=\"succeeded\"} 1"),
        "{text}"
    );
    assert!(text.contains("fluxlab_queue_depth"));
    assert!(text.contains("fluxlab_http_request_duration_seconds_bucket"));
    assert!(
        text.contains(
            "fluxlab_job_run_duration_seconds_count{kind=\"mi\",outcome=\"succeeded\"} 1"
        ),
        "{text}"
    );
    let (status, problem) = s.get("/v1/nothing").await;
    assert_eq!(status, 404);
    assert_eq!(problem["status"], 404);
    s.stop().await;
}

#[tokio::test]
async fn graceful_shutdown_requeues_and_restart_finishes_identically() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("shutdown.db").display());
    let reference = {
        let s = TestServer::start().await;
        let (status, body) = s
            .post(
                "/v1/jobs?wait=60",
                json!({"kind": "mi", "spec": slow_spec(11)}),
            )
            .await;
        assert_eq!(status, 200);
        let r = body["result"]["networks"].clone();
        s.stop().await;
        r
    };
    let db1 = db.clone();
    let s = TestServer::start_with(move |c| c.runner.database = db1).await;
    let id = s.submit("mi", slow_spec(11)).await;
    s.wait_metrics(&id, 3).await;
    s.stop().await;
    let db2 = db.clone();
    let s = TestServer::start_with(move |c| c.runner.database = db2).await;
    let job = s.wait_status(&id, &["succeeded"], 120).await;
    assert_eq!(
        job["attempts"], 1,
        "a graceful interruption does not use up an attempt"
    );
    let (_, result) = s.get(&format!("/v1/jobs/{id}/result")).await;
    assert_eq!(result["networks"], reference);
    s.stop().await;
}

#[tokio::test]
async fn artifacts_csv_and_npy() {
    let s = TestServer::start().await;
    let spec =
        json!({"network": {"ensemble": {"n": 5, "replicates": 3}}, "method": "exact", "seed": 4});
    let (status, body) = s
        .post("/v1/jobs?wait=30", json!({"kind": "mi", "spec": spec}))
        .await;
    assert_eq!(status, 200);
    let id = body["id"].as_str().unwrap();
    let csv = s
        .client
        .get(s.url(&format!("/v1/jobs/{id}/artifacts/metrics.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("step,"), "{text}");
    assert_eq!(text.lines().count(), 4);
    let npy = s
        .client
        .get(s.url(&format!("/v1/jobs/{id}/artifacts/weights.npy")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&npy[..6], b"\x93NUMPY");
    let header_len = u16::from_le_bytes([npy[8], npy[9]]) as usize;
    let header = std::str::from_utf8(&npy[10..10 + header_len]).unwrap();
    assert!(header.contains("'shape': (3, 5, 5)"), "{header}");
    let first = f64::from_le_bytes(npy[10 + header_len..18 + header_len].try_into().unwrap());
    assert_eq!(
        first,
        body["result"]["networks"][0]["weights"][0][0]
            .as_f64()
            .unwrap()
    );
    let (status, json) = s
        .get(&format!("/v1/jobs/{id}/artifacts/weights.json"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(json["networks"].as_array().unwrap().len(), 3);
    let (status, problem) = s.get(&format!("/v1/jobs/{id}/artifacts/model.json")).await;
    assert_eq!(status, 404);
    assert!(
        problem["detail"].as_str().unwrap().contains("weights.npy"),
        "{problem}"
    );
    s.stop().await;
}
