//! Service endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa::OpenApi;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::observe::Observability;
use crate::runner::Runner;
use crate::store::Store;

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, body = Object)))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses((status = 200, body = Object), (status = 503, body = super::error::Problem)))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    if state.store.ping().await {
        Ok(Json(json!({"status": "ready"})))
    } else {
        Err(ApiError::unavailable("the database does not answer"))
    }
}

/// Prometheus text format: jobs by status, queue depth, job durations, HTTP latencies.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    prometheus(&state.store, &state.observe, &state.runner).await
}

/// The Prometheus answer of a process (the API server's, or a worker's `--metrics-bind`).
pub(crate) async fn prometheus(
    store: &Store,
    observe: &Observability,
    runner: &Runner,
) -> ApiResult<Response> {
    let counts = store.count_by_status().await?;
    let users = store.usage_by_owner().await?;
    let text = observe.render(&counts, runner.running_count(), &users);
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// The probe endpoints of a `fluxlab worker` (`--metrics-bind`): `/healthz`, `/readyz` and
/// `/metrics`, nothing else (a worker has no public API).
pub fn worker_router(store: Store, observe: Arc<Observability>, runner: Runner) -> Router {
    let ready = store.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/readyz",
            get(move || async move {
                if ready.ping().await {
                    Ok(Json(json!({"status": "ready"})))
                } else {
                    Err(ApiError::unavailable("the database does not answer"))
                }
            }),
        )
        .route(
            "/metrics",
            get(move || async move { prometheus(&store, &observe, &runner).await }),
        )
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "service", responses((status = 200, body = Object)))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(super::ApiDoc::openapi())
}
