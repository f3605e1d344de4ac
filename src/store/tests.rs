//! The claim / lease / fence protocol, against a real SQLite file and a real PostgreSQL
//! database (a fresh one per test on the server `FLUXLAB_TEST_POSTGRES` names; `./scripts/test`
//! starts a throwaway cluster when none is given). Every test runs on both backends.

use serde_json::json;

use super::*;

/// A store on a fresh database of the backend under test; the guard keeps a SQLite file alive.
pub(crate) async fn fresh_store(postgres: bool) -> (Store, Option<tempfile::TempDir>) {
    if postgres {
        let url = fresh_postgres_database().await;
        (Store::connect(&url).await.unwrap(), None)
    } else {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        (Store::connect(&url).await.unwrap(), Some(dir))
    }
}

/// Creates an empty database on the test server and returns its URL.
pub(crate) async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let base = std::env::var("FLUXLAB_TEST_POSTGRES").expect(
        "FLUXLAB_TEST_POSTGRES is not set: run ./scripts/test (it starts a throwaway PostgreSQL) \
         or point it at a server where this user may CREATE DATABASE",
    );
    let name = format!("fluxlab_t_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let _ = admin.close().await;
    let (without_query, query) = base.split_once('?').unwrap_or((&base, ""));
    let (server, _) = without_query.rsplit_once('/').unwrap();
    if query.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{query}")
    }
}

/// Runs each listed test (an `async fn(Store)`) once per backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite_backend {
            $(#[tokio::test]
            async fn $name() {
                let (store, _dir) = super::fresh_store(false).await;
                super::$name(store).await;
            })*
        }
        mod postgres_backend {
            $(#[tokio::test]
            async fn $name() {
                let (store, _dir) = super::fresh_store(true).await;
                super::$name(store).await;
            })*
        }
    };
}

on_both_backends!(
    claims_by_priority_then_age_and_only_once,
    stale_fence_cannot_write,
    live_leases_are_not_recovered_but_recovery_of_all_requeues,
    interruptions_use_up_attempts_then_fail_with_the_reason,
    failures_retry_until_max_attempts_and_keep_the_last_error,
    graceful_requeue_does_not_use_an_attempt,
    checkpoints_are_pruned_and_metrics_upserted,
    a_pending_cancel_survives_lease_loss_and_recovery_cancels_the_job,
    recovery_leaves_the_jobs_of_the_live_process_alone,
    metric_batches_are_fenced_and_upserted,
    users_tokens_usage_and_audit_round_trip,
    datasets_round_trip_and_in_use_ones_are_kept,
    workers_register_beat_and_stop,
    concurrent_claims_never_take_one_job_twice,
);

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

async fn claims_by_priority_then_age_and_only_once(store: Store) {
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

async fn stale_fence_cannot_write(store: Store) {
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

async fn live_leases_are_not_recovered_but_recovery_of_all_requeues(store: Store) {
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

async fn interruptions_use_up_attempts_then_fail_with_the_reason(store: Store) {
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

async fn failures_retry_until_max_attempts_and_keep_the_last_error(store: Store) {
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

async fn graceful_requeue_does_not_use_an_attempt(store: Store) {
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

async fn checkpoints_are_pruned_and_metrics_upserted(store: Store) {
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
    assert_eq!(list.len() as i64, StoreOptions::default().keep_checkpoints);
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

async fn a_pending_cancel_survives_lease_loss_and_recovery_cancels_the_job(store: Store) {
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

async fn recovery_leaves_the_jobs_of_the_live_process_alone(store: Store) {
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

async fn metric_batches_are_fenced_and_upserted(store: Store) {
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

async fn users_tokens_usage_and_audit_round_trip(store: Store) {
    assert!(!store.has_users().await.unwrap());
    assert!(store.add_user("ada", true).await.unwrap());
    assert!(!store.add_user("ada", false).await.unwrap());
    assert!(store.add_user("bob", false).await.unwrap());
    assert!(store.has_users().await.unwrap());
    let ada = store.get_user("ada").await.unwrap().unwrap();
    assert_eq!((ada.admin, ada.max_running), (1, None));
    let change = QuotaChange {
        max_running: Some(Some(2)),
        ..QuotaChange::default()
    };
    assert!(store.set_quotas("bob", &change).await.unwrap());
    assert_eq!(
        store.get_user("bob").await.unwrap().unwrap().max_running,
        Some(2)
    );
    store
        .add_token("t1", "bob", Some("laptop"), "digest-1", None)
        .await
        .unwrap();
    store
        .add_token("t2", "bob", None, "digest-2", Some(now_ms() - 1))
        .await
        .unwrap();
    let owner = store.token_owner("digest-1").await.unwrap().unwrap();
    assert_eq!((owner.user.name.as_str(), owner.user.admin), ("bob", 0));
    assert!(
        store.token_owner("digest-2").await.unwrap().is_none(),
        "expired"
    );
    store.touch_token("t1").await.unwrap();
    assert!(
        store
            .get_token("t1")
            .await
            .unwrap()
            .unwrap()
            .last_used_at
            .is_some()
    );
    assert_eq!(store.list_tokens(Some("bob")).await.unwrap().len(), 2);
    assert_eq!(store.list_tokens(Some("ada")).await.unwrap().len(), 0);
    assert!(store.revoke_token("t1").await.unwrap());
    assert!(!store.revoke_token("t1").await.unwrap());
    assert!(store.token_owner("digest-1").await.unwrap().is_none());

    let mut bobs = job("j1", 0, 3);
    bobs.owner = "bob".into();
    store.insert_job(&bobs).await.unwrap();
    bobs.id = "j2".into();
    store.insert_job(&bobs).await.unwrap();
    store
        .claim_job("w", now_ms() + 10_000)
        .await
        .unwrap()
        .unwrap();
    store.add_slot_time("j1", 1500).await.unwrap();
    let usage = store.usage("bob").await.unwrap();
    assert_eq!((usage.running, usage.queued, usage.slot_ms), (1, 1, 1500));
    let by_owner = store.usage_by_owner().await.unwrap();
    assert_eq!(by_owner.len(), 1);
    assert_eq!(by_owner[0].1.running, 1);

    store
        .audit("ada", "user.add", Some("bob"), Some("127.0.0.1"))
        .await
        .unwrap();
    store
        .audit("ada", "token.revoke", None, None)
        .await
        .unwrap();
    let log = store.audit_log(10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].action, "token.revoke", "newest first");
    assert!(store.remove_user("bob").await.unwrap());
    assert!(store.list_tokens(Some("bob")).await.unwrap().is_empty());
}

async fn datasets_round_trip_and_in_use_ones_are_kept(store: Store) {
    let data = NewDataset {
        id: "d1".into(),
        owner: "anonymous".into(),
        name: "digits".into(),
        count: 2,
        features: 4,
        classes: 2,
        shape: vec![2, 2],
        images: vec![0, 1, 2, 255],
        labels: vec![0, 1],
    };
    let row = store.insert_dataset(&data).await.unwrap();
    assert_eq!((row.bytes, row.shape.clone()), (6, vec![2, 2]));
    assert_eq!(store.list_datasets().await.unwrap().len(), 1);
    let (name, images, labels) = store.dataset_files("d1").await.unwrap().unwrap();
    assert_eq!(
        (name.as_str(), images, labels),
        ("digits", vec![0, 1, 2, 255], vec![0, 1])
    );
    let mut trainer = job("lif1", 0, 3);
    trainer.kind = "lif".into();
    trainer.spec = json!({"dataset": {"id": "d1"}});
    store.insert_job(&trainer).await.unwrap();
    assert_eq!(
        store.delete_dataset("d1").await.unwrap(),
        DatasetDelete::InUse(vec!["lif1".into()])
    );
    store.request_cancel("lif1").await.unwrap();
    assert_eq!(
        store.delete_dataset("d1").await.unwrap(),
        DatasetDelete::Deleted
    );
    assert_eq!(
        store.delete_dataset("d1").await.unwrap(),
        DatasetDelete::NotFound
    );
}

async fn workers_register_beat_and_stop(store: Store) {
    let me = NewWorker {
        id: "w1".into(),
        name: "box".into(),
        host: "box.lab".into(),
        pid: 42,
        version: "1.0".into(),
        threads: 4,
        max_jobs: 2,
    };
    store.register_worker(&me).await.unwrap();
    store.worker_heartbeat("w1", 2).await.unwrap();
    let listed = store.list_workers(now_ms() - 60_000).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].jobs_held, listed[0].stopped_at), (2, None));
    store.worker_stopped("w1").await.unwrap();
    let listed = store.list_workers(now_ms() - 60_000).await.unwrap();
    assert!(listed[0].stopped_at.is_some());
    assert_eq!(listed[0].jobs_held, 0);
    assert!(
        store
            .list_workers(now_ms() + 60_000)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Eight claimers race over 60 jobs: every job is claimed exactly once, with fence 1.
async fn concurrent_claims_never_take_one_job_twice(store: Store) {
    for i in 0..60 {
        store
            .insert_job(&job(&format!("j{i:02}"), 0, 3))
            .await
            .unwrap();
    }
    let mut claimers = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        claimers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(row) = store
                .claim_job(&format!("w{w}"), now_ms() + 60_000)
                .await
                .unwrap()
            {
                assert_eq!((row.attempts, row.fence), (1, 1));
                mine.push(row.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for c in claimers {
        all.extend(c.await.unwrap());
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!((before, all.len()), (60, 60));
}

/// PostgreSQL only: a change made through one store reaches another store's signals, and a
/// store never hears its own.
#[tokio::test]
async fn signals_cross_processes_on_postgres() {
    let url = fresh_postgres_database().await;
    let api = Store::connect(&url).await.unwrap();
    let worker = Store::connect(&url).await.unwrap();
    let mut heard_by_worker = worker.signals();
    let mut heard_by_api = api.signals();
    let next = |rx: &mut tokio::sync::broadcast::Receiver<Signal>| {
        let mut rx = rx.resubscribe();
        async move {
            loop {
                let s = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
                    .await
                    .expect("a signal within 5 s")
                    .unwrap();
                if s != Signal::Resync {
                    return s;
                }
            }
        }
    };
    // Wait until both listeners are connected (each announces itself with a Resync).
    for rx in [&mut heard_by_worker, &mut heard_by_api] {
        let first = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first, Signal::Resync);
    }
    let waiting = next(&mut heard_by_worker);
    api.insert_job(&job("a", 0, 3)).await.unwrap();
    assert_eq!(waiting.await, Signal::Queued);
    let waiting = next(&mut heard_by_api);
    let claimed = worker
        .claim_job("w", now_ms() + 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        waiting.await,
        Signal::Status {
            job: "a".into(),
            status: "running".into()
        }
    );
    let waiting = next(&mut heard_by_api);
    let rows = vec![(3, json!({"x": 1})), (4, json!({"x": 2}))];
    worker
        .write_metrics_batch("a", claimed.fence, &rows)
        .await
        .unwrap();
    assert_eq!(
        waiting.await,
        Signal::Metrics {
            job: "a".into(),
            first: 3,
            last: 4
        }
    );
    let waiting = next(&mut heard_by_worker);
    api.request_cancel("a").await.unwrap();
    assert_eq!(waiting.await, Signal::Cancel { job: "a".into() });
    // The API's own cancel never came back to it: the next thing it hears is the worker's.
    let waiting = next(&mut heard_by_api);
    worker.mark_cancelled("a", claimed.fence).await.unwrap();
    assert_eq!(
        waiting.await,
        Signal::Status {
            job: "a".into(),
            status: "cancelled".into()
        }
    );
}
