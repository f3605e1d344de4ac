//! `GET /v1/jobs/{id}/artifacts/{name}`: downloads (`metrics.csv`, `weights.npy`, `weights.json`).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::jobs::load;
use crate::jobs::JobKind;
use crate::jobs::artifacts::{self, ArtifactError};

/// Download an artifact of a job.
#[utoipa::path(get, path = "/v1/jobs/{id}/artifacts/{name}", tag = "jobs",
    responses((status = 200, description = "the file (CSV, NPY or JSON)"),
              (status = 404, description = "unknown job or artifact name (lists the valid names)", body = super::error::Problem),
              (status = 409, description = "needs a finished job", body = super::error::Problem)))]
pub async fn artifact(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let row = load(&state, &id).await?;
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
    match artifacts::render(kind, &name, result.as_ref(), &metrics) {
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
