//! The run table of `GET /v1/jobs` (issue 19): key result columns, server-side sorting on any
//! column, name search and offset paging, against a real server.

mod common;

use common::{TestServer, nrooks_mi, nrooks_spec};
use serde_json::{Value, json};

async fn submit_named(s: &TestServer, name: &str, q: f64) -> String {
    let (status, body) = s
        .post(
            "/v1/jobs",
            json!({"kind": "mi", "name": name, "spec": nrooks_spec(3, q)}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_string()
}

fn names(page: &Value) -> Vec<String> {
    page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn results_columns_sort_search_and_offset_paging() {
    let s = TestServer::start().await;
    let jobs = [
        ("beta 2", 2.0),
        ("alpha 1", 0.5),
        ("Alpha_3", 3.0),
        ("gamma%", 1.0),
    ];
    let mut ids = Vec::new();
    for (name, q) in jobs {
        ids.push(submit_named(&s, name, q).await);
    }
    for id in &ids {
        s.wait_status(id, &["succeeded"], 60).await;
    }

    // The columns are the result's own figures.
    let (status, page) = s.get("/v1/jobs?sort=mi_bits&order=asc").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(names(&page), ["alpha 1", "gamma%", "beta 2", "Alpha_3"]);
    assert_eq!(page["total"], 4);
    for row in page["jobs"].as_array().unwrap() {
        let id = row["id"].as_str().unwrap();
        let (_, result) = s.get(&format!("/v1/jobs/{id}/result")).await;
        let r = &row["results"];
        assert_eq!(r["mi_bits"], result["summary"]["mi_bits_mean"]);
        assert_eq!(r["correlation"], result["summary"]["correlation_rms_mean"]);
        assert_eq!(r["n"], 3);
        assert_eq!(r["networks"], 1);
        assert_eq!(r["elapsed_ms"], result["elapsed_ms"]);
        assert!(r["test_accuracy"].is_null() && r["rook_score"].is_null());
    }
    let first = page["jobs"][0]["results"]["mi_bits"].as_f64().unwrap();
    assert!((first - nrooks_mi(3, 0.5)).abs() < 1e-9);

    let (_, desc) = s.get("/v1/jobs?sort=mi_bits&order=desc").await;
    assert_eq!(names(&desc), ["Alpha_3", "beta 2", "gamma%", "alpha 1"]);
    let (_, by_name) = s.get("/v1/jobs?sort=name&order=asc").await;
    assert_eq!(names(&by_name), ["alpha 1", "Alpha_3", "beta 2", "gamma%"]);

    // Offset paging in a sorted order.
    let (_, p1) = s.get("/v1/jobs?sort=mi_bits&order=asc&limit=3").await;
    assert_eq!(names(&p1), ["alpha 1", "gamma%", "beta 2"]);
    assert_eq!(p1["next_offset"], 3);
    assert!(
        p1["next_cursor"].is_null(),
        "a cursor pages only the default order"
    );
    let (_, p2) = s
        .get("/v1/jobs?sort=mi_bits&order=asc&limit=3&offset=3")
        .await;
    assert_eq!(names(&p2), ["Alpha_3"]);
    assert!(p2["next_offset"].is_null());

    // Search: case-insensitive, wildcards literal, counted.
    let (_, hits) = s.get("/v1/jobs?q=ALPHA").await;
    assert_eq!(hits["total"], 2);
    assert_eq!(names(&hits).len(), 2);
    let (_, underscore) = s.get("/v1/jobs?q=_").await;
    assert_eq!(names(&underscore), ["Alpha_3"]);
    let (_, percent) = s.get("/v1/jobs?q=%25").await;
    assert_eq!(names(&percent), ["gamma%"]);
    let (_, none) = s.get("/v1/jobs?q=zeta").await;
    assert_eq!((none["total"].clone(), names(&none).len()), (json!(0), 0));

    // A job without results (cancelled at once, before or while it runs) sorts last in
    // either direction.
    let later = submit_named(&s, "later", 1.5).await;
    let (status, _) = s.post(&format!("/v1/jobs/{later}/cancel"), json!({})).await;
    // 409: the job had already succeeded (a 4-neuron exact job takes milliseconds).
    assert!(status < 300 || status == 409, "cancel: {status}");
    let job = s.wait_status(&later, &["cancelled", "succeeded"], 30).await;
    if job["status"] == "cancelled" {
        for order in ["asc", "desc"] {
            let (_, page) = s.get(&format!("/v1/jobs?sort=mi_bits&order={order}")).await;
            let last = page["jobs"].as_array().unwrap().last().unwrap().clone();
            assert_eq!(last["id"], later.as_str(), "{order}");
            assert!(last["results"].is_null());
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn bad_sort_order_offset_search_and_cursor_are_422() {
    let s = TestServer::start().await;
    let long = "x".repeat(201);
    for (query, field) in [
        ("sort=bogus", "sort"),
        ("order=up", "order"),
        ("offset=-1", "offset"),
        ("offset=1000001", "offset"),
        (&*format!("q={long}"), "q"),
        ("cursor=not-a-job", "cursor"),
    ] {
        let (status, problem) = s.get(&format!("/v1/jobs?{query}")).await;
        assert_eq!(status, 422, "{query}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    let (status, _) = s.get("/v1/jobs?sort=created&order=desc&offset=0").await;
    assert_eq!(status, 200);
    s.stop().await;
}

/// With another order than the default, `cursor` keeps only jobs submitted before it, and
/// `offset` pages within that: every schema-valid combination is answered.
#[tokio::test]
async fn cursor_with_another_order_is_a_filter() {
    let s = TestServer::start().await;
    let mut ids = Vec::new();
    for (name, q) in [("a", 0.5), ("b", 2.0), ("c", 1.0), ("d", 3.0)] {
        ids.push(submit_named(&s, name, q).await);
    }
    for id in &ids {
        s.wait_status(id, &["succeeded"], 60).await;
    }
    let cursor = &ids[3];
    let (status, page) = s
        .get(&format!(
            "/v1/jobs?sort=mi_bits&order=asc&cursor={cursor}&limit=2"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(names(&page), ["a", "c"]);
    assert!(page["next_cursor"].is_null(), "{page}");
    assert_eq!(page["next_offset"], 2);
    let (status, page) = s
        .get(&format!(
            "/v1/jobs?sort=mi_bits&order=asc&cursor={cursor}&offset=2"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(names(&page), ["b"]);
    assert!(page["next_offset"].is_null(), "{page}");
    // A cursor no job has (e.g. one deleted since) still pages by time.
    let (status, page) = s
        .get("/v1/jobs?order=asc&cursor=00000000-0000-7000-8000-000000000000")
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page["jobs"].as_array().unwrap().is_empty());
    s.stop().await;
}
