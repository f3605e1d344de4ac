//! The real `fluxlab` binary as a child process on a free port, with its memory and open file
//! descriptors read from `/proc/<pid>` (where memory is the point, the real process is measured).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Binary {
    pub child: Child,
    pub base: String,
    pub port: u16,
    pub db: String,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Spawns `fluxlab <args>` without waiting for it (for start-up failures).
pub fn spawn_raw(args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_fluxlab"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fluxlab")
}

impl Binary {
    /// `fluxlab serve` on a fresh temporary database with `extra` flags; waits until ready.
    pub fn start(extra: &[&str]) -> Binary {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("b.db").display());
        let mut server = Self::start_on(&db, extra);
        server._dir = Some(dir);
        server
    }

    /// `fluxlab serve` on `db` with `extra` flags; waits until it listens.
    ///
    /// The port comes from [`free_port`], which another test may be handed at the same time:
    /// then one of the two servers cannot bind and exits, and a plain "does the port answer"
    /// check would hand this test the other test's server. So readiness is "our child is alive
    /// and holds a socket, and the port answers"; a child that exited is started again on
    /// another port.
    pub fn start_on(db: &str, extra: &[&str]) -> Binary {
        let deadline = Instant::now() + Duration::from_secs(30);
        'attempt: for _ in 0..5 {
            let port = free_port();
            let mut args: Vec<String> = [
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--database",
                db,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            args.extend(extra.iter().map(|s| s.to_string()));
            let mut child = Command::new(env!("CARGO_BIN_EXE_fluxlab"))
                .args(&args)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start fluxlab");
            loop {
                assert!(Instant::now() < deadline, "server did not start");
                if child.try_wait().expect("child status").is_some() {
                    continue 'attempt; // e.g. the port was taken meanwhile
                }
                if holds_socket(child.id())
                    && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                {
                    return Binary {
                        child,
                        base: format!("http://127.0.0.1:{port}"),
                        port,
                        db: db.to_string(),
                        _dir: None,
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("server did not start in 5 attempts");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn status_kb(&self, key: &str) -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap()
    }

    /// Resident memory now, in KiB.
    pub fn rss_kb(&self) -> u64 {
        self.status_kb("VmRSS:")
    }

    /// Peak resident memory so far, in KiB.
    pub fn peak_kb(&self) -> u64 {
        self.status_kb("VmHWM:")
    }

    /// Open file descriptors now.
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .count()
    }

    /// Open sockets now (connections and listeners; database files and pipes left out).
    pub fn sockets(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter(|target| target.to_string_lossy().starts_with("socket:"))
            .count()
    }

    /// Sends SIGTERM and waits (at most `secs`) for the process to exit; returns whether it did.
    pub fn terminate(&mut self, secs: u64) -> bool {
        sigterm(self.pid());
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

fn sigterm(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

/// True when process `pid` has a socket open (a SQLite server's only socket is its listener).
fn holds_socket(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .any(|target| target.to_string_lossy().starts_with("socket:"))
        })
        .unwrap_or(false)
}
