//! `/v1/datasets`: upload (multipart IDX pair), list, get and delete datasets for `lif` jobs. The
//! built-in `mnist10k` is listed too and cannot be deleted. Uploads are checked with the limits
//! training uses, at most [`MAX_VALIDATIONS`] at a time server-wide.

use std::time::Duration;

use axum::Json;
use axum::extract::multipart::{Field, Multipart, MultipartError, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::Semaphore;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::jobs::FieldError;
use crate::jobs::lif::data::{DatasetSummary, inspect_upload, mnist10k_summary};
use crate::jobs::lif::spec::MNIST10K;
use crate::store::{DatasetDelete, DatasetRow, NewDataset};

/// Longest dataset name.
const MAX_NAME_CHARS: usize = 200;

/// Upload checks running at once, server-wide. Each inflates up to 256 MiB of pixels (memory stays
/// at one chunk, but the CPU time does not), so a burst of uploads queues here instead of taking
/// both cores from running jobs.
pub const MAX_VALIDATIONS: usize = 2;

static VALIDATIONS: Semaphore = Semaphore::const_new(MAX_VALIDATIONS);

/// How long an upload waits for a check slot before it is answered 503.
const VALIDATION_WAIT: Duration = Duration::from_secs(30);

/// The form fields an upload may have, each at most once.
const FIELDS: [&str; 4] = ["name", "images", "labels", "classes"];

/// A dataset as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetView {
    pub id: String,
    pub name: String,
    pub builtin: bool,
    pub count: usize,
    /// Per-sample dimensions, e.g. `[28, 28]`.
    pub shape: Vec<usize>,
    pub features: usize,
    pub classes: usize,
    /// Stored size of the uploaded files (`null` for built-ins).
    pub bytes: Option<u64>,
    pub created_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetList {
    pub datasets: Vec<DatasetView>,
}

fn builtin_view() -> DatasetView {
    let s = mnist10k_summary();
    DatasetView {
        id: MNIST10K.into(),
        name: MNIST10K.into(),
        builtin: true,
        count: s.count,
        shape: s.shape.clone(),
        features: s.features,
        classes: s.classes,
        bytes: None,
        created_at: None,
    }
}

impl From<&DatasetRow> for DatasetView {
    fn from(r: &DatasetRow) -> Self {
        DatasetView {
            id: r.id.clone(),
            name: r.name.clone(),
            builtin: false,
            count: r.count as usize,
            shape: r.shape.iter().map(|&d| d as usize).collect(),
            features: r.features as usize,
            classes: r.classes as usize,
            bytes: Some(r.bytes as u64),
            created_at: Some(super::views::rfc3339(r.created_at)),
        }
    }
}

/// The problem for a multipart error while reading `field` (`body` between fields): 413 past the
/// body limit, else a 400 naming where the body broke.
fn multipart_problem(e: MultipartError, field: &str, file_limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::too_large(super::upload_body_limit(file_limit));
    }
    let text = e.body_text();
    ApiError::bad_request(format!("malformed multipart body: {text}"))
        .with_field(field, format!("malformed multipart data: {text}"))
}

/// Reads one field, refusing it as soon as it exceeds `limit` bytes; `file_limit` is the
/// server's upload limit, for the 413 of a body that breaks the overall limit.
async fn read_limited(
    mut field: Field<'_>,
    name: &str,
    limit: usize,
    file_limit: usize,
) -> ApiResult<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| multipart_problem(e, name, file_limit))?
    {
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::validation(vec![FieldError::new(
                name,
                format!("file is larger than the limit of {limit} bytes"),
            )]));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Checks the pair on a blocking thread, at most [`MAX_VALIDATIONS`] at once; 503 after waiting
/// [`VALIDATION_WAIT`] for a slot. Gives the files back for storing.
async fn validate(
    images: Vec<u8>,
    labels: Vec<u8>,
    classes: Option<usize>,
) -> ApiResult<(Vec<u8>, Vec<u8>, DatasetSummary)> {
    let permit = tokio::time::timeout(VALIDATION_WAIT, VALIDATIONS.acquire())
        .await
        .map_err(|_| {
            ApiError::unavailable(format!(
                "{MAX_VALIDATIONS} dataset uploads are being checked and this one waited {} s \
                 for its turn; try again later",
                VALIDATION_WAIT.as_secs()
            ))
        })?
        .map_err(ApiError::internal)?;
    // Inflating up to 256 MiB is CPU work: off the async threads.
    let (images, labels, summary) = tokio::task::spawn_blocking(move || {
        let summary = inspect_upload(&images, &labels, classes);
        drop(permit);
        (images, labels, summary)
    })
    .await
    .map_err(ApiError::internal)?;
    let summary = summary.map_err(|e| ApiError::validation(vec![e]))?;
    Ok((images, labels, summary))
}

/// Upload a dataset: `multipart/form-data` with `images` and `labels` IDX files (raw or gzip), a
/// `name`, and optionally `classes` (every label must be below it; the stored class count is the
/// largest label + 1), each field once. Validated whole, with the limits training reads datasets
/// with (`IdxLimits::default()`: at most 256 MiB of pixels after decompression), before anything
/// is stored.
#[utoipa::path(post, path = "/v1/datasets", tag = "datasets",
    request_body(content_type = "multipart/form-data", description = "fields `name`, `images`, `labels`"),
    responses((status = 201, description = "stored", body = DatasetView),
              (status = 400, description = "not a multipart body", body = super::error::Problem),
              (status = 413, description = "body too large", body = super::error::Problem),
              (status = 422, description = "a missing or repeated field, bad IDX file or file over the limit", body = super::error::Problem),
              (status = 503, description = "too many uploads being checked; retry later", body = super::error::Problem)))]
pub async fn upload(
    State(state): State<AppState>,
    who: super::auth::Principal,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let mut multipart = multipart.map_err(|e| {
        let text = e.body_text();
        ApiError::bad_request(text.clone()).with_field("body", text)
    })?;
    let limit = state.max_upload_bytes;
    let (mut name, mut images, mut labels, mut classes) = (None, None, None, None);
    let mut seen: Vec<&'static str> = Vec::new();
    let mut errors = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_problem(e, "body", limit))?
    {
        let given = field.name().unwrap_or("");
        if let Some(&known) = FIELDS.iter().find(|&&f| f == given) {
            if seen.contains(&known) {
                // Dropped unread: the parser skips the rest of this field.
                errors.push(FieldError::new(known, "given twice; send each field once"));
                continue;
            }
            seen.push(known);
        }
        match given {
            "name" => {
                let text = read_limited(field, "name", 4 * MAX_NAME_CHARS, limit).await?;
                name = Some(String::from_utf8_lossy(&text).trim().to_string());
            }
            "classes" => {
                let text = read_limited(field, "classes", 16, limit).await?;
                let text = String::from_utf8_lossy(&text).trim().to_string();
                match text.parse::<usize>() {
                    Ok(c) if (1..=256).contains(&c) => classes = Some(c),
                    _ => errors.push(FieldError::new(
                        "classes",
                        format!("must be a whole number between 1 and 256, got `{text}`"),
                    )),
                }
            }
            "images" => images = Some(read_limited(field, "images", limit, limit).await?),
            "labels" => labels = Some(read_limited(field, "labels", limit, limit).await?),
            other => errors.push(FieldError::new(
                other,
                "unknown form field; expected `name`, `images`, `labels` and optionally `classes`",
            )),
        }
    }
    match &name {
        None => errors.push(FieldError::new("name", "missing")),
        Some(n) if n.is_empty() || n.chars().count() > MAX_NAME_CHARS => errors.push(
            FieldError::new("name", format!("must be 1 to {MAX_NAME_CHARS} characters")),
        ),
        _ => {}
    }
    for (field, file) in [("images", &images), ("labels", &labels)] {
        if file.is_none() {
            errors.push(FieldError::new(field, "missing IDX file"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (images, labels, summary) = validate(
        images.unwrap_or_default(),
        labels.unwrap_or_default(),
        classes,
    )
    .await?;
    let stored_bytes = (images.len() + labels.len()) as i64;
    super::users::check_dataset_quota(&state, &who, stored_bytes).await?;
    let row = state
        .store
        .insert_dataset(&NewDataset {
            id: uuid::Uuid::now_v7().to_string(),
            owner: who.name.clone(),
            name: name.unwrap_or_default(),
            count: summary.count as i64,
            features: summary.features as i64,
            classes: summary.classes as i64,
            shape: summary.shape.iter().map(|&d| d as i64).collect(),
            images,
            labels,
        })
        .await?;
    tracing::info!(dataset = %row.id, count = row.count, "dataset uploaded");
    let location = format!("/v1/datasets/{}", row.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(DatasetView::from(&row)),
    )
        .into_response())
}

/// List datasets: the built-in ones, then uploads, newest first.
#[utoipa::path(get, path = "/v1/datasets", tag = "datasets",
    responses((status = 200, description = "all datasets", body = DatasetList)))]
pub async fn list(
    State(state): State<AppState>,
    who: super::auth::Principal,
) -> ApiResult<Json<DatasetList>> {
    let rows = state.store.list_datasets().await?;
    let mut datasets = vec![builtin_view()];
    datasets.extend(
        rows.iter()
            .filter(|r| who.may_access(&r.owner))
            .map(DatasetView::from),
    );
    Ok(Json(DatasetList { datasets }))
}

/// One dataset (without its files).
#[utoipa::path(get, path = "/v1/datasets/{id}", tag = "datasets",
    responses((status = 200, description = "the dataset", body = DatasetView),
              (status = 404, description = "unknown id", body = super::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    who: super::auth::Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<DatasetView>> {
    if id == MNIST10K {
        return Ok(Json(builtin_view()));
    }
    let row = state
        .store
        .get_dataset(&id)
        .await?
        .filter(|r| who.may_access(&r.owner))
        .ok_or_else(|| ApiError::not_found(format!("no dataset with id `{id}`")))?;
    Ok(Json(DatasetView::from(&row)))
}

/// Delete an uploaded dataset; `409` while queued or running jobs train on it.
#[utoipa::path(delete, path = "/v1/datasets/{id}", tag = "datasets",
    responses((status = 204, description = "deleted"),
              (status = 404, description = "unknown id", body = super::error::Problem),
              (status = 409, description = "built-in, or used by queued or running jobs", body = super::error::Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    who: super::auth::Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if id == MNIST10K {
        return Err(ApiError::in_use("the built-in dataset cannot be deleted"));
    }
    let owned = state
        .store
        .get_dataset(&id)
        .await?
        .is_some_and(|r| who.may_access(&r.owner));
    if !owned {
        return Err(ApiError::not_found(format!("no dataset with id `{id}`")));
    }
    match state.store.delete_dataset(&id).await? {
        DatasetDelete::Deleted => Ok(StatusCode::NO_CONTENT.into_response()),
        DatasetDelete::NotFound => Err(ApiError::not_found(format!("no dataset with id `{id}`"))),
        DatasetDelete::InUse(jobs) => Err(ApiError::in_use(format!(
            "dataset `{id}` is used by queued or running jobs: {}; cancel them or wait",
            jobs.join(", ")
        ))),
    }
}
