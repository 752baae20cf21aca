//! Bringing members in flight up to date with their calls: attempts whose call ended are
//! finished (retry policy), dials whose lease expired are recovered, and outcomes are settled
//! once post-call processing finalized the call.

use chrono::{DateTime, Duration, Utc};

use super::dial::Dial;
use super::prepare::{Prepared, prepare};
use super::{Engine, TickReport};
use crate::calls::model::{Call, CallError, CallFilter, Page, SetOnce, StatusUpdate};
use crate::calls::outcome::{self, Signals};
use crate::campaigns::model::{
    AfterAttempt, Attempt, AttemptEnd, AttemptResult, CampaignStatus, Member, MemberState,
};
use crate::store::StoreResult;
use common::call::{CallStatus, Outcome, Party, TerminatedBy};
use common::events::live::LiveCall;
use common::ids::{CallId, CampaignId, ContactId};

/// Most members in flight examined per tick.
const IN_FLIGHT_LIMIT: u64 = 2000;
/// Most unsettled outcomes examined per tick.
const SETTLE_LIMIT: u64 = 100;
/// Outcomes are looked at this often.
const SETTLE_EVERY: Duration = Duration::seconds(5);
/// An outcome not finalized by post-call processing this long after `POST_CALL_WAIT_SECS` is
/// settled as it stands.
const SETTLE_GRACE: Duration = Duration::minutes(5);

/// The outcome of an ended call: the post-call one when known, else decided from its status and
/// AMD verdict (speech unknown yet, so an answered call counts as no conversation until refined).
pub fn outcome_of(call: &Call) -> Outcome {
    call.outcome
        .or_else(|| {
            outcome::decide(Signals {
                status: call.status,
                answered_by: call.answered_by,
                caller_spoke: false,
            })
        })
        .unwrap_or(Outcome::Failed)
}

impl Engine {
    /// Finishes ended calls' attempts and recovers stale dials.
    pub(super) async fn reconcile(&mut self, now: DateTime<Utc>, report: &mut TickReport) -> StoreResult<()> {
        let mut recovered = Vec::new();
        for member in self.state.store.list_in_flight(IN_FLIGHT_LIMIT).await? {
            match member.state {
                MemberState::Live => {
                    let Some(call_id) = member.call_id.clone() else { continue };
                    let Some(call) = self.state.store.get_call(&call_id).await? else { continue };
                    if call.status.is_terminal() {
                        if self.finish(&member, &call, now).await? {
                            report.finished += 1;
                        }
                    } else if self.never_dialled(&call) {
                        self.abandon(&member, &call, now).await?;
                    }
                }
                MemberState::Dialing if member.lease_until.is_none_or(|l| l < now) => {
                    if let Some(dial) = self.recover(&member, now, report).await? {
                        recovered.push(dial);
                    }
                }
                _ => {}
            }
        }
        self.place_all(recovered, now, report).await;
        Ok(())
    }

    /// A call ended (live event): finish its attempt now rather than at the next tick.
    pub async fn on_call_ended(&mut self, live: &LiveCall, now: DateTime<Utc>) {
        let (Some(campaign), Some(contact)) = (live.campaign_id.as_deref(), live.contact_id.as_deref())
        else {
            return;
        };
        let (Ok(campaign), Ok(contact), Ok(call_id)) =
            (CampaignId::parse(campaign), ContactId::parse(contact), CallId::parse(&live.id))
        else {
            return;
        };
        let result = async {
            let Some(member) = self.state.store.get_member(&campaign, &contact).await? else { return Ok(()) };
            if member.state != MemberState::Live || member.call_id.as_ref() != Some(&call_id) {
                return Ok(());
            }
            if let Some(call) = self.state.store.get_call(&call_id).await? {
                self.finish(&member, &call, now).await?;
            }
            StoreResult::Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(call_id = %live.id, error = %e, "cannot finish a campaign attempt; the next tick will");
        }
    }

    /// Ends the member's attempt with its call's outcome and applies the retry policy.
    async fn finish(&mut self, member: &Member, call: &Call, now: DateTime<Utc>) -> StoreResult<bool> {
        let Some(attempt_id) = member.attempt_id.clone() else { return Ok(false) };
        let outcome = outcome_of(call);
        let retry = match self.state.store.get_campaign(&member.campaign_id).await? {
            Some(c) if c.status != CampaignStatus::Canceled => {
                c.settings.retry.next(outcome, member.attempts)
            }
            _ => None,
        };
        let after = retry.map_or(AfterAttempt::Done, |delay| AfterAttempt::Retry(now + delay));
        let end = AttemptEnd {
            attempt_id,
            ended_at: now,
            outcome: Some(outcome),
            outcome_final: false,
            result: AttemptResult::Dialled,
            detail: call.error.as_ref().map(|e| format!("{}: {}", e.code, e.message)),
            counts: true,
        };
        let done = self.state.store.finish_attempt(&end, &after, now).await?;
        if done {
            tracing::debug!(member = %member.id, outcome = outcome.as_str(), ?after, "attempt finished");
            self.touched.insert(member.campaign_id.clone());
        }
        Ok(done)
    }

    /// A call stored for a dial but never confirmed by Twilio (no CallSid, no callback) for two
    /// leases: the instance placing it stopped before the request left (a crash between storing
    /// the call and sending it). Twilio confirms a create within its 15 s timeout and reports
    /// `initiated` at once, so after two leases it did not happen.
    fn never_dialled(&self, call: &Call) -> bool {
        let lease = self.lease();
        call.call_sid.is_none()
            && call.status == CallStatus::Queued
            && Utc::now() - call.created_at > lease + lease
    }

    /// Closes a never-dialled call as failed (`NEVER_DIALLED`) and gives its member another turn
    /// without counting the attempt.
    async fn abandon(&mut self, member: &Member, call: &Call, now: DateTime<Utc>) -> StoreResult<()> {
        let store = &self.state.store;
        tracing::warn!(call_id = %call.id, member = %member.id, "a campaign call was never dialled; retrying the contact");
        let fields = SetOnce {
            error: Some(CallError {
                code: "NEVER_DIALLED".into(),
                message: "the dial never reached Twilio".into(),
            }),
            terminated_by: Some(TerminatedBy {
                party: Party::System,
                reason: "never_dialled".into(),
                source: "campaign-engine".into(),
            }),
            ..Default::default()
        };
        store.set_once(&call.id, &fields).await?;
        if let Some(updated) = store
            .advance_status(&call.id, &StatusUpdate { status: CallStatus::Failed, at: Utc::now() })
            .await?
        {
            self.state.live.publish_call(&updated, false);
        }
        let Some(attempt_id) = member.attempt_id.clone() else { return Ok(()) };
        let end = AttemptEnd {
            attempt_id,
            ended_at: now,
            outcome: None,
            outcome_final: true,
            result: AttemptResult::NotDialled,
            detail: Some("the dial never reached Twilio".into()),
            counts: false,
        };
        store.finish_attempt(&end, &AfterAttempt::Retry(now), now).await?;
        self.touched.insert(member.campaign_id.clone());
        Ok(())
    }

    /// Takes over a dial whose lease expired. If its call exists (found by the idempotency
    /// key), the attempt follows it; if not, the same attempt is dialled again (the key makes a
    /// second `place_call` return the first call if the original dial lands meanwhile), or,
    /// when the campaign is no longer running or the contact no longer callable, the attempt
    /// ends as not dialled and the member waits for its next turn.
    async fn recover(
        &mut self,
        member: &Member,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> StoreResult<Option<Dial>> {
        let store = self.state.store.clone();
        let Some(attempt_id) = member.attempt_id.clone() else { return Ok(None) };
        if !store.take_over(&member.id, &self.instance, now, now + self.lease()).await? {
            return Ok(None);
        }
        report.recovered += 1;
        tracing::warn!(member = %member.id, attempt = %attempt_id, "recovering a dial whose lease expired");
        let attempt = match store.get_attempt(&attempt_id).await? {
            Some(a) => a,
            None => self.recreate_attempt(member, &attempt_id).await?,
        };
        if let Some(call) = self.call_of(&attempt).await? {
            store.attempt_dialled(&attempt.id, &call.id, now).await?;
            return Ok(None);
        }
        let campaign = store.get_campaign(&member.campaign_id).await?;
        let prepared = match &campaign {
            Some(c) if c.status == CampaignStatus::Running => prepare(&self.state, c, member, now).await?,
            _ => Prepared::Defer { due_at: now, note: "the campaign is not running".into() },
        };
        let (due_at, note) = match prepared {
            Prepared::Dial(mut call) => {
                call.idempotency_key = Some(attempt.id.clone());
                return Ok(Some(Dial {
                    campaign_id: member.campaign_id.clone(),
                    attempt_id: attempt.id,
                    call: *call,
                }));
            }
            Prepared::Defer { due_at, note } => (due_at, note),
            Prepared::Skip { note } => (now, note),
        };
        let end = AttemptEnd {
            attempt_id: attempt.id,
            ended_at: now,
            outcome: None,
            outcome_final: true,
            result: AttemptResult::NotDialled,
            detail: Some(note),
            counts: false,
        };
        store.finish_attempt(&end, &AfterAttempt::Retry(due_at), now).await?;
        Ok(None)
    }

    /// Writes the attempt record a crash prevented (MongoDB: member moved to dialing, attempt not
    /// yet inserted).
    async fn recreate_attempt(&self, member: &Member, attempt_id: &str) -> StoreResult<Attempt> {
        let a = Attempt {
            id: attempt_id.to_owned(),
            campaign_id: member.campaign_id.clone(),
            contact_id: member.contact_id.clone(),
            member_id: member.id.clone(),
            number: member.attempts,
            instance_id: self.instance.clone(),
            started_at: member.updated_at,
            call_id: None,
            ended_at: None,
            outcome: None,
            outcome_final: false,
            result: AttemptResult::Dialing,
            detail: None,
        };
        self.state.store.ensure_attempt(&a).await?;
        Ok(a)
    }

    /// The call an attempt created, if any (found by its idempotency key).
    async fn call_of(&self, attempt: &Attempt) -> StoreResult<Option<Call>> {
        if let Some(id) = &attempt.call_id {
            return self.state.store.get_call(id).await;
        }
        let filter = CallFilter {
            campaign_id: Some(attempt.campaign_id.clone()),
            contact_id: Some(attempt.contact_id.clone()),
            ..Default::default()
        };
        let calls = self.state.store.list_calls(&filter, Page { offset: 0, limit: 100 }).await?;
        Ok(calls.items.into_iter().find(|c| c.idempotency_key.as_deref() == Some(attempt.id.as_str())))
    }

    /// Settles outcomes that post-call processing has finalized (or that waited long enough).
    pub(super) async fn settle(&mut self, now: DateTime<Utc>) -> StoreResult<()> {
        if self.last_settle.is_some_and(|at| now - at < SETTLE_EVERY && now >= at) {
            return Ok(());
        }
        self.last_settle = Some(now);
        let wait =
            Duration::from_std(self.state.settings.post_call.post_call_wait).unwrap_or(Duration::minutes(5));
        for attempt in self.state.store.unsettled_attempts(SETTLE_LIMIT).await? {
            let call = match &attempt.call_id {
                Some(id) => self.state.store.get_call(id).await?,
                None => None,
            };
            let finalized = match &call {
                Some(c) => self.state.store.finalized_at(&c.id).await?.is_some(),
                None => true,
            };
            let overdue = attempt.ended_at.is_some_and(|e| now - e > wait + SETTLE_GRACE);
            if !finalized && !overdue {
                continue;
            }
            let outcome = call.as_ref().map(outcome_of).or(attempt.outcome).unwrap_or(Outcome::Failed);
            self.state.store.settle_attempt(&attempt.id, outcome).await?;
            self.touched.insert(attempt.campaign_id.clone());
        }
        Ok(())
    }
}
