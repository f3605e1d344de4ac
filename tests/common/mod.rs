//! Test support: a real fluxlab server on 127.0.0.1:0 with a temporary database, and a client.

#![allow(dead_code)]

pub mod binary;
pub mod cluster;

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::oneshot;

pub struct TestServer {
    pub base: String,
    /// The database URL (for running `fluxlab user …` against it).
    pub db: String,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut fluxlab::ServeConfig)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let mut config = fluxlab::ServeConfig::for_database(url);
        config.runner.lease_secs = 5;
        adjust(&mut config);
        let db_url = config.runner.database.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            fluxlab::serve(config, listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let server = TestServer {
            base,
            db: db_url,
            client,
            stop: Some(tx),
            handle: Some(handle),
            _dir: dir,
        };
        for _ in 0..100 {
            if server
                .client
                .get(server.url("/healthz"))
                .send()
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_raw(path, body.to_string()).await
    }

    pub async fn post_raw(&self, path: &str, body: String) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
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

    pub async fn submit(&self, kind: &str, spec: Value) -> String {
        let (status, body) = self
            .post("/v1/jobs", json!({"kind": kind, "spec": spec}))
            .await;
        assert_eq!(status, 201, "submit failed: {body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// Polls until the job reaches one of `statuses` (panics after `secs`).
    pub async fn wait_status(&self, id: &str, statuses: &[&str], secs: u64) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let (_, job) = self.get(&format!("/v1/jobs/{id}")).await;
            if statuses.contains(&job["status"].as_str().unwrap_or("")) {
                return job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {id} stuck: {job}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls until the job has recorded at least `rows` metric rows (panics after 60 s).
    pub async fn wait_metrics(&self, id: &str, rows: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let (_, m) = self.get(&format!("/v1/jobs/{id}/metrics")).await;
            if m["series"].as_array().is_some_and(|s| s.len() >= rows) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {id} recorded fewer than {rows} metric rows"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `fluxlab <args> --database <this server's database>`; returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_fluxlab"))
            .args(args)
            .args(["--database", &self.db])
            .output()
            .expect("run fluxlab");
        assert!(
            out.status.success(),
            "fluxlab {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Creates a user and returns a fresh token of theirs.
    pub fn user_with_token(&self, name: &str, admin: bool) -> String {
        let mut add = vec!["user", "add", name];
        if admin {
            add.push("--admin");
        }
        self.cli(&add);
        self.token_for(name, &[])
    }

    /// A new token for an existing user (`extra`: e.g. `["--expires", "1s"]`).
    pub fn token_for(&self, name: &str, extra: &[&str]) -> String {
        let mut args = vec!["token", "create", "--user", name];
        args.extend_from_slice(extra);
        self.cli(&args).lines().next().unwrap().trim().to_string()
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap();
        }
    }
}

/// An N-rooks spec with exact method and no attractors.
pub fn nrooks_spec(n: usize, q: f64) -> Value {
    json!({
        "network": {"nrooks": {"n": n, "q": q, "permutation": "ring", "signs": "positive"}},
        "method": "exact",
        "seed": 1
    })
}

/// I of an N-rooks network: N·(1 − h2(σ(−q))).
pub fn nrooks_mi(n: usize, q: f64) -> f64 {
    let eps = 1.0 / (1.0 + q.exp());
    let h2 = -eps * eps.log2() - (1.0 - eps) * (1.0 - eps).log2();
    n as f64 * (1.0 - h2)
}
