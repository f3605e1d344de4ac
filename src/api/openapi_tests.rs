//! Checks of the hand-written schemas: utoipa keeps every keyword, every default and every
//! spec the server normalises and stores validates against them, and specs the server refuses
//! for a reason the schema can express are refused by the schema too.

use serde_json::{Value, json};
use utoipa::OpenApi;

use super::*;
use crate::api::ApiDoc;
use crate::jobs::{self, JobKind, Resolved};

fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).expect("the document serialises")
}

/// Numbers compared by value (utoipa writes `1e6` back as `1000000`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// A checker for the part of JSON Schema the document uses (no `pattern`), with numbers as
/// serde reads them: `2.0` is not an integer.
struct Checker<'a> {
    doc: &'a Value,
}

impl Checker<'_> {
    fn errors(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(schema, value, "$", &mut errors);
        errors
    }

    fn valid(&self, schema: &Value, value: &Value) -> bool {
        self.errors(schema, value).is_empty()
    }

    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r
                    .strip_prefix("#/components/schemas/")
                    .expect("a local ref");
                &self.doc["components"]["schemas"][name]
            }
            None => schema,
        }
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        let mut fail = |message: String| errors.push(format!("{at}: {message}"));
        if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
            let matching = branches.iter().filter(|b| self.valid(b, value)).count();
            if matching != 1 {
                fail(format!("{matching} branches of a oneOf match {value}"));
            }
        }
        if let Some(types) = schema.get("type") {
            let types: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => panic!("bad type {types}"),
            };
            let fits = |t: &&str| match *t {
                "null" => value.is_null(),
                "boolean" => value.is_boolean(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "string" => value.is_string(),
                "array" => value.is_array(),
                "object" => value.is_object(),
                other => panic!("unknown type {other}"),
            };
            if !types.iter().any(fits) {
                fail(format!("{value} is not of type {types:?}"));
                return;
            }
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array)
            && !options.iter().any(|o| same(o, value))
        {
            fail(format!("{value} is not one of {options:?}"));
        }
        if let Some(x) = value.as_f64() {
            let bound = |k: &str| schema.get(k).and_then(Value::as_f64);
            if bound("minimum").is_some_and(|m| x < m) || bound("maximum").is_some_and(|m| x > m) {
                fail(format!("{x} is out of bounds"));
            }
            if bound("exclusiveMinimum").is_some_and(|m| x <= m) {
                fail(format!("{x} is not above the exclusive minimum"));
            }
        }
        if let Some(text) = value.as_str() {
            let chars = text.chars().count() as u64;
            let bound = |k: &str| schema.get(k).and_then(Value::as_u64);
            if bound("minLength").is_some_and(|m| chars < m)
                || bound("maxLength").is_some_and(|m| chars > m)
            {
                fail(format!("{text:?} has the wrong length"));
            }
        }
        if let Some(items) = value.as_array() {
            let len = items.len() as u64;
            let bound = |k: &str| schema.get(k).and_then(Value::as_u64);
            if bound("minItems").is_some_and(|m| len < m)
                || bound("maxItems").is_some_and(|m| len > m)
            {
                fail(format!("an array of {len} items has the wrong length"));
            }
            if let Some(item) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    self.check(item, v, &format!("{at}[{i}]"), errors);
                }
            }
        }
        if let Some(fields) = value.as_object() {
            let properties = schema.get("properties").and_then(Value::as_object);
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = required.as_str().expect("a property name");
                if !fields.contains_key(name) {
                    errors.push(format!("{at}: `{name}` is missing"));
                }
            }
            for (name, v) in fields {
                match properties.and_then(|p| p.get(name)) {
                    Some(s) => self.check(s, v, &format!("{at}.{name}"), errors),
                    None if schema.get("additionalProperties") == Some(&json!(false)) => {
                        errors.push(format!("{at}: unknown property `{name}`"));
                    }
                    None => {}
                }
            }
        }
    }
}

fn schema_name(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Mi => "MiSpec",
        JobKind::Evolution => "EvolutionSpec",
        JobKind::Lif => "LifJobSpec",
    }
}

fn valid_specs() -> Vec<(JobKind, Value)> {
    vec![
        (
            JobKind::Mi,
            json!({"network": {"nrooks": {"n": 3, "q": 1.0}}}),
        ),
        (
            JobKind::Mi,
            json!({
                "network": {
                    "nrooks": {"n": 4, "q": 2, "permutation": [1, 2, 3, 0], "signs": [1, -1, 1, 1]},
                    "sweep": {"param": "noise_std", "values": [0.0, 0.5]},
                    "noise": {"std": 0.1, "shared": false},
                },
                "attractors": false,
            }),
        ),
        (
            JobKind::Mi,
            json!({
                "network": {
                    "ensemble": {"n": 6, "std": 1.0, "replicates": 2, "balance": 0.5},
                    "sweep": {"param": "density", "values": [0.5, 1.0]},
                    "input": "binary",
                },
                "method": "exact",
                "correlation": {"lag": 0},
            }),
        ),
        (
            JobKind::Mi,
            json!({
                "network": {"weights": [[0, 1], [1, 0]], "bias": [0.1, -0.1], "ensemble": null},
                "attractors": {"starts": 10, "max_steps": 100},
                "sampling": {"steps": 1000, "burn_in": 10, "runs": 2},
                "method": "sampled",
                "seed": 7,
            }),
        ),
        (
            JobKind::Evolution,
            json!({"n": 4, "generations": 2, "parents": 2, "offspring": 4}),
        ),
        (
            JobKind::Evolution,
            json!({
                "n": 4,
                "generations": 2,
                "parents": 4,
                "offspring": 8,
                "strategy": "comma",
                "elitism": 1,
                "selection": {"type": "tournament", "size": 2},
                "constraint": {"type": "box", "bound": 2},
                "objectives": [{"name": "mi"}, {"name": "correlation", "weight": -1}],
                "mode": "pareto",
                "init": {"ensemble": {"std": 0.5, "density": 0.8}},
                "mutation": {"std": 0.2, "rate": 0.5, "adaptive": true},
            }),
        ),
        (
            JobKind::Evolution,
            json!({
                "n": 2,
                "generations": 1,
                "evolve_bias": true,
                "init": {"weights": [[0, 1], [1, 0]], "bias": [0, 0]},
                "constraint": {"type": "frobenius", "value": "2.5"},
            }),
        ),
        (
            JobKind::Evolution,
            json!({
                "n": 2,
                "generations": 1,
                "init": {"population": [{"weights": [0, 1, 1, 0], "step_size": 0.1}]},
                "objectives": [{"name": "mean_period"}],
                "constraint": {"type": "none"},
            }),
        ),
        (
            JobKind::Lif,
            json!({"dataset": {"builtin": "mnist10k"}, "epochs": 1}),
        ),
        (
            JobKind::Lif,
            json!({
                "dataset": {"synthetic": {"task": "coincidence", "train": 20, "test": 10}},
                "encoding": {"type": "raster", "steps": 20},
                "layers": [{"type": "lif", "units": 16, "surrogate": "superspike"}, {"type": "dense", "units": 8}],
                "schedule": {"factor": 0.5},
                "readout": {"decode": "max"},
                "optimizer": {"type": "adam", "lr": 0.01},
                "epochs": 2,
                "raster_sample": 3,
            }),
        ),
        (
            JobKind::Lif,
            json!({
                // No encoding: the synthetic defaults fill it (and the network) in.
                "dataset": {"synthetic": {"task": "integration", "train": 20, "test": 10}},
                "split": null,
                "loss": "mse",
            }),
        ),
        (
            JobKind::Lif,
            json!({
                "dataset": {"builtin": "mnist10k"},
                "split": {"train": 100, "test": 50},
                "encoding": {"type": "latency", "steps": 10, "x_min": 0.2},
                "layers": [],
                "epochs": 1,
            }),
        ),
        // The flattened encoding reads a variant's index as its name (2: latency).
        (
            JobKind::Lif,
            json!({
                "dataset": {"builtin": "mnist10k"},
                "split": {"train": 100, "test": 50},
                "encoding": {"type": 2, "steps": 10},
                "layers": [{"type": "dense", "units": 4}],
                "epochs": 1,
            }),
        ),
    ]
}

/// Specs the server refuses for reasons the schema states.
fn invalid_specs() -> Vec<(JobKind, Value)> {
    vec![
        (JobKind::Mi, json!({})),
        (JobKind::Mi, json!({"network": {}})),
        (
            JobKind::Mi,
            json!({"network": {"weights": [[1]], "ensemble": {"n": 2}}}),
        ),
        (
            JobKind::Mi,
            json!({"network": {"nrooks": {"n": 3, "q": 1}, "sweep": {"param": "std", "values": [1]}}}),
        ),
        (
            JobKind::Mi,
            json!({"network": {"weights": [[1]], "sweep": {"param": "std", "values": [1]}}}),
        ),
        (
            JobKind::Mi,
            json!({"network": {"ensemble": {"n": 2, "density": 0}}}),
        ),
        (JobKind::Mi, json!({"network": {"ensemble": {"n": 2001}}})),
        (
            JobKind::Mi,
            json!({"network": {"nrooks": {"n": 3, "q": 1, "permutation": "spiral"}}}),
        ),
        (
            JobKind::Mi,
            json!({"network": {"nrooks": {"n": 3, "q": 1}}, "correlation": {"lag": 2}}),
        ),
        (
            JobKind::Mi,
            json!({"network": {"nrooks": {"n": 3, "q": 1}}, "colour": "red"}),
        ),
        (JobKind::Evolution, json!({"n": 1})),
        (
            JobKind::Evolution,
            json!({"n": 4, "init": {"weights": [[0, 1], [1, 0]], "ensemble": {}}}),
        ),
        (
            JobKind::Evolution,
            json!({"n": 4, "selection": {"type": "roulette"}}),
        ),
        (JobKind::Evolution, json!({"n": 4, "objectives": []})),
        (JobKind::Evolution, json!({"n": 4, "mutation": {"rate": 0}})),
        (
            JobKind::Lif,
            json!({"dataset": {"builtin": "mnist10k", "id": "x"}}),
        ),
        (JobKind::Lif, json!({"dataset": {"builtin": "mnist"}})),
        (
            JobKind::Lif,
            json!({"dataset": {"builtin": "mnist10k"}, "layers": [{"type": "lif", "units": 0}]}),
        ),
        (
            JobKind::Lif,
            json!({"dataset": {"builtin": "mnist10k"}, "encoding": {"type": "poisson"}}),
        ),
        // Other tagged objects take names only.
        (
            JobKind::Lif,
            json!({"dataset": {"builtin": "mnist10k"}, "optimizer": {"type": 0}}),
        ),
        (
            JobKind::Evolution,
            json!({"n": 4, "constraint": {"type": 1, "bound": 2}}),
        ),
        // Integers without a fraction only.
        (JobKind::Evolution, json!({"n": 4.0})),
    ]
}

#[test]
fn utoipa_keeps_every_keyword_of_the_hand_written_schemas() {
    let limits = Limits::default();
    let mut schemas = vec![
        mi_spec(&limits),
        evolution_spec(),
        lif_spec(),
        dataset_upload(),
    ];
    schemas.extend(submit_requests().into_iter().map(|(_, s)| s));
    for schema in schemas {
        let back = serde_json::to_value(schema_of(schema.clone())).unwrap();
        assert!(
            same(&schema, &back),
            "utoipa changed\n{schema}\ninto\n{back}"
        );
    }
    let inputs = serde_json::to_value(predict_inputs()).unwrap();
    assert_eq!(inputs["maxItems"], json!(MAX_PREDICT_INPUTS));
}

#[test]
fn every_spec_the_server_stores_fits_its_schema() {
    let doc = document();
    let checker = Checker { doc: &doc };
    for (kind, spec) in valid_specs() {
        let schema = json!({"$ref": format!("#/components/schemas/{}", schema_name(kind))});
        let errors = checker.errors(&schema, &spec);
        assert!(errors.is_empty(), "{spec} as submitted: {errors:?}");
        let stored = jobs::validate(kind, spec.clone(), &Limits::default(), &Resolved::default())
            .unwrap_or_else(|e| panic!("the server refuses {spec}: {e:?}"));
        // The normalised spec has every field, defaults filled in: each must be in the schema.
        let errors = checker.errors(&schema, &stored);
        assert!(errors.is_empty(), "{stored} as stored: {errors:?}");
        let request = json!({"kind": kind.as_str(), "spec": spec});
        let errors = checker.errors(
            &json!({"$ref": "#/components/schemas/SubmitRequest"}),
            &request,
        );
        assert!(errors.is_empty(), "{request}: {errors:?}");
    }
}

#[test]
fn specs_refused_for_a_reason_the_schema_states_fail_the_schema() {
    let doc = document();
    let checker = Checker { doc: &doc };
    for (kind, spec) in invalid_specs() {
        let schema = json!({"$ref": format!("#/components/schemas/{}", schema_name(kind))});
        assert!(!checker.valid(&schema, &spec), "the schema accepts {spec}");
        assert!(
            jobs::validate(kind, spec.clone(), &Limits::default(), &Resolved::default()).is_err(),
            "the server accepts {spec}, which its schema refuses"
        );
    }
    let submit = json!({"$ref": "#/components/schemas/SubmitRequest"});
    for request in [
        json!({"kind": "mi", "spec": {}}),
        json!({"kind": "lif", "spec": {"network": {"nrooks": {"n": 3, "q": 1}}}}),
        json!({"kind": "mi", "spec": {"network": {"nrooks": {"n": 3, "q": 1}}}, "priority": 1001}),
        json!({"kind": "mi", "spec": {"network": {"nrooks": {"n": 3, "q": 1}}}, "max_attempts": 0}),
        json!({"kind": "spiking", "spec": {}}),
    ] {
        assert!(
            !checker.valid(&submit, &request),
            "the schema accepts {request}"
        );
    }
}

/// Every `default` in the document fits the schema it is the default of.
#[test]
fn defaults_fit_their_schemas() {
    fn walk(checker: &Checker, node: &Value, at: &str, seen: &mut usize) {
        match node {
            Value::Object(map) => {
                if let Some(default) = map.get("default") {
                    let errors = checker.errors(node, default);
                    assert!(errors.is_empty(), "{at}: default {default}: {errors:?}");
                    *seen += 1;
                }
                for (k, v) in map {
                    walk(checker, v, &format!("{at}/{k}"), seen);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(checker, v, &format!("{at}/{i}"), seen);
                }
            }
            _ => {}
        }
    }
    let doc = document();
    let checker = Checker { doc: &doc };
    let mut seen = 0;
    walk(&checker, &doc["components"]["schemas"], "", &mut seen);
    assert!(seen > 50, "only {seen} defaults");
}

#[test]
fn parameters_carry_the_bounds_the_handlers_check() {
    let doc = document();
    let param = |path: &str, method: &str, name: &str| -> Value {
        let params = doc["paths"][path][method]["parameters"].as_array().unwrap();
        let p = params.iter().find(|p| p["name"] == name).unwrap();
        let schema = &p["schema"];
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => doc["components"]["schemas"][r.rsplit('/').next().unwrap()].clone(),
            None => schema.clone(),
        }
    };
    let list = |name| param("/v1/jobs", "get", name);
    assert_eq!(list("limit")["minimum"], json!(1));
    assert_eq!(
        list("limit")["maximum"],
        json!(super::super::jobs::MAX_PAGE)
    );
    assert_eq!(list("cursor")["format"], json!("uuid"));
    assert_eq!(list("include")["enum"], json!(["spec"]));
    let statuses: Vec<&str> = crate::store::Status::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(list("status")["enum"], json!(statuses));
    assert_eq!(list("kind")["enum"], json!(["mi", "evolution", "lif"]));
    let wait = param("/v1/jobs", "post", "wait");
    assert_eq!(wait["minimum"].as_f64(), Some(0.0));
    assert_eq!(
        wait["maximum"].as_f64(),
        Some(super::super::jobs::MAX_WAIT_SECS)
    );
    for side in ["width", "height"] {
        let p = param("/v1/jobs/{id}/plots/{name}.svg", "get", side);
        assert_eq!(p["minimum"], json!(crate::plots::Size::MIN), "{side}");
        assert_eq!(p["maximum"], json!(crate::plots::Size::MAX), "{side}");
    }
}

#[test]
fn errors_are_problem_documents_and_guards_are_listed() {
    let doc = document();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let responses = op["responses"].as_object().unwrap();
            for (status, response) in responses {
                if status.parse::<u16>().unwrap() >= 400 {
                    let content = response["content"].as_object().unwrap();
                    assert_eq!(
                        content.keys().collect::<Vec<_>>(),
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                    assert_eq!(
                        content["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem"
                    );
                }
            }
            for status in ["414", "421", "503"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} lacks {status}"
                );
            }
        }
    }
    assert!(operations >= 20);
    let submit = &doc["paths"]["/v1/jobs"]["post"]["responses"];
    for status in ["400", "403", "413", "415", "422", "507"] {
        assert!(submit.get(status).is_some(), "POST /v1/jobs lacks {status}");
    }
    let predict = &doc["paths"]["/v1/models/{id}/predict"]["post"]["responses"];
    assert!(predict.get("415").is_some());
    assert!(predict.get("507").is_none(), "predict stores nothing");
    let health = &doc["paths"]["/healthz"]["get"]["responses"];
    assert!(health.get("500").is_none() && health.get("403").is_none());
    let mut ids = std::collections::HashSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"]
                .as_str()
                .expect("every operation has an id");
            assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
        }
    }
    assert!(ids.contains("jobs_list") && ids.contains("datasets_list") && ids.contains("submit"));
    let upload = &doc["paths"]["/v1/datasets"]["post"]["requestBody"];
    assert_eq!(
        upload["content"]["multipart/form-data"]["schema"]["$ref"],
        "#/components/schemas/DatasetUpload"
    );
}
