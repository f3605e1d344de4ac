//! `GET /v1/workers`: the processes that run jobs (the API server's own runner and every
//! `fluxlab worker`), live and recently gone.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::Principal;
use super::error::ApiResult;
use crate::runner::PRESENCE_INTERVAL;
use crate::store::{WorkerRow, now_ms};

/// Workers gone for longer than this are not listed.
const RECENT_MS: i64 = 24 * 3600 * 1000;

/// One runner process.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerView {
    /// Unique per process run; running jobs name it.
    pub id: String,
    /// `--name`, else the host name.
    pub name: String,
    pub host: String,
    pub pid: i64,
    /// fluxlab version of the process.
    pub version: String,
    /// Compute threads.
    pub threads: i64,
    /// Jobs it runs at once (0: an API-only process).
    pub max_jobs: i64,
    /// Jobs it held at its last heartbeat.
    pub jobs_held: i64,
    /// Unix milliseconds.
    pub started_at: i64,
    pub last_heartbeat_at: i64,
    /// Set when it stopped cleanly.
    pub stopped_at: Option<i64>,
    /// Heartbeat within the last three intervals and not stopped.
    pub live: bool,
}

impl From<WorkerRow> for WorkerView {
    fn from(w: WorkerRow) -> Self {
        let fresh = now_ms() - w.heartbeat_at <= 3 * PRESENCE_INTERVAL.as_millis() as i64;
        WorkerView {
            live: fresh && w.stopped_at.is_none(),
            id: w.id,
            name: w.name,
            host: w.host,
            pid: w.pid,
            version: w.version,
            threads: w.threads,
            max_jobs: w.max_jobs,
            jobs_held: w.jobs_held,
            started_at: w.started_at,
            last_heartbeat_at: w.heartbeat_at,
            stopped_at: w.stopped_at,
        }
    }
}

/// The list answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerList {
    pub workers: Vec<WorkerView>,
}

/// Runner processes seen in the last 24 hours, newest first (any signed-in user).
#[utoipa::path(get, path = "/v1/workers", tag = "service",
    responses((status = 200, body = WorkerList), (status = 401, body = super::error::Problem)))]
pub async fn list(State(state): State<AppState>, _who: Principal) -> ApiResult<Json<WorkerList>> {
    let rows = state.store.list_workers(now_ms() - RECENT_MS).await?;
    Ok(Json(WorkerList {
        workers: rows.into_iter().map(WorkerView::from).collect(),
    }))
}
