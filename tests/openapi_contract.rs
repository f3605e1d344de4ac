//! The OpenAPI document describes the server (issue 14): errors are problem documents, a job
//! submission is a `oneOf` by `kind` with each kind's spec schema, and query parameters carry
//! the bounds and enumerations the handlers check. `fluxlab openapi` prints the same document.

mod common;

use common::TestServer;
use serde_json::{Value, json};

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let s = &doc["components"]["schemas"][name];
    assert!(s.is_object(), "components.schemas.{name} is missing");
    s
}

/// A parameter's schema, following a `$ref` into the components.
fn parameter(doc: &Value, path: &str, method: &str, name: &str) -> Value {
    let params = doc["paths"][path][method]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("{method} {path} has no parameters"));
    let p = params
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"));
    assert_eq!(p["in"], "query");
    match p["schema"]["$ref"].as_str() {
        Some(r) => schema(doc, r.rsplit('/').next().unwrap()).clone(),
        None => p["schema"].clone(),
    }
}

#[tokio::test]
async fn error_answers_are_documented_as_problem_documents() {
    let s = TestServer::start().await;
    let (status, doc) = s.get("/openapi.json").await;
    assert_eq!(status, 200);
    let mut errors = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for (code, response) in responses {
                if code.parse::<u16>().unwrap() < 400 {
                    continue;
                }
                errors += 1;
                let content = response["content"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{method} {path} {code} documents no content"));
                assert_eq!(
                    content.keys().map(String::as_str).collect::<Vec<_>>(),
                    ["application/problem+json"],
                    "{method} {path} {code}"
                );
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {code}"
                );
            }
            // Any request can meet the guards.
            for code in ["414", "421"] {
                assert!(responses.contains_key(code), "{method} {path} lacks {code}");
            }
        }
    }
    assert!(errors > 50, "only {errors} error answers documented");
    let submit = doc["paths"]["/v1/jobs"]["post"]["responses"]
        .as_object()
        .unwrap();
    for code in ["400", "403", "413", "415", "422", "503", "507"] {
        assert!(submit.contains_key(code), "POST /v1/jobs lacks {code}");
    }
    let predict = doc["paths"]["/v1/models/{id}/predict"]["post"]["responses"]
        .as_object()
        .unwrap();
    assert!(predict.contains_key("415"), "predict lacks its 415");

    // And the server answers so: a 415 and a 422, both documented for their operation.
    let r = s
        .client
        .post(s.url("/v1/models/x/predict"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let r = s
        .client
        .get(s.url("/v1/jobs?limit=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    assert!(doc["paths"]["/v1/jobs"]["get"]["responses"]["422"].is_object());
    s.stop().await;
}

#[tokio::test]
async fn a_submission_is_a_one_of_by_kind_with_each_spec_schema() {
    let s = TestServer::start().await;
    let (_, doc) = s.get("/openapi.json").await;
    let submit = schema(&doc, "SubmitRequest");
    assert_eq!(submit["discriminator"]["propertyName"], "kind");
    let branches = submit["oneOf"]
        .as_array()
        .expect("SubmitRequest is a oneOf");
    assert_eq!(branches.len(), 3);
    for (kind, spec) in [
        ("mi", "MiSpec"),
        ("evolution", "EvolutionSpec"),
        ("lif", "LifJobSpec"),
    ] {
        let target = submit["discriminator"]["mapping"][kind]
            .as_str()
            .unwrap_or_else(|| panic!("no mapping for {kind}"));
        assert!(branches.iter().any(|b| b["$ref"] == target), "{target}");
        let request = schema(&doc, target.rsplit('/').next().unwrap());
        assert_eq!(request["properties"]["kind"]["enum"], json!([kind]));
        assert_eq!(
            request["properties"]["spec"]["$ref"],
            format!("#/components/schemas/{spec}")
        );
        assert_eq!(request["required"], json!(["kind", "spec"]));
        assert_eq!(request["additionalProperties"], json!(false));
        let spec_schema = schema(&doc, spec);
        assert_eq!(spec_schema["type"], "object");
        assert_eq!(spec_schema["additionalProperties"], json!(false), "{spec}");
        assert!(spec_schema["properties"].as_object().unwrap().len() > 5);
    }
    assert_eq!(schema(&doc, "MiSpec")["required"], json!(["network"]));
    assert_eq!(schema(&doc, "EvolutionSpec")["required"], json!(["n"]));
    assert_eq!(schema(&doc, "LifJobSpec")["required"], json!(["dataset"]));
    // An mi network is exactly one of three sources.
    let network = &schema(&doc, "MiSpec")["properties"]["network"]["oneOf"];
    let required: Vec<&Value> = network
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["required"])
        .collect();
    assert_eq!(
        required,
        [
            &json!(["weights"]),
            &json!(["ensemble"]),
            &json!(["nrooks"])
        ]
    );
    // Bounds come from the validation: N of an ensemble, the priority of a job.
    let ensemble = &network[1]["properties"]["ensemble"]["properties"]["n"];
    assert_eq!(
        (ensemble["minimum"].as_i64(), ensemble["maximum"].as_i64()),
        (Some(1), Some(2000))
    );
    let priority = &schema(&doc, "MiSubmitRequest")["properties"]["priority"];
    assert_eq!(priority["maximum"], 1000);

    // The example the old document could not describe: the bare `spec: {}` is refused, and a
    // spec of the documented shape is accepted.
    let (status, _) = s.post("/v1/jobs", json!({"kind": "mi", "spec": {}})).await;
    assert_eq!(status, 422);
    let (status, body) = s
        .post(
            "/v1/jobs",
            json!({"kind": "mi", "spec": {"network": {"nrooks": {"n": 3, "q": 1.0}}}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn query_parameters_carry_bounds_and_enumerations() {
    let s = TestServer::start().await;
    let (_, doc) = s.get("/openapi.json").await;
    let limit = parameter(&doc, "/v1/jobs", "get", "limit");
    assert_eq!(limit["type"], "integer");
    assert_eq!(
        (limit["minimum"].as_i64(), limit["maximum"].as_i64()),
        (Some(1), Some(500))
    );
    let kind = parameter(&doc, "/v1/jobs", "get", "kind");
    assert_eq!(kind["enum"], json!(["mi", "evolution", "lif"]));
    let status = parameter(&doc, "/v1/jobs", "get", "status");
    assert_eq!(
        status["enum"],
        json!(["queued", "running", "succeeded", "failed", "cancelled"])
    );
    assert_eq!(
        parameter(&doc, "/v1/jobs", "get", "cursor")["format"],
        "uuid"
    );
    assert_eq!(
        parameter(&doc, "/v1/jobs", "get", "include")["enum"],
        json!(["spec"])
    );
    let wait = parameter(&doc, "/v1/jobs", "post", "wait");
    assert_eq!(
        (wait["minimum"].as_f64(), wait["maximum"].as_f64()),
        (Some(0.0), Some(60.0))
    );
    // What the document allows the server takes, what it refuses the server refuses.
    assert_eq!(
        s.get("/v1/jobs?limit=500&kind=lif&status=queued&include=spec")
            .await
            .0,
        200
    );
    for bad in [
        "limit=501",
        "limit=0",
        "kind=spiking",
        "status=done",
        "include=result",
    ] {
        assert_eq!(s.get(&format!("/v1/jobs?{bad}")).await.0, 422, "{bad}");
    }
    s.stop().await;
}

#[tokio::test]
async fn the_command_prints_the_document_the_server_serves() {
    let s = TestServer::start().await;
    let (_, served) = s.get("/openapi.json").await;
    s.stop().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fluxlab"))
        .arg("openapi")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, served);
}
