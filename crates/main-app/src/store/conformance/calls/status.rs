//! Conditional writes: monotonic status, set-once fields, outcome.

use chrono::{Duration, Utc};

use super::insert_new;
use crate::calls::model::{Call, CallError, SetOnce, StatusUpdate};
use crate::store::Store;
use crate::store::conformance::fixtures::{call, t0};
use crate::store::truncate_ms;
use common::call::{AnsweredBy, CallStatus, Outcome, Party, TerminatedBy};
use common::ids::{CallId, CallSid};

fn update(status: CallStatus, secs: i64) -> StatusUpdate {
    StatusUpdate { status, at: t0() + Duration::seconds(secs) }
}

async fn advance(store: &dyn Store, id: &CallId, status: CallStatus, secs: i64) -> Option<Call> {
    store.advance_status(id, &update(status, secs)).await.expect("advance_status")
}

async fn stored(store: &dyn Store, id: &CallId) -> Call {
    store.get_call(id).await.expect("get_call").expect("call exists")
}

/// Each status replaces only a lower-ranked one; late, repeated and equal-rank updates are
/// refused and change nothing.
pub async fn status_only_moves_forward(store: &dyn Store) {
    let c = insert_new(store, &call()).await;
    let before = truncate_ms(Utc::now());

    let ringing = advance(store, &c.id, CallStatus::Ringing, 1).await.expect("queued -> ringing");
    assert_eq!(ringing.status, CallStatus::Ringing);
    assert_eq!((ringing.answered_at, ringing.ended_at), (None, None));
    assert!(ringing.updated_at >= before, "updated_at moves to the store's clock");
    assert_eq!(ringing, stored(store, &c.id).await, "the returned call is the stored one");

    let live = advance(store, &c.id, CallStatus::InProgress, 5).await.expect("ringing -> in-progress");
    assert_eq!(live.answered_at, Some(t0() + Duration::seconds(5)), "answered_at is the update's time");
    assert_eq!(live.ended_at, None);

    assert_eq!(advance(store, &c.id, CallStatus::Ringing, 2).await, None, "a late ringing is refused");
    assert_eq!(advance(store, &c.id, CallStatus::Initiated, 2).await, None);
    assert_eq!(advance(store, &c.id, CallStatus::InProgress, 6).await, None, "a repeat is refused");
    assert_eq!(stored(store, &c.id).await, live, "refused updates change nothing");

    let done = advance(store, &c.id, CallStatus::Completed, 60).await.expect("in-progress -> completed");
    assert_eq!(done.status, CallStatus::Completed);
    assert_eq!(done.answered_at, live.answered_at, "answered_at is kept");
    assert_eq!(done.ended_at, Some(t0() + Duration::seconds(60)));

    for late in [CallStatus::Failed, CallStatus::Busy, CallStatus::Canceled, CallStatus::NoAnswer] {
        assert_eq!(advance(store, &c.id, late, 61).await, None, "terminal is final ({late} refused)");
    }
    assert_eq!(advance(store, &c.id, CallStatus::InProgress, 62).await, None);
    assert_eq!(stored(store, &c.id).await, done);
}

/// Only `in-progress` sets `answered_at`; any terminal status sets `ended_at`, once.
pub async fn answered_at_only_on_in_progress(store: &dyn Store) {
    let c = insert_new(store, &call()).await;
    let ended = advance(store, &c.id, CallStatus::NoAnswer, 30).await.expect("queued -> no-answer");
    assert_eq!(ended.answered_at, None, "a call never answered has no answered_at");
    assert_eq!(ended.ended_at, Some(t0() + Duration::seconds(30)));

    // Times already present are never replaced (e.g. set by an import or an earlier write).
    let preset = Call { answered_at: Some(t0()), ended_at: Some(t0()), ..call() };
    let preset = insert_new(store, &preset).await;
    let live = advance(store, &preset.id, CallStatus::InProgress, 5).await.expect("-> in-progress");
    assert_eq!(live.answered_at, Some(t0()));
    let done = advance(store, &preset.id, CallStatus::Completed, 9).await.expect("-> completed");
    assert_eq!((done.answered_at, done.ended_at), (Some(t0()), Some(t0())));
}

/// Updates of a call that does not exist report `None`/`false` and create nothing.
pub async fn unknown_call_updates_are_refused(store: &dyn Store) {
    let ghost = CallId::new();
    assert_eq!(advance(store, &ghost, CallStatus::Ringing, 1).await, None);
    let fields = SetOnce { conversation_id: Some("conv".into()), ..Default::default() };
    assert_eq!(store.set_once(&ghost, &fields).await.expect("set_once"), None);
    assert_eq!(store.set_once(&ghost, &SetOnce::default()).await.expect("empty set_once"), None);
    assert!(!store.set_outcome(&ghost, Outcome::Busy).await.expect("set_outcome"));
    assert_eq!(store.get_call(&ghost).await.expect("get"), None, "nothing was created");
}

/// A set-once field keeps its first value; other fields are filled as they arrive.
pub async fn set_once_never_overwrites(store: &dyn Store) {
    let c = insert_new(store, &call()).await;
    let sid = CallSid::random();
    let first =
        SetOnce { call_sid: Some(sid.clone()), conversation_id: Some("conv-1".into()), ..Default::default() };
    let after = store.set_once(&c.id, &first).await.expect("set_once").expect("call exists");
    assert_eq!(after.call_sid, Some(sid.clone()));
    assert_eq!(after.conversation_id.as_deref(), Some("conv-1"));
    assert_eq!(store.get_call_by_sid(&sid).await.expect("by sid").map(|c| c.id), Some(c.id.clone()));

    let ended =
        TerminatedBy { party: Party::Caller, reason: "caller_hung_up".into(), source: "media-proxy".into() };
    let second = SetOnce {
        call_sid: Some(CallSid::random()),
        conversation_id: Some("conv-2".into()),
        stream_sid: Some("MZ0123456789abcdef0123456789abcdef".into()),
        answered_by: Some(AnsweredBy::MachineEndBeep),
        twilio_duration_secs: Some(42),
        terminated_by: Some(ended.clone()),
        error: Some(CallError { code: "FALLBACK_TWIML".into(), message: "fallback".into() }),
    };
    let after = store.set_once(&c.id, &second).await.expect("set_once").expect("call exists");
    assert_eq!(after.call_sid, Some(sid), "call_sid kept");
    assert_eq!(after.conversation_id.as_deref(), Some("conv-1"), "conversation_id kept");
    assert_eq!(after.stream_sid, second.stream_sid, "empty fields are filled");
    assert_eq!(after.answered_by, Some(AnsweredBy::MachineEndBeep));
    assert_eq!(after.twilio_duration_secs, Some(42));
    assert_eq!(after.terminated_by, Some(ended.clone()));
    assert_eq!(after.error, second.error);
    assert_eq!(after.status, CallStatus::Queued, "other fields untouched");

    let third = SetOnce {
        answered_by: Some(AnsweredBy::Human),
        twilio_duration_secs: Some(1),
        terminated_by: Some(TerminatedBy { party: Party::System, reason: "x".into(), source: "api".into() }),
        error: Some(CallError { code: "OTHER".into(), message: "other".into() }),
        ..Default::default()
    };
    let after_third = store.set_once(&c.id, &third).await.expect("set_once").expect("call exists");
    assert_eq!(after_third.answered_by, Some(AnsweredBy::MachineEndBeep));
    assert_eq!(after_third.twilio_duration_secs, Some(42));
    assert_eq!(after_third.terminated_by, Some(ended));
    assert_eq!(after_third.error, second.error);
    assert_eq!(after_third, stored(store, &c.id).await, "the returned call is the stored one");
}

/// A `set_once` that fills nothing leaves the record exactly as it was, `updated_at` included.
pub async fn set_once_leaves_updated_at_when_nothing_filled(store: &dyn Store) {
    let c = insert_new(store, &call()).await;
    let fields = SetOnce { conversation_id: Some("conv".into()), ..Default::default() };
    let filled = store.set_once(&c.id, &fields).await.expect("set_once").expect("exists");
    assert!(filled.updated_at > c.updated_at, "filling a field moves updated_at");
    // Let the store's clock pass a millisecond so an unwanted write would show.
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let again = store.set_once(&c.id, &fields).await.expect("set_once").expect("exists");
    assert_eq!(again, filled);
    let empty = store.set_once(&c.id, &SetOnce::default()).await.expect("empty").expect("exists");
    assert_eq!(empty, filled);
}

/// The outcome may be replaced as better data arrives.
pub async fn set_outcome_can_be_refined(store: &dyn Store) {
    let c = insert_new(store, &call()).await;
    assert!(store.set_outcome(&c.id, Outcome::NoConversation).await.expect("set_outcome"));
    assert_eq!(stored(store, &c.id).await.outcome, Some(Outcome::NoConversation));
    assert!(store.set_outcome(&c.id, Outcome::Voicemail).await.expect("set_outcome"));
    let after = stored(store, &c.id).await;
    assert_eq!(after.outcome, Some(Outcome::Voicemail));
    assert_eq!(after.status, CallStatus::Queued, "status untouched");
}
