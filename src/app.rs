//! Wires the store, runner and HTTP router together and runs them until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::{self, AppState};
use crate::config::ServeConfig;
use crate::observe::Observability;
use crate::runner::{EventHub, Runner, RunnerConfig};
use crate::store::Store;

/// Serves on `listener` until `shutdown` resolves, then stops claiming, checkpoints and requeues
/// running jobs, ends SSE streams and closes the database.
pub async fn serve(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = Store::connect(&config.database).await?;
    let recovered = store.recover_expired(true).await?;
    if recovered > 0 {
        tracing::warn!(
            jobs = recovered,
            "requeued jobs left running by a previous process"
        );
    }
    let hub = Arc::new(EventHub::default());
    let observe = Arc::new(Observability::default());
    let runner = Runner::start(
        store.clone(),
        hub.clone(),
        observe.clone(),
        RunnerConfig {
            max_jobs: config.max_jobs as usize,
            threads: config.compute_threads(),
            lease: config.lease(),
            progress_interval: Duration::from_millis(500),
            limits: config.limits(),
            executor: crate::jobs::run,
        },
    )?;
    let stop = CancellationToken::new();
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
    };
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let app = api::router(state);
    tracing::info!(address = %listener.local_addr()?, database = %config.database, threads = config.compute_threads(), max_jobs = config.max_jobs, "fluxlab serving");
    let runner_for_stop = runner.clone();
    let stop_for_signal = stop.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: checkpointing running jobs");
            stop_for_signal.cancel();
            runner_for_stop.shutdown(grace).await;
        })
        .await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
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
