//! `GET /v1/jobs/{id}/plots` (which plots a job offers) and `GET /v1/jobs/{id}/plots/{name}.svg`
//! (one plot as SVG, optionally `?width=&height=`). Reading happens here; what to draw is
//! decided in `crate::plots`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ApiResult, Problem, parse_query};
use super::jobs::load;
use crate::jobs::{FieldError, JobKind};
use crate::plots::{self, JobData, Size};
use crate::store::{JobRow, Status};

/// One entry of the plot listing.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlotEntry {
    pub name: String,
    pub title: String,
    /// Path of the SVG (relative to the server).
    pub url: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlotList {
    pub plots: Vec<PlotEntry>,
}

/// `?width=&height=` as text, so a bad value gets a 422 naming the parameter and its bounds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SizeQuery {
    width: Option<String>,
    height: Option<String>,
}

fn kind_and_spec(row: &JobRow) -> ApiResult<(JobKind, Value)> {
    let kind = JobKind::parse(&row.kind)
        .ok_or_else(|| ApiError::internal(format!("stored kind {}", row.kind)))?;
    let spec = serde_json::from_str(&row.spec).map_err(ApiError::internal)?;
    Ok((kind, spec))
}

fn size(raw: Option<&str>) -> ApiResult<Size> {
    let q: SizeQuery = parse_query(raw)?;
    let mut errors = Vec::new();
    let mut side = |field: &str, value: Option<String>, default: u32| -> u32 {
        let Some(text) = value else { return default };
        match text.trim().parse::<u32>() {
            Ok(v) if (Size::MIN..=Size::MAX).contains(&v) => v,
            _ => {
                errors.push(FieldError::new(
                    field,
                    format!(
                        "must be a whole number of pixels from {} to {}, got `{text}`",
                        Size::MIN,
                        Size::MAX
                    ),
                ));
                default
            }
        }
    };
    let size = Size {
        width: side("width", q.width, Size::DEFAULT.width),
        height: side("height", q.height, Size::DEFAULT.height),
    };
    if errors.is_empty() {
        Ok(size)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// The plots this job offers (depends on its kind, and for evolutions on the mode).
#[utoipa::path(get, path = "/v1/jobs/{id}/plots", tag = "plots",
    responses((status = 200, body = PlotList), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: super::auth::Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<PlotList>> {
    let row = load(&state, &who, &id).await?;
    let (kind, spec) = kind_and_spec(&row)?;
    Ok(Json(PlotList {
        plots: plots::catalogue(kind, &spec)
            .into_iter()
            .map(|p| PlotEntry {
                name: p.name.into(),
                title: p.title.into(),
                url: format!("/v1/jobs/{id}/plots/{}.svg", p.name),
            })
            .collect(),
    }))
}

/// One plot as SVG: the result of a succeeded job, else what its metric rows and latest
/// checkpoint hold so far (a titled "no data yet" SVG when there is nothing).
#[utoipa::path(get, path = "/v1/jobs/{id}/plots/{name}.svg", tag = "plots",
    params(("width" = Option<u32>, Query, minimum = 200, maximum = 2000, description = "pixels, 200 to 2000 (default 600)"),
           ("height" = Option<u32>, Query, minimum = 200, maximum = 2000, description = "pixels, 200 to 2000 (default 400)")),
    responses((status = 200, description = "the plot", content_type = "image/svg+xml", body = String),
              (status = 404, description = "unknown job, or no such plot for the job's kind (lists the valid names)", body = Problem),
              (status = 422, description = "width or height out of bounds", body = Problem)))]
pub async fn svg(
    State(state): State<AppState>,
    who: super::auth::Principal,
    Path((id, file)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let row = load(&state, &who, &id).await?;
    let (kind, spec) = kind_and_spec(&row)?;
    let catalogue = plots::catalogue(kind, &spec);
    let name = file.strip_suffix(".svg").unwrap_or("");
    if !catalogue.iter().any(|p| p.name == name) {
        let valid: Vec<String> = catalogue
            .iter()
            .map(|p| format!("{}.svg", p.name))
            .collect();
        return Err(ApiError::not_found(format!(
            "no plot `{file}` for this `{}` job; available: {}",
            kind.as_str(),
            valid.join(", ")
        )));
    }
    let size = size(query.as_deref())?;
    let result: Option<Value> = match (row.status(), row.result.as_deref()) {
        (Status::Succeeded, Some(r)) => Some(serde_json::from_str(r).map_err(ApiError::internal)?),
        _ => None,
    };
    let metrics = state.store.metrics_series(&id).await?;
    let checkpoint = match result {
        Some(_) => None,
        None => state.store.latest_checkpoint(&id).await?.map(|c| c.data),
    };
    let data = JobData {
        kind,
        spec: &spec,
        status: &row.status,
        result: result.as_ref(),
        metrics: &metrics,
        checkpoint: checkpoint.as_ref(),
    };
    let figure = plots::figure(&data, name)
        .ok_or_else(|| ApiError::internal(format!("plot {name} listed but not built")))?;
    let svg = plots::render(&figure, size).map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            // A running job's plot changes with every generation.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        svg,
    )
        .into_response())
}
