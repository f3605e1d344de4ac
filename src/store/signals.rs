//! Signals between processes sharing a PostgreSQL database: small NOTIFY payloads (job id,
//! what happened, a step range) on one dedicated LISTEN connection per process, reconnected
//! with back-off. Details are read from the tables by whoever acts on a signal; a missed
//! signal is never lost state (pollers of at most a second cover the gaps).

use std::time::Duration;

use serde::Deserialize;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use super::postgres::{CHANNEL, Postgres};

/// Signals buffered per receiver; one that lags misses some and re-reads the tables.
pub(super) const CAPACITY: usize = 1024;
/// Longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What another process did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// A job entered the queue (submitted, resumed, requeued): idle runners should claim.
    Queued,
    /// A cancel was asked for this running job.
    Cancel { job: String },
    /// The job's progress document changed.
    Progress { job: String },
    /// Metric rows `first..=last` of the job were written.
    Metrics { job: String, first: i64, last: i64 },
    /// The job's status changed to `status`.
    Status { job: String, status: String },
    /// The listening connection was (re)established: signals may have been missed meanwhile.
    Resync,
}

/// The wire form of a signal (kept short: NOTIFY payloads are limited to 8000 bytes).
#[derive(Deserialize)]
struct Payload {
    o: String,
    k: String,
    #[serde(default)]
    j: String,
    #[serde(default)]
    a: i64,
    #[serde(default)]
    b: i64,
    #[serde(default)]
    s: String,
}

/// Decodes a payload; `None` for this process's own signals and for anything malformed.
fn decode(payload: &str, own_origin: &str) -> Option<Signal> {
    let p: Payload = serde_json::from_str(payload).ok()?;
    if p.o == own_origin {
        return None;
    }
    Some(match p.k.as_str() {
        "queued" => Signal::Queued,
        "cancel" => Signal::Cancel { job: p.j },
        "progress" => Signal::Progress { job: p.j },
        "metrics" => Signal::Metrics {
            job: p.j,
            first: p.a,
            last: p.b,
        },
        "status" => Signal::Status {
            job: p.j,
            status: p.s,
        },
        _ => return None,
    })
}

/// Listens until the store is closed, forwarding decoded signals to `tx`.
pub(super) async fn listen(pg: Postgres, tx: broadcast::Sender<Signal>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        tokio::select! {
            _ = pg.closed.cancelled() => return,
            _ = listen_once(&pg, &tx) => {}
        }
        tracing::warn!(
            retry_in_ms = backoff.as_millis() as u64,
            "database signal connection lost; reconnecting"
        );
        tokio::select! {
            _ = pg.closed.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection's life: connect, LISTEN, forward until an error.
async fn listen_once(pg: &Postgres, tx: &broadcast::Sender<Signal>) {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(pg.connect.clone());
    let mut listener = match PgListener::connect_with(&pool).await {
        Ok(l) => l,
        Err(e) => {
            tracing::debug!(error = %e, "signal connection failed");
            return;
        }
    };
    if let Err(e) = listener.listen(CHANNEL).await {
        tracing::debug!(error = %e, "LISTEN failed");
        return;
    }
    let _ = tx.send(Signal::Resync);
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => {
                if let Some(signal) = decode(n.payload(), &pg.origin) {
                    let _ = tx.send(signal);
                }
            }
            // Lost and reconnected in place: some signals may have been missed.
            Ok(None) => {
                let _ = tx.send(Signal::Resync);
            }
            Err(e) => {
                tracing::debug!(error = %e, "signal connection error");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_and_malformed_payloads_are_dropped() {
        let other = r#"{"o":"b","k":"metrics","j":"x","a":3,"b":7}"#;
        assert_eq!(
            decode(other, "a"),
            Some(Signal::Metrics {
                job: "x".into(),
                first: 3,
                last: 7
            })
        );
        assert_eq!(decode(other, "b"), None);
        assert_eq!(decode("not json", "a"), None);
        assert_eq!(decode(r#"{"o":"b","k":"what"}"#, "a"), None);
    }
}
