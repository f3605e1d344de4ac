//! `lif` jobs, datasets and predictions over HTTP: train on a slice of mnist10k, fetch the result,
//! model and metrics, predict; upload a dataset and train on it; every bad input gets its 4xx.

mod common;

use std::io::{Read, Write};

use common::*;
use serde_json::{Value, json};

/// The first `count` mnist10k digits as (pixels, labels), read from the committed IDX files.
fn mnist_slice(count: usize) -> (Vec<u8>, Vec<u8>) {
    let read = |name: &str| {
        let gz = std::fs::read(format!(
            "{}/data/mnist10k/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut raw)
            .unwrap();
        raw
    };
    let images = read("images-idx3-ubyte.gz");
    let labels = read("labels-idx1-ubyte.gz");
    (
        images[16..16 + count * 784].to_vec(),
        labels[8..8 + count].to_vec(),
    )
}

fn idx_images(pixels: &[u8], count: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut out = vec![0, 0, 8, 3];
    for d in [count, rows, cols] {
        out.extend(d.to_be_bytes());
    }
    out.extend_from_slice(pixels);
    out
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, 1];
    out.extend((labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

async fn upload(s: &TestServer, name: &str, images: Vec<u8>, labels: Vec<u8>) -> (u16, Value) {
    upload_form(
        s,
        reqwest::multipart::Form::new()
            .text("name", name.to_string())
            .part(
                "images",
                reqwest::multipart::Part::bytes(images).file_name("images.idx"),
            )
            .part(
                "labels",
                reqwest::multipart::Part::bytes(labels).file_name("labels.idx"),
            ),
    )
    .await
}

async fn upload_form(s: &TestServer, form: reqwest::multipart::Form) -> (u16, Value) {
    let r = s
        .client
        .post(s.url("/v1/datasets"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn small_spec(dataset: Value, split: Value, epochs: u32) -> Value {
    json!({
        "dataset": dataset,
        "split": split,
        "encoding": {"type": "poisson", "steps": 10, "rate": 1.0},
        "layers": [{"type": "lif", "units": 48, "leak_init": [0.0, 0.1], "surrogate": "flat"}],
        "readout": {"type": "leaky_integrator", "decode": "last"},
        "optimizer": {"type": "adam", "lr": 0.002},
        "batch_size": 64, "epochs": epochs, "seed": 7, "checkpoint_every": 1
    })
}

fn field_errors(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn expect_422(s: &TestServer, spec: Value, field: &str) {
    let (status, body) = s
        .post("/v1/jobs", json!({"kind": "lif", "spec": spec}))
        .await;
    assert_eq!(status, 422, "expected 422 for {field}: {body}");
    assert!(
        field_errors(&body).iter().any(|f| f == field),
        "expected an error naming {field}: {body}"
    );
}

#[tokio::test]
async fn mnist_slice_trains_and_serves_result_model_and_predictions() {
    let s = TestServer::start().await;
    let spec = small_spec(
        json!({"builtin": "mnist10k"}),
        json!({"train": 768, "test": 256}),
        2,
    );
    let (status, body) = s
        .post("/v1/jobs?wait=60", json!({"kind": "lif", "spec": spec}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "succeeded", "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let result = &body["result"];
    let accuracy = result["test_accuracy"].as_f64().unwrap();
    assert!(
        accuracy > 0.5,
        "two epochs on 768 digits beat chance (0.1) by far: {accuracy}"
    );
    assert_eq!(result["epochs"].as_array().unwrap().len(), 2);
    let confusion = result["confusion_matrix"].as_array().unwrap();
    assert_eq!(confusion.len(), 10);
    let total: u64 = confusion
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 256, "every test digit is counted once");
    let diagonal: u64 = (0..10).map(|i| confusion[i][i].as_u64().unwrap()).sum();
    assert!((diagonal as f64 / 256.0 - accuracy).abs() < 1e-9);
    let leak = &result["leak"];
    let mean_leak = leak["mean"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&mean_leak));
    let counts: u64 = leak["histogram"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(counts, 48, "one leak per LIF unit");
    let rate = result["spike_rates"][0].as_f64().unwrap();
    assert!(rate > 0.0 && rate < 1.0, "spike rate {rate}");
    let raster = &result["raster"];
    assert_eq!(raster["steps"], 10);
    assert_eq!(raster["layers"][0]["units"], 48);
    // The encoded input of the same sample: [step, channel] spikes inside the raster.
    let input = &raster["input"];
    let channels = input["units"].as_u64().unwrap();
    assert_eq!(channels, result["dataset"]["features"].as_u64().unwrap());
    let input_spikes = input["spikes"].as_array().unwrap();
    assert!(input_spikes.len() > 10);
    for s in input_spikes {
        let (t, c) = (s[0].as_u64().unwrap(), s[1].as_u64().unwrap());
        assert!(
            t < 10 && c < channels,
            "input spike {s} outside 10 steps x {channels}"
        );
    }
    assert_eq!(input["truncated"], false);

    let (_, metrics) = s.get(&format!("/v1/jobs/{id}/metrics")).await;
    let series = metrics["series"].as_array().unwrap();
    assert_eq!(series.len(), 2);
    for key in [
        "train_loss",
        "train_accuracy",
        "test_loss",
        "test_accuracy",
        "spike_rate",
        "mean_leak",
        "seconds",
        "samples_per_second",
    ] {
        assert!(series[1][key].is_number(), "metric {key}: {}", series[1]);
    }
    assert_eq!(series[1]["test_accuracy"], result["test_accuracy"]);

    let (status, model) = s.get(&format!("/v1/jobs/{id}/artifacts/model.json")).await;
    assert_eq!(status, 200);
    assert_eq!(model["format"], "fluxlab-lif-model");
    assert_eq!(model["input_values"], 784);
    assert_eq!(model["classes"], 10);
    assert_eq!(
        model["model"]["layers"][0]["weights"]
            .as_array()
            .unwrap()
            .len(),
        784 * 48
    );
    assert_eq!(
        model["model"]["layers"][0]["leak"]
            .as_array()
            .unwrap()
            .len(),
        48
    );
    assert_eq!(model["spec"]["seed"], 7);

    // Predict the first test digits; the same request gives the same answer.
    let (pixels, labels) = mnist_slice(10_000);
    let inputs: Vec<Vec<f64>> = (9_744..9_760)
        .map(|i| {
            pixels[i * 784..(i + 1) * 784]
                .iter()
                .map(|&p| p as f64 / 255.0)
                .collect()
        })
        .collect();
    let path = format!("/v1/models/{id}/predict");
    let (status, first) = s.post(&path, json!({"inputs": inputs})).await;
    assert_eq!(status, 200, "{first}");
    let predictions = first["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 16);
    let mut correct = 0;
    for (k, p) in predictions.iter().enumerate() {
        let probabilities = p["probabilities"].as_array().unwrap();
        assert_eq!(probabilities.len(), 10);
        let sum: f64 = probabilities.iter().map(|v| v.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-6);
        if p["class"].as_u64().unwrap() == labels[9_744 + k] as u64 {
            correct += 1;
        }
    }
    assert!(correct >= 8, "{correct} of 16 test digits right");
    let (_, again) = s.post(&path, json!({"inputs": inputs})).await;
    assert_eq!(first, again, "predictions are deterministic");
    // A prediction depends on the input alone: shifting the batch by one (and repeating an
    // input) changes no class and no probability of any input.
    let mut shifted: Vec<Vec<f64>> = inputs[1..].to_vec();
    shifted.push(inputs[0].clone());
    shifted.push(inputs[3].clone());
    let (status, moved) = s.post(&path, json!({"inputs": shifted})).await;
    assert_eq!(status, 200, "{moved}");
    let moved = moved["predictions"].as_array().unwrap();
    for k in 0..15 {
        assert_eq!(moved[k], predictions[k + 1], "input {} moved to {k}", k + 1);
    }
    assert_eq!(moved[15], predictions[0]);
    assert_eq!(moved[16], predictions[3]);
    // samples: K averages K Poisson encodings: still a distribution, and repeatable.
    let (status, averaged) = s
        .post(&path, json!({"inputs": inputs[..4].to_vec(), "samples": 8}))
        .await;
    assert_eq!(status, 200, "{averaged}");
    for p in averaged["predictions"].as_array().unwrap() {
        let sum: f64 = p["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-6);
    }
    let (_, averaged_again) = s
        .post(&path, json!({"inputs": inputs[..4].to_vec(), "samples": 8}))
        .await;
    assert_eq!(averaged, averaged_again);
    for bad_samples in [json!(0), json!(101), json!(-3)] {
        let (status, body) = s
            .post(
                &path,
                json!({"inputs": inputs[..1].to_vec(), "samples": bad_samples}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("samples"), "{body}");
    }

    // Bad predictions.
    let bad = |inputs: Value| json!({"inputs": inputs});
    let (status, body) = s.post(&path, bad(json!(vec![vec![0.5; 10]]))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(field_errors(&body), vec!["inputs[0]"]);
    let mut out_of_range = inputs[0].clone();
    out_of_range[3] = 1.5;
    let (status, body) = s
        .post(&path, bad(json!([inputs[1].clone(), out_of_range])))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(field_errors(&body), vec!["inputs[1][3]"]);
    let (status, body) = s.post(&path, bad(json!([]))).await;
    assert_eq!(status, 422);
    assert_eq!(field_errors(&body), vec!["inputs"]);
    let many = vec![inputs[0].clone(); 1001];
    let (status, body) = s.post(&path, bad(json!(many))).await;
    assert_eq!(status, 422);
    assert!(body["detail"].as_str().unwrap().contains("1000"), "{body}");
    let (status, body) = s.post(&path, json!({"input": []})).await;
    assert_eq!(status, 422, "unknown field: {body}");
    assert_eq!(field_errors(&body), vec!["input"]);
    let (status, _) = s
        .post(
            "/v1/models/00000000-0000-0000-0000-000000000000/predict",
            bad(json!([[0.0]])),
        )
        .await;
    assert_eq!(status, 404);
    let mi = s.submit("mi", nrooks_spec(3, 2.0)).await;
    let (status, body) = s
        .post(&format!("/v1/models/{mi}/predict"), bad(json!([[0.0]])))
        .await;
    assert_eq!(status, 404, "an mi job has no model: {body}");

    // A running job has no model yet.
    let long = s
        .submit(
            "lif",
            small_spec(
                json!({"builtin": "mnist10k"}),
                json!({"train": 8000, "test": 2000}),
                50,
            ),
        )
        .await;
    let (status, body) = s
        .post(&format!("/v1/models/{long}/predict"), bad(json!([[0.0]])))
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = s
        .get(&format!("/v1/jobs/{long}/artifacts/model.json"))
        .await;
    assert_eq!(status, 409);
    s.post(&format!("/v1/jobs/{long}/cancel"), json!({})).await;
    s.wait_status(&long, &["cancelled"], 60).await;
    s.stop().await;
}

#[tokio::test]
async fn uploaded_datasets_are_listed_trained_on_and_deleted() {
    let s = TestServer::start().await;
    let (pixels, labels) = mnist_slice(400);
    let (status, ds) = upload(
        &s,
        "digits-400",
        gzip(&idx_images(&pixels, 400, 28, 28)),
        idx_labels(&labels),
    )
    .await;
    assert_eq!(status, 201, "{ds}");
    let id = ds["id"].as_str().unwrap().to_string();
    assert_eq!(ds["count"], 400);
    assert_eq!(ds["shape"], json!([28, 28]));
    assert_eq!(ds["classes"], 10);
    assert_eq!(ds["name"], "digits-400");

    let (_, list) = s.get("/v1/datasets").await;
    let names: Vec<&str> = list["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["mnist10k", id.as_str()]);
    let (status, builtin) = s.get("/v1/datasets/mnist10k").await;
    assert_eq!(status, 200);
    assert_eq!(builtin["count"], 10_000);
    assert_eq!(builtin["builtin"], true);
    let (status, got) = s.get(&format!("/v1/datasets/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(got["count"], 400);

    // Train on it with the default split (last fifth tests).
    let mut spec = small_spec(json!({"id": id}), Value::Null, 1);
    spec.as_object_mut().unwrap().remove("split");
    let (status, body) = s
        .post("/v1/jobs?wait=60", json!({"kind": "lif", "spec": spec}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "succeeded", "{body}");
    assert_eq!(body["result"]["dataset"]["train"], 320);
    assert_eq!(body["result"]["dataset"]["test"], 80);
    assert_eq!(body["result"]["dataset"]["name"], "digits-400");

    // In use by a queued or running job: 409; afterwards deleted for good.
    let long = s
        .submit(
            "lif",
            small_spec(json!({"id": id}), json!({"train": 300, "test": 100}), 500),
        )
        .await;
    let (status, body) = delete(&s, &format!("/v1/datasets/{id}")).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().unwrap().contains(&long));
    s.post(&format!("/v1/jobs/{long}/cancel"), json!({})).await;
    s.wait_status(&long, &["cancelled"], 60).await;
    let (status, _) = delete(&s, &format!("/v1/datasets/{id}")).await;
    assert_eq!(status, 204);
    let (status, _) = s.get(&format!("/v1/datasets/{id}")).await;
    assert_eq!(status, 404);
    let (status, _) = delete(&s, &format!("/v1/datasets/{id}")).await;
    assert_eq!(status, 404);
    let (status, _) = delete(&s, "/v1/datasets/mnist10k").await;
    assert_eq!(status, 409);
    // Resuming the cancelled job now fails clearly instead of training on nothing.
    s.post(&format!("/v1/jobs/{long}/resume"), json!({})).await;
    let job = s.wait_status(&long, &["failed"], 60).await;
    assert!(
        job["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no longer exists"),
        "{job}"
    );
    s.stop().await;
}

async fn delete(s: &TestServer, path: &str) -> (u16, Value) {
    let r = s.client.delete(s.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn bad_uploads_get_422_naming_the_file_and_store_nothing() {
    let s = TestServer::start_with(|c| c.max_upload_bytes = 100_000).await;
    let (pixels, labels) = mnist_slice(100);
    let images = idx_images(&pixels, 100, 28, 28);
    let good_labels = idx_labels(&labels);

    let mut bad_magic = images.clone();
    bad_magic[3] = 1;
    let (status, body) = upload(&s, "x", bad_magic, good_labels.clone()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(field_errors(&body), vec!["images"]);
    assert!(body["detail"].as_str().unwrap().contains("magic"), "{body}");

    let (status, body) = upload(&s, "x", images.clone(), idx_labels(&labels[..99])).await;
    assert_eq!(status, 422, "mismatched counts: {body}");
    assert_eq!(field_errors(&body), vec!["labels"]);

    let (status, body) = upload(
        &s,
        "x",
        images[..images.len() - 50].to_vec(),
        good_labels.clone(),
    )
    .await;
    assert_eq!(status, 422, "wrong image size: {body}");
    assert_eq!(field_errors(&body), vec!["images"]);

    let form = reqwest::multipart::Form::new()
        .text("name", "x")
        .text("classes", "5")
        .part("images", reqwest::multipart::Part::bytes(images.clone()))
        .part(
            "labels",
            reqwest::multipart::Part::bytes(good_labels.clone()),
        );
    let (status, body) = upload_form(&s, form).await;
    assert_eq!(status, 422, "labels out of range: {body}");
    assert_eq!(field_errors(&body), vec!["labels"]);

    let (big_pixels, big_labels) = mnist_slice(200);
    let (status, body) = upload(
        &s,
        "x",
        idx_images(&big_pixels, 200, 28, 28),
        idx_labels(&big_labels),
    )
    .await;
    assert_eq!(status, 422, "file over the limit: {body}");
    assert_eq!(field_errors(&body), vec!["images"]);
    assert!(body["detail"].as_str().unwrap().contains("100000"));

    let (status, body) = upload(
        &s,
        "x",
        gzip(b"not an idx file at all"),
        good_labels.clone(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(field_errors(&body), vec!["images"]);

    let form = reqwest::multipart::Form::new()
        .text("name", "")
        .part("images", reqwest::multipart::Part::bytes(images.clone()));
    let (status, body) = upload_form(&s, form).await;
    assert_eq!(status, 422, "{body}");
    let mut fields = field_errors(&body);
    fields.sort();
    assert_eq!(fields, vec!["labels", "name"]);

    let r = s
        .client
        .post(s.url("/v1/datasets"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400, "not multipart");

    let (_, list) = s.get("/v1/datasets").await;
    assert_eq!(
        list["datasets"].as_array().unwrap().len(),
        1,
        "only the built-in dataset: nothing half-stored: {list}"
    );
    s.stop().await;
}

#[tokio::test]
async fn bad_lif_specs_get_422_naming_the_field() {
    let s = TestServer::start().await;
    let base = || {
        small_spec(
            json!({"builtin": "mnist10k"}),
            json!({"train": 100, "test": 50}),
            1,
        )
    };
    let with = |path: &[&str], value: Value| {
        let mut spec = base();
        let mut node = &mut spec;
        for key in &path[..path.len() - 1] {
            node = if let Ok(i) = key.parse::<usize>() {
                &mut node[i]
            } else {
                &mut node[*key]
            };
        }
        node[path[path.len() - 1]] = value;
        spec
    };
    expect_422(
        &s,
        with(&["dataset"], json!({"id": "nope"})),
        "spec.dataset.id",
    )
    .await;
    expect_422(
        &s,
        with(&["dataset"], json!({"builtin": "cifar10"})),
        "spec.dataset.builtin",
    )
    .await;
    expect_422(
        &s,
        with(&["dataset"], json!({"builtin": "mnist10k", "id": "x"})),
        "spec.dataset",
    )
    .await;
    expect_422(
        &s,
        with(&["split"], json!({"train": 9000, "test": 2000})),
        "spec.split",
    )
    .await;
    expect_422(&s, with(&["split", "test"], json!(0)), "spec.split.test").await;
    expect_422(
        &s,
        with(&["layers", "0", "units"], json!(0)),
        "spec.layers[0].units",
    )
    .await;
    expect_422(
        &s,
        with(&["layers", "0", "leak_init"], json!([0.5, 2.0])),
        "spec.layers[0].leak_init[1]",
    )
    .await;
    expect_422(
        &s,
        with(&["layers", "0", "surrogate"], json!("gaussian")),
        "spec.layers[0]",
    )
    .await;
    expect_422(
        &s,
        with(&["layers", "0", "colour"], json!(1)),
        "spec.layers[0]",
    )
    .await;
    expect_422(
        &s,
        with(&["encoding", "steps"], json!(0)),
        "spec.encoding.steps",
    )
    .await;
    expect_422(
        &s,
        with(&["encoding", "type"], json!("raster")),
        "spec.encoding.type",
    )
    .await;
    expect_422(&s, with(&["epochs"], json!(0)), "spec.epochs").await;
    expect_422(&s, with(&["batch_size"], json!(100_000)), "spec.batch_size").await;
    expect_422(
        &s,
        with(&["optimizer", "lr"], json!(-1.0)),
        "spec.optimizer.lr",
    )
    .await;
    expect_422(
        &s,
        with(&["raster_sample"], json!(50)),
        "spec.raster_sample",
    )
    .await;
    expect_422(
        &s,
        with(&["checkpoint_every"], json!(0)),
        "spec.checkpoint_every",
    )
    .await;
    expect_422(
        &s,
        with(&["learning_rate"], json!(0.1)),
        "spec.learning_rate",
    )
    .await;
    expect_422(
        &s,
        with(
            &["dataset"],
            json!({"synthetic": {"task": "coincidence", "steps": 20, "channels": 4}}),
        ),
        "spec.encoding",
    )
    .await;
    // A synthetic task with the raster coding trains (the engine's tests check what it learns).
    let mut synthetic = with(
        &["dataset"],
        json!({"synthetic": {"task": "coincidence", "steps": 20, "channels": 4, "window": 2,
                             "train": 256, "test": 64}}),
    );
    synthetic["encoding"] = json!({"type": "raster", "steps": 20});
    synthetic.as_object_mut().unwrap().remove("split");
    let (status, body) = s
        .post(
            "/v1/jobs?wait=60",
            json!({"kind": "lif", "spec": synthetic}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "succeeded", "{body}");
    assert_eq!(body["result"]["dataset"]["classes"], 2);
    s.stop().await;
}
