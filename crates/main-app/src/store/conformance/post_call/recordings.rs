//! Conformance cases of [`RecordingStore`](crate::recordings::store::RecordingStore).

use chrono::Duration;

use super::stored_call;
use crate::calls::model::Page;
use crate::recordings::model::{Recording, RecordingStatus};
use crate::store::Store;
use crate::store::conformance::fixtures::t0;
use common::ids::{CallId, CallSid};

fn sid(n: u32) -> String {
    format!("RE{n:032x}")
}

fn recording(sid: String, call_id: &CallId, status: RecordingStatus, minutes: i64) -> Recording {
    Recording {
        sid,
        call_id: call_id.clone(),
        call_sid: Some(CallSid::random()),
        status,
        duration_secs: None,
        channels: None,
        created_at: t0() + Duration::minutes(minutes),
        updated_at: t0() + Duration::minutes(minutes),
        to: Some("+14155552671".into()),
        name: Some("Zoë".into()),
        error_code: None,
    }
}

/// The status only moves forward; completing fills the duration; a late `in-progress` or a
/// repeated `completed` changes nothing; nothing resurrects a deleted recording.
pub async fn recording_status_is_monotonic(store: &dyn Store) {
    let call = stored_call(store).await;
    let started = recording(sid(1), &call.id, RecordingStatus::InProgress, 0);
    assert_eq!(store.upsert_recording(&started).await.expect("insert"), started);

    let mut done = recording(sid(1), &call.id, RecordingStatus::Completed, 5);
    done.duration_secs = Some(83);
    done.channels = Some(2);
    let stored = store.upsert_recording(&done).await.expect("complete");
    assert_eq!(stored.status, RecordingStatus::Completed);
    assert_eq!((stored.duration_secs, stored.channels), (Some(83), Some(2)));
    assert_eq!(stored.created_at, started.created_at, "created_at is kept");
    assert_eq!(stored.updated_at, done.updated_at);

    let late = recording(sid(1), &call.id, RecordingStatus::InProgress, 9);
    assert_eq!(
        store.upsert_recording(&late).await.expect("late"),
        stored,
        "a late in-progress changes nothing"
    );
    let mut repeat = done.clone();
    repeat.duration_secs = Some(1);
    repeat.updated_at = t0() + Duration::minutes(10);
    assert_eq!(store.upsert_recording(&repeat).await.expect("repeat"), stored, "a repeat changes nothing");

    let at = t0() + Duration::minutes(20);
    assert!(store.mark_recording_deleted(&sid(1), at).await.expect("delete"));
    assert!(!store.mark_recording_deleted(&sid(2), at).await.expect("unknown"));
    let deleted = store.get_recording(&sid(1)).await.expect("get").expect("kept as deleted");
    assert_eq!((deleted.status, deleted.updated_at), (RecordingStatus::Deleted, at));
    assert_eq!(store.upsert_recording(&done).await.expect("after delete").status, RecordingStatus::Deleted);
}

/// Lists leave deleted recordings out: the global list newest first with a total, a call's
/// list oldest first.
pub async fn recording_lists(store: &dyn Store) {
    let a = stored_call(store).await;
    let b = stored_call(store).await;
    for (n, call, minutes) in [(1, &a, 0), (2, &b, 1), (3, &a, 2), (4, &a, 3)] {
        store
            .upsert_recording(&recording(sid(n), &call.id, RecordingStatus::Completed, minutes))
            .await
            .expect("insert");
    }
    store.mark_recording_deleted(&sid(4), t0()).await.expect("delete");
    let page = store.list_recordings(Page { offset: 0, limit: 2 }).await.expect("list");
    assert_eq!(page.total, 3);
    assert_eq!(page.items.iter().map(|r| r.sid.clone()).collect::<Vec<_>>(), vec![sid(3), sid(2)]);
    let rest = store.list_recordings(Page { offset: 2, limit: 2 }).await.expect("list");
    assert_eq!(rest.items.iter().map(|r| r.sid.clone()).collect::<Vec<_>>(), vec![sid(1)]);
    let of_a = store.list_call_recordings(&a.id).await.expect("by call");
    assert_eq!(of_a.iter().map(|r| r.sid.clone()).collect::<Vec<_>>(), vec![sid(1), sid(3)]);
    assert_eq!(store.get_recording(&sid(9)).await.expect("get"), None);
}
