//! Issue 18: the terminal client against the real server binary: submit --wait, watch to
//! completion, jobs, result, cancel, download, and the documented exit codes (0 ok, 1 job
//! failed or cancelled, 2 usage or refused, 3 not found, 4 server or network error).

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::binary::{Binary, free_port};
use serde_json::{Value, json};

fn fluxlab(server: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fluxlab"))
        .args(args)
        .env("FLUXLAB_SERVER", server)
        .env_remove("FLUXLAB_TOKEN")
        .output()
        .expect("run fluxlab")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write_json(dir: &std::path::Path, name: &str, doc: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, doc.to_string()).unwrap();
    path.display().to_string()
}

fn mi_spec(seed: u64) -> Value {
    json!({"network": {"nrooks": {"n": 4, "q": 2.0, "permutation": "ring", "signs": "positive"}},
           "method": "exact", "seed": seed})
}

/// An evolution long enough to cancel (thousands of generations at N = 8).
fn long_evolution() -> Value {
    json!({"kind": "evolution", "spec": {"n": 8, "generations": 100000, "seed": 1,
           "checkpoint_every": 5}})
}

fn get(url: &str) -> (u16, Vec<u8>) {
    let out = Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}", url])
        .output()
        .unwrap();
    let mut body = out.stdout;
    let tail = body.iter().rposition(|&b| b == b'\n').unwrap();
    let status = String::from_utf8_lossy(&body[tail + 1..]).parse().unwrap();
    body.truncate(tail);
    (status, body)
}

#[test]
fn submit_wait_watch_result_and_download() {
    let server = Binary::start(&[]);
    let base = server.base.clone();
    let dir = tempfile::tempdir().unwrap();
    // A bare spec with --kind, name and tags; --wait follows it to the end.
    let spec = write_json(dir.path(), "spec.json", &mi_spec(1));
    let out = fluxlab(
        &base,
        &[
            "submit", &spec, "--kind", "mi", "--name", "cli", "--tag", "cli-test", "--wait",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let id = text.lines().next().unwrap().trim().to_string();
    assert!(uuid_like(&id), "{text}");
    assert!(text.contains(&format!("job {id} succeeded")), "{text}");
    assert!(
        text.contains("summary.count: 1"),
        "the result summary: {text}"
    );
    assert!(text.contains("provenance: fluxlab"), "{text}");

    // The table lists it under its tag.
    let out = fluxlab(&base, &["jobs", "--tag", "cli-test"]);
    assert_eq!(code(&out), 0);
    let table = stdout(&out);
    assert!(table.lines().next().unwrap().starts_with("ID"), "{table}");
    assert!(
        table.contains(&id) && table.contains("succeeded") && table.contains("cli-test"),
        "{table}"
    );
    assert_eq!(
        stdout(&fluxlab(&base, &["jobs", "--tag", "other"]))
            .lines()
            .count(),
        1
    );

    // result --json is the server's document.
    let out = fluxlab(&base, &["result", &id, "--json"]);
    assert_eq!(code(&out), 0);
    let printed: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let (_, served) = get(&format!("{base}/v1/jobs/{id}/result"));
    assert_eq!(printed, serde_json::from_slice::<Value>(&served).unwrap());

    // download saves exactly the served bytes; metrics.csv has every column of the JSON series.
    let target = dir.path().join("m.csv");
    let out = fluxlab(
        &base,
        &[
            "download",
            &id,
            "metrics.csv",
            "-o",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (_, served) = get(&format!("{base}/v1/jobs/{id}/artifacts/metrics.csv"));
    let saved = std::fs::read(&target).unwrap();
    assert_eq!(saved, served);
    let header: Vec<String> = String::from_utf8(saved)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let (_, series) = get(&format!("{base}/v1/jobs/{id}/metrics"));
    let series: Value = serde_json::from_slice(&series).unwrap();
    for row in series["series"].as_array().unwrap() {
        for key in row.as_object().unwrap().keys() {
            assert!(
                header.contains(key),
                "metrics.csv lacks `{key}`: {header:?}"
            );
        }
    }
    // A misspelt artifact or a missing job: exit 3, and no file at all.
    let nothing = dir.path().join("nothing.npy");
    let out = fluxlab(
        &base,
        &[
            "download",
            &id,
            "wieghts.npy",
            "-o",
            nothing.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("weights.npy"),
        "names the valid artifacts: {}",
        stderr(&out)
    );
    let missing = "0190a0c0-0000-7000-8000-000000000000";
    let out = fluxlab(
        &base,
        &[
            "download",
            missing,
            "weights.npy",
            "-o",
            nothing.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 3);
    assert!(
        !nothing.exists(),
        "an error body is never saved as the file"
    );

    // Watching a finished job prints its end at once; the idempotency key returns the first job.
    let out = fluxlab(&base, &["watch", &id]);
    assert_eq!(code(&out), 0);
    let body = write_json(
        dir.path(),
        "body.json",
        &json!({"kind": "mi", "spec": mi_spec(2)}),
    );
    let first = fluxlab(&base, &["submit", &body, "--idempotency-key", "k1"]);
    let again = fluxlab(&base, &["submit", &body, "--idempotency-key", "k1"]);
    assert_eq!(code(&first), 0);
    assert_eq!(stdout(&first), stdout(&again));
    // watch follows a job submitted without --wait to completion.
    let id2 = stdout(&first).trim().to_string();
    let out = fluxlab(&base, &["watch", &id2]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("job {id2} succeeded")));
    let out = fluxlab(&base, &["delete", &id2]);
    assert_eq!(code(&out), 0);
    assert_eq!(code(&fluxlab(&base, &["result", &id2])), 3);
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[test]
fn exit_codes_tell_how_it_ended() {
    let server = Binary::start(&[]);
    let base = server.base.clone();
    let dir = tempfile::tempdir().unwrap();
    let missing = "0190a0c0-0000-7000-8000-000000000000";
    // Not found: 3.
    for args in [
        vec!["watch", missing],
        vec!["result", missing],
        vec!["cancel", missing],
        vec!["result", "not-an-id"],
    ] {
        let out = fluxlab(&base, &args);
        assert_eq!(code(&out), 3, "{args:?}: {}", stderr(&out));
    }
    // Usage and refused requests: 2 (clap's own usage errors too).
    let bad = write_json(dir.path(), "bad.json", &json!({"kind": "mi", "spec": {}}));
    let out = fluxlab(&base, &["submit", &bad]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("spec"),
        "names the field: {}",
        stderr(&out)
    );
    let bare = write_json(dir.path(), "bare.json", &mi_spec(1));
    assert_eq!(
        code(&fluxlab(&base, &["submit", &bare])),
        2,
        "a bare spec needs --kind"
    );
    assert_eq!(code(&fluxlab(&base, &["submit"])), 2);
    assert_eq!(code(&fluxlab(&base, &["jobs", "--status", "sleeping"])), 2);
    // No server: 4.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    assert_eq!(code(&fluxlab(&nowhere, &["jobs"])), 4);

    // A cancelled job: watch and result exit 1; download of an unfinished job saves nothing.
    let long = write_json(dir.path(), "long.json", &long_evolution());
    let out = fluxlab(&base, &["submit", &long, "--tag", "long"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let id = stdout(&out).trim().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, view) = get(&format!("{base}/v1/jobs/{id}"));
        let view: Value = serde_json::from_slice(&view).unwrap();
        if view["status"] == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "never started: {view}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let early = dir.path().join("early.npy");
    let out = fluxlab(
        &base,
        &[
            "download",
            &id,
            "weights.npy",
            "-o",
            early.to_str().unwrap(),
            "--wait",
            "0.5",
        ],
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(!early.exists(), "a job still running leaves no file");
    let watcher = Command::new(env!("CARGO_BIN_EXE_fluxlab"))
        .args(["watch", &id])
        .env("FLUXLAB_SERVER", &base)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let out = fluxlab(&base, &["cancel", &id]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = watcher.wait_with_output().unwrap();
    assert_eq!(code(&out), 1, "watch of a cancelled job: {}", stderr(&out));
    assert!(stdout(&out).contains("cancelled"), "{}", stdout(&out));
    let out = fluxlab(&base, &["result", &id]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("cancelled"));
    // resume puts it back; delete of a queued/running job is refused (2).
    assert_eq!(code(&fluxlab(&base, &["resume", &id])), 0);
    assert_eq!(code(&fluxlab(&base, &["delete", &id])), 2);
    assert_eq!(code(&fluxlab(&base, &["cancel", &id])), 0);
}

#[test]
fn tokens_come_from_the_flag_or_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let admin = |args: &[&str]| {
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
    admin(&["user", "add", "alice"]);
    let token = admin(&["token", "create", "--user", "alice"])
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_string();
    let server = Binary::start_on(&db, &[]);
    let base = server.base.clone();
    // No token: 5.
    assert_eq!(code(&fluxlab(&base, &["jobs"])), 5);
    let out = fluxlab(&base, &["jobs", "--token", &token]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_fluxlab"))
        .args(["jobs"])
        .env("FLUXLAB_SERVER", &base)
        .env("FLUXLAB_TOKEN", &token)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}
