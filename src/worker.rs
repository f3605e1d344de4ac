//! `fluxlab worker`: a runner without the public API, claiming jobs from a shared PostgreSQL
//! database; optional `/healthz`, `/readyz` and `/metrics` on `--metrics-bind`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::{recover_at_start, warn_if_few_threads};
use crate::config::WorkerConfig;
use crate::observe::Observability;
use crate::runner::{EventHub, Runner};
use crate::store::{Store, is_postgres_url, redact};

/// Runs jobs until `shutdown` resolves, then checkpoints and requeues the running ones.
pub async fn work(
    config: WorkerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let database = redact(&config.runner.database);
    if !is_postgres_url(&config.runner.database) {
        anyhow::bail!(
            "fluxlab worker needs a shared PostgreSQL database (--database postgres://…), not \
             {database}: a SQLite file is served by one `fluxlab serve` process, which runs its \
             own jobs (raise its --max-jobs instead)"
        );
    }
    if config.runner.max_jobs == 0 {
        anyhow::bail!("fluxlab worker needs --max-jobs of at least 1");
    }
    let store =
        Store::connect_with(&config.runner.database, &config.runner.store_options(2)).await?;
    recover_at_start(&store).await?;
    let observe = Arc::new(Observability::default());
    let runner_config = config.runner.runner_config();
    warn_if_few_threads(&runner_config);
    let (threads, slots) = (runner_config.threads, runner_config.slots());
    let runner = Runner::start(
        store.clone(),
        Arc::new(EventHub::default()),
        observe.clone(),
        runner_config,
        config.name.as_deref(),
    )
    .await?;
    let probes_done = CancellationToken::new();
    let probes = match &config.metrics_bind {
        Some(bind) => {
            let listener = tokio::net::TcpListener::bind(bind).await?;
            tracing::info!(address = %listener.local_addr()?, "worker probes: /healthz /readyz /metrics");
            let app = crate::api::service::worker_router(store.clone(), observe, runner.clone());
            let done = probes_done.clone();
            Some(tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move { done.cancelled().await })
                    .await;
            }))
        }
        None => None,
    };
    tracing::info!(%database, worker = runner.worker_id(), threads, slots, "fluxlab worker running");
    shutdown.await;
    tracing::info!("shutting down: checkpointing running jobs");
    runner
        .shutdown(Duration::from_secs(config.runner.shutdown_grace_secs))
        .await;
    probes_done.cancel();
    if let Some(probes) = probes {
        let _ = probes.await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
