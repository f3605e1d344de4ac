//! The terminal client in the `fluxlab` binary: `submit`, `jobs`, `watch`, `result`, `cancel`,
//! `resume`, `delete` and `download` over the HTTP API (README § Terminal client). Exit codes:
//! 0 success, 1 the job failed or was cancelled, 2 usage or a refused request, 3 not found,
//! 4 server or network error, 5 not authorised ([`http::Failure`]).

pub mod http;
pub mod render;
pub mod watch;

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use self::http::{Api, Connection, Failure, Outcome, checked};

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Submit a job from a JSON file (`-`: standard input); prints its id.
    Submit(SubmitArgs),
    /// List jobs, newest first, as a table.
    Jobs(JobsArgs),
    /// Follow a job with a live progress bar until it ends; then print its result summary.
    Watch(IdArgs),
    /// Print a finished job's result (a summary, or the document with --json).
    Result(ResultArgs),
    /// Cancel a queued or running job.
    Cancel(IdArgs),
    /// Put a cancelled or failed job back in the queue.
    Resume(IdArgs),
    /// Delete a finished job with its checkpoints and metrics.
    Delete(IdArgs),
    /// Save an artifact of a job (metrics.csv, weights.npy, weights.json, model.json).
    Download(DownloadArgs),
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// A submission body (`{"kind": …, "spec": …}`), or a bare spec with --kind.
    pub file: PathBuf,
    /// The job kind when the file holds a bare spec: mi, evolution or lif.
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
    /// A tag (repeat for several).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    #[arg(long)]
    pub notes: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    pub priority: Option<i64>,
    /// Sent as `Idempotency-Key`: resubmitting with the same key returns the first job.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Follow the job until it ends (as `fluxlab watch`); the exit code tells how it ended.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub conn: Connection,
}

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// queued, running, succeeded, failed or cancelled.
    #[arg(long)]
    pub status: Option<String>,
    /// mi, evolution or lif.
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long)]
    pub tag: Option<String>,
    /// Exact job name.
    #[arg(long)]
    pub name: Option<String>,
    /// Most jobs to show (1 to 500).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Print the server's JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub conn: Connection,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    pub id: String,
    #[command(flatten)]
    pub conn: Connection,
}

#[derive(Debug, Args)]
pub struct ResultArgs {
    pub id: String,
    /// Print the result document as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub conn: Connection,
}

#[derive(Debug, Args)]
pub struct DownloadArgs {
    pub id: String,
    /// The artifact's name, e.g. metrics.csv.
    pub artifact: String,
    /// Where to save it (default: the artifact's name; `-`: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Seconds (≤ 300) to wait for the job to end first.
    #[arg(long, default_value_t = 0.0)]
    pub wait: f64,
    #[command(flatten)]
    pub conn: Connection,
}

/// Runs a client command; returns the process exit code (errors are printed on stderr).
pub async fn run(command: ClientCommand) -> i32 {
    match dispatch(command).await {
        Ok(()) => 0,
        Err(failure) => {
            eprintln!("fluxlab: {}", failure.message());
            failure.exit_code()
        }
    }
}

fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// Job ids are UUIDs: anything else is a 404 without asking (and never a path to elsewhere).
fn job_path(id: &str) -> Outcome<String> {
    uuid::Uuid::parse_str(id)
        .map(|u| format!("/v1/jobs/{u}"))
        .map_err(|_| Failure::NotFound(format!("no job with id `{id}`")))
}

async fn dispatch(command: ClientCommand) -> Outcome<()> {
    match command {
        ClientCommand::Submit(a) => submit(a).await,
        ClientCommand::Jobs(a) => jobs(a).await,
        ClientCommand::Watch(a) => {
            let api = Api::new(&a.conn)?;
            watch(&api, &a.id).await
        }
        ClientCommand::Result(a) => result(a).await,
        ClientCommand::Cancel(a) => action(a, Method::POST, "/cancel").await,
        ClientCommand::Resume(a) => action(a, Method::POST, "/resume").await,
        ClientCommand::Delete(a) => action(a, Method::DELETE, "").await,
        ClientCommand::Download(a) => download(a).await,
    }
}

/// The submission body from the file and the flags.
fn submission(a: &SubmitArgs) -> Outcome<Value> {
    let text = if a.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(&a.file)
    }
    .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", a.file.display())))?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| Failure::Usage(format!("{} is not JSON: {e}", a.file.display())))?;
    let mut body = match (
        doc.get("kind").is_some() && doc.get("spec").is_some(),
        &a.kind,
    ) {
        (true, None) => doc,
        (true, Some(kind)) if doc["kind"] == kind.as_str() => doc,
        (true, Some(kind)) => {
            return Err(Failure::Usage(format!(
                "--kind {kind} contradicts the file's kind {}",
                doc["kind"]
            )));
        }
        (false, Some(kind)) => json!({"kind": kind, "spec": doc}),
        (false, None) => {
            return Err(Failure::Usage(
                "the file holds a bare spec: say which kind with --kind mi|evolution|lif".into(),
            ));
        }
    };
    if let Some(name) = &a.name {
        body["name"] = json!(name);
    }
    if !a.tags.is_empty() {
        body["tags"] = json!(a.tags);
    }
    if let Some(notes) = &a.notes {
        body["notes"] = json!(notes);
    }
    if let Some(p) = a.priority {
        body["priority"] = json!(p);
    }
    Ok(body)
}

async fn submit(a: SubmitArgs) -> Outcome<()> {
    let body = submission(&a)?;
    let api = Api::new(&a.conn)?;
    let mut request = api.request(Method::POST, "/v1/jobs").json(&body);
    if let Some(key) = &a.idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    let (status, job) = api.json(request).await?;
    let id = job["id"]
        .as_str()
        .ok_or_else(|| Failure::Server(format!("the server's answer has no job id: {job}")))?
        .to_string();
    print(&id);
    if status == StatusCode::OK {
        eprintln!("fluxlab: the job submitted earlier with this idempotency key");
    }
    if a.wait {
        return watch(&api, &id).await;
    }
    Ok(())
}

async fn jobs(a: JobsArgs) -> Outcome<()> {
    let api = Api::new(&a.conn)?;
    let mut query: Vec<(&str, String)> = vec![("limit", a.limit.to_string())];
    for (key, value) in [
        ("status", &a.status),
        ("kind", &a.kind),
        ("tag", &a.tag),
        ("name", &a.name),
    ] {
        if let Some(v) = value {
            query.push((key, v.clone()));
        }
    }
    let (_, list) = api
        .json(api.request(Method::GET, "/v1/jobs").query(&query))
        .await?;
    if a.json {
        print(&serde_json::to_string_pretty(&list).unwrap_or_default());
    } else {
        let jobs = list["jobs"].as_array().cloned().unwrap_or_default();
        print(&render::job_table(&jobs));
    }
    Ok(())
}

/// Follows the job to its end; prints the result summary (succeeded) or fails with how it
/// ended.
async fn watch(api: &Api, id: &str) -> Outcome<()> {
    let path = job_path(id)?;
    let view = watch::follow(api, id).await?;
    print(&format!(
        "job {id} {}",
        view["status"].as_str().unwrap_or("?")
    ));
    ended(api, &path, &view, false).await
}

/// The end of a job: its result printed when it succeeded, else a [`Failure::JobFailed`].
async fn ended(api: &Api, path: &str, view: &Value, as_json: bool) -> Outcome<()> {
    match view["status"].as_str() {
        Some("succeeded") => {
            let result = api.get(&format!("{path}/result")).await?;
            if as_json {
                print(&serde_json::to_string_pretty(&result).unwrap_or_default());
            } else {
                print(&render::result_summary(&result));
            }
            Ok(())
        }
        Some(status @ ("failed" | "cancelled")) => {
            let why = match view["error"]["message"].as_str() {
                Some(m) => format!(": {m}"),
                None => String::new(),
            };
            Err(Failure::JobFailed(format!("the job {status}{why}")))
        }
        other => Err(Failure::Usage(format!(
            "the job is {} and has no result yet; `fluxlab watch {}` follows it to its end",
            other.unwrap_or("?"),
            view["id"].as_str().unwrap_or("ID")
        ))),
    }
}

async fn result(a: ResultArgs) -> Outcome<()> {
    let api = Api::new(&a.conn)?;
    let path = job_path(&a.id)?;
    let view = api.get(&path).await?;
    ended(&api, &path, &view, a.json).await
}

async fn action(a: IdArgs, method: Method, suffix: &str) -> Outcome<()> {
    let api = Api::new(&a.conn)?;
    let path = job_path(&a.id)?;
    let (_, view) = api
        .json(api.request(method.clone(), &format!("{path}{suffix}")))
        .await?;
    if method == Method::DELETE {
        print(&format!("job {} deleted", a.id));
    } else {
        print(&format!(
            "job {} {}",
            a.id,
            view["status"].as_str().unwrap_or("?")
        ));
    }
    Ok(())
}

/// Saves an artifact: only a 200's body is written, to a temporary file renamed into place
/// when complete, so an error document or a cut transfer never lands as the file.
async fn download(a: DownloadArgs) -> Outcome<()> {
    use futures::StreamExt;
    if !(0.0..=300.0).contains(&a.wait) {
        return Err(Failure::Usage(
            "--wait must be between 0 and 300 seconds".into(),
        ));
    }
    if a.artifact.is_empty() || a.artifact.contains(['/', '\\']) || a.artifact.starts_with('.') {
        return Err(Failure::Usage(format!(
            "`{}` is not an artifact name",
            a.artifact
        )));
    }
    let api = Api::new(&a.conn)?;
    let path = format!("{}/artifacts/{}", job_path(&a.id)?, a.artifact);
    let mut request = api.request(Method::GET, &path);
    if a.wait > 0.0 {
        request = request.query(&[("wait", a.wait)]);
    }
    let response = checked(api.send(request).await?).await?;
    if response.status() != StatusCode::OK {
        let view: Value = response.json().await.unwrap_or(Value::Null);
        return Err(Failure::Usage(format!(
            "the job is {}: `{}` is not ready (try --wait SECONDS)",
            view["status"].as_str().unwrap_or("not finished"),
            a.artifact
        )));
    }
    let target = a.output.unwrap_or_else(|| PathBuf::from(&a.artifact));
    let mut stream = response.bytes_stream();
    if target.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Failure::Server(format!("transfer failed: {e}")))?;
            out.write_all(&chunk)
                .map_err(|e| Failure::Usage(format!("cannot write: {e}")))?;
        }
        return Ok(());
    }
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(&dir)
        .map_err(|e| Failure::Usage(format!("cannot write in {}: {e}", dir.display())))?;
    let mut bytes = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Failure::Server(format!("transfer failed: {e}")))?;
        bytes += chunk.len() as u64;
        file.write_all(&chunk)
            .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", target.display())))?;
    }
    file.persist(&target)
        .map_err(|e| Failure::Usage(format!("cannot save {}: {e}", target.display())))?;
    eprintln!("fluxlab: saved {} ({bytes} bytes)", target.display());
    Ok(())
}
