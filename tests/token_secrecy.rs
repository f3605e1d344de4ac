//! Issue 15: a token is never stored or logged in clear. The real binary runs with debug
//! logging to a file while the token is used (and mistyped); neither the log nor the database
//! files contain its secret part.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn tokens_appear_in_neither_the_log_nor_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_fluxlab"))
            .args(args)
            .args(["--database", &db])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    cli(&["user", "add", "alice", "--admin"]);
    let token = cli(&["token", "create", "--user", "alice"])
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_string();
    let log_path = dir.path().join("server.log");
    let port = common::binary::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fluxlab"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database",
            &db,
        ])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .stderr(Stdio::from(
            std::fs::File::create(dir.path().join("server.err")).unwrap(),
        ))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mistyped = format!("{}{}", &token[..token.len() - 1], "Z");
    for t in [&token, &mistyped] {
        client
            .get(format!("{base}/v1/users/me"))
            .header("authorization", format!("Bearer {t}"))
            .send()
            .await
            .unwrap();
    }
    let r = client
        .post(format!("{base}/v1/jobs"))
        .header("authorization", format!("Bearer {token}"))
        .json(&serde_json::json!({"kind": "mi", "spec": common::nrooks_spec(3, 2.0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let secret = &token[4..26];
    let mut checked = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret),
            "the token's secret is in {}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 3, "log, error log and database files checked");
    let log = std::fs::read_to_string(&log_path).unwrap()
        + &std::fs::read_to_string(dir.path().join("server.err")).unwrap();
    assert!(
        log.contains("/v1/users/me") || log.contains("fluxlab serving"),
        "the log was written"
    );
}
