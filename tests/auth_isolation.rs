//! Issue 15: tokens and isolation. An isolation matrix over every route of `/openapi.json`
//! (so a new route cannot be forgotten) for user A, user B, an admin, no token, a revoked, an
//! expired and a malformed token; quotas and rate limits at their edges; fair scheduling; and
//! tokens never stored or logged in clear.

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::{Value, json};

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn call(
    s: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let mut req = s.client.request(m, s.url(path));
    if let Some(t) = token {
        req = req.header("authorization", bearer(t));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let www = r.headers().get("www-authenticate").is_some();
    let text = r.text().await.unwrap_or_default();
    if status == 401 {
        assert!(www, "401 without WWW-Authenticate on {method} {path}");
    }
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn quick_job() -> Value {
    json!({"kind": "mi", "spec": common::nrooks_spec(3, 2.0)})
}

#[tokio::test]
async fn every_route_isolates_users_and_rejects_bad_tokens() {
    let s = TestServer::start().await;
    let a = s.user_with_token("alice", false);
    let b = s.user_with_token("bob", false);
    let admin = s.user_with_token("root", true);
    let created = s.cli(&["token", "create", "--user", "alice", "--name", "to-revoke"]);
    let revoked = created.lines().next().unwrap().trim().to_string();
    let revoked_id = created
        .split_whitespace()
        .find(|w| w.starts_with("tok_"))
        .unwrap()
        .to_string();
    let expired = s.token_for("alice", &["--expires", "1s"]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let malformed = format!("{}x", &a[..a.len() - 1]);

    // Alice's job, done, so result/artifact/plot routes have something to show.
    let (status, job) = call(&s, "POST", "/v1/jobs?wait=30", Some(&a), Some(quick_job())).await;
    assert_eq!(status, 200, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let (_, tokens) = call(&s, "GET", "/v1/tokens", Some(&a), None).await;
    assert_eq!(
        tokens.as_array().unwrap().len(),
        3,
        "alice lists her own tokens only: {tokens}"
    );
    let (st, _) = call(
        &s,
        "DELETE",
        &format!("/v1/tokens/{revoked_id}"),
        Some(&b),
        None,
    )
    .await;
    assert_eq!(st, 404, "bob cannot revoke alice's token");
    let (st, _) = call(
        &s,
        "DELETE",
        &format!("/v1/tokens/{revoked_id}"),
        Some(&a),
        None,
    )
    .await;
    assert_eq!(st, 204, "alice revokes her own");
    let (st, _) = call(&s, "GET", "/v1/users/me", Some(&revoked), None).await;
    assert_eq!(st, 401, "a revoked token no longer works");

    let (_, doc) = call(&s, "GET", "/openapi.json", None, None).await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "routes enumerated from the document");
    let mut checked = 0;
    for (template, ops) in paths {
        if !template.starts_with("/v1/") {
            continue;
        }
        let path = template
            .replace("{id}", &id)
            .replace(
                "{name}",
                if template.contains("artifacts") {
                    "weights.npy"
                } else {
                    "nobody"
                },
            )
            .replace("{file}", "mi_vs_correlation.svg");
        for (method, _) in ops.as_object().unwrap() {
            if !["get", "post", "delete", "patch", "put"].contains(&method.as_str()) {
                continue;
            }
            // Never delete alice's job or users in the matrix; those are checked below.
            let destructive = method == "delete";
            for bad in [
                None,
                Some(revoked.as_str()),
                Some(expired.as_str()),
                Some(malformed.as_str()),
            ] {
                let (status, problem) = call(&s, method, &path, bad, Some(json!({}))).await;
                assert_eq!(status, 401, "{method} {path} with {bad:?}: {problem}");
                let text = problem.to_string();
                assert!(!text.contains(&id), "a 401 reveals nothing: {text}");
            }
            if template.contains("{id}")
                && !template.starts_with("/v1/tokens")
                && !template.starts_with("/v1/datasets")
            {
                let (status, problem) = call(&s, method, &path, Some(&b), Some(json!({}))).await;
                assert_eq!(status, 404, "bob on alice's {method} {path}: {problem}");
                if !destructive {
                    // A 404 here may only be about the artifact or plot, never the job.
                    for (who, token) in [("alice", &a), ("the admin", &admin)] {
                        let (status, problem) =
                            call(&s, method, &path, Some(token), Some(json!({}))).await;
                        assert_ne!(status, 401);
                        assert!(
                            status != 404 || !problem.to_string().contains("no job"),
                            "{who} on alice's {method} {path}: {problem}"
                        );
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} operations checked");

    // Listing: each sees their own; the admin everyone's (or one owner's).
    let count = |v: &Value| v["jobs"].as_array().unwrap().len();
    assert_eq!(
        count(&call(&s, "GET", "/v1/jobs", Some(&a), None).await.1),
        1
    );
    assert_eq!(
        count(&call(&s, "GET", "/v1/jobs", Some(&b), None).await.1),
        0
    );
    assert_eq!(
        count(
            &call(&s, "GET", "/v1/jobs?owner=alice", Some(&b), None)
                .await
                .1
        ),
        0
    );
    assert_eq!(
        count(&call(&s, "GET", "/v1/jobs", Some(&admin), None).await.1),
        1
    );
    assert_eq!(
        count(
            &call(&s, "GET", "/v1/jobs?owner=bob", Some(&admin), None)
                .await
                .1
        ),
        0
    );
    // A fork may only name your own job.
    let fork =
        json!({"kind": "evolution", "spec": {"n": 3, "generations": 2, "init": {"from_job": id}}});
    let (status, problem) = call(&s, "POST", "/v1/jobs", Some(&b), Some(fork)).await;
    assert_eq!(status, 422, "{problem}");
    // Admin-only routes are 403 for others; users and tokens are managed by admins.
    assert_eq!(call(&s, "GET", "/v1/users", Some(&b), None).await.0, 403);
    assert_eq!(call(&s, "GET", "/v1/audit", Some(&b), None).await.0, 403);
    let (status, created) = call(
        &s,
        "POST",
        "/v1/users",
        Some(&admin),
        Some(json!({"name": "carol"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (status, tok) = call(
        &s,
        "POST",
        "/v1/tokens",
        Some(&admin),
        Some(json!({"user": "carol", "name": "ci"})),
    )
    .await;
    assert_eq!(status, 201, "{tok}");
    let carol = tok["token"].as_str().unwrap();
    assert_eq!(
        call(&s, "GET", "/v1/users/me", Some(carol), None).await.1["name"],
        "carol"
    );
    let (_, audit) = call(&s, "GET", "/v1/audit", Some(&admin), None).await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for expected in ["job.submit", "token.revoke", "user.add", "token.create"] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    s.stop().await;
}

#[tokio::test]
async fn tokens_are_never_stored_or_logged_in_clear() {
    let s = TestServer::start().await;
    let token = s.user_with_token("alice", true);
    let (status, _) = call(&s, "GET", "/v1/users/me", Some(&token), None).await;
    assert_eq!(status, 200);
    let secret = &token[4..];
    let path = s.db.trim_start_matches("sqlite://").to_string();
    s.stop().await;
    for suffix in ["", "-wal"] {
        if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(secret),
                "the token is in the database file{suffix}"
            );
        }
    }
}

#[tokio::test]
async fn quotas_and_rate_limits_hold_at_their_edges() {
    let s = TestServer::start_with(|c| {
        c.rate_limit = 5.0;
        c.runner.max_jobs = 1;
        c.runner.threads = 1;
    })
    .await;
    let b = s.user_with_token("bob", false);
    s.cli(&[
        "user",
        "set",
        "bob",
        "--max-queued",
        "2",
        "--max-dataset-bytes",
        "10",
    ]);
    let long = json!({"kind": "evolution", "spec": {"n": 2, "parents": 1, "offspring": 1, "generations": 10_000_000}});
    // One runs, two wait: the third waiting job is over the quota.
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (status, job) = call(&s, "POST", "/v1/jobs", Some(&b), Some(long.clone())).await;
        assert_eq!(status, 201, "{job}");
        ids.push(job["id"].as_str().unwrap().to_string());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (status, problem) = call(&s, "POST", "/v1/jobs", Some(&b), Some(long.clone())).await;
    assert_eq!(status, 429, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("max_queued"),
        "{problem}"
    );
    // Storage quota: a tiny dataset is over 10 bytes.
    let form = reqwest::multipart::Form::new()
        .text("name", "tiny")
        .part(
            "images",
            reqwest::multipart::Part::bytes(vec![
                0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7,
            ]),
        )
        .part(
            "labels",
            reqwest::multipart::Part::bytes(vec![0, 0, 8, 1, 0, 0, 0, 1, 0]),
        );
    let r = s
        .client
        .post(s.url("/v1/datasets"))
        .header("authorization", bearer(&b))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let problem: Value = r.json().await.unwrap();
    assert_eq!(status, 413, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("max_dataset_bytes")
    );
    for id in &ids {
        call(&s, "POST", &format!("/v1/jobs/{id}/cancel"), Some(&b), None).await;
    }
    // Rate limit: a burst of 10 passes, then 429 with Retry-After.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut limited = None;
    for i in 0..30 {
        let r = s
            .client
            .get(s.url("/v1/users/me"))
            .header("authorization", bearer(&b))
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == 429 {
            limited = Some((i, r.headers().get("retry-after").cloned()));
            break;
        }
    }
    let (after, retry) = limited.expect("the rate limit answered 429");
    assert!(after >= 9, "the burst passed first ({after})");
    assert!(retry.is_some(), "429 carries Retry-After");
    s.stop().await;
}

#[tokio::test]
async fn one_users_queue_does_not_starve_another() {
    let s = TestServer::start_with(|c| {
        c.runner.max_jobs = 1;
        c.runner.threads = 1;
    })
    .await;
    let a = s.user_with_token("alice", false);
    let b = s.user_with_token("bob", false);
    let job = |gens: u64| json!({"kind": "evolution", "spec": {"n": 2, "parents": 1, "offspring": 1, "generations": gens}});
    let mut alices = Vec::new();
    for _ in 0..10 {
        let (status, j) = call(&s, "POST", "/v1/jobs", Some(&a), Some(job(10_000_000))).await;
        assert_eq!(status, 201);
        alices.push(j["id"].as_str().unwrap().to_string());
    }
    let (_, bobs) = call(&s, "POST", "/v1/jobs", Some(&b), Some(job(1_000))).await;
    let bob_job = bobs["id"].as_str().unwrap().to_string();
    // Alice's first job holds the only slot; when it ends, bob's single job is next.
    for _ in 0..300 {
        let (_, j) = call(
            &s,
            "GET",
            &format!("/v1/jobs/{}", alices[0]),
            Some(&a),
            None,
        )
        .await;
        if j["status"] == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    call(
        &s,
        "POST",
        &format!("/v1/jobs/{}/cancel", alices[0]),
        Some(&a),
        None,
    )
    .await;
    // Compare start times (RFC 3339 in UTC sorts as text), not the order a poll saw them in.
    let mut bob_started = None;
    for _ in 0..300 {
        let (_, j) = call(&s, "GET", &format!("/v1/jobs/{bob_job}"), Some(&b), None).await;
        if let Some(t) = j["started_at"].as_str() {
            bob_started = Some(t.to_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let bob_started = bob_started.expect("bob's job started");
    for id in &alices[1..] {
        let (_, j) = call(&s, "GET", &format!("/v1/jobs/{id}"), Some(&a), None).await;
        if let Some(t) = j["started_at"].as_str() {
            assert!(
                t >= bob_started.as_str(),
                "alice's {id} started at {t}, before bob's at {bob_started}"
            );
        }
    }
    for id in &alices {
        call(&s, "POST", &format!("/v1/jobs/{id}/cancel"), Some(&a), None).await;
    }
    s.stop().await;
}

#[tokio::test]
async fn configured_origins_get_cors_and_usage_shows_per_user_in_metrics_and_audit() {
    let s =
        TestServer::start_with(|c| c.cors_origins = vec!["http://notebook.example".into()]).await;
    let admin = s.user_with_token("root", true);
    let b = s.user_with_token("bob", false);
    let preflight = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/v1/jobs"))
        .header("origin", "http://notebook.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "http://notebook.example"
    );
    let from = |origin: &'static str| {
        s.client
            .post(s.url("/v1/jobs"))
            .header("origin", origin)
            .header("authorization", bearer(&b))
            .json(&quick_job())
    };
    assert_eq!(
        from("http://notebook.example")
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(
        from("http://evil.example").send().await.unwrap().status(),
        403
    );
    let r = s
        .client
        .get(s.url("/v1/jobs"))
        .header("origin", "http://evil.example")
        .header("authorization", bearer(&b))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers().get("access-control-allow-origin").is_none(),
        "no CORS for other origins"
    );
    let metrics = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("user=\"bob\""), "{metrics}");
    assert!(metrics.contains("fluxlab_user_slot_seconds"));
    let (_, audit) = call(&s, "GET", "/v1/audit", Some(&admin), None).await;
    let submit = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "job.submit")
        .unwrap();
    assert_eq!(submit["actor"], "bob");
    assert!(
        submit["remote"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{submit}"
    );
    s.stop().await;
}

#[tokio::test]
async fn max_running_holds_a_users_further_jobs_while_slots_are_free() {
    let s = TestServer::start_with(|c| {
        c.runner.max_jobs = 2;
        c.runner.threads = 2;
    })
    .await;
    let a = s.user_with_token("alice", false);
    s.cli(&["user", "set", "alice", "--max-running", "1"]);
    let long = json!({"kind": "evolution", "spec": {"n": 2, "parents": 1, "offspring": 1, "generations": 10_000_000}});
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, j) = call(&s, "POST", "/v1/jobs", Some(&a), Some(long.clone())).await;
        assert_eq!(status, 201);
        ids.push(j["id"].as_str().unwrap().to_string());
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, me) = call(&s, "GET", "/v1/users/me", Some(&a), None).await;
    assert_eq!(me["running"], 1, "{me}");
    assert_eq!(me["queued"], 1, "{me}");
    assert_eq!(me["quotas"]["max_running"], 1);
    for id in &ids {
        call(&s, "POST", &format!("/v1/jobs/{id}/cancel"), Some(&a), None).await;
    }
    s.stop().await;
}
