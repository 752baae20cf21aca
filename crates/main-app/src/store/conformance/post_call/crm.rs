//! Conformance cases of [`CrmOutbox`](crate::crm::store::CrmOutbox).

use chrono::Duration;
use futures_util::future::join_all;
use serde_json::json;

use super::stored_call;
use crate::calls::model::Page;
use crate::crm::model::{Attempt, AttemptNext, Delivery, DeliveryKind, DeliveryStatus, LOG_LIMIT};
use crate::store::Store;
use crate::store::conformance::fixtures::t0;

fn attempt(n: i64, status_code: Option<u16>, error: Option<&str>) -> Attempt {
    Attempt { at: t0() + Duration::seconds(n), status_code, error: error.map(str::to_owned), duration_ms: 12 }
}

/// One delivery per call, even when enqueued concurrently; it round-trips exactly.
pub async fn one_delivery_per_call(store: &dyn Store) {
    let call = stored_call(store).await;
    let payload = json!({"type": "conversationAICall", "name": "Zoë", "nested": {"$x": [1, 2.5, null]}});
    let deliveries: Vec<Delivery> = (0..4).map(|_| Delivery::new(&call.id, payload.clone(), t0())).collect();
    let results = join_all(deliveries.iter().map(|d| store.enqueue_delivery(d))).await;
    let stored: Vec<bool> = results.into_iter().map(|r| r.expect("enqueue")).collect();
    assert_eq!(stored.iter().filter(|s| **s).count(), 1, "exactly one enqueued: {stored:?}");
    let winner = &deliveries[stored.iter().position(|s| *s).expect("one stored")];
    assert_eq!(store.get_delivery(&winner.id).await.expect("get"), Some(winner.clone()));
    assert_eq!(store.get_delivery("nope").await.expect("get"), None);
}

/// A due delivery is claimed by one owner at a time, until its lease expires.
pub async fn claims_are_exclusive_and_leased(store: &dyn Store) {
    let call = stored_call(store).await;
    let d = Delivery::new(&call.id, json!({}), t0());
    store.enqueue_delivery(&d).await.expect("enqueue");
    let later = stored_call(store).await;
    let not_due =
        Delivery { next_attempt_at: t0() + Duration::hours(1), ..Delivery::new(&later.id, json!({}), t0()) };
    store.enqueue_delivery(&not_due).await.expect("enqueue");

    let now = t0() + Duration::seconds(1);
    let lease = now + Duration::seconds(60);
    let claims =
        join_all((0..3).map(|i| store.claim_due_deliveries(now, if i == 0 { "a" } else { "b" }, lease, 10)))
            .await;
    let claimed: Vec<_> = claims.into_iter().flat_map(|c| c.expect("claim")).collect();
    assert_eq!(claimed.len(), 1, "one claim wins");
    assert_eq!(claimed[0].id, d.id);
    assert!(store.claim_due_deliveries(now, "c", lease, 10).await.expect("claim").is_empty(), "leased");
    let after = lease + Duration::seconds(1);
    let reclaimed =
        store.claim_due_deliveries(after, "c", after + Duration::seconds(60), 10).await.expect("claim");
    assert_eq!(
        reclaimed.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
        vec![d.id.clone()],
        "lease expired"
    );
}

/// Attempts are recorded only by the lease holder; retry, dead letter, delivered, the log cap,
/// the status filter and replay behave as documented.
pub async fn attempts_retries_dead_letter_and_replay(store: &dyn Store) {
    let call = stored_call(store).await;
    let d = Delivery::new(&call.id, json!({"n": 1}), t0());
    store.enqueue_delivery(&d).await.expect("enqueue");
    let mut now = t0();
    for n in 0..(LOG_LIMIT as i64 + 2) {
        now += Duration::seconds(10);
        let claimed =
            store.claim_due_deliveries(now, "w", now + Duration::seconds(30), 1).await.expect("claim");
        assert_eq!(claimed.len(), 1, "due again after attempt {n}");
        assert!(
            !store
                .complete_attempt(&d.id, "intruder", &attempt(n, None, Some("x")), AttemptNext::Dead)
                .await
                .expect("not held")
        );
        let next = AttemptNext::RetryAt(now + Duration::seconds(5));
        assert!(
            store
                .complete_attempt(&d.id, "w", &attempt(n, Some(503), Some("HTTP 503")), next)
                .await
                .expect("record")
        );
    }
    let retried = store.get_delivery(&d.id).await.expect("get").expect("exists");
    assert_eq!(retried.status, DeliveryStatus::Pending);
    assert_eq!(retried.attempts, LOG_LIMIT as u32 + 2);
    assert_eq!(retried.log.len(), LOG_LIMIT, "the log keeps the newest");
    assert_eq!(retried.log.last(), Some(&attempt(LOG_LIMIT as i64 + 1, Some(503), Some("HTTP 503"))));
    assert_eq!(retried.last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(retried.next_attempt_at, now + Duration::seconds(5));

    now += Duration::seconds(10);
    store.claim_due_deliveries(now, "w", now + Duration::seconds(30), 1).await.expect("claim");
    assert!(
        store
            .complete_attempt(&d.id, "w", &attempt(99, None, Some("down")), AttemptNext::Dead)
            .await
            .expect("dead")
    );
    let dead = store.get_delivery(&d.id).await.expect("get").expect("exists");
    assert_eq!(dead.status, DeliveryStatus::Dead);
    assert!(
        store
            .claim_due_deliveries(now + Duration::hours(1), "w", now + Duration::hours(2), 1)
            .await
            .expect("claim")
            .is_empty()
    );
    let page =
        store.list_deliveries(Some(DeliveryStatus::Dead), Page { offset: 0, limit: 10 }).await.expect("list");
    assert_eq!((page.total, page.items.len()), (1, 1));
    assert_eq!(
        store
            .list_deliveries(Some(DeliveryStatus::Pending), Page { offset: 0, limit: 10 })
            .await
            .expect("list")
            .total,
        0
    );

    let replayed = store.replay_delivery(&d.id, now).await.expect("replay").expect("exists");
    assert_eq!(
        (replayed.status, replayed.attempts, replayed.next_attempt_at),
        (DeliveryStatus::Pending, 0, now)
    );
    assert_eq!(replayed.log.len(), LOG_LIMIT, "the log is kept");
    let claimed = store.claim_due_deliveries(now, "w", now + Duration::seconds(30), 1).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    let leased = store.replay_delivery(&d.id, now).await.expect("replay").expect("exists");
    assert_eq!(leased.attempts, 0, "a leased delivery is left alone");
    assert!(
        store
            .complete_attempt(&d.id, "w", &attempt(100, Some(200), None), AttemptNext::Delivered)
            .await
            .expect("ok")
    );
    let delivered = store.get_delivery(&d.id).await.expect("get").expect("exists");
    assert_eq!((delivered.status, delivered.attempts), (DeliveryStatus::Delivered, 1));
    assert!(delivered.delivered_at.is_some());
    assert_eq!(store.replay_delivery("nope", now).await.expect("replay"), None);
}

/// The log lists newest first with a total.
pub async fn deliveries_list_newest_first(store: &dyn Store) {
    let mut ids = Vec::new();
    for n in 0..3 {
        let call = stored_call(store).await;
        let d = Delivery::new(&call.id, json!({ "n": n }), t0() + Duration::seconds(n));
        store.enqueue_delivery(&d).await.expect("enqueue");
        ids.push(d.id);
    }
    let page = store.list_deliveries(None, Page { offset: 0, limit: 2 }).await.expect("list");
    assert_eq!(page.total, 3);
    assert_eq!(
        page.items.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
        vec![ids[2].clone(), ids[1].clone()]
    );
}

/// Besides its final report a call may have one update per conversation (unique idempotency
/// key, even when enqueued concurrently); a call's deliveries list oldest first.
pub async fn updates_are_one_per_conversation(store: &dyn Store) {
    let call = stored_call(store).await;
    let other = stored_call(store).await;
    let final_report = Delivery::new(&call.id, json!({"event": "final"}), t0());
    assert!(store.enqueue_delivery(&final_report).await.expect("enqueue"));
    assert!(store.enqueue_delivery(&Delivery::new(&other.id, json!({}), t0())).await.expect("enqueue"));
    let updates: Vec<Delivery> = (0..3)
        .map(|_| {
            Delivery::update(&call.id, "conv_a", json!({"event": "update"}), t0() + Duration::seconds(1))
        })
        .collect();
    let results = join_all(updates.iter().map(|d| store.enqueue_delivery(d))).await;
    let stored: Vec<bool> = results.into_iter().map(|r| r.expect("enqueue")).collect();
    assert_eq!(stored.iter().filter(|s| **s).count(), 1, "one update per conversation: {stored:?}");
    let update = &updates[stored.iter().position(|s| *s).expect("one stored")];
    let second = Delivery::update(&call.id, "conv_b", json!({}), t0() + Duration::seconds(2));
    assert!(store.enqueue_delivery(&second).await.expect("enqueue"), "another conversation");
    assert!(
        !store.enqueue_delivery(&Delivery::new(&call.id, json!({}), t0())).await.expect("enqueue"),
        "still one final report"
    );

    let listed = store.call_deliveries(&call.id).await.expect("list");
    assert_eq!(listed, vec![final_report.clone(), update.clone(), second.clone()]);
    assert_eq!(
        listed.iter().map(|d| (d.kind, d.post_call_conversation.as_deref())).collect::<Vec<_>>(),
        vec![
            (DeliveryKind::Final, None),
            (DeliveryKind::Update, Some("conv_a")),
            (DeliveryKind::Update, Some("conv_b"))
        ]
    );
    assert_eq!(update.idempotency_key, format!("call-{}:update:conv_a", call.id));
    assert_eq!(store.call_deliveries(&other.id).await.expect("list").len(), 1);
}

/// A delivery no worker ever claimed can have its payload refreshed; once claimed (even if
/// its attempt failed and the lease was freed) it cannot.
pub async fn only_unclaimed_deliveries_are_refreshed(store: &dyn Store) {
    let call = stored_call(store).await;
    let d = Delivery::new(&call.id, json!({"summary": "template"}), t0());
    store.enqueue_delivery(&d).await.expect("enqueue");
    let now = t0() + Duration::seconds(1);
    let body = json!({"summary": "Ann agreed to a callback."});
    assert!(store.refresh_unsent_delivery(&d.id, &body, "conv_r", now).await.expect("refresh"));
    let refreshed = store.get_delivery(&d.id).await.expect("get").expect("exists");
    assert_eq!(
        (refreshed.payload.clone(), refreshed.post_call_conversation.as_deref(), refreshed.updated_at),
        (body.clone(), Some("conv_r"), now)
    );
    assert_eq!(
        (refreshed.status, refreshed.attempts, refreshed.idempotency_key),
        (d.status, 0, d.idempotency_key)
    );
    assert!(store.refresh_unsent_delivery(&d.id, &body, "conv_r", now).await.expect("refresh"), "repeatable");

    store.claim_due_deliveries(now, "w", now + Duration::seconds(30), 1).await.expect("claim");
    assert!(
        !store.refresh_unsent_delivery(&d.id, &json!({}), "conv_x", now).await.expect("refresh"),
        "leased"
    );
    let next = AttemptNext::RetryAt(now + Duration::seconds(5));
    store.complete_attempt(&d.id, "w", &attempt(1, Some(503), Some("HTTP 503")), next).await.expect("record");
    assert!(
        !store.refresh_unsent_delivery(&d.id, &json!({}), "conv_x", now).await.expect("refresh"),
        "attempted"
    );
    let kept = store.get_delivery(&d.id).await.expect("get").expect("exists");
    assert_eq!((kept.payload, kept.post_call_conversation.as_deref()), (body, Some("conv_r")));
    assert!(!store.refresh_unsent_delivery("nope", &json!({}), "conv_x", now).await.expect("refresh"));
}

/// The lease holder can postpone a delivery without counting an attempt; nobody else can.
pub async fn postponing_frees_the_lease_and_counts_nothing(store: &dyn Store) {
    let call = stored_call(store).await;
    let d = Delivery::update(&call.id, "conv_p", json!({}), t0());
    store.enqueue_delivery(&d).await.expect("enqueue");
    let now = t0() + Duration::seconds(1);
    store.claim_due_deliveries(now, "w", now + Duration::seconds(60), 1).await.expect("claim");
    let until = now + Duration::seconds(10);
    assert!(!store.postpone_delivery(&d.id, "intruder", until).await.expect("postpone"), "not its lease");
    assert!(store.postpone_delivery(&d.id, "w", until).await.expect("postpone"));
    let later = store.get_delivery(&d.id).await.expect("get").expect("exists");
    assert_eq!(
        (later.status, later.attempts, later.next_attempt_at, later.log.len()),
        (DeliveryStatus::Pending, 0, until, 0)
    );
    let before = until - Duration::seconds(1);
    assert!(
        store
            .claim_due_deliveries(before, "x", before + Duration::seconds(60), 1)
            .await
            .expect("claim")
            .is_empty()
    );
    assert_eq!(
        store.claim_due_deliveries(until, "x", until + Duration::seconds(60), 1).await.expect("claim").len(),
        1,
        "lease freed"
    );
    assert!(!store.postpone_delivery(&d.id, "w", until).await.expect("postpone"), "lost its lease");
}
