//! The `fluxlab` command: `serve` runs the server, `worker` runs jobs from a shared PostgreSQL
//! database, `openapi` prints the API document, `user` and `token` administer the database,
//! and the client commands (`submit`, `watch`, …) talk to a server.

use std::io::Write;

use clap::{Parser, Subcommand};
use utoipa::OpenApi;

#[derive(Parser)]
#[command(
    name = "fluxlab",
    version,
    about = "Job server for information-flux and spiking-network experiments"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server and its workers.
    Serve(fluxlab::ServeConfig),
    /// Run jobs from a shared PostgreSQL database, without the public API.
    Worker(fluxlab::WorkerConfig),
    /// Print the OpenAPI document (or, with --markdown, `docs/api.md`).
    Openapi {
        /// Print the API contract as Markdown (`fluxlab openapi --markdown > docs/api.md`).
        #[arg(long)]
        markdown: bool,
    },
    /// Manage users: add, list, remove, set quotas.
    #[command(subcommand)]
    User(fluxlab::cli::UserCommand),
    /// Manage API tokens: create (printed once), list, revoke.
    #[command(subcommand)]
    Token(fluxlab::cli::TokenCommand),
    /// The terminal client: submit, jobs, watch, result, cancel, resume, delete, download.
    #[command(flatten)]
    Client(fluxlab::client::ClientCommand),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Openapi { markdown } => {
            let mut doc = fluxlab::api::ApiDoc::openapi().to_pretty_json()?;
            if markdown {
                doc = fluxlab::api::docs::markdown(&serde_json::from_str(&doc)?);
            }
            let mut out = std::io::stdout().lock();
            // A closed pipe (`fluxlab openapi | head`) is not an error worth a panic.
            match writeln!(out, "{doc}") {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(()),
            }
        }
        Command::User(command) => report(fluxlab::cli::user(command).await),
        Command::Token(command) => report(fluxlab::cli::token(command).await),
        Command::Client(command) => std::process::exit(fluxlab::client::run(command).await),
        Command::Serve(config) => {
            init_logging();
            let listener = tokio::net::TcpListener::bind(&config.bind).await?;
            fail_plainly(fluxlab::serve(config, listener, fluxlab::shutdown_signal()).await);
            Ok(())
        }
        Command::Worker(config) => {
            init_logging();
            fail_plainly(fluxlab::worker::work(config, fluxlab::shutdown_signal()).await);
            Ok(())
        }
    }
}

fn init_logging() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .init();
}

/// A setup problem ends the process with a plain message (no backtrace) and status 1.
fn fail_plainly(outcome: anyhow::Result<()>) {
    if let Err(e) = outcome {
        eprintln!("fluxlab: {e:#}");
        std::process::exit(1);
    }
}

/// Prints a command's output, or its error without a backtrace and exits with status 1.
fn report(outcome: anyhow::Result<String>) -> anyhow::Result<()> {
    match outcome {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{text}") {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(()),
            }
        }
        Err(e) => {
            eprintln!("fluxlab: {e:#}");
            std::process::exit(1);
        }
    }
}
