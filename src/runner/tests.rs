//! Runner behaviour with stand-in executors: panics fail the job with their message and the
//! runner keeps serving; failures retry up to `max_attempts`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::jobs::JobOutcome;
use crate::store::{NewJob, Status};

/// Panics when the spec says so, fails when it says so, else finishes with the spec as result.
fn scripted(
    _: JobKind,
    spec: &Value,
    _: &Limits,
    _: Option<Value>,
    ctx: &dyn JobContext,
) -> Result<JobOutcome, JobError> {
    ctx.metrics(0, json!({"seen": true}));
    if spec["panic"] == true {
        panic!("boom at step 3");
    }
    if spec["fail"] == true {
        return Err(JobError::Internal("disk on fire".into()));
    }
    Ok(JobOutcome::Finished(spec.clone()))
}

async fn start(executor: Executor) -> (Store, Runner, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let runner = Runner::start(
        store.clone(),
        Arc::new(EventHub::default()),
        Arc::new(Observability::default()),
        RunnerConfig {
            max_jobs: 2,
            threads: 2,
            lease: Duration::from_secs(5),
            progress_interval: Duration::from_millis(100),
            limits: Limits::default(),
            executor,
            default_max_running: i64::MAX,
        },
        None,
    )
    .await
    .unwrap();
    (store, runner, dir)
}

async fn submit(store: &Store, runner: &Runner, id: &str, spec: Value, max_attempts: i64) {
    store
        .insert_job(&NewJob {
            id: id.into(),
            owner: "anonymous".into(),
            kind: "mi".into(),
            name: None,
            priority: 0,
            max_attempts,
            spec,
        })
        .await
        .unwrap();
    runner.wake();
}

async fn wait_terminal(store: &Store, id: &str) -> crate::store::JobRow {
    for _ in 0..400 {
        let row = store.get_job(id).await.unwrap().unwrap();
        if row.status().is_terminal() {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {id} did not finish");
}

#[tokio::test]
async fn a_panicking_job_fails_with_its_message_and_the_runner_lives_on() {
    let (store, runner, _dir) = start(scripted).await;
    submit(&store, &runner, "p", json!({"panic": true}), 2).await;
    let row = wait_terminal(&store, "p").await;
    assert_eq!(row.status(), Status::Failed);
    assert_eq!(row.attempts, 2, "retried up to max_attempts");
    assert_eq!(row.error_code.as_deref(), Some("panic"));
    assert!(row.error_message.unwrap().contains("boom at step 3"));
    submit(&store, &runner, "ok", json!({"value": 7}), 1).await;
    let row = wait_terminal(&store, "ok").await;
    assert_eq!(row.status(), Status::Succeeded);
    assert_eq!(
        serde_json::from_str::<Value>(&row.result.unwrap()).unwrap(),
        json!({"value": 7})
    );
    assert_eq!(store.metrics_series("ok").await.unwrap()[0].1["seen"], true);
    assert_eq!(runner.running_count(), 0);
}

#[tokio::test]
async fn an_erroring_job_retries_then_fails_with_the_last_error() {
    let (store, runner, _dir) = start(scripted).await;
    submit(&store, &runner, "f", json!({"fail": true}), 3).await;
    let row = wait_terminal(&store, "f").await;
    assert_eq!((row.status(), row.attempts), (Status::Failed, 3));
    assert_eq!(row.error_message.as_deref(), Some("disk on fire"));
}
