//! `POST /v1/models/{job_id}/predict`: classify inputs with the network a `lif` job trained.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ApiResult, parse_json};
use super::jobs::load;
use crate::jobs::lif::model::{LoadedModel, ModelError};
use crate::store::Status;

/// Parsed models of recently used jobs, so repeated predictions skip reading and parsing the
/// multi-megabyte final checkpoint. Keyed by job id and checkpoint sequence number.
#[derive(Default)]
pub struct ModelCache {
    entries: Mutex<VecDeque<(String, i64, Arc<LoadedModel>)>>,
}

/// Models kept in memory at once.
const CACHED_MODELS: usize = 4;

impl ModelCache {
    fn get(&self, id: &str, seq: i64) -> Option<Arc<LoadedModel>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .find(|(i, s, _)| i == id && *s == seq)
            .map(|(_, _, m)| m.clone())
    }

    fn put(&self, id: &str, seq: i64, model: Arc<LoadedModel>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(i, _, _)| i != id);
        if entries.len() == CACHED_MODELS {
            entries.pop_back();
        }
        entries.push_front((id.to_string(), seq, model));
    }
}

async fn loaded_model(state: &AppState, id: &str, spec: &str) -> ApiResult<Arc<LoadedModel>> {
    let missing = || ApiError::internal(format!("succeeded lif job {id} has no checkpoint"));
    let latest = state.store.list_checkpoints(id).await?;
    let seq = latest.last().ok_or_else(missing)?.seq;
    if let Some(model) = state.models.get(id, seq) {
        return Ok(model);
    }
    let checkpoint = state
        .store
        .latest_checkpoint(id)
        .await?
        .ok_or_else(missing)?;
    let spec: serde_json::Value = serde_json::from_str(spec).map_err(ApiError::internal)?;
    let model = tokio::task::spawn_blocking(move || LoadedModel::load(&spec, &checkpoint.data))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let model = Arc::new(model);
    state.models.put(id, checkpoint.seq, model.clone());
    Ok(model)
}

/// Inputs to classify: each the values of one sample in [0, 1] (784 for `mnist10k`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    #[schema(schema_with = super::openapi::predict_inputs)]
    pub inputs: Vec<Vec<f64>>,
    /// Encodings averaged per input (1–100, default 1; inputs × samples ≤ 10,000). Poisson
    /// coding is random: encoding k of an input draws from a stream named by the model's seed,
    /// the input's values and k, so a prediction depends on the input alone (not on its
    /// position in the request), and `samples: K` averages the class probabilities of K
    /// encodings. Deterministic codings give the same answer for any K.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub samples: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PredictionView {
    /// The class with the highest (averaged) probability.
    pub class: usize,
    /// Softmax of the read-out scores, averaged over the `samples` encodings.
    pub probabilities: Vec<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PredictResponse {
    pub predictions: Vec<PredictionView>,
}

/// Predict classes with a finished `lif` job's trained network (at most 1,000 inputs per call).
#[utoipa::path(post, path = "/v1/models/{id}/predict", tag = "models",
    request_body = PredictRequest,
    responses((status = 200, description = "one prediction per input", body = PredictResponse),
              (status = 400, description = "malformed JSON", body = super::error::Problem),
              (status = 404, description = "unknown job, or not a `lif` job", body = super::error::Problem),
              (status = 409, description = "the job has not succeeded", body = super::error::Problem),
              (status = 422, description = "wrong input count, length or value range", body = super::error::Problem)))]
pub async fn predict(
    State(state): State<AppState>,
    who: super::auth::Principal,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<PredictResponse>> {
    super::guard::require_json(&headers)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(state.max_body_bytes)
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    // The job first: someone else's model is a 404 whatever the body says.
    let row = load(&state, &who, &id).await?;
    let request: PredictRequest = parse_json(&body)?;
    if row.kind != "lif" {
        return Err(ApiError::not_found(format!(
            "job `{id}` is a `{}` job; only `lif` jobs have a model",
            row.kind
        )));
    }
    if row.status() != Status::Succeeded {
        return Err(ApiError::conflict(
            format!("job `{id}` has no trained model until it succeeds"),
            &row.status,
        ));
    }
    let samples = request.samples.unwrap_or(1);
    let samples = usize::try_from(samples).unwrap_or(0).min(usize::MAX / 2);
    let model = loaded_model(&state, &id, &row.spec).await?;
    let outcome = tokio::task::spawn_blocking(move || model.predict(&request.inputs, samples))
        .await
        .map_err(ApiError::internal)?;
    match outcome {
        Ok(list) => Ok(Json(PredictResponse {
            predictions: list
                .into_iter()
                .map(|p| PredictionView {
                    class: p.class,
                    probabilities: p.probabilities,
                })
                .collect(),
        })),
        Err(ModelError::Input(errors)) => Err(ApiError::validation(errors)),
        Err(e @ ModelError::Corrupt(_)) => Err(ApiError::internal(e)),
    }
}
