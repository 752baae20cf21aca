//! The engine's writes: claims and leases, attempts, endings, take-overs, completion.

use futures_util::future::join_all;
use std::collections::HashSet;

use super::{at, attempt_for, running_with};
use crate::calls::model::Page;
use crate::campaigns::model::{
    AfterAttempt, AttemptEnd, AttemptResult, CampaignStatus, MemberState, Release,
};
use crate::store::Store;
use common::call::Outcome;
use common::ids::CallId;

fn end(attempt_id: &str, outcome: Option<Outcome>, counts: bool, s: i64) -> AttemptEnd {
    AttemptEnd {
        attempt_id: attempt_id.to_owned(),
        ended_at: at(s),
        outcome,
        outcome_final: false,
        result: if counts { AttemptResult::Dialled } else { AttemptResult::NotDialled },
        detail: None,
        counts,
    }
}

/// Members are claimed in due order, each by one caller even when callers race, and an
/// abandoned claim becomes due again when its lease expires.
pub async fn claims_are_exclusive_ordered_and_leased(store: &dyn Store) {
    let (c, contacts) = running_with(store, 4).await;
    store.add_members(&c.id, &[(common::ids::ContactId::new(), at(500))]).await.expect("add later");
    let id = &c.id;
    let claims = join_all((0..8).map(|i| async move {
        store.claim_member(id, &format!("i{i}"), at(10), at(70)).await.expect("claim")
    }))
    .await;
    let got: Vec<_> = claims.into_iter().flatten().collect();
    assert_eq!(got.len(), 4, "four due members, eight racing claimers");
    let distinct: HashSet<_> = got.iter().map(|m| m.contact_id.clone()).collect();
    assert_eq!(distinct, contacts.iter().cloned().collect(), "each claimed once; the later one not yet");
    assert!(got.iter().all(|m| m.state == MemberState::Claimed && m.lease_until == Some(at(70))));

    assert_eq!(store.claim_member(&c.id, "x", at(69), at(129)).await.expect("claim"), None, "leases hold");
    let retaken =
        store.claim_member(&c.id, "x", at(71), at(131)).await.expect("claim").expect("expired lease");
    assert_eq!(retaken.lease_owner.as_deref(), Some("x"));
    assert!(distinct.contains(&retaken.contact_id));
    let old_owner =
        got.iter().find(|m| m.id == retaken.id).and_then(|m| m.lease_owner.clone()).expect("owner");
    let release = Release::Defer { due_at: at(1000), note: "window".into() };
    assert!(
        !store.release_member(&retaken.id, &old_owner, &release, at(72)).await.expect("release"),
        "lost claim"
    );
    assert!(store.release_member(&retaken.id, "x", &release, at(72)).await.expect("release"));
    let m = store.get_member(&c.id, &retaken.contact_id).await.expect("get").expect("member");
    assert_eq!(
        (m.state, m.due_at, m.note.as_deref(), m.lease_owner),
        (MemberState::Pending, Some(at(1000)), Some("window"), None)
    );
    let stats = store.member_stats(&c.id).await.expect("stats");
    assert_eq!((stats.pending, stats.claimed, stats.next_due), (2, 3, Some(at(500))));
}

/// An attempt begins only for the claim's owner while the campaign runs, and only once.
pub async fn attempts_begin_only_while_running_and_claimed(store: &dyn Store) {
    let (c, _) = running_with(store, 2).await;
    let m = store.claim_member(&c.id, "me", at(0), at(60)).await.expect("claim").expect("claimed");
    let a = attempt_for(&m, "me", at(1));
    assert!(!store.begin_attempt(&a, "someone-else", at(120)).await.expect("begin"), "not the owner");
    store
        .set_status(&c.id, &[CampaignStatus::Running], CampaignStatus::Paused, None, at(2))
        .await
        .expect("pause");
    assert!(!store.begin_attempt(&a, "me", at(120)).await.expect("begin"), "paused: no attempt");
    assert_eq!(store.get_attempt(&a.id).await.expect("get"), None);
    store
        .set_status(&c.id, &[CampaignStatus::Paused], CampaignStatus::Running, None, at(3))
        .await
        .expect("resume");
    assert!(store.begin_attempt(&a, "me", at(120)).await.expect("begin"));
    assert!(!store.begin_attempt(&a, "me", at(120)).await.expect("begin twice"), "no longer claimed");
    assert_eq!(store.get_attempt(&a.id).await.expect("get"), Some(a.clone()));
    let now = store.get_member(&c.id, &m.contact_id).await.expect("get").expect("member");
    assert_eq!(
        (now.state, now.attempts, now.attempt_id.as_deref(), now.due_at, now.lease_until),
        (MemberState::Dialing, 1, Some(a.id.as_str()), None, Some(at(120)))
    );
    let s = store.member_stats(&c.id).await.expect("stats");
    assert_eq!((s.dialing, s.in_flight(), s.pending), (1, 1, 1));
}

/// dialled → live → finished, exactly once; retries come back due; uncounted attempts give
/// their count back; stats count dialled attempts by outcome.
pub async fn attempts_end_once_and_decide_what_follows(store: &dyn Store) {
    let (c, _) = running_with(store, 2).await;
    let m = store.claim_member(&c.id, "me", at(0), at(60)).await.expect("claim").expect("claimed");
    let a = attempt_for(&m, "me", at(1));
    assert!(store.begin_attempt(&a, "me", at(120)).await.expect("begin"));
    let call = CallId::new();
    assert!(store.attempt_dialled(&a.id, &call, at(2)).await.expect("dialled"));
    assert!(!store.attempt_dialled(&a.id, &call, at(2)).await.expect("twice"), "already live");
    let live = store.get_member(&c.id, &m.contact_id).await.expect("get").expect("member");
    assert_eq!((live.state, live.call_id.clone()), (MemberState::Live, Some(call.clone())));
    let stats = store.attempt_stats(&c.id, None).await.expect("stats");
    assert_eq!((stats.dialled, stats.ended), (1, 0));

    let e = end(&a.id, Some(Outcome::NoAnswer), true, 30);
    assert!(store.finish_attempt(&e, &AfterAttempt::Retry(at(3630)), at(30)).await.expect("finish"));
    assert!(
        !store.finish_attempt(&e, &AfterAttempt::Done, at(31)).await.expect("finish twice"),
        "idempotent"
    );
    let retry = store.get_member(&c.id, &m.contact_id).await.expect("get").expect("member");
    assert_eq!(
        (retry.state, retry.due_at, retry.attempts, retry.last_outcome, retry.lease_owner),
        (MemberState::Pending, Some(at(3630)), 1, Some(Outcome::NoAnswer), None)
    );
    let stored = store.get_attempt(&a.id).await.expect("get").expect("attempt");
    assert_eq!(
        (stored.ended_at, stored.outcome, stored.call_id, stored.result),
        (Some(at(30)), Some(Outcome::NoAnswer), Some(call), AttemptResult::Dialled)
    );

    // The second member: its dial did not happen (rate limited): the count is given back.
    let m2 = store.claim_member(&c.id, "me", at(40), at(100)).await.expect("claim").expect("second");
    let a2 = attempt_for(&m2, "me", at(40));
    assert!(store.begin_attempt(&a2, "me", at(160)).await.expect("begin"));
    assert!(
        store
            .finish_attempt(&end(&a2.id, None, false, 41), &AfterAttempt::Retry(at(45)), at(41))
            .await
            .expect("finish")
    );
    let back = store.get_member(&c.id, &m2.contact_id).await.expect("get").expect("member");
    assert_eq!((back.state, back.attempts, back.last_outcome), (MemberState::Pending, 0, None));

    let stats = store.attempt_stats(&c.id, None).await.expect("stats");
    assert_eq!(
        (stats.dialled, stats.ended, stats.no_answer),
        (1, 1, 1),
        "not-dialled attempts are not counted"
    );
    assert_eq!(store.attempt_stats(&c.id, Some(at(31))).await.expect("since").dialled, 0);
    let listed =
        store.list_attempts(&c.id, Some(&m.contact_id), Page { offset: 0, limit: 10 }).await.expect("list");
    assert_eq!(listed.items.iter().map(|x| x.id.clone()).collect::<Vec<_>>(), vec![a.id.clone()]);
    assert_eq!(store.list_attempts(&c.id, None, Page { offset: 0, limit: 10 }).await.expect("all").total, 2);
}

/// A dialing member whose lease expired is taken over by exactly one instance; live members
/// are listed in flight; unsettled outcomes are settled once.
pub async fn stale_dials_are_taken_over_once(store: &dyn Store) {
    let (c, _) = running_with(store, 1).await;
    let m = store.claim_member(&c.id, "dead", at(0), at(60)).await.expect("claim").expect("claimed");
    let a = attempt_for(&m, "dead", at(1));
    assert!(store.begin_attempt(&a, "dead", at(120)).await.expect("begin"));
    let flying = store.list_in_flight(10).await.expect("in flight");
    assert_eq!(flying.iter().map(|f| f.id.clone()).collect::<Vec<_>>(), vec![m.id.clone()]);
    assert!(!store.take_over(&m.id, "a", at(119), at(300)).await.expect("early"), "lease still valid");
    let racers = join_all(["a", "b", "c"].map(|o| store.take_over(&m.id, o, at(121), at(300)))).await;
    assert_eq!(racers.iter().filter(|r| matches!(r, Ok(true))).count(), 1, "{racers:?}");
    assert!(!store.ensure_attempt(&a).await.expect("ensure existing"), "already stored");
    let mut missing = a.clone();
    missing.id = uuid::Uuid::now_v7().to_string();
    assert!(store.ensure_attempt(&missing).await.expect("ensure missing"));

    let e = AttemptEnd { outcome_final: false, ..end(&a.id, Some(Outcome::NoConversation), true, 200) };
    assert!(store.finish_attempt(&e, &AfterAttempt::Done, at(200)).await.expect("finish"));
    let unsettled = store.unsettled_attempts(10).await.expect("unsettled");
    assert_eq!(unsettled.iter().map(|u| u.id.clone()).collect::<Vec<_>>(), vec![a.id.clone()]);
    assert!(store.settle_attempt(&a.id, Outcome::ConversationHeld).await.expect("settle"));
    assert!(store.unsettled_attempts(10).await.expect("unsettled").is_empty());
    assert!(
        !store.settle_attempt(&missing.id, Outcome::Busy).await.expect("not ended"),
        "only ended attempts"
    );
    let done = store.get_member(&c.id, &m.contact_id).await.expect("get").expect("member");
    assert_eq!((done.state, done.last_outcome), (MemberState::Done, Some(Outcome::ConversationHeld)));
    let stats = store.attempt_stats(&c.id, None).await.expect("stats");
    assert_eq!((stats.conversations, stats.answered()), (1, 1));
    assert!(store.list_in_flight(10).await.expect("in flight").is_empty());
}

/// A running campaign completes only when every member is finished.
pub async fn campaigns_complete_only_when_drained(store: &dyn Store) {
    let (c, contacts) = running_with(store, 2).await;
    assert_eq!(store.complete_if_drained(&c.id, at(1)).await.expect("complete"), None, "two pending");
    let m = store.claim_member(&c.id, "me", at(0), at(60)).await.expect("claim").expect("claimed");
    store
        .release_member(&m.id, "me", &Release::Skip { note: "do not call".into() }, at(1))
        .await
        .expect("skip");
    let m2 = store.claim_member(&c.id, "me", at(0), at(60)).await.expect("claim").expect("claimed");
    let a = attempt_for(&m2, "me", at(2));
    assert!(store.begin_attempt(&a, "me", at(120)).await.expect("begin"));
    assert_eq!(store.complete_if_drained(&c.id, at(3)).await.expect("complete"), None, "one dialing");
    store
        .finish_attempt(&end(&a.id, Some(Outcome::Busy), true, 4), &AfterAttempt::Done, at(4))
        .await
        .expect("finish");
    let done = store.complete_if_drained(&c.id, at(5)).await.expect("complete").expect("completed");
    assert_eq!((done.status, done.finished_at), (CampaignStatus::Completed, Some(at(5))));
    assert_eq!(store.complete_if_drained(&c.id, at(6)).await.expect("again"), None, "only from running");
    let skipped = store.get_member(&c.id, &contacts[0]).await.expect("get").expect("member");
    assert_eq!((skipped.state, skipped.note.as_deref()), (MemberState::Skipped, Some("do not call")));
}
