//! Who is asking: every `/v1/*` request carries `Authorization: Bearer flx_…` (401 problem with
//! `WWW-Authenticate` otherwise). With no users in the database a loopback server runs open:
//! every caller is the admin `anonymous` and tokens are ignored. Per-token request rate limits (429 with
//! `Retry-After`). Handlers take the [`Principal`] as an extractor.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::auth;
use crate::store::now_ms;

/// The owner of everything in open mode (no users yet, loopback only).
pub const ANONYMOUS: &str = "anonymous";

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub name: String,
    pub admin: bool,
    /// The token used (`None` in open mode).
    pub token_id: Option<String>,
    /// The peer address the request came from (for the audit log).
    pub remote: Option<String>,
}

impl Principal {
    /// Whether this caller may see and change a resource owned by `owner`.
    pub fn may_access(&self, owner: &str) -> bool {
        self.admin || self.name == owner
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| unauthorized("authentication required"))
    }
}

/// Which paths need a token beyond `/v1/*`.
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// Open mode is possible at all: the server is bound to a loopback address.
    pub loopback: bool,
    pub protect_metrics: bool,
    pub protect_openapi: bool,
    /// Requests per second per token (0: no limit) and the burst allowed.
    pub rate_per_sec: f64,
    pub burst: f64,
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::status_only(StatusCode::UNAUTHORIZED, detail.to_string())
}

fn with_challenge(mut response: Response, error: &str) -> Response {
    let value = format!("Bearer realm=\"fluxlab\", error=\"{error}\"");
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

fn needs_auth(settings: &AuthSettings, path: &str) -> bool {
    path.starts_with("/v1/")
        || path == "/v1"
        || (settings.protect_metrics && path == "/metrics")
        || (settings.protect_openapi && path == "/openapi.json")
}

/// Authenticates `/v1/*` (and, when configured, `/metrics` and `/openapi.json`).
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if !needs_auth(&state.auth, request.uri().path()) {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .map(str::to_string);
    // Open mode (no users, loopback): nobody is asked for a token and any token is ignored.
    let open = match open_mode(&state).await {
        Ok(open) => open,
        Err(e) => return e.into_response(),
    };
    let principal = match (open, presented) {
        (Some(anonymous), _) => anonymous,
        (None, None) => {
            return with_challenge(
                unauthorized("this server requires `Authorization: Bearer <token>`")
                    .into_response(),
                "invalid_request",
            );
        }
        (None, Some(value)) => match verify(&state, &value).await {
            Ok(p) => p,
            Err(e) => return e,
        },
    };
    if let Some(token) = &principal.token_id
        && let Err(wait) = state.limiter.check(token, &state.auth)
    {
        let mut response = ApiError::status_only(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "more than {} requests per second with this token; retry in {wait} s",
                state.auth.rate_per_sec
            ),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return response;
    }
    let mut principal = principal;
    principal.remote = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.to_string());
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// Open mode: no users exist and the server listens on loopback only.
async fn open_mode(state: &AppState) -> Result<Option<Principal>, ApiError> {
    if !state.auth.loopback || state.store.has_users().await? {
        return Ok(None);
    }
    Ok(Some(Principal {
        name: ANONYMOUS.into(),
        admin: true,
        token_id: None,
        remote: None,
    }))
}

/// Checks a presented `Authorization` value; the error is the whole 401 answer.
async fn verify(state: &AppState, value: &str) -> Result<Principal, Response> {
    let reject =
        |detail: &str, error: &str| with_challenge(unauthorized(detail).into_response(), error);
    let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
    else {
        return Err(reject(
            "use `Authorization: Bearer <token>`",
            "invalid_request",
        ));
    };
    if let Err(why) = auth::check_format(token) {
        return Err(reject(&format!("malformed token: {why}"), "invalid_token"));
    }
    let digest = auth::digest(token);
    let owner = match state.store.token_owner(&digest).await {
        Ok(o) => o,
        Err(e) => return Err(ApiError::from(e).into_response()),
    };
    let Some(owner) = owner.filter(|o| auth::digests_equal(&o.digest, &digest)) else {
        return Err(reject(
            "the token is unknown, revoked or expired",
            "invalid_token",
        ));
    };
    // `last_used_at` to the minute: one write per token per minute at most.
    if owner.last_used_at.is_none_or(|t| now_ms() - t > 60_000) {
        let _ = state.store.touch_token(&owner.token_id).await;
    }
    Ok(Principal {
        name: owner.user.name,
        admin: owner.user.admin != 0,
        token_id: Some(owner.token_id),
        remote: None,
    })
}

/// Token buckets per token id, bounded: idle buckets are dropped when the map grows.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Buckets kept before idle ones are swept.
const MAX_BUCKETS: usize = 10_000;

impl RateLimiter {
    /// `Ok` when the request may go ahead, else the seconds to wait.
    pub fn check(&self, token: &str, settings: &AuthSettings) -> Result<(), u64> {
        if settings.rate_per_sec <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, (_, at)| now.duration_since(*at).as_secs() < 60);
        }
        let (level, at) = buckets
            .entry(token.to_string())
            .or_insert((settings.burst, now));
        let refill = now.duration_since(*at).as_secs_f64() * settings.rate_per_sec;
        *level = (*level + refill).min(settings.burst);
        *at = now;
        if *level >= 1.0 {
            *level -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *level) / settings.rate_per_sec).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_the_burst_then_asks_to_wait() {
        let settings = AuthSettings {
            rate_per_sec: 2.0,
            burst: 3.0,
            ..AuthSettings::default()
        };
        let limiter = RateLimiter::default();
        for _ in 0..3 {
            assert!(limiter.check("t", &settings).is_ok());
        }
        assert_eq!(limiter.check("t", &settings), Err(1));
        assert!(
            limiter.check("other", &settings).is_ok(),
            "buckets are per token"
        );
    }
}
