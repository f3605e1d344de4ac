//! The lease keeper of one running job: renews the lease for as long as this process holds the
//! job (computing, draining its last rows, recording its end), and polls the cancel flag once a
//! second so that a cancel asked for anywhere takes effect within a second.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::context::StopFlags;
use crate::store::{Store, now_ms};

/// How often the cancel flag is read between heartbeats.
const CANCEL_POLL: Duration = Duration::from_secs(1);

/// What the keeper needs to know about the job it keeps.
pub(crate) struct Held {
    pub store: Store,
    pub id: String,
    pub fence: i64,
    pub lease: Duration,
    pub flags: Arc<StopFlags>,
}

/// Runs until `done` is cancelled. A failed write (database down, disk full) is logged and
/// retried at the next tick; the job keeps computing meanwhile. A lost lease (another attempt
/// holds the job now) stops the run.
pub(crate) async fn keep_lease(held: Held, done: CancellationToken) {
    let renew_every = held.lease / 3;
    let mut tick = tokio::time::interval(CANCEL_POLL.min(renew_every));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut renewed = Instant::now();
    loop {
        tokio::select! {
            _ = done.cancelled() => return,
            _ = tick.tick() => {}
        }
        let state = if renewed.elapsed() >= renew_every {
            let until = now_ms() + held.lease.as_millis() as i64;
            let answer = held.store.heartbeat(&held.id, held.fence, until).await;
            if answer.is_ok() {
                renewed = Instant::now();
            }
            answer
        } else {
            held.store.cancel_requested(&held.id, held.fence).await
        };
        match state {
            Ok(Some(true)) => held.flags.cancel.store(true, Ordering::Relaxed),
            Ok(Some(false)) => {}
            Ok(None) if held.flags.ending.load(Ordering::Relaxed) => return,
            Ok(None) => {
                tracing::warn!(job = %held.id, fence = held.fence, "lease lost; stopping this run");
                held.flags.lease_lost.store(true, Ordering::Relaxed);
                return;
            }
            Err(e) => tracing::warn!(job = %held.id, error = %e, "lease renewal failed; retrying"),
        }
    }
}
