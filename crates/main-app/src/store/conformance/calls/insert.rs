//! Inserting and reading calls: round trips, precision, idempotency keys, uniqueness.

use chrono::Duration;
use futures_util::future::join_all;

use super::insert_new;
use crate::calls::model::Call;
use crate::calls::store::Inserted;
use crate::store::conformance::fixtures::{call, full_call, t0};
use crate::store::{Store, truncate_ms};
use common::ids::{CallId, CallSid};

/// Every field survives a write and a read, by id and by CallSid; unknown ids read as `None`.
pub async fn round_trip_full_and_minimal(store: &dyn Store) {
    let full = full_call();
    assert_eq!(insert_new(store, &full).await, full, "insert returns the call as stored");
    assert_eq!(store.get_call(&full.id).await.expect("get"), Some(full.clone()));
    let sid = full.call_sid.clone().expect("full call has a sid");
    assert_eq!(store.get_call_by_sid(&sid).await.expect("get by sid"), Some(full.clone()));

    let minimal = call();
    assert_eq!(insert_new(store, &minimal).await, minimal);
    assert_eq!(store.get_call(&minimal.id).await.expect("get"), Some(minimal));

    assert_eq!(store.get_call(&CallId::new()).await.expect("get unknown"), None);
    assert_eq!(store.get_call_by_sid(&CallSid::random()).await.expect("get unknown sid"), None);
}

/// Sub-millisecond parts are dropped, consistently in the insert result and later reads.
pub async fn stored_times_are_truncated_to_milliseconds(store: &dyn Store) {
    let precise = t0() + Duration::nanoseconds(456_789);
    let mut c = full_call();
    c.created_at = precise;
    c.updated_at = precise;
    c.answered_at = Some(precise + Duration::nanoseconds(999_999));
    let stored = insert_new(store, &c).await;
    assert_eq!(stored.created_at, t0(), "created_at truncated to the millisecond");
    assert_eq!(stored.answered_at, Some(truncate_ms(precise + Duration::nanoseconds(999_999))));
    assert_eq!(stored.answered_at, Some(t0() + Duration::milliseconds(1)));
    let read = store.get_call(&c.id).await.expect("get").expect("stored");
    assert_eq!(read, stored);
}

/// A second call with an idempotency key already used is not stored; the first is returned.
pub async fn idempotency_key_returns_existing_call(store: &dyn Store) {
    let first = Call { idempotency_key: Some("order-42".into()), ..call() };
    insert_new(store, &first).await;

    let retry = Call { idempotency_key: Some("order-42".into()), name: Some("other".into()), ..call() };
    match store.insert_call(&retry).await.expect("insert retry") {
        Inserted::Existing(existing) => assert_eq!(existing, first),
        Inserted::New(_) => panic!("a reused idempotency key must not create a call"),
    }
    assert_eq!(store.get_call(&retry.id).await.expect("get"), None, "the retry wrote nothing");

    // Without a key, or with another key, every insert is new.
    insert_new(store, &call()).await;
    insert_new(store, &call()).await;
    insert_new(store, &Call { idempotency_key: Some("order-43".into()), ..call() }).await;
    let all = store.list_calls(&Default::default(), page(100)).await.expect("list");
    assert_eq!(all.total, 4);
}

/// Racing inserts with one key: exactly one is new, all others see that one.
pub async fn concurrent_inserts_with_one_key_yield_one_new(store: &dyn Store) {
    let calls: Vec<Call> =
        (0..8).map(|_| Call { idempotency_key: Some("race-key".into()), ..call() }).collect();
    let results = join_all(calls.iter().map(|c| store.insert_call(c))).await;
    let mut new_ids = Vec::new();
    let mut existing_ids = Vec::new();
    for r in results {
        match r.expect("every racing insert succeeds") {
            Inserted::New(c) => new_ids.push(c.id),
            Inserted::Existing(c) => existing_ids.push(c.id),
        }
    }
    assert_eq!(new_ids.len(), 1, "exactly one insert is new");
    assert_eq!(existing_ids.len(), 7);
    assert!(existing_ids.iter().all(|id| *id == new_ids[0]), "every other insert returns the winner");
    let all = store.list_calls(&Default::default(), page(100)).await.expect("list");
    assert_eq!(all.total, 1, "only one call is stored");
}

/// Reusing a call id or a CallSid is a caller bug: refused with an error, nothing overwritten.
pub async fn duplicate_id_or_call_sid_is_refused(store: &dyn Store) {
    let first = Call { call_sid: Some(CallSid::random()), ..call() };
    insert_new(store, &first).await;

    let same_id = Call { name: Some("impostor".into()), call_sid: None, ..first.clone() };
    assert!(store.insert_call(&same_id).await.is_err(), "a duplicate id is refused");

    let same_sid = Call { call_sid: first.call_sid.clone(), ..call() };
    assert!(store.insert_call(&same_sid).await.is_err(), "a duplicate CallSid is refused");

    assert_eq!(store.get_call(&first.id).await.expect("get"), Some(first));
    assert_eq!(store.get_call(&same_sid.id).await.expect("get"), None);
}

/// A page of `limit` from the start.
pub(crate) fn page(limit: u64) -> crate::calls::model::Page {
    crate::calls::model::Page { offset: 0, limit }
}
