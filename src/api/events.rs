//! `GET /v1/jobs/{id}/events`: Server-Sent Events — a `snapshot` first, then `progress`,
//! `metrics` and `status` as they happen, and a final `done` with the job view.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::AppState;
use super::error::ApiResult;
use super::jobs::load;
use super::views::JobView;

/// How often the stream re-reads the job's status as a fallback for events it cannot hear.
const POLL: Duration = Duration::from_secs(2);
/// How long a stream waits at shutdown for running jobs to be parked before its last `done`.
const SHUTDOWN_DONE_WAIT: Duration = Duration::from_secs(30);

fn event(name: &str, data: &impl serde::Serialize) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event(name))
}

/// Live events of one job.
#[utoipa::path(get, path = "/v1/jobs/{id}/events", tag = "jobs",
    responses((status = 200, description = "text/event-stream: snapshot, progress, metrics, status, done"),
              (status = 404, body = super::error::Problem)))]
pub async fn events(
    State(state): State<AppState>,
    who: super::auth::Principal,
    Path(id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // Look the job up first: a hub entry made for an unknown id would never be released.
    load(&state, &who, &id).await?;
    let live = state.hub.subscribe(&id);
    // Read again after subscribing, so nothing that happened in between is missed.
    let row = match load(&state, &who, &id).await {
        Ok(row) => row,
        Err(e) => {
            drop(live);
            state.hub.release(&id);
            return Err(e);
        }
    };
    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(64);
    tokio::spawn(async move {
        forward(&state, &who, &id, row, live, &tx).await;
        state.hub.release(&id);
    });
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()))
}

/// Sends the snapshot, then live events until `done`, the client leaving or shutdown. At
/// shutdown the stream still ends with `done`: the job view once running jobs are back in the
/// queue (status `queued`), so a client knows to reconnect to the next server.
async fn forward(
    state: &AppState,
    who: &super::auth::Principal,
    id: &str,
    row: crate::store::JobRow,
    mut live: tokio::sync::broadcast::Receiver<crate::runner::JobEvent>,
    tx: &mpsc::Sender<Result<Event, Infallible>>,
) {
    let snapshot = JobView::from(&row);
    if tx.send(Ok(event("snapshot", &snapshot))).await.is_err() {
        return;
    }
    if row.status().is_terminal() {
        let _ = tx.send(Ok(event("done", &snapshot))).await;
        return;
    }
    let mut poll = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => {
                let _ = tokio::time::timeout(SHUTDOWN_DONE_WAIT, state.parked.cancelled()).await;
                break;
            }
            _ = tx.closed() => return,
            received = live.recv() => match received {
                Ok(ev) if ev.name == "done" => break,
                Ok(ev) => {
                    if tx.send(Ok(event(ev.name, &ev.data))).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
            _ = poll.tick() => {
                if let Ok(Some(row)) = state.store.get_job_summary(id).await
                    && row.status().is_terminal()
                {
                    break;
                }
            }
        }
    }
    if let Ok(row) = load(state, who, id).await {
        let _ = tx.send(Ok(event("done", &JobView::from(&row)))).await;
    }
}
