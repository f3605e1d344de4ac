//! Job labels and idempotent submission: the bounds of `tags`, `notes` and the
//! `Idempotency-Key` header, the request digest, and `PATCH /v1/jobs/{id}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, ApiResult, Problem, parse_json};
use super::guard::require_json;
use super::views::JobView;
use crate::jobs::FieldError;

/// Most tags on one job.
pub const MAX_TAGS: usize = 16;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 64;
/// Longest `notes`, in characters.
pub const MAX_NOTES_CHARS: usize = 10_000;
/// Longest `Idempotency-Key`, in characters.
pub const MAX_KEY_CHARS: usize = 255;
/// How long an idempotency key holds, in milliseconds (24 hours).
pub const KEY_LIFETIME_MS: i64 = 24 * 3600 * 1000;
/// The request header of idempotent submissions.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Characters a tag may use besides ASCII letters and digits.
pub const TAG_PUNCTUATION: &str = "._-:/=+";

/// True for a character allowed in a tag.
fn tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || TAG_PUNCTUATION.contains(c)
}

/// Checks `tags` (field name `field`): at most [`MAX_TAGS`], each 1 to [`MAX_TAG_CHARS`]
/// characters of letters, digits and [`TAG_PUNCTUATION`], no duplicates.
pub fn check_tags(tags: &[String], field: &str, errors: &mut Vec<FieldError>) {
    if tags.len() > MAX_TAGS {
        errors.push(FieldError::new(
            field,
            format!("at most {MAX_TAGS} tags, got {}", tags.len()),
        ));
    }
    for (i, tag) in tags.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
            errors.push(FieldError::new(
                at,
                format!("must be 1 to {MAX_TAG_CHARS} characters"),
            ));
        } else if !tag.chars().all(tag_char) {
            errors.push(FieldError::new(
                at,
                format!("may hold only ASCII letters, digits and `{TAG_PUNCTUATION}`"),
            ));
        } else if tags[..i].contains(tag) {
            errors.push(FieldError::new(at, format!("`{tag}` is listed twice")));
        }
    }
}

/// Checks `notes`: at most [`MAX_NOTES_CHARS`] characters.
pub fn check_notes(notes: Option<&str>, errors: &mut Vec<FieldError>) {
    if let Some(n) = notes
        && n.chars().count() > MAX_NOTES_CHARS
    {
        errors.push(FieldError::new(
            "notes",
            format!("must be at most {MAX_NOTES_CHARS} characters"),
        ));
    }
}

/// The `Idempotency-Key` header, if sent: 1 to [`MAX_KEY_CHARS`] printable ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid = |message: String| {
        Err(ApiError::validation(vec![FieldError::new(
            IDEMPOTENCY_KEY,
            message,
        )]))
    };
    if values.next().is_some() {
        return invalid("send the header once".into());
    }
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_KEY_CHARS {
        return invalid(format!("must be 1 to {MAX_KEY_CHARS} characters"));
    }
    if !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return invalid("may hold only printable ASCII characters".into());
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// SHA-256 (hex) of a request body as parsed JSON: key order and spacing do not matter
/// (`serde_json` maps are sorted), numbers and strings do.
pub fn request_digest(body: &Value) -> String {
    Sha256::digest(body.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `PATCH /v1/jobs/{id}` body: what is given is replaced, what is absent is kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelsPatch {
    /// The job's new tags (replacing all of them; `[]` removes them; `null` is refused).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Option<Option<Vec<String>>>,
    /// The job's new notes; `null` removes them.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

/// A field that is present, even as `null`, is `Some`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Edit a job's tags and notes (its owner, or an admin; others get a 404).
#[utoipa::path(patch, path = "/v1/jobs/{id}", tag = "jobs",
    request_body = LabelsPatch,
    responses((status = 200, description = "the job after the edit", body = JobView),
              (status = 400, description = "malformed JSON", body = Problem),
              (status = 404, body = Problem),
              (status = 415, description = "body not sent as application/json", body = Problem),
              (status = 422, description = "a tag or the notes out of bounds, or nothing to change", body = Problem)))]
pub async fn patch(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<JobView>> {
    super::jobs::load(&state, &who, &id).await?;
    require_json(&headers)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(state.max_body_bytes)
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    let patch: LabelsPatch = parse_json(&body)?;
    let mut errors = Vec::new();
    match &patch.tags {
        Some(Some(tags)) => check_tags(tags, "tags", &mut errors),
        Some(None) => errors.push(FieldError::new(
            "tags",
            "must be an array of tags (`[]` removes them all), not null",
        )),
        None => {}
    }
    check_notes(patch.notes.clone().flatten().as_deref(), &mut errors);
    if patch.tags.is_none() && patch.notes.is_none() {
        errors.push(FieldError::new("tags", "give `tags`, `notes` or both"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let row = state
        .store
        .set_job_labels(
            &id,
            patch.tags.as_ref().and_then(|t| t.as_deref()),
            patch.notes.as_ref().map(Option::as_deref),
        )
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no job with id `{id}`")))?;
    super::users::audit_as(&state, &who, "job.labels", &id).await;
    Ok(Json(JobView::from(&row)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_ignores_key_order_but_not_values() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":[1,2]}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{ "b": [1, 2], "a": 1 }"#).unwrap();
        let c: Value = serde_json::from_str(r#"{"a":2,"b":[1,2]}"#).unwrap();
        assert_eq!(request_digest(&a), request_digest(&b));
        assert_ne!(request_digest(&a), request_digest(&c));
    }

    #[test]
    fn tags_are_bounded() {
        let mut errors = Vec::new();
        check_tags(&["ok-1".into(), "lr=0.1".into()], "tags", &mut errors);
        assert!(errors.is_empty());
        let long = "x".repeat(MAX_TAG_CHARS + 1);
        let many: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
        for (tags, field) in [
            (vec![String::new()], "tags[0]"),
            (vec![long], "tags[0]"),
            (vec!["a b".into()], "tags[0]"),
            (vec!["a".into(), "a".into()], "tags[1]"),
            (many, "tags"),
        ] {
            let mut errors = Vec::new();
            check_tags(&tags, "tags", &mut errors);
            assert_eq!(errors[0].field, field, "{tags:?}");
        }
    }
}
