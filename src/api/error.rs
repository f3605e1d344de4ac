//! The one API error type, rendered as `application/problem+json` (RFC 9457) with per-field
//! `errors`. Server faults are logged with their cause and answered without internals.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::jobs::FieldError;
use crate::store::{Failure, StoreError};

/// A problem document (RFC 9457).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// For 409s about a job: its current status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_status: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    job_status: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            slug,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            job_status: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-request",
            "Malformed request",
            detail,
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn conflict(detail: impl Into<String>, job_status: &str) -> Self {
        let mut e = Self::new(StatusCode::CONFLICT, "wrong-state", "Wrong state", detail);
        e.job_status = Some(job_status.to_string());
        e
    }

    /// 409 about something other than a job's status (e.g. a dataset that jobs still use).
    pub fn in_use(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "in-use", "Resource in use", detail)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "Request body too large",
            format!("the request body exceeds the limit of {limit} bytes"),
        )
    }

    /// 415: a JSON body sent without `Content-Type: application/json`.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
        .with_field("content-type", "must be application/json")
    }

    /// Any status with a generic problem (for errors raised outside the handlers).
    pub fn status_only(status: StatusCode, detail: impl Into<String>) -> Self {
        let title = status.canonical_reason().unwrap_or("Error");
        let slug = match status.as_u16() {
            400 => "malformed-request",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not-found",
            405 => "method-not-allowed",
            408 => "request-timeout",
            413 => "body-too-large",
            414 => "uri-too-long",
            415 => "unsupported-media-type",
            421 => "host-not-allowed",
            429 => "too-many-requests",
            431 => "headers-too-large",
            503 => "unavailable",
            s if s >= 500 => "internal-error",
            _ => "http-error",
        };
        Self::new(status, slug, title, detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
    }

    /// 422 with field errors.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            "Invalid request",
            detail,
        );
        e.errors = errors;
        e
    }

    /// A 400 that still names where in the body the problem is.
    pub fn with_field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.push(FieldError::new(field, message));
        self
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal-error",
            "Internal server error",
            "the server failed to handle the request; the cause is in its log",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e.failure() {
            Failure::Full => {
                tracing::error!(cause = %e, "database full");
                Self::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "storage-full",
                    "Storage full",
                    "the server's database has no space left (disk full or its size cap \
                     reached); nothing was stored. Retry once space is freed",
                )
            }
            Failure::Unavailable => {
                tracing::error!(cause = %e, "database unavailable");
                Self::unavailable(
                    "the server's database cannot be reached or written right now; nothing was \
                     changed. Retry shortly",
                )
            }
            Failure::Other => ApiError::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("/problems/{}", self.slug),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
            job_status: self.job_status,
        };
        let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            json,
        )
            .into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        response
    }
}

/// Converts a serde_json error with its path into the right problem: a syntax error is a 400
/// (malformed JSON), a type / unknown-field / out-of-range error is a 422 naming the field.
pub fn json_problem(err: serde_path_to_error::Error<serde_json::Error>, prefix: &str) -> ApiError {
    let path = err.path().to_string();
    let field = match (prefix, path.as_str()) {
        ("", ".") => "body".to_string(),
        (p, ".") => p.to_string(),
        ("", p) => p.to_string(),
        (pre, p) => format!("{pre}.{p}"),
    };
    let inner = err.into_inner();
    let message = inner.to_string();
    use serde_json::error::Category;
    match inner.classify() {
        Category::Data => ApiError::validation(vec![FieldError::new(field, message)]),
        _ if message.contains("number out of range") => {
            ApiError::validation(vec![FieldError::new(
                field,
                "must be a finite number (got a number out of the range of 64-bit floats)",
            )])
        }
        _ => ApiError::bad_request(format!("the body is not valid JSON: {message}")).with_field(
            field,
            "malformed JSON here (NaN and Infinity are not JSON numbers)",
        ),
    }
}

/// Parses a JSON document into `T`, mapping errors with [`json_problem`]. A document that is
/// valid JSON but of the wrong shape (`[1,2,3]`, `"kind": 5`) is a 422 naming the field even
/// where serde_json reports it as a syntax error (it does for enums read from numbers).
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    // serde reads a struct from an array too (`[null, null]`); every body here is an object.
    let object = bytes.trim_ascii_start().starts_with(b"{");
    if !object && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "must be a JSON object",
        )]));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        let field = e.path().to_string();
        let problem = json_problem(e, "");
        if well_formed && problem.status() == StatusCode::BAD_REQUEST {
            ApiError::validation(vec![FieldError::new(
                field,
                "wrong type here: see the request schema in /openapi.json",
            )])
        } else {
            problem
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Parses a query string into `T`; errors are 422s naming the parameter when possible.
pub fn parse_query<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> ApiResult<T> {
    serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| {
        let message = e.to_string();
        ApiError::validation(vec![FieldError::new("query", message)])
    })
}

/// JSON response helper for handlers that return documents not modelled as structs.
pub fn json_value(status: StatusCode, value: Value) -> Response {
    (status, axum::Json(value)).into_response()
}
