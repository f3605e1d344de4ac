//! `/v1/users` and `/v1/tokens`: who am I (with my use and quotas), admins manage users and
//! tokens, everyone lists and revokes their own tokens; `/v1/audit` for admins. Quota checks
//! used by submissions and uploads live here too.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, ApiResult, parse_json, parse_query};
use super::views::rfc3339;
use crate::jobs::FieldError;
use crate::store::{TokenRow, Usage, UserRow};

/// Server-wide quota defaults; a user's own values (`fluxlab user set`) win. 0: unlimited.
#[derive(Debug, Clone, Default)]
pub struct QuotaDefaults {
    pub max_running: i64,
    pub max_queued: i64,
    pub max_dataset_bytes: i64,
}

/// The quotas that apply to one user (`null`: unlimited).
#[derive(Debug, Serialize, ToSchema)]
pub struct Quotas {
    pub max_running: Option<i64>,
    pub max_queued: Option<i64>,
    pub max_dataset_bytes: Option<i64>,
}

fn limit(own: Option<i64>, default: i64) -> Option<i64> {
    own.or(Some(default)).filter(|v| *v > 0)
}

/// A user as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub name: String,
    pub admin: bool,
    pub running: i64,
    pub queued: i64,
    pub dataset_bytes: i64,
    /// Wall time the user's finished runs held a compute slot, in seconds.
    pub slot_seconds: f64,
    pub quotas: Quotas,
}

fn user_view(
    state: &AppState,
    name: &str,
    admin: bool,
    own: Option<&UserRow>,
    usage: Usage,
) -> UserView {
    let d = &state.quotas;
    UserView {
        name: name.to_string(),
        admin,
        running: usage.running,
        queued: usage.queued,
        dataset_bytes: usage.dataset_bytes,
        slot_seconds: usage.slot_ms as f64 / 1000.0,
        quotas: Quotas {
            max_running: limit(own.and_then(|u| u.max_running), d.max_running),
            max_queued: limit(own.and_then(|u| u.max_queued), d.max_queued),
            max_dataset_bytes: limit(own.and_then(|u| u.max_dataset_bytes), d.max_dataset_bytes),
        },
    }
}

/// The quotas of `who` (their overrides, else the defaults).
pub async fn quotas_of(state: &AppState, who: &Principal) -> ApiResult<Quotas> {
    let own = state.store.get_user(&who.name).await?;
    let view = user_view(state, &who.name, who.admin, own.as_ref(), Usage::default());
    Ok(view.quotas)
}

/// 429 when `who` already has `max_queued` jobs waiting.
pub async fn check_queue_quota(state: &AppState, who: &Principal) -> ApiResult<()> {
    let quotas = quotas_of(state, who).await?;
    if let Some(max) = quotas.max_queued {
        let usage = state.store.usage(&who.name).await?;
        if usage.queued >= max {
            return Err(ApiError::status_only(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "quota max_queued reached: {} of your jobs are queued, at most {max} allowed; \
                     wait for some to start or cancel some",
                    usage.queued
                ),
            )
            .with_field("max_queued", format!("at most {max}")));
        }
    }
    Ok(())
}

/// 413 when storing `bytes` more would take `who` over `max_dataset_bytes`.
pub async fn check_dataset_quota(state: &AppState, who: &Principal, bytes: i64) -> ApiResult<()> {
    let quotas = quotas_of(state, who).await?;
    if let Some(max) = quotas.max_dataset_bytes {
        let usage = state.store.usage(&who.name).await?;
        if usage.dataset_bytes + bytes > max {
            return Err(ApiError::status_only(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "quota max_dataset_bytes reached: you store {} bytes of datasets, this upload \
                     adds {bytes}, at most {max} allowed; delete some datasets first",
                    usage.dataset_bytes
                ),
            )
            .with_field("max_dataset_bytes", format!("at most {max}")));
        }
    }
    Ok(())
}

/// Records an action of `who` in the audit log. A failed write is logged, not an error: the
/// action itself has happened.
pub async fn audit_as(state: &AppState, who: &Principal, action: &str, target: &str) {
    if let Err(e) = state
        .store
        .audit(&who.name, action, Some(target), who.remote.as_deref())
        .await
    {
        tracing::warn!(action, target, error = %e, "audit record failed");
    }
}

/// Who am I, with my use and quotas.
#[utoipa::path(get, path = "/v1/users/me", tag = "users",
    responses((status = 200, body = UserView), (status = 401, body = super::error::Problem)))]
pub async fn me(State(state): State<AppState>, who: Principal) -> ApiResult<Json<UserView>> {
    let own = state.store.get_user(&who.name).await?;
    let usage = state.store.usage(&who.name).await?;
    Ok(Json(user_view(
        &state,
        &who.name,
        who.admin,
        own.as_ref(),
        usage,
    )))
}

fn require_admin(who: &Principal) -> ApiResult<()> {
    if who.admin {
        Ok(())
    } else {
        Err(ApiError::status_only(
            StatusCode::FORBIDDEN,
            "only admins may do this",
        ))
    }
}

/// All users (admins only).
#[utoipa::path(get, path = "/v1/users", tag = "users",
    responses((status = 200, body = Vec<UserView>), (status = 403, body = super::error::Problem)))]
pub async fn list(State(state): State<AppState>, who: Principal) -> ApiResult<Json<Vec<UserView>>> {
    require_admin(&who)?;
    let mut out = Vec::new();
    for u in state.store.list_users().await? {
        let usage = state.store.usage(&u.name).await?;
        out.push(user_view(&state, &u.name, u.admin != 0, Some(&u), usage));
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 1 to 64 letters, digits, `.`, `_` or `-`; `anonymous` is reserved.
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    pub name: String,
    #[serde(default)]
    pub admin: bool,
}

/// A valid user name: 1-64 letters, digits, `.`, `_`, `-`.
pub fn check_user_name(name: &str) -> Result<(), FieldError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && name != super::auth::ANONYMOUS;
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "name",
            "1 to 64 letters, digits, `.`, `_` or `-` (and not `anonymous`)",
        ))
    }
}

/// Create a user (admins only).
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = UserView), (status = 403, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    require_admin(&who)?;
    super::guard::require_json(&headers)?;
    let new: NewUser = parse_json(&body)?;
    check_user_name(&new.name).map_err(|e| ApiError::validation(vec![e]))?;
    if !state.store.add_user(&new.name, new.admin).await? {
        return Err(ApiError::in_use(format!(
            "user `{}` exists already",
            new.name
        )));
    }
    super::users::audit_as(&state, &who, "user.add", &new.name).await;
    let view = user_view(&state, &new.name, new.admin, None, Usage::default());
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Remove a user and their tokens (admins only; their jobs and datasets stay).
#[utoipa::path(delete, path = "/v1/users/{name}", tag = "users",
    responses((status = 204), (status = 403, body = super::error::Problem), (status = 404, body = super::error::Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    who: Principal,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    require_admin(&who)?;
    if !state.store.remove_user(&name).await? {
        return Err(ApiError::not_found(format!("no user `{name}`")));
    }
    super::users::audit_as(&state, &who, "user.remove", &name).await;
    Ok(StatusCode::NO_CONTENT)
}

/// A token as listed (the secret is shown once, at creation, and never stored).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub user: String,
    pub name: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

impl From<&TokenRow> for TokenView {
    fn from(t: &TokenRow) -> Self {
        TokenView {
            id: t.id.clone(),
            user: t.user_name.clone(),
            name: t.label.clone(),
            created_at: rfc3339(t.created_at),
            expires_at: t.expires_at.map(rfc3339),
            last_used_at: t.last_used_at.map(rfc3339),
            revoked: t.revoked_at.is_some(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenQuery {
    user: Option<String>,
}

/// Your tokens (admins: `?user=` for one user's, or everyone's).
#[utoipa::path(get, path = "/v1/tokens", tag = "users",
    params(("user" = Option<String>, Query, description = "admins only: one user's tokens")),
    responses((status = 200, body = Vec<TokenView>)))]
pub async fn tokens(
    State(state): State<AppState>,
    who: Principal,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Vec<TokenView>>> {
    let q: TokenQuery = parse_query(query.as_deref())?;
    let user = if who.admin {
        q.user
    } else {
        Some(who.name.clone())
    };
    let rows = state.store.list_tokens(user.as_deref()).await?;
    Ok(Json(rows.iter().map(TokenView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// An existing user.
    pub user: String,
    /// A label to recognise it by (at most 100 characters).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub name: Option<String>,
    /// Days until it expires (none: never).
    #[serde(default)]
    pub expires_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token itself: shown this once, store it now.
    pub token: String,
    #[serde(flatten)]
    pub view: TokenView,
}

/// Create a token for a user (admins only); the answer holds the token, shown once.
#[utoipa::path(post, path = "/v1/tokens", tag = "users", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = super::error::Problem),
              (status = 422, body = super::error::Problem)))]
pub async fn create_token(
    State(state): State<AppState>,
    who: Principal,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    require_admin(&who)?;
    super::guard::require_json(&headers)?;
    let new: NewToken = parse_json(&body)?;
    if state.store.get_user(&new.user).await?.is_none() {
        return Err(ApiError::validation(vec![FieldError::new(
            "user",
            format!("no user `{}`", new.user),
        )]));
    }
    if new.name.as_ref().is_some_and(|n| n.chars().count() > 100) {
        return Err(ApiError::validation(vec![FieldError::new(
            "name",
            "at most 100 characters",
        )]));
    }
    let expires = new
        .expires_days
        .map(|d| crate::store::now_ms() + d as i64 * 86_400_000);
    let (token, row) = issue_token(&state.store, &new.user, new.name.as_deref(), expires).await?;
    super::users::audit_as(&state, &who, "token.create", &row.id).await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token,
            view: TokenView::from(&row),
        }),
    )
        .into_response())
}

/// Makes and stores a token; returns it (for showing once) with its stored row.
pub async fn issue_token(
    store: &crate::store::Store,
    user: &str,
    label: Option<&str>,
    expires_at: Option<i64>,
) -> crate::store::StoreResult<(String, TokenRow)> {
    let (token, digest) = crate::auth::generate();
    let id = format!("tok_{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    store
        .add_token(&id, user, label, &digest, expires_at)
        .await?;
    let row = store.get_token(&id).await?.expect("token just stored");
    Ok((token, row))
}

/// Revoke a token: your own, or any for admins (someone else's is a 404).
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "users",
    responses((status = 204), (status = 404, body = super::error::Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let row = state
        .store
        .get_token(&id)
        .await?
        .filter(|t| who.may_access(&t.user_name) && t.revoked_at.is_none())
        .ok_or_else(|| ApiError::not_found(format!("no live token `{id}`")))?;
    state.store.revoke_token(&row.id).await?;
    super::users::audit_as(&state, &who, "token.revoke", &id).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub remote: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    limit: Option<i64>,
}

/// The audit log, newest first (admins only).
#[utoipa::path(get, path = "/v1/audit", tag = "users",
    params(("limit" = Option<i64>, Query, minimum = 1, maximum = 1000)),
    responses((status = 200, body = Vec<AuditView>), (status = 403, body = super::error::Problem)))]
pub async fn audit(
    State(state): State<AppState>,
    who: Principal,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Vec<AuditView>>> {
    require_admin(&who)?;
    let q: AuditQuery = parse_query(query.as_deref())?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::validation(vec![FieldError::new(
            "limit",
            format!("must be between 1 and 1000, got {limit}"),
        )]));
    }
    let rows = state.store.audit_log(limit).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditView {
                id: r.id,
                at: rfc3339(r.at),
                actor: r.actor,
                action: r.action,
                target: r.target,
                remote: r.remote,
            })
            .collect(),
    ))
}
