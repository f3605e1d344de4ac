//! The `fluxlab` command: `serve` runs the server, `openapi` prints the API document, `user`
//! and `token` administer the database, and the client commands (`submit`, `watch`, …) talk
//! to a server.

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
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
                )
                .init();
            let listener = tokio::net::TcpListener::bind(&config.bind).await?;
            if let Err(e) = fluxlab::serve(config, listener, fluxlab::shutdown_signal()).await {
                // A plain message (no backtrace) for what is usually a setup problem.
                eprintln!("fluxlab: {e:#}");
                std::process::exit(1);
            }
            Ok(())
        }
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
