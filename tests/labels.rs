//! Issue 18: idempotent submission (`Idempotency-Key`), tags and notes, the `name` and `tag`
//! filters of the job list, and `PATCH /v1/jobs/{id}` with its isolation between users.

mod common;

use common::TestServer;
use serde_json::{Value, json};

async fn send(
    s: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = s.client.request(m, s.url(path));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn job_body(seed: u64) -> String {
    json!({"kind": "mi", "spec": {
        "network": {"nrooks": {"n": 3, "q": 2.0, "permutation": "ring", "signs": "positive"}},
        "method": "exact", "seed": seed}})
    .to_string()
}

fn ids(list: &Value) -> Vec<String> {
    list["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_retried_submission_returns_the_first_job() {
    let s = TestServer::start().await;
    let (status, first) = send(
        &s,
        "POST",
        "/v1/jobs",
        None,
        Some("run-1"),
        Some(&job_body(1)),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    // The same body, re-serialised with other spacing and key order, is the same request.
    let same: Value = serde_json::from_str(&job_body(1)).unwrap();
    let respaced = format!(
        "{{ \"spec\": {},  \"kind\": \"mi\" }}",
        serde_json::to_string_pretty(&same["spec"]).unwrap()
    );
    let (status, again) = send(&s, "POST", "/v1/jobs", None, Some("run-1"), Some(&respaced)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], first["id"]);
    // With ?wait= the replay waits for the first job like a fresh submission would.
    let (status, waited) = send(
        &s,
        "POST",
        "/v1/jobs?wait=30",
        None,
        Some("run-1"),
        Some(&job_body(1)),
    )
    .await;
    assert_eq!(status, 200, "{waited}");
    assert_eq!(waited["id"], first["id"]);
    assert_eq!(waited["status"], "succeeded");
    // A different body under the same key is refused, naming the header and the first job.
    let (status, problem) = send(
        &s,
        "POST",
        "/v1/jobs",
        None,
        Some("run-1"),
        Some(&job_body(2)),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["errors"][0]["field"], "Idempotency-Key",
        "{problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(first["id"].as_str().unwrap())
    );
    // Another key, or none, makes a new job.
    let (status, other) = send(
        &s,
        "POST",
        "/v1/jobs",
        None,
        Some("run-2"),
        Some(&job_body(1)),
    )
    .await;
    assert_eq!(status, 201);
    assert_ne!(other["id"], first["id"]);
    let (status, plain) = send(&s, "POST", "/v1/jobs", None, None, Some(&job_body(1))).await;
    assert_eq!(status, 201);
    assert_ne!(plain["id"], first["id"]);
    assert_eq!(ids(&s.get("/v1/jobs").await.1).len(), 3);
}

#[tokio::test]
async fn bad_keys_are_refused_naming_the_header() {
    let s = TestServer::start().await;
    let long = "k".repeat(256);
    for key in [long.as_str(), "tab\tkey"] {
        let (status, problem) =
            send(&s, "POST", "/v1/jobs", None, Some(key), Some(&job_body(1))).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    }
    let longest = "k".repeat(255);
    let (status, _) = send(
        &s,
        "POST",
        "/v1/jobs",
        None,
        Some(&longest),
        Some(&job_body(1)),
    )
    .await;
    assert_eq!(status, 201);
    // An invalid spec under a fresh key stores nothing; the key stays free.
    let (status, _) = send(
        &s,
        "POST",
        "/v1/jobs",
        None,
        Some("k2"),
        Some(r#"{"kind":"mi","spec":{}}"#),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = send(&s, "POST", "/v1/jobs", None, Some("k2"), Some(&job_body(1))).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn simultaneous_submissions_with_one_key_make_one_job() {
    let s = TestServer::start().await;
    let body = job_body(7);
    let calls = (0..8).map(|_| send(&s, "POST", "/v1/jobs", None, Some("burst"), Some(&body)));
    let answers = futures::future::join_all(calls).await;
    let created = answers.iter().filter(|(st, _)| *st == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    assert!(
        answers.iter().all(|(st, _)| *st == 201 || *st == 200),
        "{answers:?}"
    );
    let first = &answers[0].1["id"];
    assert!(answers.iter().all(|(_, job)| &job["id"] == first));
    assert_eq!(ids(&s.get("/v1/jobs").await.1).len(), 1);
}

#[tokio::test]
async fn keys_belong_to_their_user() {
    let s = TestServer::start().await;
    let a = s.user_with_token("alice", false);
    let b = s.user_with_token("bob", false);
    let (st, ja) = send(
        &s,
        "POST",
        "/v1/jobs",
        Some(&a),
        Some("shared"),
        Some(&job_body(1)),
    )
    .await;
    assert_eq!(st, 201);
    // Bob's key of the same spelling is his own: a new job, and he never sees alice's.
    let (st, jb) = send(
        &s,
        "POST",
        "/v1/jobs",
        Some(&b),
        Some("shared"),
        Some(&job_body(2)),
    )
    .await;
    assert_eq!(st, 201, "{jb}");
    assert_ne!(ja["id"], jb["id"]);
}

#[tokio::test]
async fn tags_and_notes_label_filter_and_edit_jobs() {
    let s = TestServer::start().await;
    let a = s.user_with_token("alice", false);
    let b = s.user_with_token("bob", false);
    let admin = s.user_with_token("root", true);
    let labelled = |seed: u64, name: &str, tags: Value| {
        let mut body: Value = serde_json::from_str(&job_body(seed)).unwrap();
        body["name"] = json!(name);
        body["tags"] = tags;
        body["notes"] = json!(format!("seed {seed}"));
        body.to_string()
    };
    let (st, j1) = send(
        &s,
        "POST",
        "/v1/jobs",
        Some(&a),
        None,
        Some(&labelled(1, "sweep", json!(["sweep", "q=2"]))),
    )
    .await;
    assert_eq!(st, 201, "{j1}");
    assert_eq!(j1["tags"], json!(["sweep", "q=2"]));
    assert_eq!(j1["notes"], "seed 1");
    let (_, j2) = send(
        &s,
        "POST",
        "/v1/jobs",
        Some(&a),
        None,
        Some(&labelled(2, "sweep", json!(["sweep"]))),
    )
    .await;
    let (_, j3) = send(
        &s,
        "POST",
        "/v1/jobs",
        Some(&a),
        None,
        Some(&labelled(3, "other", json!([]))),
    )
    .await;
    let (id1, id2, id3) = (
        j1["id"].as_str().unwrap(),
        j2["id"].as_str().unwrap(),
        j3["id"].as_str().unwrap(),
    );

    let list = |q: &'static str, who: String| {
        let s = &s;
        async move { send(s, "GET", q, Some(&who), None, None).await }
    };
    let (st, page) = list("/v1/jobs?tag=sweep", a.clone()).await;
    assert_eq!(st, 200);
    assert_eq!(ids(&page), [id2, id1]);
    assert_eq!(
        page["jobs"][1]["tags"],
        json!(["sweep", "q=2"]),
        "summaries show tags"
    );
    assert_eq!(page["jobs"][1]["notes"], "seed 1");
    assert_eq!(ids(&list("/v1/jobs?tag=q%3D2", a.clone()).await.1), [id1]);
    assert_eq!(
        ids(&list("/v1/jobs?name=sweep", a.clone()).await.1),
        [id2, id1]
    );
    assert_eq!(
        ids(&list("/v1/jobs?name=swe", a.clone()).await.1),
        Vec::<String>::new(),
        "names match exactly"
    );
    assert_eq!(
        ids(&list("/v1/jobs?name=other&tag=sweep", a.clone()).await.1),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&list("/v1/jobs?tag=Sweep", a.clone()).await.1),
        Vec::<String>::new(),
        "tags are case-sensitive"
    );
    // Bob sees none of alice's jobs through the filters.
    assert_eq!(
        ids(&list("/v1/jobs?tag=sweep", b.clone()).await.1),
        Vec::<String>::new()
    );
    let (st, problem) = list("/v1/jobs?tag=a%20b", a.clone()).await;
    assert_eq!(st, 422);
    assert_eq!(problem["errors"][0]["field"], "tag");

    // PATCH replaces tags, keeps what is absent, clears notes with null.
    let path = format!("/v1/jobs/{id3}");
    let (st, edited) = send(
        &s,
        "PATCH",
        &path,
        Some(&a),
        None,
        Some(r#"{"tags": ["sweep", "late"]}"#),
    )
    .await;
    assert_eq!(st, 200, "{edited}");
    assert_eq!(edited["tags"], json!(["sweep", "late"]));
    assert_eq!(edited["notes"], "seed 3");
    assert_eq!(
        ids(&list("/v1/jobs?tag=sweep", a.clone()).await.1),
        [id3, id2, id1]
    );
    assert_eq!(ids(&list("/v1/jobs?tag=late", a.clone()).await.1), [id3]);
    let (st, edited) = send(
        &s,
        "PATCH",
        &path,
        Some(&a),
        None,
        Some(r#"{"notes": null}"#),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(edited["notes"], Value::Null);
    assert_eq!(edited["tags"], json!(["sweep", "late"]));
    let (st, edited) = send(
        &s,
        "PATCH",
        &path,
        Some(&a),
        None,
        Some(r#"{"tags": [], "notes": "kept"}"#),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(edited["tags"], json!([]));
    assert_eq!(
        s.client
            .get(s.url(&path))
            .bearer_auth(&a)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["notes"],
        "kept"
    );
    assert_eq!(
        ids(&list("/v1/jobs?tag=late", a.clone()).await.1),
        Vec::<String>::new()
    );

    // Bounds: each names its field.
    let many: Vec<String> = (0..17).map(|i| format!("t{i}")).collect();
    let long_notes = "n".repeat(10_001);
    let cases = [
        (json!({"tags": many}).to_string(), "tags"),
        (json!({"tags": ["x".repeat(65)]}).to_string(), "tags[0]"),
        (json!({"tags": ["ok", "ok"]}).to_string(), "tags[1]"),
        (json!({"tags": ["semi;colon"]}).to_string(), "tags[0]"),
        (json!({"notes": long_notes}).to_string(), "notes"),
        ("{}".to_string(), "tags"),
        (r#"{"tags": [""]}"#.to_string(), "tags[0]"),
        (r#"{"tags": null}"#.to_string(), "tags"),
        // serde would read a struct from an array; a body must be an object.
        ("[null, null]".to_string(), "body"),
        ("[]".to_string(), "body"),
    ];
    for (body, field) in &cases {
        let (st, problem) = send(&s, "PATCH", &path, Some(&a), None, Some(body)).await;
        assert_eq!(st, 422, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["field"], *field, "{problem}");
    }
    let (st, problem) = send(
        &s,
        "PATCH",
        &path,
        Some(&a),
        None,
        Some(r#"{"owner": "bob"}"#),
    )
    .await;
    assert_eq!(st, 422, "unknown fields are refused: {problem}");
    let mut bad_submit: Value = serde_json::from_str(&job_body(9)).unwrap();
    bad_submit["tags"] = json!(["a b"]);
    let (st, problem) = send(
        &s,
        "POST",
        "/v1/jobs",
        Some(&a),
        None,
        Some(&bad_submit.to_string()),
    )
    .await;
    assert_eq!(st, 422);
    assert_eq!(problem["errors"][0]["field"], "tags[0]");

    // Isolation: bob can neither edit nor see; the admin can edit.
    let (st, problem) = send(
        &s,
        "PATCH",
        &path,
        Some(&b),
        None,
        Some(r#"{"tags": ["mine"]}"#),
    )
    .await;
    assert_eq!(st, 404, "{problem}");
    let (st, _) = send(&s, "GET", &path, Some(&b), None, None).await;
    assert_eq!(st, 404);
    let (st, edited) = send(
        &s,
        "PATCH",
        &path,
        Some(&admin),
        None,
        Some(r#"{"tags": ["reviewed"]}"#),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(edited["tags"], json!(["reviewed"]));
    // A missing job is a 404 too.
    let (st, _) = send(
        &s,
        "PATCH",
        "/v1/jobs/0190a0c0-0000-7000-8000-000000000000",
        Some(&a),
        None,
        Some(r#"{"notes": "x"}"#),
    )
    .await;
    assert_eq!(st, 404);
    // Deleting a job frees its tags.
    s.client
        .get(s.url(&format!("/v1/jobs/{id1}/result?wait=30")))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    let (st, _) = send(
        &s,
        "DELETE",
        &format!("/v1/jobs/{id1}"),
        Some(&a),
        None,
        None,
    )
    .await;
    assert_eq!(st, 204);
    assert_eq!(
        ids(&list("/v1/jobs?tag=q%3D2", a.clone()).await.1),
        Vec::<String>::new()
    );
}
