//! Handlers of `/v1/jobs`: submit (with `?wait=`), list, get, cancel, resume, delete, result,
//! metrics and checkpoints.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult, Problem, parse_json, parse_query};
use super::guard::require_json;
use super::views::*;
use crate::jobs::{self, FieldError};
use crate::store::{
    IdempotencyKey, Inserted, JobLabels, JobRow, NewJob, RunTableQuery, SortKey, Status,
};

/// Longest `?wait=` in seconds.
pub const MAX_WAIT_SECS: f64 = 60.0;
/// Largest page of the job list.
pub const MAX_PAGE: i64 = 500;
pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_ATTEMPTS_LIMIT: i64 = 10;
pub const PRIORITY_RANGE: i64 = 1000;

pub use super::auth::ANONYMOUS;
use super::auth::Principal;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaitQuery {
    wait: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    kind: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
    include: Option<String>,
    /// Admins only: one user's jobs (default: everyone's). Others always see their own.
    owner: Option<String>,
    sort: Option<String>,
    order: Option<String>,
    offset: Option<i64>,
    q: Option<String>,
    /// Exact name.
    name: Option<String>,
    tag: Option<String>,
}

/// Largest `offset` of `GET /v1/jobs`.
pub const MAX_OFFSET: i64 = 1_000_000;
/// Longest `q` (name search) of `GET /v1/jobs`, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// Most bytes of specs in one page of `GET /v1/jobs?include=spec` (a page holds at least one
/// job; the rest of the page comes with the next cursor).
pub const PAGE_SPEC_BUDGET: i64 = 8 << 20;

/// The job `id` if `who` may see it: another user's job is a 404, exactly like a missing one.
pub(crate) async fn load(state: &AppState, who: &Principal, id: &str) -> ApiResult<JobRow> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(ApiError::not_found(format!("no job with id `{id}`")));
    }
    state
        .store
        .get_job(id)
        .await?
        .filter(|j| who.may_access(&j.owner))
        .ok_or_else(|| ApiError::not_found(format!("no job with id `{id}`")))
}

fn created(view: JobView, status: StatusCode) -> Response {
    let location = format!("/v1/jobs/{}", view.id);
    (status, [(header::LOCATION, location)], Json(view)).into_response()
}

fn check_submit(req: &SubmitRequest) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(name) = &req.name
        && name.chars().count() > MAX_NAME_CHARS
    {
        errors.push(FieldError::new(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if let Some(p) = req.priority
        && !(-PRIORITY_RANGE..=PRIORITY_RANGE).contains(&p)
    {
        errors.push(FieldError::new(
            "priority",
            format!("must be between -{PRIORITY_RANGE} and {PRIORITY_RANGE}, got {p}"),
        ));
    }
    if let Some(m) = req.max_attempts
        && !(1..=MAX_ATTEMPTS_LIMIT).contains(&m)
    {
        errors.push(FieldError::new(
            "max_attempts",
            format!("must be between 1 and {MAX_ATTEMPTS_LIMIT}, got {m}"),
        ));
    }
    if let Some(tags) = &req.tags {
        super::labels::check_tags(tags, "tags", &mut errors);
    }
    super::labels::check_notes(req.notes.as_deref(), &mut errors);
    errors
}

/// Submit a job.
#[utoipa::path(post, path = "/v1/jobs", tag = "jobs",
    params(("wait" = Option<f64>, Query, minimum = 0, maximum = 60,
            description = "seconds (0 to 60) to wait for the job to finish"),
           ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
            pattern = "^[ -~]+$",
            description = "1 to 255 printable ASCII characters. The same key and the same body \
                (as JSON: key order and spacing do not matter) within 24 hours return the \
                first job (200) instead of creating another; a different body is a 422 \
                naming this header. Keys are per user.")),
    request_body = SubmitRequest,
    responses(
        (status = 201, description = "queued", body = JobView),
        (status = 200, description = "finished within `wait` (with `result`), or the job an \
            earlier submission with the same `Idempotency-Key` created", body = JobView),
        (status = 202, description = "still running after `wait`", body = JobView),
        (status = 400, description = "malformed JSON", body = Problem),
        (status = 413, description = "body too large", body = Problem),
        (status = 415, description = "body not sent as application/json", body = Problem),
        (status = 422, description = "invalid spec, or an `Idempotency-Key` reused with another body", body = Problem)))]
pub async fn submit(
    State(state): State<AppState>,
    who: Principal,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    require_json(&headers)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(state.max_body_bytes)
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    let WaitQuery { wait } = parse_query(query.as_deref())?;
    if let Some(w) = wait
        && !(0.0..=MAX_WAIT_SECS).contains(&w)
    {
        return Err(ApiError::validation(vec![FieldError::new(
            "wait",
            format!("must be between 0 and {MAX_WAIT_SECS} seconds, got {w}"),
        )]));
    }
    let key = super::labels::idempotency_key(&headers)?;
    let mut req: SubmitRequest = parse_json(&body)?;
    let idempotency = match key {
        None => None,
        Some(key) => {
            let whole: Value = serde_json::from_slice(&body).map_err(ApiError::internal)?;
            let digest = super::labels::request_digest(&whole);
            if let Some(first) = replay(&state, &who, &key, &digest, wait).await? {
                return Ok(first);
            }
            Some(IdempotencyKey { key, digest })
        }
    };
    if req.kind == jobs::JobKind::Evolution {
        resolve_from_job(&state, &who, &mut req.spec).await?;
    }
    let resolved = resolve_references(&state, &who, req.kind, &req.spec).await?;
    let errors = check_submit(&req);
    let spec = jobs::validate(req.kind, req.spec, &state.limits, &resolved);
    let spec = match (spec, errors.is_empty()) {
        (Ok(spec), true) => spec,
        (Ok(_), false) => return Err(ApiError::validation(errors)),
        (Err(mut spec_errors), _) => {
            spec_errors.extend(errors);
            return Err(ApiError::validation(spec_errors));
        }
    };
    super::users::check_queue_quota(&state, &who).await?;
    let labels = JobLabels {
        tags: req.tags.unwrap_or_default(),
        notes: req.notes,
        idempotency,
    };
    let inserted = state
        .store
        .insert_job_labelled(
            &NewJob {
                id: uuid::Uuid::now_v7().to_string(),
                owner: who.name.clone(),
                kind: req.kind.as_str().to_string(),
                name: req.name,
                priority: req.priority.unwrap_or(0),
                max_attempts: req.max_attempts.unwrap_or(3),
                spec,
            },
            &labels,
        )
        .await?;
    let row = match (inserted, &labels.idempotency) {
        (Inserted::Job(row), _) => *row,
        // A concurrent submission with the same key won the insert: answer with its job.
        (Inserted::KeyTaken, Some(k)) => {
            return replay(&state, &who, &k.key, &k.digest, wait)
                .await?
                .ok_or_else(|| ApiError::internal("the idempotency key vanished"));
        }
        (Inserted::KeyTaken, None) => return Err(ApiError::internal("key conflict without key")),
    };
    state.runner.wake();
    super::users::audit_as(&state, &who, "job.submit", &row.id).await;
    tracing::info!(job = %row.id, kind = %row.kind, owner = %row.owner, "submitted");
    answer_submit(&state, &who, &row, wait, StatusCode::CREATED).await
}

/// The answer to a submission: `fresh` (201, or 200 for a replay) with the job view, or, with
/// `?wait=`, 200 and the result once it ended, 202 if it has not.
async fn answer_submit(
    state: &AppState,
    who: &Principal,
    row: &JobRow,
    wait: Option<f64>,
    fresh: StatusCode,
) -> ApiResult<Response> {
    match wait {
        None => Ok(created(JobView::from(row), fresh)),
        Some(secs) => {
            let row = wait_for_end(state, who, &row.id, Duration::from_secs_f64(secs)).await?;
            if row.status().is_terminal() {
                Ok(created(view_with_result(&row), StatusCode::OK))
            } else {
                Ok(created(JobView::from(&row), StatusCode::ACCEPTED))
            }
        }
    }
}

/// The answer for a retried submission: `None` when no live job of this user holds `key`
/// (one older than 24 hours gives its key up), the first job (200) when the body is the same,
/// a 422 naming the header when it is not.
async fn replay(
    state: &AppState,
    who: &Principal,
    key: &str,
    digest: &str,
    wait: Option<f64>,
) -> ApiResult<Option<Response>> {
    use super::labels::{IDEMPOTENCY_KEY, KEY_LIFETIME_MS};
    let Some(first) = state.store.job_by_idempotency_key(&who.name, key).await? else {
        return Ok(None);
    };
    let cutoff = crate::store::now_ms() - KEY_LIFETIME_MS;
    if first.row.created_at < cutoff {
        state
            .store
            .expire_idempotency_key(&who.name, key, cutoff)
            .await?;
        return Ok(None);
    }
    if first.digest != digest {
        return Err(ApiError::validation(vec![FieldError::new(
            IDEMPOTENCY_KEY,
            format!(
                "this key was used for job `{}` with a different body in the last 24 hours; \
                 send a new key for a new job",
                first.row.id
            ),
        )]));
    }
    answer_submit(state, who, &first.row, wait, StatusCode::OK)
        .await
        .map(Some)
}

/// Looks up what a spec names by id (the uploaded dataset of a `lif` spec) for validation.
async fn resolve_references(
    state: &AppState,
    who: &Principal,
    kind: jobs::JobKind,
    spec: &Value,
) -> ApiResult<jobs::Resolved> {
    let mut resolved = jobs::Resolved::default();
    if kind == jobs::JobKind::Lif
        && let Some(id) = jobs::lif::spec::dataset_id_of(spec)
        && let Some(row) = state.store.get_dataset(id).await?
        && who.may_access(&row.owner)
    {
        resolved.dataset = Some(jobs::lif::DatasetInfo {
            id: row.id,
            count: row.count as usize,
            features: row.features as usize,
            classes: row.classes as usize,
        });
    }
    Ok(resolved)
}

/// Replaces `init.from_job` of an evolution spec by that job's genomes (`init.population`): its
/// best genome when it has succeeded, else the population of its latest checkpoint. Done at
/// submission so the stored spec is self-contained and the fork is reproducible.
async fn resolve_from_job(state: &AppState, who: &Principal, spec: &mut Value) -> ApiResult<()> {
    let Some(source) = jobs::evolution::spec::from_job_of(spec).map(str::to_string) else {
        return Ok(());
    };
    let field = "spec.init.from_job";
    let invalid = |message: String| ApiError::validation(vec![FieldError::new(field, message)]);
    let row = match load(state, who, &source).await {
        Ok(row) => row,
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            return Err(invalid(format!("no job with id `{source}`")));
        }
        Err(e) => return Err(e),
    };
    if row.kind != "evolution" {
        return Err(invalid(format!(
            "job `{source}` is a `{}` job, not an `evolution` job",
            row.kind
        )));
    }
    let genomes = if let Some(result) = row
        .result
        .as_deref()
        .filter(|_| row.status() == Status::Succeeded)
    {
        let result: Value = serde_json::from_str(result).map_err(ApiError::internal)?;
        let best = &result["best"];
        let weights: Vec<f64> = best["weights"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(Value::as_f64)
            .collect();
        vec![json!({"weights": weights, "bias": best["bias"], "step_size": best["step_size"]})]
    } else if let Some(checkpoint) = state.store.latest_checkpoint(&source).await? {
        checkpoint.data["state"]["population"]
            .as_array()
            .map(|p| p.iter().map(|i| i["genome"].clone()).collect())
            .unwrap_or_default()
    } else {
        return Err(invalid(format!(
            "job `{source}` has neither a result nor a checkpoint to start from yet"
        )));
    };
    spec["init"]["population"] = Value::Array(genomes);
    Ok(())
}

fn view_with_result(row: &JobRow) -> JobView {
    let mut view = JobView::from(row);
    view.result = row
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    view
}

/// Waits until the job is finished or `timeout` passes; returns the latest row.
async fn wait_for_end(
    state: &AppState,
    who: &Principal,
    id: &str,
    timeout: Duration,
) -> ApiResult<JobRow> {
    let events = state.hub.subscribe(id);
    let row = wait_with(state, who, id, timeout, events).await;
    state.hub.release(id);
    row
}

async fn wait_with(
    state: &AppState,
    who: &Principal,
    id: &str,
    timeout: Duration,
    mut events: tokio::sync::broadcast::Receiver<crate::runner::JobEvent>,
) -> ApiResult<JobRow> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        // Status polls read the summary; the spec (maybe megabytes) only once at the end.
        let row = state
            .store
            .get_job_summary(id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no job with id `{id}`")))?;
        if row.status().is_terminal() || tokio::time::Instant::now() >= deadline {
            return load(state, who, id).await;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => {}
            _ = events.recv() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = state.shutdown.cancelled() => return load(state, who, id).await,
        }
    }
}

/// List jobs, newest first, as summaries (no spec, no result).
#[utoipa::path(get, path = "/v1/jobs", tag = "jobs",
    params(("status" = Option<super::openapi::JobStatus>, Query),
           ("kind" = Option<jobs::JobKind>, Query),
           ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "page size, 1 to 500 (default 50)"),
           ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page (a job id, format uuid): only jobs submitted before that job. In the default order (newest first) this pages; with another `sort`/`order` it is a filter and `offset` pages within it"),
           ("include" = Option<super::openapi::ListInclude>, Query, description = "`spec` to add each job's spec (pages then hold at most 8 MiB of specs)"),
           ("sort" = Option<super::openapi::ListSort>, Query, description = "column to sort on (default `created`); jobs without a value in it come last"),
           ("order" = Option<super::openapi::ListOrder>, Query, description = "`asc` or `desc` (default `desc`)"),
           ("offset" = Option<i64>, Query, minimum = 0, maximum = 1000000, description = "jobs to skip (paging in any order; `next_offset` of the previous page)"),
           ("q" = Option<String>, Query, max_length = 200, description = "case-insensitive substring of the job's name"),
           ("name" = Option<String>, Query, max_length = 200, description = "only jobs with exactly this name (case-sensitive)"),
           ("tag" = Option<String>, Query, min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._:/=+-]+$", description = "only jobs carrying this tag (exact match)")),
    responses((status = 200, body = JobList), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<JobList>> {
    let q: ListQuery = parse_query(query.as_deref())?;
    let mut errors = Vec::new();
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Status::parse(s).or_else(|| {
            errors.push(FieldError::new(
                "status",
                "must be one of queued, running, succeeded, failed, cancelled",
            ));
            None
        }),
    };
    if let Some(kind) = q.kind.as_deref()
        && jobs::JobKind::parse(kind).is_none()
    {
        errors.push(FieldError::new("kind", "must be one of mi, evolution, lif"));
    }
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        errors.push(FieldError::new(
            "limit",
            format!("must be between 1 and {MAX_PAGE}, got {limit}"),
        ));
    }
    let with_spec = match q.include.as_deref() {
        None => false,
        Some("spec") => true,
        Some(other) => {
            errors.push(FieldError::new(
                "include",
                format!("must be `spec`, got `{other}`"),
            ));
            false
        }
    };
    if let Some(name) = &q.name
        && name.chars().count() > MAX_NAME_CHARS
    {
        errors.push(FieldError::new(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if let Some(tag) = &q.tag {
        let mut tag_errors = Vec::new();
        super::labels::check_tags(std::slice::from_ref(tag), "tag", &mut tag_errors);
        errors.extend(
            tag_errors
                .into_iter()
                .map(|e| FieldError::new("tag", e.message)),
        );
    }
    if let Some(c) = &q.cursor
        && uuid::Uuid::parse_str(c).is_err()
    {
        errors.push(FieldError::new(
            "cursor",
            "not a cursor returned by this endpoint",
        ));
    }
    let sort = match q.sort.as_deref() {
        None => SortKey::Created,
        Some(s) => SortKey::parse(s).unwrap_or_else(|| {
            let names: Vec<&str> = SortKey::ALL.iter().map(|k| k.as_str()).collect();
            errors.push(FieldError::new(
                "sort",
                format!("must be one of {}, got `{s}`", names.join(", ")),
            ));
            SortKey::Created
        }),
    };
    let descending = match q.order.as_deref() {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(other) => {
            errors.push(FieldError::new(
                "order",
                format!("must be `asc` or `desc`, got `{other}`"),
            ));
            true
        }
    };
    let offset = q.offset.unwrap_or(0);
    if !(0..=MAX_OFFSET).contains(&offset) {
        errors.push(FieldError::new(
            "offset",
            format!("must be between 0 and {MAX_OFFSET}, got {offset}"),
        ));
    }
    if let Some(text) = &q.q
        && text.chars().count() > MAX_SEARCH_CHARS
    {
        errors.push(FieldError::new(
            "q",
            format!("must be at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (mut rows, total) = state
        .store
        .list_run_table(&RunTableQuery {
            owner: match (who.admin, q.owner) {
                (true, owner) => owner,
                (false, _) => Some(who.name.clone()),
            },
            status,
            kind: q.kind,
            search: q.q.filter(|t| !t.is_empty()),
            name: q.name,
            tag: q.tag,
            before_id: q.cursor,
            sort,
            descending,
            offset,
            limit,
        })
        .await?;
    let mut more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let mut jobs: Vec<JobSummary> = Vec::with_capacity(rows.len());
    let mut spent = 0;
    for run in &rows {
        let row = &run.job;
        let mut summary = JobSummary::from(JobView::from(row));
        if run.has_summary != 0 {
            summary.results = Some(RunResults::from(&run.summary));
        }
        if with_spec {
            let bytes = state.store.spec_bytes(&row.id).await?;
            if !jobs.is_empty() && spent + bytes > PAGE_SPEC_BUDGET {
                more = true;
                break;
            }
            spent += bytes;
            summary.spec = state
                .store
                .job_spec(&row.id)
                .await?
                .and_then(|s| serde_json::from_str(&s).ok());
        }
        jobs.push(summary);
    }
    let next_cursor = if more && sort == SortKey::Created && descending {
        jobs.last().map(|j| j.id.clone())
    } else {
        None
    };
    let next_offset = more.then(|| offset + jobs.len() as i64);
    Ok(Json(JobList {
        jobs,
        next_cursor,
        next_offset,
        total,
    }))
}

/// One job.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs",
    params(("wait" = Option<f64>, Query, minimum = 0, maximum = 300,
            description = "seconds (≤ 300) to wait for the job to end; 202 if it has not by then")),
    responses((status = 200, body = JobView), (status = 202, description = "still queued or running after `wait`", body = JobView),
              (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    match load_waiting(&state, &who, &id, query.as_deref()).await? {
        Ok(row) => Ok(Json(JobView::from(&row)).into_response()),
        Err(still_running) => Ok(still_running),
    }
}

/// Longest `?wait=` of the GETs of a job, its result and artifacts.
pub const MAX_GET_WAIT_SECS: f64 = 300.0;

/// Loads a job, first waiting up to `?wait=` seconds for it to end. `Ok(Err(202 response with
/// the job view))` when it is still queued or running after the wait, so that a caller never
/// takes an error document for the file it asked for.
pub(crate) async fn load_waiting(
    state: &AppState,
    who: &Principal,
    id: &str,
    query: Option<&str>,
) -> ApiResult<Result<JobRow, Response>> {
    let WaitQuery { wait } = parse_query(query)?;
    let Some(secs) = wait else {
        return Ok(Ok(load(state, who, id).await?));
    };
    if !(0.0..=MAX_GET_WAIT_SECS).contains(&secs) {
        return Err(ApiError::validation(vec![FieldError::new(
            "wait",
            format!("must be between 0 and {MAX_GET_WAIT_SECS} seconds, got {secs}"),
        )]));
    }
    load(state, who, id).await?;
    let row = wait_for_end(state, who, id, Duration::from_secs_f64(secs)).await?;
    if row.status().is_terminal() {
        Ok(Ok(row))
    } else {
        Ok(Err(
            (StatusCode::ACCEPTED, Json(JobView::from(&row))).into_response()
        ))
    }
}

/// Request cancellation: a queued job is cancelled at once, a running one checkpoints and stops.
#[utoipa::path(post, path = "/v1/jobs/{id}/cancel", tag = "jobs",
    responses((status = 202, body = JobView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn cancel(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let row = load(&state, &who, &id).await?;
    if row.status().is_terminal() {
        return Err(ApiError::conflict(
            format!("job is already {}", row.status),
            &row.status,
        ));
    }
    super::users::audit_as(&state, &who, "job.cancel", &id).await;
    let row = state
        .store
        .request_cancel(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("job vanished"))?;
    if row.status() == Status::Cancelled {
        state
            .hub
            .publish(&id, "status", json!({"status": "cancelled"}));
        state.hub.finish(&id, json!({"status": "cancelled"}));
    } else {
        state.runner.cancel(&id);
    }
    Ok((StatusCode::ACCEPTED, Json(JobView::from(&row))).into_response())
}

/// Put a cancelled or failed job back in the queue; it continues from its last checkpoint.
#[utoipa::path(post, path = "/v1/jobs/{id}/resume", tag = "jobs",
    responses((status = 202, body = JobView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn resume(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let row = load(&state, &who, &id).await?;
    if !state.store.resume_job(&id).await? {
        return Err(ApiError::conflict(
            format!(
                "only cancelled or failed jobs can be resumed; this one is {}",
                row.status
            ),
            &row.status,
        ));
    }
    // Read the view before waking the runner: the answer is the job as resumed (queued), not
    // whatever state a fast claim has already moved it to.
    let row = load(&state, &who, &id).await?;
    state.runner.wake();
    Ok((StatusCode::ACCEPTED, Json(JobView::from(&row))).into_response())
}

/// Delete a finished job with its checkpoints and metrics.
#[utoipa::path(delete, path = "/v1/jobs/{id}", tag = "jobs",
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let row = load(&state, &who, &id).await?;
    if !state.store.delete_job(&id).await? {
        return Err(ApiError::conflict(
            format!("a {} job cannot be deleted; cancel it first", row.status),
            &row.status,
        ));
    }
    super::users::audit_as(&state, &who, "job.delete", &id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The result document of a succeeded job.
#[utoipa::path(get, path = "/v1/jobs/{id}/result", tag = "jobs",
    params(("wait" = Option<f64>, Query, minimum = 0, maximum = 300,
            description = "seconds (≤ 300) to wait for the job to end; 202 with the job view if it has not")),
    responses((status = 200, description = "the kind's result document", body = Object),
              (status = 202, description = "still queued or running after `wait`", body = JobView),
              (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn result(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let row = match load_waiting(&state, &who, &id, query.as_deref()).await? {
        Ok(row) => row,
        Err(still_running) => return Ok(still_running),
    };
    match (row.status(), row.result.as_deref()) {
        (Status::Succeeded, Some(result)) => Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            result.to_string(),
        )
            .into_response()),
        _ => Err(ApiError::conflict(
            format!("the job has no result: it is {}", row.status),
            &row.status,
        )),
    }
}

/// The metric series the job recorded, one row per step.
#[utoipa::path(get, path = "/v1/jobs/{id}/metrics", tag = "jobs",
    responses((status = 200, body = MetricsView), (status = 404, body = Problem)))]
pub async fn metrics(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<MetricsView>> {
    load(&state, &who, &id).await?;
    let series = state.store.metrics_series(&id).await?;
    Ok(Json(MetricsView {
        series: series
            .into_iter()
            .map(|(step, mut row)| {
                row["step"] = json!(step);
                row
            })
            .collect(),
    }))
}

/// The job's checkpoints, oldest first.
#[utoipa::path(get, path = "/v1/jobs/{id}/checkpoints", tag = "jobs",
    responses((status = 200, body = Vec<CheckpointView>), (status = 404, body = Problem)))]
pub async fn checkpoints(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CheckpointView>>> {
    load(&state, &who, &id).await?;
    let list = state.store.list_checkpoints(&id).await?;
    Ok(Json(
        list.into_iter()
            .map(|c| CheckpointView {
                seq: c.seq,
                step: c.step,
                created_at: rfc3339(c.created_at),
                bytes: c.bytes,
            })
            .collect(),
    ))
}

/// The newest checkpoint document.
#[utoipa::path(get, path = "/v1/jobs/{id}/checkpoints/latest", tag = "jobs",
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
pub async fn latest_checkpoint(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    load(&state, &who, &id).await?;
    let c = state
        .store
        .latest_checkpoint(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("the job has no checkpoint yet"))?;
    Ok(Json(json!({
        "seq": c.seq,
        "step": c.step,
        "created_at": rfc3339(c.created_at),
        "data": c.data,
    })))
}
