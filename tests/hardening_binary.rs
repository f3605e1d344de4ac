//! Issue 14 with the real binary: a long fast evolution stays bounded and runs once, unknown
//! event streams do not leak, half-sent requests and idle connections time out, the connection
//! cap answers 503, a second server on one SQLite file refuses to start, and SIGTERM parks
//! running jobs and ends event streams with `done`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::binary::{Binary, spawn_raw};
use serde_json::{Value, json};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

async fn submit(c: &reqwest::Client, s: &Binary, body: Value) -> String {
    let r = c.post(s.url("/v1/jobs")).json(&body).send().await.unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

async fn job(c: &reqwest::Client, s: &Binary, id: &str) -> Value {
    c.get(s.url(&format!("/v1/jobs/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn long_evolution(generations: u64) -> Value {
    json!({"kind": "evolution", "spec": {"n": 2, "parents": 1, "offspring": 1,
           "generations": generations, "seed": 7}})
}

#[tokio::test]
async fn a_million_generation_evolution_succeeds_once_in_bounded_memory_and_cancels_fast() {
    let s = Binary::start(&["--lease-secs", "3"]);
    let c = client();
    let id = submit(&c, &s, long_evolution(1_000_000)).await;
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut peak = 0;
    let done = loop {
        peak = peak.max(s.peak_kb());
        let j = job(&c, &s, &id).await;
        if j["status"] != "running" && j["status"] != "queued" {
            break j;
        }
        assert!(Instant::now() < deadline, "still running: {j}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    peak = peak.max(s.peak_kb());
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["attempts"], 1, "ran once: {done}");
    assert!(peak < 300 * 1024, "peak RSS {peak} KiB");
    let metrics: Value = c
        .get(s.url(&format!("/v1/jobs/{id}/metrics")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let series = metrics["series"].as_array().unwrap();
    assert_eq!(series.last().unwrap()["step"], 1_000_000);
    assert!(
        (3_000..5_000).contains(&series.len()),
        "thinned rows: {}",
        series.len()
    );

    // A cancel mid-run takes effect within a second.
    let id = submit(&c, &s, long_evolution(10_000_000)).await;
    loop {
        let j = job(&c, &s, &id).await;
        if j["progress"]["step"].as_u64().unwrap_or(0) > 10_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let asked = Instant::now();
    let r = c
        .post(s.url(&format!("/v1/jobs/{id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    loop {
        if job(&c, &s, &id).await["status"] == "cancelled" {
            break;
        }
        assert!(asked.elapsed() < Duration::from_secs(1), "cancel too slow");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn unknown_event_streams_do_not_leak_memory() {
    let s = Binary::start(&[]);
    let c = client();
    let hit = |n: usize| {
        let c = c.clone();
        let base = s.base.clone();
        async move {
            let mut tasks = Vec::new();
            for worker in 0..8 {
                let c = c.clone();
                let base = base.clone();
                tasks.push(tokio::spawn(async move {
                    for _ in (worker..n).step_by(8) {
                        let id = uuid::Uuid::now_v7();
                        let r = c
                            .get(format!("{base}/v1/jobs/{id}/events"))
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(r.status(), 404);
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        }
    };
    hit(2_000).await; // warm-up: allocator pools, connection state
    let before = s.rss_kb();
    hit(20_000).await;
    let grown = s.rss_kb().saturating_sub(before);
    assert!(grown < 10 * 1024, "RSS grew by {grown} KiB");
}

/// True when the server closed the connection (EOF or reset) within `secs`.
fn closed_within(stream: &mut TcpStream, secs: u64) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_secs(secs)))
        .unwrap();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // e.g. a 408 or 503 before the close
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

/// The two tests that open dozens of raw connections run one at a time, so neither's sockets
/// slow the other's server down while it is being measured.
static RAW_SOCKETS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn half_sent_requests_slow_bodies_and_idle_connections_are_closed() {
    let _one_at_a_time = RAW_SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
    let s = Binary::start(&["--header-timeout-secs", "1", "--body-idle-secs", "1"]);
    std::thread::sleep(Duration::from_millis(300));
    // Sockets only: the SQLite pool opens database files on demand meanwhile.
    let baseline = s.sockets();
    let addr = ("127.0.0.1", s.port);
    let mut streams = Vec::new();
    for i in 0..60 {
        let mut t = TcpStream::connect(addr).unwrap();
        match i % 3 {
            0 => {} // idle: never sends anything
            1 => t.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-A: ").unwrap(),
            _ => t
                .write_all(
                    b"POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"kind\":",
                )
                .unwrap(),
        }
        streams.push(t);
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        s.sockets() >= baseline + 50,
        "connections were accepted: {} vs {baseline}",
        s.sockets()
    );
    for (i, t) in streams.iter_mut().enumerate() {
        assert!(closed_within(t, 6), "connection {i} still open");
    }
    drop(streams);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        s.sockets() <= baseline + 2,
        "sockets {} vs {baseline}",
        s.sockets()
    );
}

/// One request over a fresh connection with `Connection: close`; the whole answer.
fn probe(addr: (&str, u16)) -> String {
    let mut extra = TcpStream::connect(addr).unwrap();
    extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    extra
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = extra.read_to_string(&mut answer);
    answer
}

/// True when the server already answered `stream` (a 503 refusal) or closed it.
fn refused(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let answered = match stream.peek(&mut byte) {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    };
    stream.set_nonblocking(false).unwrap();
    answered
}

/// Opens `n` idle connections that the server accepted into a slot. A connection that closed a
/// moment ago (e.g. the start-up readiness check) holds its slot until the server reads its end,
/// so one of the first `n` may be refused; it is replaced until `n` are held for 300 ms.
fn hold_slots(addr: (&str, u16), n: usize) -> Vec<TcpStream> {
    let mut held: Vec<TcpStream> = Vec::new();
    for _ in 0..20 {
        held.retain(|t| !refused(t));
        while held.len() < n {
            held.push(TcpStream::connect(addr).unwrap());
        }
        std::thread::sleep(Duration::from_millis(300));
        if !held.iter().any(refused) {
            return held;
        }
    }
    panic!("could not hold {n} connections: the server keeps refusing below its cap");
}

#[test]
fn connections_over_the_cap_get_503_and_the_server_keeps_serving() {
    let _one_at_a_time = RAW_SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
    let s = Binary::start(&["--max-connections", "20", "--header-timeout-secs", "30"]);
    let addr = ("127.0.0.1", s.port);
    let held = hold_slots(addr, 20);
    let answer = probe(addr);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(!held.iter().any(refused), "a held connection was dropped");
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    let answer = probe(addr);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn a_second_server_on_the_same_database_refuses_to_start_and_names_the_first() {
    let first = Binary::start(&[]);
    let port = common::binary::free_port();
    let second = spawn_raw(&[
        "serve".into(),
        "--bind".into(),
        format!("127.0.0.1:{port}"),
        "--database".into(),
        first.db.clone(),
    ]);
    let out = second.wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("pid {}", first.pid())),
        "the message names the holder: {stderr}"
    );
    assert!(stderr.contains("already served"), "{stderr}");
}

/// Reads an SSE stream until it ends; returns the names of its events.
fn read_event_names(mut stream: TcpStream) -> Vec<String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    String::from_utf8_lossy(&raw)
        .lines()
        .filter_map(|l| {
            l.strip_prefix("event: ")
                .or_else(|| l.strip_prefix("event:"))
        })
        .map(|n| n.trim().to_string())
        .collect()
}

#[tokio::test]
async fn sigterm_parks_running_jobs_and_ends_event_streams_with_done() {
    let mut s = Binary::start(&["--shutdown-grace-secs", "10"]);
    let c = client();
    let id = submit(&c, &s, long_evolution(10_000_000)).await;
    loop {
        let j = job(&c, &s, &id).await;
        if j["progress"]["step"].as_u64().unwrap_or(0) > 1_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut sse = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    sse.write_all(
        format!(
            "GET /v1/jobs/{id}/events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .unwrap();
    let reader = std::thread::spawn(move || read_event_names(sse));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    assert!(s.terminate(20), "the server did not exit after SIGTERM");
    assert!(started.elapsed() < Duration::from_secs(15));
    let names = reader.join().unwrap();
    assert_eq!(names.first().map(String::as_str), Some("snapshot"));
    assert_eq!(names.last().map(String::as_str), Some("done"), "{names:?}");

    // The job is back in the queue with its attempt given back, and resumes on restart.
    let again = Binary::start_on(&s.db, &[]);
    let j = job(&c, &again, &id).await;
    assert!(
        j["status"] == "queued" || j["status"] == "running",
        "parked, not lost: {j}"
    );
    assert!(j["attempts"].as_i64().unwrap() <= 1, "{j}");
    let r = c
        .post(again.url(&format!("/v1/jobs/{id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
}
