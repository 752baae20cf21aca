//! The audit log and exactly-once keys.

use chrono::Duration;
use futures_util::future::join_all;

use super::insert_new;
use crate::store::Store;
use crate::store::conformance::fixtures::{call, event, t0};

/// A second event with a call's dedupe key is ignored; the same key on another call is not;
/// events without a key are all kept; re-sending an event id is ignored.
pub async fn events_are_deduplicated(store: &dyn Store) {
    let a = insert_new(store, &call()).await;
    let b = insert_new(store, &call()).await;

    let first = event(&a.id, "status", t0()).dedupe("status:ringing");
    assert!(store.append_event(&first).await.expect("append"), "first event stored");
    let retry = event(&a.id, "status", t0() + Duration::seconds(1)).dedupe("status:ringing");
    assert!(!store.append_event(&retry).await.expect("append dup"), "duplicate refused without error");
    let other_call = event(&b.id, "status", t0()).dedupe("status:ringing");
    assert!(store.append_event(&other_call).await.expect("append"), "keys are per call");

    let plain1 = event(&a.id, "transcript", t0() + Duration::seconds(2));
    let plain2 = event(&a.id, "transcript", t0() + Duration::seconds(2));
    assert!(store.append_event(&plain1).await.expect("append"));
    assert!(store.append_event(&plain2).await.expect("append"), "events without a key are all kept");
    assert!(!store.append_event(&plain1).await.expect("append same id"), "a re-sent event id is ignored");

    let listed = store.list_events(&a.id, 100).await.expect("list");
    assert_eq!(listed, vec![first, plain1, plain2], "the duplicate was not written");
    assert_eq!(store.list_events(&b.id, 100).await.expect("list"), vec![other_call]);
}

/// Events come back oldest first (by time, then id), exactly as written, up to `limit`.
pub async fn events_are_listed_oldest_first(store: &dyn Store) {
    let c = insert_new(store, &call()).await;
    let late = event(&c.id, "conversation_ended", t0() + Duration::seconds(30));
    let early = event(&c.id, "created", t0());
    let middle = event(&c.id, "status", t0() + Duration::milliseconds(1500));
    // Same time: the id breaks the tie.
    let mut tie_a = event(&c.id, "amd", t0() + Duration::seconds(10));
    tie_a.id = "0195a3b1-0000-7000-8000-000000000001".into();
    let mut tie_b = event(&c.id, "recording", t0() + Duration::seconds(10));
    tie_b.id = "0195a3b1-0000-7000-8000-000000000002".into();
    for e in [&late, &tie_b, &early, &tie_a, &middle] {
        assert!(store.append_event(e).await.expect("append"));
    }
    let all = store.list_events(&c.id, 100).await.expect("list");
    assert_eq!(all, vec![early.clone(), middle.clone(), tie_a.clone(), tie_b, late]);
    assert_eq!(
        store.list_events(&c.id, 2).await.expect("list"),
        vec![early, middle],
        "limit keeps the oldest"
    );
    let other = insert_new(store, &call()).await;
    assert!(store.list_events(&other.id, 100).await.expect("list").is_empty());
}

/// `mark_once` answers true for a key's first use only.
pub async fn mark_once_is_true_once(store: &dyn Store) {
    assert!(store.mark_once("stream-token:abc").await.expect("mark"));
    assert!(!store.mark_once("stream-token:abc").await.expect("mark again"));
    assert!(!store.mark_once("stream-token:abc").await.expect("mark again"));
    assert!(store.mark_once("stream-token:abd").await.expect("another key"));
}

/// Racing callers of one key: exactly one wins.
pub async fn concurrent_mark_once_yields_one_true(store: &dyn Store) {
    let results = join_all((0..8).map(|_| store.mark_once("race"))).await;
    let wins = results.into_iter().map(|r| r.expect("mark_once")).filter(|w| *w).count();
    assert_eq!(wins, 1);
}
