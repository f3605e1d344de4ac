//! Wires the store, runner and HTTP router together and runs them until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::auth::AuthSettings;
use crate::api::guard::HostPolicy;
use crate::api::users::QuotaDefaults;
use crate::api::{self, AppState};
use crate::config::ServeConfig;
use crate::listen::{self, ListenConfig, connection_cap, raise_fd_limit};
use crate::observe::Observability;
use crate::runner::{EventHub, Runner, RunnerConfig};
use crate::store::{Store, lock_database, redact};

/// Serves on `listener` until `shutdown` resolves, then stops claiming, checkpoints and requeues
/// running jobs, ends SSE streams and closes the database.
pub async fn serve(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let address = listener.local_addr()?;
    let who = format!(
        "pid {} serving {address} since {}",
        std::process::id(),
        humantime::format_rfc3339_seconds(std::time::SystemTime::now())
    );
    // Held until this function returns: no second server may run the same SQLite file.
    let db_lock = lock_database(&config.runner.database, &who)?;
    let store =
        Store::connect_with(&config.runner.database, &config.runner.store_options(8)).await?;
    let loopback = address.ip().is_loopback();
    let database = redact(&config.runner.database);
    if !store.has_users().await? {
        if !loopback {
            anyhow::bail!(
                "no users exist and this server is bound to {address}, which is not a loopback \
                 address: it would be open to the network. Create an admin and a token first:\n  \
                 fluxlab user add NAME --admin --database {database}\n  \
                 fluxlab token create --user NAME --database {database}\n\
                 (or bind to 127.0.0.1 to run open on this machine only)"
            );
        }
        tracing::warn!(
            "OPEN MODE: no users exist, so no token is asked for; anyone who can reach \
             {address} can do anything. Create users with `fluxlab user add` to require tokens"
        );
    }
    recover_at_start(&store).await?;
    tokio::spawn(backfill_run_summaries(store.clone()));
    let hub = Arc::new(EventHub::default());
    let observe = Arc::new(Observability::default());
    let runner_config = config.runner.runner_config();
    let threads = runner_config.threads;
    warn_if_few_threads(&runner_config);
    let runner = Runner::start(
        store.clone(),
        hub.clone(),
        observe.clone(),
        runner_config,
        None,
    )
    .await?;
    let stop = CancellationToken::new();
    let parked = CancellationToken::new();
    let mut hosts = HostPolicy::new(&address.to_string(), &config.allowed_hosts);
    hosts.origins = config
        .cors_origins
        .iter()
        .map(|o| o.trim().trim_end_matches('/').to_string())
        .filter(|o| !o.is_empty())
        .collect();
    if hosts.any {
        tracing::info!("answering to any Host header (wildcard bind); --allowed-hosts narrows it");
    }
    let state = AppState {
        store: store.clone(),
        runner: runner.clone(),
        hub,
        observe,
        limits: config.limits(),
        max_body_bytes: config.max_body_bytes,
        max_upload_bytes: config.max_upload_bytes,
        models: Default::default(),
        shutdown: stop.clone(),
        parked: parked.clone(),
        hosts: Arc::new(hosts),
        auth: Arc::new(AuthSettings {
            loopback,
            protect_metrics: config.protect_metrics,
            protect_openapi: config.protect_openapi,
            rate_per_sec: config.rate_limit.max(0.0),
            burst: (config.rate_limit * 2.0).max(1.0),
        }),
        limiter: Default::default(),
        quotas: Arc::new(QuotaDefaults {
            max_running: config.runner.default_max_running,
            max_queued: config.default_max_queued,
            max_dataset_bytes: config.default_max_dataset_bytes,
        }),
    };
    let grace = Duration::from_secs(config.runner.shutdown_grace_secs);
    let app = api::router(state);
    let listen = ListenConfig {
        max_connections: connection_cap(config.max_connections as usize, raise_fd_limit()),
        header_timeout: Duration::from_secs(config.header_timeout_secs),
        body_idle: Duration::from_secs(config.body_idle_secs),
        body_deadline: Duration::from_secs(config.body_deadline_secs),
        drain_timeout: Duration::from_secs(5),
    };
    tracing::info!(%address, %database, threads, max_jobs = config.runner.max_jobs, max_connections = listen.max_connections, "fluxlab serving");
    let runner_for_stop = runner.clone();
    let stop_for_signal = stop.clone();
    listen::serve(listener, app, listen, async move {
        shutdown.await;
        tracing::info!("shutting down: checkpointing running jobs");
        stop_for_signal.cancel();
        runner_for_stop.shutdown(grace).await;
        parked.cancel();
    })
    .await;
    store.close().await;
    drop(db_lock);
    tracing::info!("stopped");
    Ok(())
}

/// Jobs left running by processes that are gone (see [`Store::recover_at_start`]).
pub(crate) async fn recover_at_start(store: &Store) -> anyhow::Result<()> {
    let recovered = store.recover_at_start().await?;
    if recovered > 0 {
        tracing::warn!(
            jobs = recovered,
            "requeued jobs left running by a previous process"
        );
    }
    Ok(())
}

pub(crate) fn warn_if_few_threads(config: &RunnerConfig) {
    if config.max_jobs > config.threads {
        tracing::warn!(
            max_jobs = config.max_jobs,
            threads = config.threads,
            "fewer compute threads than --max-jobs: at most {} jobs run at once",
            config.threads
        );
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Fills in the run table's columns of succeeded jobs that have none (jobs finished before the
/// table existed, or whose summary write failed), a few at a time in the background. A result
/// that cannot be read gets an empty row, so it is not read again.
async fn backfill_run_summaries(store: Store) {
    let mut filled = 0usize;
    loop {
        let batch = match store.jobs_missing_summary(20).await {
            Ok(batch) if !batch.is_empty() => batch,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, "run table backfill stopped");
                return;
            }
        };
        for (id, kind, result) in batch {
            let summary = serde_json::from_str(&result)
                .ok()
                .and_then(|r| crate::jobs::run_summary::extract(&kind, &r))
                .unwrap_or_default();
            if let Err(e) = store.put_run_summary(&id, &summary).await {
                tracing::warn!(error = %e, "run table backfill stopped");
                return;
            }
            filled += 1;
        }
    }
    if filled > 0 {
        tracing::info!(jobs = filled, "filled in the run table for earlier jobs");
    }
}
