//! Conformance cases for [`crate::stats::store::StatsStore`].

use chrono::Duration;

use super::fixtures::{call_at, t0};
use crate::calls::model::{SetOnce, StatusUpdate};
use crate::store::Store;
use common::call::{CallStatus, Outcome};

/// Counts by status and outcome, answered calls and durations, within `[from, to)` only.
pub async fn call_stats_aggregate_a_range(store: &dyn Store) {
    let start = t0();
    let mut ids = Vec::new();
    for i in 0..5 {
        let call = call_at(start + Duration::minutes(i));
        store.insert_call(&call).await.expect("insert");
        ids.push(call.id);
    }
    // Outside the range on both sides.
    store.insert_call(&call_at(start - Duration::seconds(1))).await.expect("insert before");
    store.insert_call(&call_at(start + Duration::hours(1))).await.expect("insert after");

    let at = start + Duration::minutes(10);
    let advance = |s| StatusUpdate { status: s, at };
    for (i, id) in ids.iter().enumerate().take(3) {
        store.advance_status(id, &advance(CallStatus::InProgress)).await.expect("answer");
        store.advance_status(id, &advance(CallStatus::Completed)).await.expect("complete");
        if i < 2 {
            let secs = SetOnce { twilio_duration_secs: Some(30 + 10 * i as u32), ..Default::default() };
            store.set_once(id, &secs).await.expect("duration");
        }
        let outcome = if i == 0 { Outcome::Voicemail } else { Outcome::ConversationHeld };
        store.set_outcome(id, outcome).await.expect("outcome");
    }
    store.advance_status(&ids[3], &advance(CallStatus::Busy)).await.expect("busy");
    store.set_outcome(&ids[3], Outcome::Busy).await.expect("outcome");

    let stats = store.call_stats(start, start + Duration::minutes(30)).await.expect("stats");
    assert_eq!(stats.total, 5);
    assert_eq!(stats.by_status.get("completed"), Some(&3));
    assert_eq!(stats.by_status.get("busy"), Some(&1));
    assert_eq!(stats.by_status.get("queued"), Some(&1));
    assert_eq!(stats.by_outcome.get("conversation_held"), Some(&2));
    assert_eq!(stats.by_outcome.get("voicemail"), Some(&1));
    assert_eq!(stats.by_outcome.get("busy"), Some(&1));
    assert_eq!(stats.answered, 3);
    assert_eq!((stats.duration_total_secs, stats.duration_count), (70, 2));

    let empty = store.call_stats(start + Duration::days(1), start + Duration::days(2)).await.expect("stats");
    assert_eq!(empty, Default::default());
}
