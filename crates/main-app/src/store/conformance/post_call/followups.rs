//! Conformance cases of [`FollowupStore`](crate::post_call::store::FollowupStore).

use chrono::Duration;
use futures_util::future::join_all;

use super::stored_call;
use crate::amd::{AmdPolicy, MachineAction, UnknownAs};
use crate::store::Store;
use crate::store::conformance::fixtures::t0;

/// The AMD policy round-trips and can be replaced; scheduling never moves a due time later.
pub async fn amd_policy_and_scheduling(store: &dyn Store) {
    let call = stored_call(store).await;
    assert_eq!(store.amd_policy(&call.id).await.expect("none"), None);
    let policy = AmdPolicy {
        on_machine: MachineAction::Voicemail,
        voicemail_message: Some("Hi {name}, it's Zoë".into()),
        unknown_as: UnknownAs::Machine,
    };
    store.set_amd_policy(&call.id, &policy).await.expect("set");
    assert_eq!(store.amd_policy(&call.id).await.expect("get"), Some(policy.clone()));
    let hangup = AmdPolicy {
        on_machine: MachineAction::Hangup,
        voicemail_message: None,
        unknown_as: UnknownAs::Human,
    };
    store.set_amd_policy(&call.id, &hangup).await.expect("replace");
    assert_eq!(store.amd_policy(&call.id).await.expect("get"), Some(hangup));

    store.schedule_finalize(&call.id, t0() + Duration::minutes(5)).await.expect("schedule");
    store.schedule_finalize(&call.id, t0() + Duration::minutes(9)).await.expect("later is ignored");
    let lease = t0() + Duration::hours(1);
    assert!(
        store
            .claim_due_finalizations(t0() + Duration::minutes(4), lease, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    store.schedule_finalize(&call.id, t0()).await.expect("earlier wins");
    assert_eq!(store.claim_due_finalizations(t0(), lease, 10).await.expect("claim"), vec![call.id.clone()]);
    assert_eq!(
        store.amd_policy(&call.id).await.expect("kept").map(|p| p.on_machine),
        Some(MachineAction::Hangup)
    );
}

/// Due calls are claimed by one worker at a time (leased), earliest first; a finalized call is
/// never claimed or rescheduled again.
pub async fn finalization_claims_and_completion(store: &dyn Store) {
    let early = stored_call(store).await;
    let late = stored_call(store).await;
    store.schedule_finalize(&late.id, t0() + Duration::seconds(2)).await.expect("schedule");
    store.schedule_finalize(&early.id, t0() + Duration::seconds(1)).await.expect("schedule");
    let now = t0() + Duration::seconds(10);
    let lease = now + Duration::seconds(60);
    let claims = join_all((0..3).map(|_| store.claim_due_finalizations(now, lease, 10))).await;
    let mut all: Vec<_> = claims.into_iter().map(|c| c.expect("claim")).filter(|c| !c.is_empty()).collect();
    let claimed: Vec<_> = all.iter().flatten().cloned().collect();
    assert_eq!(claimed.len(), 2, "each call claimed once: {all:?}");
    if all.len() == 1 {
        assert_eq!(all.remove(0), vec![early.id.clone(), late.id.clone()], "earliest due first");
    }
    assert!(store.claim_due_finalizations(now, lease, 10).await.expect("claim").is_empty(), "leased");

    assert_eq!(store.finalized_at(&early.id).await.expect("not yet"), None);
    store.mark_finalized(&early.id, now).await.expect("finalize");
    store.mark_finalized(&early.id, now + Duration::hours(1)).await.expect("again keeps the first");
    assert_eq!(store.finalized_at(&early.id).await.expect("finalized"), Some(now));
    store.schedule_finalize(&early.id, now).await.expect("reschedule is ignored");
    let after = lease + Duration::seconds(1);
    let reclaimed =
        store.claim_due_finalizations(after, after + Duration::seconds(60), 10).await.expect("claim");
    assert_eq!(reclaimed, vec![late.id.clone()], "the finalized call is never claimed again");

    let never_scheduled = stored_call(store).await;
    store.mark_finalized(&never_scheduled.id, now).await.expect("finalize without schedule");
    assert_eq!(store.finalized_at(&never_scheduled.id).await.expect("finalized"), Some(now));
}
