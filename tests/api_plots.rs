//! Plot endpoints over HTTP: every plot of `mi` and `evolution` jobs is valid SVG while the job
//! is queued, while it runs, after it is cancelled and after it succeeds; unknown names are
//! 404s listing the valid ones; sizes are bounded; the listing names each plot's URL.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const MI_PLOTS: [&str; 5] = [
    "sweep",
    "ic_scatter",
    "weights",
    "attractor_periods",
    "correlation",
];

/// GETs an SVG plot; checks status 200, the content type and that the body is an `<svg>`
/// XML document; returns the text of its `<text>` elements.
async fn svg(s: &TestServer, id: &str, name: &str) -> String {
    let r = s
        .client
        .get(s.url(&format!("/v1/jobs/{id}/plots/{name}.svg")))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    let body = r.text().await.unwrap();
    assert_eq!(status, 200, "{name}: {body}");
    assert_eq!(content_type, "image/svg+xml", "{name}");
    let doc = roxmltree::Document::parse(&body)
        .unwrap_or_else(|e| panic!("{name} is not well-formed XML: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(|t| format!("{}\n", t.trim()))
        .collect()
}

/// The plot names a job lists, after checking the listing's shape.
async fn listed(s: &TestServer, id: &str) -> Vec<String> {
    let (status, body) = s.get(&format!("/v1/jobs/{id}/plots")).await;
    assert_eq!(status, 200, "{body}");
    body["plots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap().to_string();
            assert!(!p["title"].as_str().unwrap().is_empty());
            assert_eq!(p["url"], format!("/v1/jobs/{id}/plots/{name}.svg"));
            name
        })
        .collect()
}

async fn wait_checkpoint(s: &TestServer, id: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, cps) = s.get(&format!("/v1/jobs/{id}/checkpoints")).await;
        if cps.as_array().is_some_and(|c| !c.is_empty()) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "no checkpoint");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn cancel(s: &TestServer, id: &str) {
    let (status, _) = s.post(&format!("/v1/jobs/{id}/cancel"), json!({})).await;
    assert_eq!(status, 202);
    s.wait_status(id, &["cancelled"], 60).await;
}

/// An `mi` sweep of small exact networks: std = 0.5, 1, 2 with `replicates` each.
fn mi_spec(replicates: u64) -> Value {
    json!({
        "network": {"ensemble": {"type": "gaussian", "n": 8, "std": 1.0, "replicates": replicates},
                    "sweep": {"param": "std", "values": [0.5, 1.0, 2.0]}},
        "method": "exact",
        "attractors": true,
        "seed": 3
    })
}

fn evolution_spec(mode: &str, generations: u64) -> Value {
    json!({
        "n": 4,
        "init": {"ensemble": {"type": "gaussian", "std": 1.0}},
        "strategy": "plus", "parents": 4, "offspring": 8, "generations": generations,
        "mutation": {"std": 0.2, "rate": 1.0},
        "constraint": {"type": "frobenius", "value": 6.0},
        "objectives": [{"name": "mi", "weight": 1.0}, {"name": "mean_period", "weight": 0.1}],
        "mode": mode,
        "seed": 5, "checkpoint_every": 1
    })
}

#[tokio::test]
async fn mi_plots_while_queued_running_cancelled_and_finished() {
    let s = TestServer::start_with(|c| c.runner.max_jobs = 1).await;
    let long = s.submit("mi", mi_spec(2000)).await;
    s.wait_status(&long, &["running"], 30).await;
    let small = s.submit("mi", mi_spec(3)).await;

    // Queued behind the long job: valid SVGs that say there is nothing yet.
    assert_eq!(listed(&s, &small).await, MI_PLOTS);
    for name in MI_PLOTS {
        let text = svg(&s, &small, name).await;
        assert!(text.contains("no data yet"), "{name}: {text}");
    }

    // Running, with metric rows and a checkpoint: real data so far.
    s.wait_metrics(&long, 3).await;
    wait_checkpoint(&s, &long).await;
    for name in MI_PLOTS {
        let text = svg(&s, &long, name).await;
        assert!(!text.contains("no data"), "{name}: {text}");
    }
    let text = svg(&s, &long, "ic_scatter").await;
    assert!(
        text.contains("I (bits)") && text.contains("so far"),
        "{text}"
    );
    assert!(text.contains("weak coupling N²C²/(2 ln 2)"), "{text}");
    let (_, job) = s.get(&format!("/v1/jobs/{long}")).await;
    assert_eq!(job["status"], "running", "the long job must still run here");

    // Cancelled: metric rows and the checkpoint it left.
    cancel(&s, &long).await;
    for name in MI_PLOTS {
        let text = svg(&s, &long, name).await;
        assert!(!text.contains("no data"), "{name}: {text}");
    }

    // Finished: the result document.
    s.wait_status(&small, &["succeeded"], 60).await;
    let text = svg(&s, &small, "ic_scatter").await;
    for t in [
        "std = 0.5",
        "std = 1",
        "std = 2",
        "9 networks, N = 8",
        "C (RMS lag-1 Pearson correlation)",
    ] {
        assert!(text.contains(t), "missing {t}: {text}");
    }
    let text = svg(&s, &small, "weights").await;
    assert!(
        text.contains("source neuron j") && text.contains("weight Wᵢⱼ (j → i)"),
        "{text}"
    );
    let text = svg(&s, &small, "attractor_periods").await;
    assert!(text.contains("period (time steps)"), "{text}");
    let text = svg(&s, &small, "correlation").await;
    assert!(text.contains("Pearson correlation ρᵢⱼ"), "{text}");
    s.stop().await;
}

#[tokio::test]
async fn evolution_plots_while_running_and_after() {
    let s = TestServer::start().await;
    let long = s
        .submit("evolution", evolution_spec("pareto", 100_000))
        .await;
    let names = ["fitness", "pareto", "best_weights", "rook_score"];
    assert_eq!(listed(&s, &long).await, names);
    s.wait_metrics(&long, 3).await;
    wait_checkpoint(&s, &long).await;
    for name in names {
        let text = svg(&s, &long, name).await;
        assert!(!text.contains("no data"), "{name}: {text}");
    }
    let text = svg(&s, &long, "fitness").await;
    for t in [
        "I (bits)",
        "mean period (steps)",
        "generation",
        "best",
        "mean ± std",
        "of 100000 so far",
    ] {
        assert!(text.contains(t), "missing {t}: {text}");
    }
    assert!(
        svg(&s, &long, "best_weights")
            .await
            .contains("latest checkpoint")
    );
    assert!(
        svg(&s, &long, "pareto")
            .await
            .contains("non-dominated genomes")
    );
    let (_, job) = s.get(&format!("/v1/jobs/{long}")).await;
    assert_eq!(job["status"], "running");
    cancel(&s, &long).await;
    for name in names {
        let text = svg(&s, &long, name).await;
        assert!(!text.contains("no data"), "{name}: {text}");
    }

    // A finished weighted-mode run: no Pareto plot, the rest from the result.
    let (status, body) = s
        .post(
            "/v1/jobs?wait=60",
            json!({"kind": "evolution", "spec": evolution_spec("weighted", 5)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = body["id"].as_str().unwrap().to_string();
    assert_eq!(
        listed(&s, &done).await,
        ["fitness", "best_weights", "rook_score"]
    );
    for name in ["fitness", "best_weights", "rook_score"] {
        let text = svg(&s, &done, name).await;
        assert!(!text.contains("no data"), "{name}: {text}");
    }
    assert!(svg(&s, &done, "best_weights").await.contains("rook score"));
    let (status, problem) = s.get(&format!("/v1/jobs/{done}/plots/pareto.svg")).await;
    assert_eq!(status, 404);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("fitness.svg, best_weights.svg, rook_score.svg"),
        "{detail}"
    );
    s.stop().await;
}

#[tokio::test]
async fn bad_names_sizes_and_ids() {
    let s = TestServer::start().await;
    let (status, body) = s
        .post(
            "/v1/jobs?wait=30",
            json!({"kind": "mi", "spec": nrooks_spec(3, 2.0)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap().to_string();

    for bad in [
        "fitness.svg",
        "weights",
        "weights.gif",
        "..svg",
        "weights.png.svg",
    ] {
        let r = s
            .client
            .get(s.url(&format!("/v1/jobs/{id}/plots/{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{bad}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let problem: Value = r.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("ic_scatter.svg, weights.svg, attractor_periods.svg, correlation.svg")
                && detail.contains(".png and .pdf"),
            "{bad}: {detail}"
        );
    }

    for (query, field) in [
        ("width=100", "width"),
        ("height=5000", "height"),
        ("width=abc", "width"),
        ("width=-1", "width"),
    ] {
        let (status, problem) = s
            .get(&format!("/v1/jobs/{id}/plots/weights.svg?{query}"))
            .await;
        assert_eq!(status, 422, "{query}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("200 to 2000"),
            "{problem}"
        );
    }
    let (status, _) = s
        .get(&format!("/v1/jobs/{id}/plots/weights.svg?size=big"))
        .await;
    assert_eq!(status, 422, "unknown parameters are rejected");

    let r = s
        .client
        .get(s.url(&format!(
            "/v1/jobs/{id}/plots/weights.svg?width=800&height=300"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    let doc = roxmltree::Document::parse(&body).unwrap();
    assert_eq!(doc.root_element().attribute("width"), Some("800"));
    assert_eq!(doc.root_element().attribute("height"), Some("300"));

    let unknown = "01890a5d-ac96-774b-bcce-b302099a8057";
    for path in [
        format!("/v1/jobs/{unknown}/plots"),
        format!("/v1/jobs/{unknown}/plots/weights.svg"),
        "/v1/jobs/not-a-uuid/plots/weights.svg".to_string(),
    ] {
        let (status, _) = s.get(&path).await;
        assert_eq!(status, 404, "{path}");
    }
    s.stop().await;
}

const LIF_PLOTS: [&str; 5] = ["loss", "accuracy", "confusion", "leaks", "raster"];

fn lif_spec(epochs: u64) -> Value {
    json!({
        "dataset": {"builtin": "mnist10k"}, "split": {"train": 1024, "test": 200},
        "encoding": {"type": "poisson", "steps": 8},
        "layers": [{"type": "lif", "units": 32}, {"type": "dense", "units": 16},
                   {"type": "lif", "units": 16}],
        "batch_size": 64, "epochs": epochs, "seed": 4, "checkpoint_every": 1
    })
}

#[tokio::test]
async fn lif_plots_while_queued_running_and_after() {
    let s = TestServer::start_with(|c| c.runner.max_jobs = 1).await;
    let running = s.submit("lif", lif_spec(400)).await;
    let queued = s.submit("lif", lif_spec(2)).await;
    assert_eq!(listed(&s, &queued).await, LIF_PLOTS);
    for name in LIF_PLOTS {
        svg(&s, &queued, name).await;
    }
    // Running: metrics and the latest checkpoint's partial result are drawn.
    wait_checkpoint(&s, &running).await;
    s.wait_metrics(&running, 1).await;
    for name in LIF_PLOTS {
        let text = svg(&s, &running, name).await;
        assert!(
            !text.contains("no data"),
            "{name} has data while running: {text}"
        );
    }
    cancel(&s, &running).await;
    s.wait_status(&queued, &["succeeded"], 300).await;
    for name in LIF_PLOTS {
        let text = svg(&s, &queued, name).await;
        assert!(!text.contains("no data"), "{name} after the run: {text}");
    }
    let (status, body) = s.get(&format!("/v1/jobs/{queued}/plots/fitness.svg")).await;
    assert_eq!(status, 404);
    assert!(
        body["detail"].as_str().unwrap().contains("confusion"),
        "{body}"
    );
    s.stop().await;
}

/// GETs `path`; returns status, content type and the body's bytes.
async fn fetch(s: &TestServer, path: &str) -> (u16, String, Vec<u8>) {
    let r = s.client.get(s.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    (status, content_type, r.bytes().await.unwrap().to_vec())
}

fn circles(svg: &[u8]) -> usize {
    let text = String::from_utf8(svg.to_vec()).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count()
}

/// Figures people put in papers: each plot as SVG, PNG and PDF (by extension or `?format=`),
/// log axes and fixed bounds on line and scatter plots, 422s naming the parameter otherwise.
#[tokio::test]
async fn figures_download_as_svg_png_and_pdf_with_log_axes_and_bounds() {
    let s = TestServer::start().await;
    let (status, body) = s
        .post(
            "/v1/jobs?wait=60",
            json!({"kind": "mi", "spec": mi_spec(2)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mi = body["id"].as_str().unwrap().to_string();
    let (status, body) = s
        .post(
            "/v1/jobs?wait=60",
            json!({"kind": "evolution", "spec": evolution_spec("weighted", 300)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let evo = body["id"].as_str().unwrap().to_string();

    for name in MI_PLOTS {
        for (path, content_type) in [
            (format!("/v1/jobs/{mi}/plots/{name}.png"), "image/png"),
            (
                format!("/v1/jobs/{mi}/plots/{name}.svg?format=png&scale=1"),
                "image/png",
            ),
            (format!("/v1/jobs/{mi}/plots/{name}.pdf"), "application/pdf"),
            (
                format!("/v1/jobs/{mi}/plots/{name}.svg?format=pdf"),
                "application/pdf",
            ),
            (
                format!("/v1/jobs/{mi}/plots/{name}.svg?format=svg"),
                "image/svg+xml",
            ),
        ] {
            let (status, ct, bytes) = fetch(&s, &path).await;
            assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&bytes));
            assert_eq!(ct, content_type, "{path}");
            match content_type {
                "image/png" => {
                    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{path}");
                    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
                    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
                    let scale = if path.contains("scale=1") { 1 } else { 2 };
                    assert_eq!((width, height), (600 * scale, 400 * scale), "{path}");
                    assert!(bytes.len() > 5_000, "{path}: {} bytes", bytes.len());
                }
                "application/pdf" => {
                    assert!(bytes.starts_with(b"%PDF-"), "{path}");
                    assert!(bytes.len() > 5_000, "{path}: {} bytes", bytes.len());
                }
                _ => {
                    roxmltree::Document::parse(std::str::from_utf8(&bytes).unwrap()).unwrap();
                }
            }
        }
    }
    // Rendering is deterministic: the same request gives the same bytes.
    let once = fetch(&s, &format!("/v1/jobs/{mi}/plots/ic_scatter.png"))
        .await
        .2;
    let again = fetch(&s, &format!("/v1/jobs/{mi}/plots/ic_scatter.png"))
        .await
        .2;
    assert_eq!(once, again);

    // Log generation axis: decade ticks in data units.
    let (status, _, bytes) =
        fetch(&s, &format!("/v1/jobs/{evo}/plots/fitness.svg?log_x=true")).await;
    assert_eq!(status, 200);
    let text = String::from_utf8(bytes).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let ticks: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    assert!(ticks.contains(&"10") && ticks.contains(&"100"), "{ticks:?}");
    let linear = fetch(&s, &format!("/v1/jobs/{evo}/plots/fitness.svg"))
        .await
        .2;
    assert_ne!(linear, text.as_bytes());

    // Fixed bounds clip the scatter: fewer points drawn inside a narrower x range.
    let all = circles(
        &fetch(&s, &format!("/v1/jobs/{mi}/plots/ic_scatter.svg"))
            .await
            .2,
    );
    let (_, result) = s.get(&format!("/v1/jobs/{mi}/result")).await;
    let mut c: Vec<f64> = result["networks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["correlation_rms"].as_f64().unwrap())
        .collect();
    c.sort_by(f64::total_cmp);
    let cut = (c[c.len() / 2] + c[c.len() / 2 + 1]) / 2.0;
    let (status, _, bytes) = fetch(
        &s,
        &format!("/v1/jobs/{mi}/plots/ic_scatter.svg?x_min={cut}"),
    )
    .await;
    assert_eq!(status, 200);
    let kept = circles(&bytes);
    assert!(kept < all, "{kept} of {all} circles with x_min={cut}");

    for (query, field) in [
        ("format=gif", "format"),
        ("scale=9", "scale"),
        ("log_x=maybe", "log_x"),
        ("y_min=nan", "y_min"),
        ("x_max=1e13", "x_max"),
    ] {
        let (status, problem) = s
            .get(&format!("/v1/jobs/{mi}/plots/ic_scatter.svg?{query}"))
            .await;
        assert_eq!(status, 422, "{query}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    let (status, problem) = s
        .get(&format!("/v1/jobs/{mi}/plots/ic_scatter.png?format=pdf"))
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "format");
    // Combinations that cannot apply are dropped, said in a header, and the plot is drawn.
    for (path, says) in [
        (
            format!("/v1/jobs/{mi}/plots/ic_scatter.svg?x_min=2&x_max=1"),
            "x_min and x_max",
        ),
        (
            format!("/v1/jobs/{mi}/plots/ic_scatter.svg?log_y=true&y_min=0"),
            "y_min",
        ),
        (
            format!("/v1/jobs/{mi}/plots/weights.svg?log_x=1"),
            "no two numeric axes",
        ),
    ] {
        let r = s.client.get(s.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let ignored = r.headers()["fluxlab-view-ignored"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(ignored.contains(says), "{path}: {ignored}");
        roxmltree::Document::parse(&r.text().await.unwrap()).unwrap();
    }
    let r = s
        .client
        .get(s.url(&format!("/v1/jobs/{mi}/plots/ic_scatter.svg?log_x=true")))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("fluxlab-view-ignored").is_none());
    s.stop().await;
}

/// `?network=` picks the network the `mi` heat maps draw: another index gives another matrix
/// and says which in the subtitle; an index past the job's networks or not a whole number is
/// a 422 naming `network`; plots drawing no single network name it as ignored.
#[tokio::test]
async fn heat_maps_pick_a_network() {
    let s = TestServer::start().await;
    let (status, body) = s
        .post(
            "/v1/jobs?wait=60",
            json!({"kind": "mi", "spec": mi_spec(2)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mi = body["id"].as_str().unwrap().to_string();
    let (_, result) = s.get(&format!("/v1/jobs/{mi}/result")).await;
    let count = result["networks"].as_array().unwrap().len();
    assert_eq!(count, 6);
    for name in ["weights", "correlation"] {
        let path = |k: usize| format!("/v1/jobs/{mi}/plots/{name}.svg?network={k}");
        let (status, _, zero) = fetch(&s, &path(0)).await;
        assert_eq!(status, 200);
        assert_eq!(
            zero,
            fetch(&s, &format!("/v1/jobs/{mi}/plots/{name}.svg"))
                .await
                .2
        );
        let (status, _, one) = fetch(&s, &path(1)).await;
        assert_eq!(status, 200);
        assert_ne!(
            zero, one,
            "{name}: network 1 drew the same heat map as network 0"
        );
        let text = String::from_utf8(one).unwrap();
        assert!(
            text.contains("network 1 of 6, std = 0.5, replicate 1, N = 8"),
            "{name}"
        );
        for query in [
            format!("network={count}"),
            "network=one".into(),
            "network=-1".into(),
        ] {
            let (status, problem) = s
                .get(&format!("/v1/jobs/{mi}/plots/{name}.svg?{query}"))
                .await;
            assert_eq!(status, 422, "{query}: {problem}");
            assert_eq!(problem["errors"][0]["field"], "network", "{problem}");
        }
        let (_, problem) = s
            .get(&format!("/v1/jobs/{mi}/plots/{name}.svg?network={count}"))
            .await;
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("6 networks: 0 to 5"), "{message}");
    }
    let r = s
        .client
        .get(s.url(&format!("/v1/jobs/{mi}/plots/ic_scatter.svg?network=1")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ignored = r.headers()["fluxlab-view-ignored"].to_str().unwrap();
    assert!(ignored.starts_with("network"), "{ignored}");
    // Past the schema's maximum (no job has 10,001 networks) it is a 422 for every plot.
    let (status, problem) = s
        .get(&format!(
            "/v1/jobs/{mi}/plots/ic_scatter.svg?network=2147483648"
        ))
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "network", "{problem}");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 9999"),
        "{problem}"
    );
    assert_eq!(
        crate_max_networks(),
        10_000,
        "the schema's maximum index (9999) follows the most networks a job may have"
    );
    s.stop().await;
}

fn crate_max_networks() -> usize {
    fluxlab::jobs::Limits::default().max_networks
}
