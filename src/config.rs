//! Server configuration: command-line flags, each also settable by a `FLUXLAB_*` variable.

use std::time::Duration;

use clap::Args;

use crate::jobs::Limits;
use crate::runner::RunnerConfig;
use crate::store::StoreOptions;

/// Database and runner settings, shared by `fluxlab serve` and `fluxlab worker`.
#[derive(Debug, Clone, Args)]
pub struct RunnerArgs {
    /// Database URL: `sqlite://PATH` (created if missing; one server per file) or
    /// `postgres://USER:PASS@HOST:PORT/DB` (shared by an API and any number of workers).
    #[arg(long, env = "FLUXLAB_DATABASE", default_value = "sqlite://fluxlab.db")]
    pub database: String,
    /// Jobs running at once in this process (`serve --max-jobs 0`: the API only, for a
    /// PostgreSQL database whose jobs `fluxlab worker`s run).
    #[arg(long, env = "FLUXLAB_MAX_JOBS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(0..=256))]
    pub max_jobs: u16,
    /// Compute threads of the worker pool (0: one per core).
    #[arg(long, env = "FLUXLAB_THREADS", default_value_t = 0)]
    pub threads: usize,
    /// Lease of a running job in seconds; renewed every third of it.
    #[arg(long, env = "FLUXLAB_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease_secs: u64,
    /// Largest N for exact information flux (at most 16).
    #[arg(long, env = "FLUXLAB_EXACT_MAX_N", default_value_t = 16, value_parser = clap::value_parser!(u8).range(1..=16))]
    pub exact_max_n: u8,
    /// Most work one job may ask for, in work units (estimated floating-point multiply-adds; a
    /// core does roughly 3e9–1e10 a second): a valid spec whose estimate is larger gets a 422.
    #[arg(long, env = "FLUXLAB_MAX_JOB_WORK", default_value = "1e16", value_parser = crate::jobs::validation::parse_work_limit)]
    pub max_job_work: f64,
    /// Seconds a graceful shutdown waits for running jobs to checkpoint.
    #[arg(long, env = "FLUXLAB_SHUTDOWN_GRACE_SECS", default_value_t = 25)]
    pub shutdown_grace_secs: u64,
    /// Largest size of a SQLite database in bytes (0: as large as the disk allows). Writes
    /// beyond it are refused like a full disk (507). PostgreSQL: size it on the server.
    #[arg(long, env = "FLUXLAB_MAX_DATABASE_BYTES", default_value_t = 0)]
    pub max_database_bytes: u64,
    /// Default for each user's running jobs at once (0: no limit; `fluxlab user set` overrides).
    #[arg(long, env = "FLUXLAB_DEFAULT_MAX_RUNNING", default_value_t = 0)]
    pub default_max_running: i64,
    /// Most pooled database connections (default: 8 for `serve`, 2 for `worker`; the LISTEN
    /// connection of a PostgreSQL process comes on top). With PostgreSQL's default limit of 100
    /// connections, an API and 20 workers fit with room to spare.
    #[arg(long, env = "FLUXLAB_DB_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: Option<u32>,
    /// Checkpoints kept per job (older ones are pruned when a new one is written; forks copy
    /// what they need at submission, so nothing else needs old checkpoints).
    #[arg(long, env = "FLUXLAB_KEEP_CHECKPOINTS", default_value_t = 3, value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub keep_checkpoints: i64,
}

/// `fluxlab serve` settings.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// Address to listen on.
    #[arg(long, env = "FLUXLAB_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Largest request body in bytes.
    #[arg(long, env = "FLUXLAB_MAX_BODY_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Largest file of a dataset upload in bytes, as sent (raw or gzip).
    #[arg(long, env = "FLUXLAB_MAX_UPLOAD_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_upload_bytes: usize,
    /// Host names (without port) the server answers to, comma-separated; `*` for any. Default:
    /// the bind address's own names (loopback binds: `localhost`, `127.0.0.1`, `[::1]`), any
    /// host for a wildcard bind. Closes DNS rebinding against a loopback server.
    #[arg(long, env = "FLUXLAB_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Most HTTP connections open at once (lowered to fit the file-descriptor limit); more are
    /// answered 503 and closed.
    #[arg(long, env = "FLUXLAB_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// Seconds a client has to send a request's headers (also how long an idle keep-alive
    /// connection stays open).
    #[arg(long, env = "FLUXLAB_HEADER_TIMEOUT_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: u64,
    /// Seconds a request body may pause between two chunks before the request is dropped.
    #[arg(long, env = "FLUXLAB_BODY_IDLE_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_idle_secs: u64,
    /// Seconds a whole request body may take to arrive.
    #[arg(long, env = "FLUXLAB_BODY_DEADLINE_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub body_deadline_secs: u64,
    /// Origins allowed to call the API from a browser on another site (CORS), comma-separated,
    /// e.g. `https://jupyter.lab.example`. None by default: same-origin only.
    #[arg(long, env = "FLUXLAB_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Require a token for `/metrics` too.
    #[arg(long, env = "FLUXLAB_PROTECT_METRICS")]
    pub protect_metrics: bool,
    /// Require a token for `/openapi.json` too.
    #[arg(long, env = "FLUXLAB_PROTECT_OPENAPI")]
    pub protect_openapi: bool,
    /// Requests per second allowed per token (0: no limit); bursts of twice that pass.
    #[arg(long, env = "FLUXLAB_RATE_LIMIT", default_value_t = 50.0)]
    pub rate_limit: f64,
    /// Default for each user's queued jobs (0: no limit).
    #[arg(long, env = "FLUXLAB_DEFAULT_MAX_QUEUED", default_value_t = 1000)]
    pub default_max_queued: i64,
    /// Default for each user's stored dataset bytes (0: no limit).
    #[arg(long, env = "FLUXLAB_DEFAULT_MAX_DATASET_BYTES", default_value_t = 4 << 30)]
    pub default_max_dataset_bytes: i64,
}

impl RunnerArgs {
    /// The defaults, on `database`.
    pub fn for_database(database: impl Into<String>) -> Self {
        RunnerArgs {
            database: database.into(),
            max_jobs: 2,
            threads: 0,
            lease_secs: 30,
            exact_max_n: 16,
            max_job_work: crate::jobs::work::DEFAULT_MAX_JOB_WORK,
            shutdown_grace_secs: 25,
            max_database_bytes: 0,
            default_max_running: 0,
            db_max_connections: None,
            keep_checkpoints: 3,
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
            max_job_work: self.max_job_work,
            ..Limits::default()
        }
    }

    /// How to open the database; `default_connections` when `--db-max-connections` is not given.
    pub fn store_options(&self, default_connections: u32) -> StoreOptions {
        StoreOptions {
            max_connections: self.db_max_connections.unwrap_or(default_connections),
            max_bytes: self.max_database_bytes,
            keep_checkpoints: self.keep_checkpoints,
            ..StoreOptions::default()
        }
    }

    /// The runner's settings (`max_jobs` 0: no jobs run in this process).
    pub fn runner_config(&self) -> RunnerConfig {
        RunnerConfig {
            max_jobs: self.max_jobs as usize,
            threads: self.compute_threads(),
            lease: self.lease(),
            progress_interval: Duration::from_millis(500),
            limits: self.limits(),
            executor: crate::jobs::run,
            default_max_running: if self.default_max_running > 0 {
                self.default_max_running
            } else {
                i64::MAX
            },
        }
    }
}

impl ServeConfig {
    /// The settings with defaults, for tests and embedding.
    pub fn for_database(database: impl Into<String>) -> Self {
        ServeConfig {
            runner: RunnerArgs::for_database(database),
            bind: "127.0.0.1:0".into(),
            max_body_bytes: 32 * 1024 * 1024,
            max_upload_bytes: 64 * 1024 * 1024,
            allowed_hosts: Vec::new(),
            max_connections: 1024,
            header_timeout_secs: 15,
            body_idle_secs: 15,
            body_deadline_secs: 300,
            cors_origins: Vec::new(),
            protect_metrics: false,
            protect_openapi: false,
            rate_limit: 50.0,
            default_max_queued: 1000,
            default_max_dataset_bytes: 4 << 30,
        }
    }

    pub fn limits(&self) -> Limits {
        self.runner.limits()
    }
}

/// `fluxlab worker` settings: a runner without the public API, on a shared PostgreSQL database.
#[derive(Debug, Clone, Args)]
pub struct WorkerConfig {
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// Name shown in `GET /v1/workers` (default: the host name).
    #[arg(long, env = "FLUXLAB_WORKER_NAME")]
    pub name: Option<String>,
    /// Address for `/healthz`, `/readyz` and Prometheus `/metrics` of this worker (none by
    /// default; e.g. `0.0.0.0:9100`).
    #[arg(long, env = "FLUXLAB_METRICS_BIND")]
    pub metrics_bind: Option<String>,
}
