//! Live job events fanned out to Server-Sent-Events subscribers and `?wait=` callers.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::broadcast;

/// Capacity of each job's channel; a subscriber that lags simply misses intermediate progress.
const CHANNEL_CAPACITY: usize = 256;

/// One event: `progress`, `metrics`, `status` or `done`, with its JSON payload.
#[derive(Debug, Clone)]
pub struct JobEvent {
    pub name: &'static str,
    pub data: Value,
}

/// Per-job broadcast channels, created on first use and dropped when the job is done.
#[derive(Default)]
pub struct EventHub {
    /// Job id → sender; an entry lives while the job runs or someone listens.
    channels: Mutex<HashMap<String, broadcast::Sender<JobEvent>>>,
}

impl EventHub {
    pub fn subscribe(&self, job_id: &str) -> broadcast::Receiver<JobEvent> {
        let mut map = self.channels.lock().expect("hub lock");
        map.entry(job_id.to_string())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// True when someone listens to this job's events (relaying a remote job costs reads).
    pub fn is_watched(&self, job_id: &str) -> bool {
        let map = self.channels.lock().expect("hub lock");
        map.get(job_id).is_some_and(|tx| tx.receiver_count() > 0)
    }

    /// Sends to current subscribers (none is fine).
    pub fn publish(&self, job_id: &str, name: &'static str, data: Value) {
        let map = self.channels.lock().expect("hub lock");
        if let Some(tx) = map.get(job_id) {
            let _ = tx.send(JobEvent { name, data });
        }
    }

    /// Forgets a job's channel once nobody listens (a subscriber that leaves before `done`).
    pub fn release(&self, job_id: &str) {
        let mut map = self.channels.lock().expect("hub lock");
        if map.get(job_id).is_some_and(|tx| tx.receiver_count() == 0) {
            map.remove(job_id);
        }
    }

    /// Publishes `done` and forgets the channel (subscribers see it closed after the event).
    pub fn finish(&self, job_id: &str, data: Value) {
        let mut map = self.channels.lock().expect("hub lock");
        if let Some(tx) = map.remove(job_id) {
            let _ = tx.send(JobEvent { name: "done", data });
        }
    }
}
