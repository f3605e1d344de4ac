//! fluxlab: an HTTP job server for information-flux and spiking-network experiments.
//! See `DESIGN.md` for the layering: `engine` (pure maths), `jobs` (spec → engine → result),
//! `store` (SQL), `runner` (tokio ↔ rayon), `api` (HTTP), `plots` (SVG rendering).

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod engine;
pub mod jobs;
pub mod listen;
pub mod observe;
pub mod plots;
pub mod runner;
pub mod store;
pub mod worker;

pub use app::{serve, shutdown_signal};
pub use config::{ServeConfig, WorkerConfig};
