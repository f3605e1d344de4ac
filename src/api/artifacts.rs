//! `GET /v1/jobs/{id}/artifacts/{name}`: downloads (`metrics.csv`, `weights.npy`, `weights.json`,
//! `model.json`).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::jobs::JobKind;
use crate::jobs::artifacts::{self, ArtifactError};
use crate::store::Status;

/// `model.json` of a succeeded `lif` job, from its final checkpoint.
async fn model_document(
    state: &AppState,
    id: &str,
    spec: &str,
) -> ApiResult<Option<serde_json::Value>> {
    let Some(checkpoint) = state.store.latest_checkpoint(id).await? else {
        return Ok(None);
    };
    let spec: serde_json::Value = serde_json::from_str(spec).map_err(ApiError::internal)?;
    let doc = tokio::task::spawn_blocking(move || {
        crate::jobs::lif::model::document(&spec, &checkpoint.data)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(Some(doc))
}

/// Download an artifact of a job.
#[utoipa::path(get, path = "/v1/jobs/{id}/artifacts/{name}", tag = "jobs",
    responses((status = 200, description = "the file (CSV, NPY or JSON)"),
              (status = 404, description = "unknown job or artifact name (lists the valid names)", body = super::error::Problem),
              (status = 202, description = "still queued or running after `wait` (the job view, never the file)", body = super::views::JobView),
              (status = 409, description = "needs a finished job", body = super::error::Problem)),
    params(("wait" = Option<f64>, Query, minimum = 0, maximum = 300,
            description = "seconds (≤ 300) to wait for the job to end first")))]
pub async fn artifact(
    State(state): State<AppState>,
    who: super::auth::Principal,
    Path((id, name)): Path<(String, String)>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> ApiResult<Response> {
    // A misspelt name is a 404 at once, not after waiting for the job.
    let row = super::jobs::load(&state, &who, &id).await?;
    if let Some(kind) = JobKind::parse(&row.kind)
        && let Err(e @ ArtifactError::Unknown { .. }) =
            artifacts::render(kind, &name, None, &[], None)
    {
        return Err(ApiError::not_found(e.to_string()));
    }
    let row = match super::jobs::load_waiting(&state, &who, &id, query.as_deref()).await? {
        Ok(row) => row,
        Err(still_running) => return Ok(still_running),
    };
    let kind = JobKind::parse(&row.kind)
        .ok_or_else(|| ApiError::internal(format!("stored kind {}", row.kind)))?;
    let metrics = if name == "metrics.csv" {
        state.store.metrics_series(&id).await?
    } else {
        Vec::new()
    };
    let result = row
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    let model = if kind == JobKind::Lif && name == "model.json" && row.status() == Status::Succeeded
    {
        model_document(&state, &row.id, &row.spec).await?
    } else {
        None
    };
    match artifacts::render(kind, &name, result.as_ref(), &metrics, model.as_ref()) {
        Ok(file) => {
            let disposition = format!(
                "attachment; filename=\"{}-{}\"",
                &id[..8.min(id.len())],
                name
            );
            Ok((
                [
                    (header::CONTENT_TYPE, file.content_type),
                    (header::CONTENT_DISPOSITION, disposition.as_str()),
                ],
                file.bytes,
            )
                .into_response())
        }
        Err(e @ ArtifactError::Unknown { .. }) => Err(ApiError::not_found(e.to_string())),
        Err(e @ ArtifactError::NotReady(_)) => Err(ApiError::conflict(e.to_string(), &row.status)),
        Err(e @ ArtifactError::NoWeights(_)) => Err(ApiError::not_found(e.to_string())),
    }
}
