//! The claim / lease / fence protocol against a real SQLite file.

use serde_json::json;

use super::*;

async fn temp_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    (Store::connect(&url).await.unwrap(), dir)
}

fn job(id: &str, priority: i64, max_attempts: i64) -> NewJob {
    NewJob {
        id: id.into(),
        owner: "anonymous".into(),
        kind: "mi".into(),
        name: None,
        priority,
        max_attempts,
        spec: json!({}),
    }
}

#[tokio::test]
async fn claims_by_priority_then_age_and_only_once() {
    let (store, _dir) = temp_store().await;
    store.insert_job(&job("a", 0, 3)).await.unwrap();
    store.insert_job(&job("b", 5, 3)).await.unwrap();
    store.insert_job(&job("c", 0, 3)).await.unwrap();
    let lease = now_ms() + 10_000;
    let order: Vec<String> = [
        store.claim_job("w", lease).await.unwrap().unwrap().id,
        store.claim_job("w", lease).await.unwrap().unwrap().id,
        store.claim_job("w", lease).await.unwrap().unwrap().id,
    ]
    .into();
    assert_eq!(order, ["b", "a", "c"]);
    assert!(store.claim_job("w", lease).await.unwrap().is_none());
}

#[tokio::test]
async fn stale_fence_cannot_write() {
    let (store, _dir) = temp_store().await;
    store.insert_job(&job("a", 0, 3)).await.unwrap();
    let first = store.claim_job("w1", now_ms() - 1).await.unwrap().unwrap();
    assert_eq!((first.attempts, first.fence), (1, 1));
    // The lease expired: recovery requeues, another worker claims with a higher fence.
    assert_eq!(store.recover_expired(false, None).await.unwrap(), 1);
    let second = store
        .claim_job("w2", now_ms() + 10_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((second.attempts, second.fence), (2, 2));
    // The first worker is fenced out of every write.
    assert_eq!(
        store.heartbeat("a", 1, now_ms() + 10_000).await.unwrap(),
        None
    );
    assert!(
        !store
            .write_checkpoint("a", 1, 3, &json!({"x": 1}))
            .await
            .unwrap()
    );
    assert!(
        !store
            .write_metrics("a", 1, 0, &json!({"x": 1}))
            .await
            .unwrap()
    );
    assert!(
        !store
            .complete_job("a", 1, &json!({}), &json!({}))
            .await
            .unwrap()
    );
    assert!(!store.set_progress("a", 1, &json!({})).await.unwrap());
    // The current one is not.
    assert_eq!(
        store.heartbeat("a", 2, now_ms() + 10_000).await.unwrap(),
        Some(false)
    );
    assert!(
        store
            .write_checkpoint("a", 2, 3, &json!({"x": 2}))
            .await
            .unwrap()
    );
    assert!(
        store
            .complete_job("a", 2, &json!({"ok": true}), &json!({}))
            .await
            .unwrap()
    );
    let row = store.get_job("a").await.unwrap().unwrap();
    assert_eq!(row.status(), Status::Succeeded);
    assert_eq!(
        store.latest_checkpoint("a").await.unwrap().unwrap().data,
        json!({"x": 2})
    );
}

#[tokio::test]
async fn live_leases_are_not_recovered_but_startup_recovers_all() {
    let (store, _dir) = temp_store().await;
    store.insert_job(&job("a", 0, 3)).await.unwrap();
    store
        .claim_job("w", now_ms() + 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.recover_expired(false, None).await.unwrap(), 0);
    assert_eq!(store.recover_expired(true, None).await.unwrap(), 1);
    assert_eq!(
        store.get_job("a").await.unwrap().unwrap().status(),
        Status::Queued
    );
}

#[tokio::test]
async fn interruptions_use_up_attempts_then_fail_with_the_reason() {
    let (store, _dir) = temp_store().await;
    store.insert_job(&job("a", 0, 2)).await.unwrap();
    for _ in 0..2 {
        store.claim_job("w", now_ms() - 1).await.unwrap().unwrap();
        store.recover_expired(false, None).await.unwrap();
    }
    let row = store.get_job("a").await.unwrap().unwrap();
    assert_eq!(row.status(), Status::Failed);
    assert_eq!(row.error_code.as_deref(), Some("interrupted"));
    assert!(row.error_message.unwrap().contains("2 attempts"));
    assert!(row.finished_at.is_some());
}

#[tokio::test]
async fn failures_retry_until_max_attempts_and_keep_the_last_error() {
    let (store, _dir) = temp_store().await;
    store.insert_job(&job("a", 0, 2)).await.unwrap();
    let r = store
        .claim_job("w", now_ms() + 10_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .fail_job("a", r.fence, "internal", "first", false)
            .await
            .unwrap(),
        Some(Status::Queued)
    );
    let r = store
        .claim_job("w", now_ms() + 10_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .fail_job("a", r.fence, "internal", "second", false)
            .await
            .unwrap(),
        Some(Status::Failed)
    );
    let row = store.get_job("a").await.unwrap().unwrap();
    assert_eq!(row.error_message.as_deref(), Some("second"));
    // Permanent errors fail at once; resume gives fresh attempts.
    assert!(store.resume_job("a").await.unwrap());
    let r = store
        .claim_job("w", now_ms() + 10_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.attempts, 1);
    assert_eq!(
        store
            .fail_job("a", r.fence, "invalid", "bad", true)
            .await
            .unwrap(),
        Some(Status::Failed)
    );
}

#[tokio::test]
async fn graceful_requeue_does_not_use_an_attempt() {
    let (store, _dir) = temp_store().await;
    store.insert_job(&job("a", 0, 3)).await.unwrap();
    let r = store
        .claim_job("w", now_ms() + 10_000)
        .await
        .unwrap()
        .unwrap();
    assert!(store.requeue_interrupted("a", r.fence).await.unwrap());
    let row = store.get_job("a").await.unwrap().unwrap();
    assert_eq!(
        (row.status(), row.attempts, row.fence),
        (Status::Queued, 0, 1)
    );
}

#[tokio::test]
async fn checkpoints_are_pruned_and_metrics_upserted() {
    let (store, _dir) = temp_store().await;
    store.insert_job(&job("a", 0, 3)).await.unwrap();
    let r = store
        .claim_job("w", now_ms() + 10_000)
        .await
        .unwrap()
        .unwrap();
    for step in 0..5 {
        assert!(
            store
                .write_checkpoint("a", r.fence, step, &json!({"step": step}))
                .await
                .unwrap()
        );
    }
    let list = store.list_checkpoints("a").await.unwrap();
    assert_eq!(list.len() as i64, checkpoints::KEPT_CHECKPOINTS);
    assert_eq!(list.last().unwrap().seq, 5);
    store
        .write_metrics("a", r.fence, 0, &json!({"v": 1}))
        .await
        .unwrap();
    store
        .write_metrics("a", r.fence, 0, &json!({"v": 2}))
        .await
        .unwrap();
    assert_eq!(
        store.metrics_series("a").await.unwrap(),
        vec![(0, json!({"v": 2}))]
    );
    // Deleting is refused while running, then removes everything.
    assert!(!store.delete_job("a").await.unwrap());
    store
        .complete_job("a", r.fence, &json!({}), &json!({}))
        .await
        .unwrap();
    assert!(store.delete_job("a").await.unwrap());
    assert!(store.list_checkpoints("a").await.unwrap().is_empty());
    assert!(store.metrics_series("a").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_pending_cancel_survives_lease_loss_and_recovery_cancels_the_job() {
    let (store, _dir) = temp_store().await;
    store.insert_job(&job("a", 0, 3)).await.unwrap();
    let claimed = store.claim_job("w1", now_ms() - 1).await.unwrap().unwrap();
    store.request_cancel("a").await.unwrap();
    assert_eq!(
        store.cancel_requested("a", claimed.fence).await.unwrap(),
        Some(true)
    );
    // The holder died before it saw the flag: recovery must not requeue (and so forget) it.
    assert_eq!(store.recover_expired(false, None).await.unwrap(), 1);
    let row = store.get_job("a").await.unwrap().unwrap();
    assert_eq!(row.status(), Status::Cancelled);
    assert!(
        store
            .claim_job("w2", now_ms() + 10_000)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn recovery_leaves_the_jobs_of_the_live_process_alone() {
    let (store, _dir) = temp_store().await;
    store.insert_job(&job("a", 0, 3)).await.unwrap();
    let claimed = store.claim_job("me", now_ms() - 1).await.unwrap().unwrap();
    assert_eq!(store.recover_expired(false, Some("me")).await.unwrap(), 0);
    assert_eq!(
        store.cancel_requested("a", claimed.fence).await.unwrap(),
        Some(false)
    );
    assert_eq!(
        store.recover_expired(false, Some("other")).await.unwrap(),
        1
    );
    assert_eq!(
        store.cancel_requested("a", claimed.fence).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn metric_batches_are_fenced_and_upserted() {
    let (store, _dir) = temp_store().await;
    store.insert_job(&job("a", 0, 3)).await.unwrap();
    let claimed = store
        .claim_job("w", now_ms() + 10_000)
        .await
        .unwrap()
        .unwrap();
    let rows: Vec<(i64, serde_json::Value)> = (0..5).map(|s| (s, json!({"x": s}))).collect();
    assert!(
        store
            .write_metrics_batch("a", claimed.fence, &rows)
            .await
            .unwrap()
    );
    assert!(
        store
            .write_metrics_batch("a", claimed.fence, &rows[..2])
            .await
            .unwrap()
    );
    assert!(
        !store
            .write_metrics_batch("a", claimed.fence + 1, &rows)
            .await
            .unwrap()
    );
    assert_eq!(store.metrics_series("a").await.unwrap().len(), 5);
}
