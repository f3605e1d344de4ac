//! The HTTP side of the terminal client: one connection setting, requests, and the mapping of
//! answers to [`Failure`]s with the documented exit codes.

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

/// Where the server is and who we are: `--server`/`FLUXLAB_SERVER`, `--token`/`FLUXLAB_TOKEN`.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// The server's base URL.
    #[arg(long, env = "FLUXLAB_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// API token, sent as `Authorization: Bearer …` (not needed in open mode).
    #[arg(long, env = "FLUXLAB_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Why a command did not succeed; each maps to an exit code (README § Terminal client).
#[derive(Debug)]
pub enum Failure {
    /// The job failed or was cancelled: 1.
    JobFailed(String),
    /// A usage error, or a request the server refused as invalid (4xx other than 401, 403,
    /// 404), or a job not finished yet: 2.
    Usage(String),
    /// No such job (or artifact), or not yours: 3.
    NotFound(String),
    /// The server could not be reached or failed (5xx), or answered something unexpected: 4.
    Server(String),
    /// No token, or a token that is refused (401, 403): 5.
    Auth(String),
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::JobFailed(_) => 1,
            Failure::Usage(_) => 2,
            Failure::NotFound(_) => 3,
            Failure::Server(_) => 4,
            Failure::Auth(_) => 5,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Failure::JobFailed(m)
            | Failure::Usage(m)
            | Failure::NotFound(m)
            | Failure::Server(m)
            | Failure::Auth(m) => m,
        }
    }
}

pub type Outcome<T> = Result<T, Failure>;

/// A client of one server.
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    pub fn new(conn: &Connection) -> Outcome<Api> {
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .user_agent(concat!("fluxlab-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Failure::Server(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Api {
            http,
            base: conn.server.trim_end_matches('/').to_string(),
            token: conn.token.clone().filter(|t| !t.is_empty()),
        })
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let r = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    /// Sends; a transport error is a [`Failure::Server`].
    pub async fn send(&self, request: RequestBuilder) -> Outcome<Response> {
        request
            .send()
            .await
            .map_err(|e| Failure::Server(format!("cannot reach {}: {e}", self.base)))
    }

    /// Sends and returns the JSON body of a 2xx answer (with its status).
    pub async fn json(&self, request: RequestBuilder) -> Outcome<(StatusCode, Value)> {
        let response = checked(self.send(request).await?).await?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok((status, Value::Null));
        }
        let body = response
            .json::<Value>()
            .await
            .map_err(|e| Failure::Server(format!("the server's answer is not JSON: {e}")))?;
        Ok((status, body))
    }

    pub async fn get(&self, path: &str) -> Outcome<Value> {
        Ok(self.json(self.request(Method::GET, path)).await?.1)
    }
}

/// Passes a 2xx answer through; turns any other into the [`Failure`] its status means, with
/// the problem document's title, detail and field errors as the message.
pub async fn checked(response: Response) -> Outcome<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    let message = problem_message(status, &text);
    Err(match status.as_u16() {
        404 => Failure::NotFound(message),
        401 | 403 => Failure::Auth(message),
        400..=499 => Failure::Usage(message),
        _ => Failure::Server(message),
    })
}

/// `title: detail` and one `  field: message` line per field error, or the raw text.
pub fn problem_message(status: StatusCode, text: &str) -> String {
    let Ok(problem) = serde_json::from_str::<Value>(text) else {
        return format!("{status}: {}", text.trim());
    };
    let title = problem["title"].as_str().unwrap_or("error");
    let mut message = match problem["detail"].as_str() {
        Some(detail) => format!("{title} ({}): {detail}", status.as_u16()),
        None => format!("{title} ({})", status.as_u16()),
    };
    for e in problem["errors"].as_array().into_iter().flatten() {
        message.push_str(&format!(
            "\n  {}: {}",
            e["field"].as_str().unwrap_or("?"),
            e["message"].as_str().unwrap_or("")
        ));
    }
    message
}
