//! Conformance cases of [`TranscriptStore`](crate::transcripts::store::TranscriptStore).

use chrono::Duration;
use serde_json::json;
use std::collections::BTreeMap;

use super::stored_call;
use crate::store::Store;
use crate::store::conformance::fixtures::t0;
use crate::transcripts::model::{
    CollectedValue, CriterionOutcome, PostCall, PostCallAnalysis, PostCallMetadata, RecoveryState, Turn,
};
use common::events::{HeardState, Role, TranscriptLine};
use common::ids::CallId;

fn line(index: u32, role: Role, text: &str) -> TranscriptLine {
    TranscriptLine {
        index,
        role,
        text: text.to_owned(),
        time_in_call_ms: u64::from(index) * 1500,
        heard: (role == Role::Agent).then_some(HeardState::Pending),
        heard_ms: None,
        audio_ms: None,
    }
}

/// A post-call record with every field set (non-ASCII text, nested JSON, dotted keys).
pub fn post_call(conversation_id: &str) -> PostCall {
    let mut criteria = BTreeMap::new();
    criteria.insert(
        "goal".to_owned(),
        CriterionOutcome { result: "success".into(), rationale: "Zoë agreed".into() },
    );
    let mut data = BTreeMap::new();
    data.insert(
        "callback.time".to_owned(),
        CollectedValue {
            value: json!({"$when": "tomorrow", "n": [1, 2.5, null]}),
            rationale: "said so".into(),
        },
    );
    PostCall {
        conversation_id: conversation_id.to_owned(),
        turns: vec![
            Turn {
                role: Role::Agent,
                message: "G'day!".into(),
                time_in_call_secs: 0.0,
                interrupted: Some(true),
            },
            Turn {
                role: Role::User,
                message: "Hallo, grüß dich".into(),
                time_in_call_secs: 2.5,
                interrupted: None,
            },
        ],
        analysis: Some(PostCallAnalysis {
            call_successful: "success".into(),
            transcript_summary: "They talked.".into(),
            call_summary_title: Some("Chat".into()),
            evaluation_criteria: criteria,
            data_collection: data,
        }),
        metadata: PostCallMetadata {
            call_duration_secs: 22.0,
            cost: Some(296.0),
            termination_reason: Some("end_call tool".into()),
        },
        source: "webhook".into(),
        received_at: t0(),
    }
}

/// Lines are upserted by index and read back in index order; each call has its own.
pub async fn live_lines_upsert_by_index(store: &dyn Store) {
    let a = stored_call(store).await;
    let b = stored_call(store).await;
    store.upsert_live_line(&a.id, &line(1, Role::User, "hello")).await.expect("upsert");
    store.upsert_live_line(&a.id, &line(0, Role::Agent, "Hi, it's Acme")).await.expect("upsert");
    let mut heard = line(0, Role::Agent, "Hi, it's");
    heard.heard = Some(HeardState::CutOff);
    heard.heard_ms = Some(700);
    store.upsert_live_line(&a.id, &heard).await.expect("update");
    store.upsert_live_line(&b.id, &line(0, Role::User, "other call")).await.expect("upsert");
    assert_eq!(store.live_lines(&a.id).await.expect("lines"), vec![heard, line(1, Role::User, "hello")]);
    assert_eq!(store.live_lines(&b.id).await.expect("lines").len(), 1);
    assert!(store.live_lines(&stored_call(store).await.id).await.expect("lines").is_empty());
}

/// A conversation is linked once: neither the call nor the conversation can be relinked.
pub async fn conversation_link_is_set_once(store: &dyn Store) {
    let a = stored_call(store).await;
    let b = stored_call(store).await;
    assert!(store.link_conversation(&a.id, "conv_a").await.expect("link"));
    assert!(!store.link_conversation(&a.id, "conv_a").await.expect("again"), "a repeat changes nothing");
    assert!(!store.link_conversation(&a.id, "conv_other").await.expect("relink call"));
    assert!(!store.link_conversation(&b.id, "conv_a").await.expect("steal conversation"));
    assert_eq!(store.call_for_conversation("conv_a").await.expect("find"), Some(a.id.clone()));
    assert_eq!(store.call_for_conversation("conv_other").await.expect("find"), None);
}

/// Post-call records round-trip exactly, replace earlier ones, and leave the missing list.
pub async fn post_call_round_trip_and_missing_list(store: &dyn Store) {
    let linked_first = stored_call(store).await;
    let linked_second = stored_call(store).await;
    let unlinked = stored_call(store).await;
    store.link_conversation(&linked_first.id, "conv_1").await.expect("link");
    store.link_conversation(&linked_second.id, "conv_2").await.expect("link");
    let missing = store.conversations_missing_post_call(10).await.expect("missing");
    assert_eq!(
        missing,
        vec![(linked_first.id.clone(), "conv_1".to_owned()), (linked_second.id.clone(), "conv_2".to_owned())]
    );
    assert_eq!(store.conversations_missing_post_call(1).await.expect("limited").len(), 1);

    let record = post_call("conv_1");
    store.save_post_call(&linked_first.id, &record).await.expect("save");
    assert_eq!(store.get_post_call(&linked_first.id).await.expect("get"), Some(record.clone()));
    let mut recovered = record.clone();
    recovered.source = "recovered".into();
    recovered.analysis = None;
    store.save_post_call(&linked_first.id, &recovered).await.expect("replace");
    assert_eq!(store.get_post_call(&linked_first.id).await.expect("get"), Some(recovered));
    assert_eq!(
        store.conversations_missing_post_call(10).await.expect("missing"),
        vec![(linked_second.id.clone(), "conv_2".to_owned())]
    );

    // Saving for a call that had no link links it too.
    store.save_post_call(&unlinked.id, &post_call("conv_3")).await.expect("save unlinked");
    assert_eq!(store.call_for_conversation("conv_3").await.expect("find"), Some(unlinked.id.clone()));
    assert_eq!(store.get_post_call(&linked_second.id).await.expect("none yet"), None);
}

/// Failed recoveries are counted; the missing list tries the least-failed first and drops a
/// conversation once recovery is given up (at once when permanent, else after `max_attempts`).
pub async fn failed_recoveries_are_counted_and_given_up(store: &dyn Store) {
    let (a, b, c, unlinked) = (
        stored_call(store).await,
        stored_call(store).await,
        stored_call(store).await,
        stored_call(store).await,
    );
    for (call, conv) in [(&a, "conv_a"), (&b, "conv_b"), (&c, "conv_c")] {
        store.link_conversation(&call.id, conv).await.expect("link");
    }
    let ids = |v: Vec<(CallId, String)>| v.into_iter().map(|(_, conv)| conv).collect::<Vec<_>>();
    let at = t0() + Duration::seconds(5);
    assert!(!store.record_recovery_failure(&a.id, "HTTP 503", false, 3, at).await.expect("record"));
    assert_eq!(
        ids(store.conversations_missing_post_call(10).await.expect("missing")),
        ["conv_b", "conv_c", "conv_a"]
    );
    assert!(
        store.record_recovery_failure(&b.id, "HTTP 404", true, 3, at).await.expect("record"),
        "permanent"
    );
    assert_eq!(ids(store.conversations_missing_post_call(10).await.expect("missing")), ["conv_c", "conv_a"]);
    assert_eq!(
        store.recovery_state(&b.id).await.expect("state"),
        Some(RecoveryState { attempts: 1, last_error: Some("HTTP 404".into()), given_up_at: Some(at) })
    );

    assert!(!store.record_recovery_failure(&a.id, "HTTP 502", false, 3, at).await.expect("record"));
    let later = at + Duration::seconds(5);
    assert!(store.record_recovery_failure(&a.id, "timeout", false, 3, later).await.expect("record"), "third");
    assert_eq!(ids(store.conversations_missing_post_call(10).await.expect("missing")), ["conv_c"]);
    assert!(
        store
            .record_recovery_failure(&a.id, "again", false, 3, later + Duration::seconds(1))
            .await
            .expect("record")
    );
    assert_eq!(
        store.recovery_state(&a.id).await.expect("state"),
        Some(RecoveryState { attempts: 4, last_error: Some("again".into()), given_up_at: Some(later) }),
        "given up once, at the third failure"
    );
    assert_eq!(
        store.recovery_state(&c.id).await.expect("state"),
        Some(RecoveryState { attempts: 0, last_error: None, given_up_at: None })
    );
    assert!(!store.record_recovery_failure(&unlinked.id, "x", true, 3, at).await.expect("record"));
    assert_eq!(store.recovery_state(&unlinked.id).await.expect("state"), None);
}
