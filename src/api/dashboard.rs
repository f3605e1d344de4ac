//! The browser dashboard (`GET /` and `GET /ui/{file}`): plain HTML, CSS and JavaScript modules
//! compiled into the binary, so the server works offline with no asset directory beside it.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// One embedded file: its name under `/ui/`, content type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_str!(concat!("../../assets/dashboard/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("admin.js", JS),
    asset!("api.js", JS),
    asset!("app.js", JS),
    asset!("chart.js", JS),
    asset!("compare.js", JS),
    asset!("datasets.js", JS),
    asset!("dom.js", JS),
    asset!("job.js", JS),
    asset!("list.js", JS),
    asset!("predict.js", JS),
    asset!("presets.js", JS),
    asset!("submit.js", JS),
    asset!("summary.js", JS),
    asset!("tables.js", JS),
];

/// `GET /`: the dashboard page.
pub async fn index(headers: HeaderMap) -> Response {
    serve(&ASSETS[0], &headers)
}

/// `GET /ui/{file}`: the dashboard's stylesheet and scripts.
pub async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().skip(1).find(|a| a.name == name) {
        Some(asset) => serve(asset, &headers),
        None => ApiError::not_found(format!("no dashboard file `{name}`")).into_response(),
    }
}

/// Scripts only from this server (no inline script, no eval), no framing by other sites.
/// Inline styles stay allowed: the charts set sizes and colours through style attributes.
pub const DASHBOARD_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' \
     'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Answers with the file, or `304` when the browser's copy is current. Browsers revalidate on
/// every load (`no-cache`), so a new server version is picked up at once while an unchanged file
/// costs a header round trip only.
fn serve(asset: &Asset, headers: &HeaderMap) -> Response {
    let etag = etag(asset.body);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let common = [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).expect("hex is a valid header value"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DASHBOARD_CSP),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(header::CONTENT_TYPE, asset.content_type)],
        asset.body,
    )
        .into_response()
}

/// A strong validator: FNV-1a of the bytes plus the crate version.
fn etag(body: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in body.bytes().chain(env!("CARGO_PKG_VERSION").bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{hash:016x}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_the_page_loads_is_embedded() {
        for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            for line in asset.body.lines() {
                if let Some(rest) = line.trim().strip_prefix("import ")
                    && let Some(start) = rest.find("'./")
                {
                    let file = &rest[start + 3..];
                    let file = &file[..file.find('\'').unwrap()];
                    assert!(
                        ASSETS.iter().any(|a| a.name == file),
                        "{} imports {file}, which is not embedded",
                        asset.name
                    );
                }
            }
        }
    }

    #[test]
    fn etags_differ_with_content() {
        assert_ne!(etag("a"), etag("b"));
        assert_eq!(etag("a"), etag("a"));
    }
}
