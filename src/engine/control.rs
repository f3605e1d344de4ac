//! The small interface through which long engine computations report progress and learn that
//! they should stop, without knowing anything about jobs, HTTP or databases.

use std::sync::atomic::{AtomicBool, Ordering};

/// Implemented by whoever drives an engine computation (the job runner, a test, a benchmark).
pub trait Control: Sync {
    /// True once the computation should stop at its next safe point (cancel or shutdown).
    fn should_stop(&self) -> bool;
    /// Fraction in [0, 1] of the current unit of work, with a short human-readable message.
    fn progress(&self, fraction: f64, message: &str);
}

/// A control that never stops and ignores progress: for tests, benchmarks and one-off calls.
pub struct Unattended;

impl Control for Unattended {
    fn should_stop(&self) -> bool {
        false
    }
    fn progress(&self, _fraction: f64, _message: &str) {}
}

/// A control with a stop flag that can be raised from another thread (tests of cancellation).
#[derive(Default)]
pub struct StopFlag(pub AtomicBool);

impl Control for StopFlag {
    fn should_stop(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    fn progress(&self, _fraction: f64, _message: &str) {}
}

/// Returned by a computation that noticed [`Control::should_stop`] and gave up part-way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("computation stopped before it finished")]
pub struct Stopped;
