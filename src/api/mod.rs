//! The HTTP layer: routes, request parsing and validation, wire views and problem documents.
//! No SQL and no maths here.

pub mod artifacts;
pub mod auth;
pub mod dashboard;
pub mod datasets;
pub mod docs;
pub mod error;
pub mod events;
pub mod guard;
pub mod jobs;
pub mod labels;
pub mod models;
pub mod openapi;
pub mod plots;
pub mod service;
pub mod users;
pub mod views;
pub mod workers;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use self::openapi::Contract;
use crate::jobs::Limits;
use crate::observe::Observability;
use crate::runner::{EventHub, Runner};
use crate::store::Store;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub runner: Runner,
    pub hub: Arc<EventHub>,
    pub observe: Arc<Observability>,
    pub limits: Limits,
    pub max_body_bytes: usize,
    /// Largest file of a dataset upload.
    pub max_upload_bytes: usize,
    /// Trained `lif` models recently used for predictions.
    pub models: Arc<models::ModelCache>,
    /// Cancelled at shutdown: ends SSE streams and `?wait=` calls.
    pub shutdown: CancellationToken,
    /// Cancelled once running jobs are checkpointed and back in the queue at shutdown.
    pub parked: CancellationToken,
    /// The `Host` names this server answers to.
    pub hosts: Arc<guard::HostPolicy>,
    /// Which paths need a token, rate limits.
    pub auth: Arc<auth::AuthSettings>,
    pub limiter: Arc<auth::RateLimiter>,
    /// Server-wide quota defaults (per-user overrides in the users table).
    pub quotas: Arc<users::QuotaDefaults>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "fluxlab",
        description = "Job server for information-flux and spiking-network experiments"
    ),
    paths(
        jobs::submit,
        jobs::list,
        jobs::get,
        jobs::cancel,
        jobs::resume,
        jobs::delete,
        labels::patch,
        jobs::result,
        jobs::metrics,
        artifacts::artifact,
        plots::list,
        plots::svg,
        jobs::checkpoints,
        datasets::upload,
        datasets::list,
        datasets::get,
        datasets::delete,
        models::predict,
        jobs::latest_checkpoint,
        events::events,
        service::healthz,
        service::readyz,
        service::metrics,
        service::openapi,
        users::me,
        users::list,
        users::create,
        users::remove,
        users::tokens,
        users::create_token,
        users::revoke,
        users::audit,
        workers::list
    ),
    // The spec schemas (`MiSpec`, `EvolutionSpec`, `LifJobSpec`), `SubmitRequest` and the
    // problem answers are written by `openapi::Contract` from the validation's own bounds.
    components(schemas(
        crate::jobs::mi::result::MiResult,
        crate::jobs::FieldError,
        openapi::JobStatus,
        openapi::ListInclude,
        openapi::ListSort,
        openapi::ListOrder, openapi::PlotFormat
    )),
    modifiers(&Contract)
)]
pub struct ApiDoc;

/// The application router.
pub fn router(state: AppState) -> Router {
    let max_body = state.max_body_bytes;
    let cors = cors_layer(&state.hosts.origins);
    Router::new()
        .route("/v1/jobs", post(jobs::submit).get(jobs::list))
        .route(
            "/v1/jobs/{id}",
            get(jobs::get).delete(jobs::delete).patch(labels::patch),
        )
        .route("/v1/jobs/{id}/cancel", post(jobs::cancel))
        .route("/v1/jobs/{id}/resume", post(jobs::resume))
        .route("/v1/jobs/{id}/result", get(jobs::result))
        .route("/v1/jobs/{id}/metrics", get(jobs::metrics))
        .route("/v1/jobs/{id}/checkpoints", get(jobs::checkpoints))
        .route(
            "/v1/jobs/{id}/checkpoints/latest",
            get(jobs::latest_checkpoint),
        )
        .route("/v1/jobs/{id}/events", get(events::events))
        .route("/v1/jobs/{id}/artifacts/{name}", get(artifacts::artifact))
        .route(
            "/v1/datasets",
            post(datasets::upload)
                .layer(DefaultBodyLimit::max(upload_body_limit(
                    state.max_upload_bytes,
                )))
                .get(datasets::list),
        )
        .route(
            "/v1/datasets/{id}",
            get(datasets::get).delete(datasets::delete),
        )
        .route("/v1/models/{id}/predict", post(models::predict))
        .route("/v1/users/me", get(users::me))
        .route("/v1/users", get(users::list).post(users::create))
        .route("/v1/users/{name}", axum::routing::delete(users::remove))
        .route("/v1/tokens", get(users::tokens).post(users::create_token))
        .route("/v1/tokens/{id}", axum::routing::delete(users::revoke))
        .route("/v1/audit", get(users::audit))
        .route("/v1/workers", get(workers::list))
        .route("/v1/jobs/{id}/plots", get(plots::list))
        .route("/v1/jobs/{id}/plots/{file}", get(plots::svg))
        .route("/", get(dashboard::index))
        .route("/ui/{file}", get(dashboard::file))
        .route("/healthz", get(service::healthz))
        .route("/readyz", get(service::readyz))
        .route("/metrics", get(service::metrics))
        .route("/openapi.json", get(service::openapi))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(middleware::from_fn(guard::problem_errors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::check_request,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_latency,
        ))
        .layer(cors)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// CORS for the configured origins only; with none, no CORS headers at all (same-origin).
fn cors_layer(origins: &std::collections::HashSet<String>) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderValue, Method, header};
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::list(list))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("idempotency-key"),
        ])
}

/// The body limit of a dataset upload: two files of at most `file_limit` bytes plus the form.
pub fn upload_body_limit(file_limit: usize) -> usize {
    file_limit.saturating_mul(2).saturating_add(64 * 1024)
}

async fn not_found(request: Request) -> Response {
    error::ApiError::not_found(format!(
        "no route for {} {}",
        request.method(),
        request.uri().path()
    ))
    .into_response()
}

/// The method as a metric label: the standard ones by name, anything made up as `OTHER`, so
/// that no client can grow the label set.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

async fn record_latency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    state.observe.http_request(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
