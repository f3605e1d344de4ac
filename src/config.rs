//! Server configuration: command-line flags, each also settable by a `FLUXLAB_*` variable.

use std::time::Duration;

use clap::Args;

use crate::jobs::Limits;

/// `fluxlab serve` settings.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "FLUXLAB_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// SQLite database URL (created if missing).
    #[arg(long, env = "FLUXLAB_DATABASE", default_value = "sqlite://fluxlab.db")]
    pub database: String,
    /// Jobs running at once.
    #[arg(long, env = "FLUXLAB_MAX_JOBS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub max_jobs: u16,
    /// Compute threads of the worker pool (0: one per core).
    #[arg(long, env = "FLUXLAB_THREADS", default_value_t = 0)]
    pub threads: usize,
    /// Lease of a running job in seconds; renewed every third of it.
    #[arg(long, env = "FLUXLAB_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease_secs: u64,
    /// Largest request body in bytes.
    #[arg(long, env = "FLUXLAB_MAX_BODY_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Largest file of a dataset upload in bytes, as sent (raw or gzip).
    #[arg(long, env = "FLUXLAB_MAX_UPLOAD_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_upload_bytes: usize,
    /// Largest N for exact information flux (at most 16).
    #[arg(long, env = "FLUXLAB_EXACT_MAX_N", default_value_t = 16, value_parser = clap::value_parser!(u8).range(1..=16))]
    pub exact_max_n: u8,
    /// Seconds a graceful shutdown waits for running jobs to checkpoint.
    #[arg(long, env = "FLUXLAB_SHUTDOWN_GRACE_SECS", default_value_t = 25)]
    pub shutdown_grace_secs: u64,
}

impl ServeConfig {
    /// The settings with defaults, for tests and embedding.
    pub fn for_database(database: impl Into<String>) -> Self {
        ServeConfig {
            bind: "127.0.0.1:0".into(),
            database: database.into(),
            max_jobs: 2,
            threads: 0,
            lease_secs: 30,
            max_body_bytes: 32 * 1024 * 1024,
            max_upload_bytes: 64 * 1024 * 1024,
            exact_max_n: 16,
            shutdown_grace_secs: 25,
        }
    }

    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }

    pub fn compute_threads(&self) -> usize {
        if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.threads
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            exact_max_n: self.exact_max_n as usize,
            ..Limits::default()
        }
    }
}
