//! Issue 14 through the HTTP API: content types, Host and Origin checks, problem documents for
//! every error, wrong JSON types as 422, the priority bound, bounded metric labels, job-list
//! summaries with a byte budget, and never holding more jobs than compute threads.

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::{Value, json};

async fn raw(
    s: &TestServer,
    req: reqwest::RequestBuilder,
) -> (u16, String, reqwest::header::HeaderMap) {
    let _ = s;
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.text().await.unwrap(), headers)
}

fn is_problem(headers: &reqwest::header::HeaderMap) -> bool {
    headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/problem+json")
}

async fn job_count(s: &TestServer) -> usize {
    let (_, list) = s.get("/v1/jobs?limit=500").await;
    list["jobs"].as_array().unwrap().len()
}

#[tokio::test]
async fn json_bodies_need_the_json_content_type_so_cross_site_posts_fail() {
    let s = TestServer::start().await;
    let body = json!({"kind": "mi", "spec": common::nrooks_spec(3, 2.0)}).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut req = s.client.post(s.url("/v1/jobs")).body(body.clone());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let (status, text, headers) = raw(&s, req).await;
        assert_eq!(status, 415, "{content_type:?}: {text}");
        assert!(is_problem(&headers));
        assert!(text.contains("application/json"), "{text}");
    }
    assert_eq!(job_count(&s).await, 0, "nothing was created");
    let (status, _) = s
        .post("/v1/jobs", serde_json::from_str(&body).unwrap())
        .await;
    assert_eq!(status, 201);
    s.stop().await;
}

#[tokio::test]
async fn foreign_hosts_and_cross_site_origins_are_refused() {
    let s = TestServer::start().await;
    let body = json!({"kind": "mi", "spec": common::nrooks_spec(3, 2.0)});
    // DNS rebinding: a name that resolves to 127.0.0.1 but is not ours.
    let (status, text, headers) = raw(
        &s,
        s.client
            .get(s.url("/v1/jobs"))
            .header("host", "rebind.attacker.example:8080"),
    )
    .await;
    assert_eq!(status, 421, "{text}");
    assert!(is_problem(&headers));
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let (status, text, _) = raw(
            &s,
            s.client
                .post(s.url("/v1/jobs"))
                .header(name, value)
                .json(&body),
        )
        .await;
        assert_eq!(status, 403, "{name}: {value}: {text}");
    }
    assert_eq!(job_count(&s).await, 0);
    let port = s.base.rsplit(':').next().unwrap().to_string();
    let (status, text, _) = raw(
        &s,
        s.client
            .post(s.url("/v1/jobs"))
            .header("origin", format!("http://127.0.0.1:{port}"))
            .header("host", format!("localhost:{port}"))
            .json(&body),
    )
    .await;
    assert_eq!(
        status, 403,
        "an origin other than the host addressed: {text}"
    );
    let (status, _, _) = raw(
        &s,
        s.client
            .post(s.url("/v1/jobs"))
            .header("origin", s.base.clone())
            .json(&body),
    )
    .await;
    assert_eq!(status, 201, "same origin (the dashboard) is fine");
    s.stop().await;
}

#[tokio::test]
async fn every_error_is_a_problem_document() {
    let s = TestServer::start().await;
    let (status, text, headers) = raw(&s, s.client.put(s.url("/v1/jobs"))).await;
    assert_eq!(status, 405);
    assert!(is_problem(&headers), "{text}");
    assert!(headers.contains_key("allow"));
    let problem: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(problem["status"], 405);
    let method = reqwest::Method::from_bytes(b"BREW").unwrap();
    let (status, _, headers) = raw(&s, s.client.request(method, s.url("/v1/jobs"))).await;
    assert_eq!(status, 405);
    assert!(is_problem(&headers));
    let long = "a".repeat(20_000);
    let (status, text, headers) = raw(&s, s.client.get(s.url(&format!("/v1/jobs?x={long}")))).await;
    assert_eq!(status, 414);
    assert!(is_problem(&headers), "{text}");
    let (status, text, headers) = raw(&s, s.client.get(s.url("/v1/jobs/%ff%fe"))).await;
    assert!((400..500).contains(&status), "{status}");
    assert!(is_problem(&headers), "{text}");
    s.stop().await;
}

#[tokio::test]
async fn valid_json_of_the_wrong_shape_is_422_naming_the_field() {
    let s = TestServer::start().await;
    for (body, field) in [
        ("[1,2,3]", "body"),
        ("\"mi\"", "body"),
        (r#"{"kind": 5, "spec": {}}"#, "kind"),
        (r#"{"kind": "mi", "spec": [1]}"#, "spec"),
        (
            r#"{"kind": "mi", "spec": {}, "priority": "high"}"#,
            "priority",
        ),
    ] {
        let (status, problem) = s.post_raw("/v1/jobs", body.to_string()).await;
        assert_eq!(status, 422, "{body}: {problem}");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{body}: {problem}"
        );
    }
    let (status, _) = s.post_raw("/v1/jobs", "{\"kind\": ".into()).await;
    assert_eq!(status, 400, "malformed JSON stays a 400");
    s.stop().await;
}

#[tokio::test]
async fn the_priority_bound_cannot_be_overflowed() {
    let s = TestServer::start().await;
    for p in [i64::MIN, i64::MIN + 1, i64::MAX, -1001, 1001] {
        let (status, problem) = s
            .post(
                "/v1/jobs",
                json!({"kind": "mi", "spec": common::nrooks_spec(3, 2.0), "priority": p}),
            )
            .await;
        assert_eq!(status, 422, "{p}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "priority");
    }
    s.stop().await;
}

#[tokio::test]
async fn made_up_methods_do_not_grow_the_metric_labels() {
    let s = TestServer::start().await;
    for i in 0..300 {
        let method = reqwest::Method::from_bytes(format!("X{i}Y").as_bytes()).unwrap();
        s.client
            .request(method, s.url(&format!("/nope/{i}")))
            .send()
            .await
            .unwrap();
    }
    let text = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("X1Y"), "made-up methods are not labels");
    assert!(!text.contains("/nope/"), "unmatched paths are not labels");
    assert!(text.contains("method=\"OTHER\""));
    assert!(text.len() < 64 * 1024, "{} bytes", text.len());
    s.stop().await;
}

/// An `mi` spec with an explicit n × n weight matrix (a large spec document).
fn big_spec(n: usize, seed: u64) -> Value {
    let weights: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| ((i * 31 + j * 17) % 97) as f64 / 97.0 - 0.5)
                .collect()
        })
        .collect();
    json!({"network": {"weights": weights}, "method": "sampled",
           "sampling": {"steps": 100, "burn_in": 0, "runs": 1}, "seed": seed})
}

#[tokio::test]
async fn the_job_list_returns_summaries_and_pages_specs_under_a_byte_budget() {
    let s = TestServer::start_with(|c| c.runner.max_jobs = 1).await;
    let mut ids = Vec::new();
    for seed in 0..6 {
        ids.push(s.submit("mi", big_spec(400, seed)).await);
    }
    let r = s.client.get(s.url("/v1/jobs")).send().await.unwrap();
    let text = r.text().await.unwrap();
    assert!(
        text.len() < 20_000,
        "summaries are small: {} bytes",
        text.len()
    );
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["jobs"].as_array().unwrap().len(), 6);
    assert!(list["jobs"][0].get("spec").is_none());
    assert!(list["jobs"][0].get("result").is_none());

    // With specs: each ~2.4 MB, so an 8 MiB page holds three; the cursor brings the rest.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/jobs?include=spec&cursor={c}"),
            None => "/v1/jobs?include=spec".to_string(),
        };
        let r = s.client.get(s.url(&path)).send().await.unwrap();
        let text = r.text().await.unwrap();
        assert!(text.len() < 12 << 20, "page of {} bytes", text.len());
        let page: Value = serde_json::from_str(&text).unwrap();
        for j in page["jobs"].as_array().unwrap() {
            assert_eq!(
                j["spec"]["network"]["weights"].as_array().unwrap().len(),
                400
            );
            seen.push(j["id"].as_str().unwrap().to_string());
        }
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert!(pages >= 2, "the budget split the list");
    ids.reverse();
    assert_eq!(seen, ids, "every job once, newest first");
    let (status, problem) = s.get("/v1/jobs?include=result").await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "include");
    s.stop().await;
}

#[tokio::test]
async fn never_more_jobs_held_than_compute_threads() {
    let s = TestServer::start_with(|c| {
        c.runner.threads = 1;
        c.runner.max_jobs = 2;
    })
    .await;
    let long = |seed: u64| json!({"n": 2, "parents": 1, "offspring": 1, "generations": 10_000_000, "seed": seed});
    let a = s.submit("evolution", long(1)).await;
    let b = s.submit("evolution", long(2)).await;
    s.wait_status(&a, &["running"], 30).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, jb) = s.get(&format!("/v1/jobs/{b}")).await;
    assert_eq!(
        jb["status"], "queued",
        "no thread for it: it waits in the queue"
    );
    for id in [&b, &a] {
        let started = tokio::time::Instant::now();
        let (status, _) = s.post(&format!("/v1/jobs/{id}/cancel"), json!({})).await;
        assert_eq!(status, 202);
        s.wait_status(id, &["cancelled"], 5).await;
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    s.stop().await;
}

#[tokio::test]
async fn huge_counts_in_specs_are_422_not_overflow_panics() {
    let s = TestServer::start().await;
    let huge = u64::MAX / 2;
    for dataset in [
        json!({"synthetic": {"task": "integration", "channels": 4, "steps": 40, "threshold": huge, "spread": huge}}),
        json!({"synthetic": {"task": "integration", "channels": 4, "steps": 40, "threshold": 6, "train": huge, "test": huge}}),
        json!({"synthetic": {"task": "coincidence", "channels": 4, "steps": 40, "window": u64::MAX}}),
    ] {
        let (status, problem) = s
            .post(
                "/v1/jobs",
                json!({"kind": "lif", "spec": {"dataset": dataset}}),
            )
            .await;
        assert_eq!(status, 422, "{problem}");
    }
    let (status, _) = s.get("/healthz").await;
    assert_eq!(status, 200);
    s.stop().await;
}
