//! PostgreSQL for the tests: fresh databases on the server `FLUXLAB_TEST_POSTGRES` names
//! (`./scripts/test` starts a throwaway cluster when none is given), a throwaway cluster of a
//! test's own (for outages), and `fluxlab worker` processes whose logs record their claims.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The test server's URL, or a panic that says how to get one.
pub fn server_url() -> String {
    std::env::var("FLUXLAB_TEST_POSTGRES").expect(
        "FLUXLAB_TEST_POSTGRES is not set: run ./scripts/test (it starts a throwaway PostgreSQL) \
         or point it at a server where this user may CREATE DATABASE",
    )
}

/// Creates an empty database on the server at `base` and returns its URL.
pub async fn fresh_database_on(base: &str) -> String {
    use sqlx::Connection;
    let name = format!("fluxlab_it_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let _ = admin.close().await;
    let (server, _) = base.split('?').next().unwrap().rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

/// A fresh database on the test server.
pub async fn fresh_database() -> String {
    fresh_database_on(&server_url()).await
}

/// Connections open to the database `url` names (all clients), from `pg_stat_activity`.
pub async fn connections_to(url: &str) -> i64 {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND pid <> pg_backend_pid()",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
    .get(0);
    let _ = conn.close().await;
    n
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres-throwaway.sh")
}

/// A PostgreSQL cluster of this test's own, which it may stop and start (removed on drop).
pub struct OwnCluster {
    dir: tempfile::TempDir,
    pub url: String,
}

impl OwnCluster {
    pub fn start() -> OwnCluster {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir.path().join("pg"))
            .output()
            .expect("run postgres-throwaway.sh");
        assert!(
            out.status.success(),
            "starting a throwaway cluster failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
        OwnCluster { dir, url }
    }

    fn run(&self, command: &str) {
        let status = Command::new("bash")
            .arg(script())
            .arg(command)
            .arg(self.dir.path().join("pg"))
            .status()
            .unwrap();
        assert!(status.success(), "postgres-throwaway.sh {command} failed");
    }

    /// Stops the server (fast shutdown: connections are cut).
    pub fn pause(&self) {
        self.run("pause");
    }

    /// Starts it again on the same port.
    pub fn resume(&self) {
        self.run("resume");
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path().join("pg"))
            .status();
    }
}

/// A `fluxlab worker` process logging (at info level) to a file.
pub struct Worker {
    pub child: Child,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Worker {
    pub fn start(db: &str, name: &str, extra: &[&str]) -> Worker {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_fluxlab"))
            .args(["worker", "--database", db, "--name", name])
            .args(extra)
            .env("RUST_LOG", "info,sqlx=warn")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start fluxlab worker");
        Worker {
            child,
            log,
            _dir: dir,
        }
    }

    /// The ids of the jobs this worker claimed, one entry per claim, from its log.
    pub fn claims(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter(|l| l.contains(" claimed"))
            .filter_map(|l| {
                let start = l.find("job=")? + 4;
                Some(
                    l[start..]
                        .split_whitespace()
                        .next()?
                        .trim_matches('"')
                        .to_string(),
                )
            })
            .collect()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no checkpoint, no requeue, no goodbye.
    pub fn kill_dash_nine(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM and wait (at most `secs`); true if it exited.
    pub fn terminate(&mut self, secs: u64) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
