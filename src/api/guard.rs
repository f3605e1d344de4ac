//! Request guards that run before any handler: the `Host` allow-list (closes DNS rebinding
//! against a loopback server), refusal of cross-site state-changing requests, a bound on the
//! URI, JSON bodies only as `application/json`, and the rewrite of any error answer that is not
//! yet a problem document (405s, extractor rejections) into one.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{ApiError, ApiResult};

/// Longest request target (path and query) accepted.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Which `Host` names the server answers to.
#[derive(Debug, Clone, Default)]
pub struct HostPolicy {
    /// Any host (wildcard binds without `--allowed-hosts`, or `--allowed-hosts '*'`).
    pub any: bool,
    /// Lower-case host names and IP literals (IPv6 without brackets), no ports.
    pub names: HashSet<String>,
    /// Origins (`https://notebook.lab.example`) allowed to call the API from a browser
    /// (`--cors-origins`); none by default: same-origin only.
    pub origins: HashSet<String>,
}

impl HostPolicy {
    /// The policy for a server bound to `bind` with the `--allowed-hosts` list `allowed`.
    pub fn new(bind: &str, allowed: &[String]) -> HostPolicy {
        let mut names: HashSet<String> = allowed
            .iter()
            .map(|h| normalise_host(h.trim()))
            .filter(|h| !h.is_empty())
            .collect();
        if names.contains("*") {
            return HostPolicy {
                any: true,
                ..HostPolicy::default()
            };
        }
        let ip = bind.parse::<SocketAddr>().ok().map(|a| a.ip());
        let loopback = ["localhost", "127.0.0.1", "::1"].map(String::from);
        match ip {
            Some(ip) if ip.is_unspecified() && names.is_empty() => HostPolicy {
                any: true,
                names,
                ..HostPolicy::default()
            },
            Some(ip) => {
                names.insert(normalise_host(&ip.to_string()));
                names.extend(loopback);
                HostPolicy {
                    any: false,
                    names,
                    ..HostPolicy::default()
                }
            }
            None => {
                // A bind by name (`localhost:8080`): that name and the loopback names.
                let host = bind.rsplit_once(':').map_or(bind, |(h, _)| h);
                names.insert(normalise_host(host));
                names.extend(loopback);
                HostPolicy {
                    any: false,
                    names,
                    ..HostPolicy::default()
                }
            }
        }
    }

    pub fn allows(&self, host: &str) -> bool {
        self.any || self.names.contains(&normalise_host(strip_port(host)))
    }
}

/// `example.org:8080` → `example.org`; `[::1]:8080` → `[::1]`.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.contains(':') => {
            name
        }
        _ => host,
    }
}

fn normalise_host(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(&host);
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => host.to_string(),
    }
}

/// The host a request is addressed to: the `Host` header, else the URI's authority.
fn request_host(request: &Request) -> Option<String> {
    request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()))
}

/// URI bound, Host allow-list and cross-site refusal.
pub async fn check_request(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError::status_only(
            StatusCode::URI_TOO_LONG,
            format!("the request target is {uri_len} bytes, at most {MAX_URI_BYTES} allowed"),
        )
        .into_response();
    }
    let host = request_host(&request);
    if let Some(host) = &host
        && !state.hosts.allows(host)
    {
        return ApiError::status_only(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this server does not answer to host `{host}`; start it with \
                 --allowed-hosts {} to allow that name",
                strip_port(host)
            ),
        )
        .with_field("host", "not in the allowed hosts")
        .into_response();
    }
    let allowed_origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| state.hosts.origins.contains(o.trim_end_matches('/')));
    if is_unsafe(request.method())
        && !allowed_origin
        && let Some(reason) = cross_site(request.headers(), host.as_deref())
    {
        return ApiError::status_only(StatusCode::FORBIDDEN, reason).into_response();
    }
    let mut response = next.run(request).await;
    // Everything but the dashboard page is data: never sniffed, never run as a page (an SVG
    // plot with a hostile job name in it included).
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
            ),
        );
    }
    response
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Why a state-changing request looks cross-site: an `Origin` other than the host addressed,
/// or a browser's `Sec-Fetch-Site: cross-site`. Clients that send neither (curl, scripts)
/// pass.
fn cross_site(headers: &HeaderMap, host: Option<&str>) -> Option<String> {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return Some("cross-site requests may not change anything here".into());
    }
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    let authority = origin.split_once("://").map(|(_, rest)| rest);
    match (authority, host) {
        (Some(a), Some(h)) if a.eq_ignore_ascii_case(h) => None,
        _ => Some(format!(
            "a request from origin `{origin}` may not change anything on this server"
        )),
    }
}

/// 415 unless the body is declared `application/json` (parameters such as `charset` allowed).
/// A page on another site can send `text/plain` without asking; `application/json` needs the
/// CORS permission this server never grants.
pub fn require_json(headers: &HeaderMap) -> ApiResult<()> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = declared.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::unsupported_media_type(if declared.is_empty() {
            "the body must be sent with Content-Type: application/json".to_string()
        } else {
            format!("the body must be sent with Content-Type: application/json, not `{declared}`")
        }))
    }
}

/// Rewrites error answers that are not problem documents (axum's 405, extractor rejections in
/// text/plain) into problem+json with the same status, keeping headers such as `Allow`.
pub async fn problem_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if status.as_u16() < 400 || is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let detail = if text.is_empty() {
        match status {
            StatusCode::METHOD_NOT_ALLOWED => {
                format!("this route does not take the {method} method (see the Allow header)")
            }
            _ => status.canonical_reason().unwrap_or("error").to_string(),
        }
    } else {
        text
    };
    let problem = ApiError::status_only(status, detail).into_response();
    let (problem_parts, problem_body) = problem.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in problem_parts.headers.iter() {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, Body::new(problem_body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_binds_answer_to_loopback_names_only() {
        let p = HostPolicy::new("127.0.0.1:8080", &[]);
        for ok in [
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "LOCALHOST",
            "localhost.",
        ] {
            assert!(p.allows(ok), "{ok}");
        }
        for bad in ["evil.example:8080", "127.0.0.2", "attacker.localhost.evil"] {
            assert!(!p.allows(bad), "{bad}");
        }
    }

    #[test]
    fn wildcard_binds_answer_to_any_host_unless_a_list_is_given() {
        assert!(HostPolicy::new("0.0.0.0:8080", &[]).allows("lab.example:8080"));
        let listed = HostPolicy::new("0.0.0.0:8080", &["lab.example".into()]);
        assert!(listed.allows("lab.example:443"));
        assert!(!listed.allows("evil.example"));
        assert!(HostPolicy::new("127.0.0.1:1", &["*".into()]).allows("anything"));
    }

    #[test]
    fn cross_site_unsafe_requests_are_named() {
        let mut h = HeaderMap::new();
        assert!(cross_site(&h, Some("localhost:8080")).is_none());
        h.insert(header::ORIGIN, "http://localhost:8080".parse().unwrap());
        assert!(cross_site(&h, Some("localhost:8080")).is_none());
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(cross_site(&h, Some("localhost:8080")).is_some());
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(cross_site(&h, Some("localhost:8080")).is_some());
    }

    #[test]
    fn json_bodies_need_the_json_content_type() {
        let mut h = HeaderMap::new();
        assert!(require_json(&h).is_err());
        h.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(require_json(&h).is_err());
        h.insert(
            header::CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert!(require_json(&h).is_ok());
    }
}
