//! Pure, deterministic mathematics: no tokio, sqlx or axum. Everything here is driven by explicit
//! seeds and reports progress / checks for cancellation through [`control::Control`].

pub mod control;
pub mod evolve;
pub mod flux;
pub mod lif;
pub mod rng;
pub(crate) mod vector_state;
