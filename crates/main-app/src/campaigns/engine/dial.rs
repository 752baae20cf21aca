//! Planning and placing a campaign's dials.
//!
//! Planning is sequential and cheap (store writes): slots and pacing first, then claim → check →
//! begin, one member at a time. Placing is concurrent: the calls planned in a tick are created
//! at Twilio together, each through [`place_call`](crate::calls::service::place_call) with the
//! attempt id as idempotency key, and their results are applied afterwards.

use chrono::{DateTime, Duration, Utc};
use futures_util::future::join_all;

use super::prepare::{BUSY_ELSEWHERE_RETRY, Prepared, prepare};
use super::{Engine, TickReport};
use crate::calls::service::{self, NewCall, PlaceError, Placed};
use crate::campaigns::model::{
    AfterAttempt, Attempt, AttemptEnd, AttemptResult, Campaign, CampaignStatus, Member, Release,
};
use crate::campaigns::pacing::Pacer;
use crate::store::StoreResult;
use common::ids::CampaignId;

/// Most members one campaign claims per tick (dials, deferrals and skips together), so one
/// campaign with many contacts outside their window cannot hold a tick for long.
const MAX_CLAIMS_PER_TICK: usize = 200;
/// A dial refused by Twilio's rate limit is retried after this.
const RATE_LIMITED_RETRY: Duration = Duration::seconds(2);

/// A call to place for an attempt that has begun.
#[derive(Debug)]
pub struct Dial {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// The attempt (its id is the call's idempotency key).
    pub attempt_id: String,
    /// The call.
    pub call: NewCall,
}

/// What [`Engine::begin`] did with a prepared member.
enum Begun {
    /// The attempt is stored: place this call.
    Dial(Box<Dial>),
    /// Another campaign is dialling the same person: the attempt ended undialled, retried later.
    BusyElsewhere,
    /// The campaign stopped (or the claim was lost) before the dial.
    Stopped,
}

impl Engine {
    /// Claims, checks and begins as many members of `campaign` as its free slots and pacing allow.
    pub(super) async fn plan(
        &mut self,
        campaign: &Campaign,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> StoreResult<Vec<Dial>> {
        let stats = self.state.store.member_stats(&campaign.id).await?;
        let mut slots = u64::from(campaign.settings.max_concurrent).saturating_sub(stats.in_flight());
        let cps = campaign.settings.calls_per_second;
        self.pacers.entry(campaign.id.clone()).or_insert_with(|| Pacer::new(cps)).configure(cps);
        let mut dials = Vec::new();
        let mut claims = 0;
        while slots > 0 && claims < MAX_CLAIMS_PER_TICK && stats.pending + stats.claimed > 0 {
            if !self.pacer(&campaign.id).try_take(now) {
                break;
            }
            let lease_until = now + self.lease();
            let Some(member) =
                self.state.store.claim_member(&campaign.id, &self.instance, now, lease_until).await?
            else {
                self.pacer(&campaign.id).give_back();
                break;
            };
            claims += 1;
            match prepare(&self.state, campaign, &member, now).await? {
                Prepared::Dial(call) => match self.begin(&member, *call, now).await? {
                    Begun::Dial(dial) => {
                        dials.push(*dial);
                        slots -= 1;
                    }
                    Begun::BusyElsewhere => {
                        self.pacer(&campaign.id).give_back();
                        report.deferred += 1;
                    }
                    // The campaign stopped (or the claim was lost): no more dials this tick.
                    Begun::Stopped => break,
                },
                other => {
                    self.pacer(&campaign.id).give_back();
                    self.release(&member, other, now, report).await?;
                }
            }
        }
        Ok(dials)
    }

    fn pacer(&mut self, id: &CampaignId) -> &mut Pacer {
        self.pacers.entry(id.clone()).or_insert_with(|| Pacer::new(1.0))
    }

    /// Gives a member back: deferred to its window, or skipped.
    async fn release(
        &self,
        member: &Member,
        prepared: Prepared,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> StoreResult<()> {
        let release = match prepared {
            Prepared::Defer { due_at, note } => {
                report.deferred += 1;
                tracing::debug!(member = %member.id, %due_at, %note, "deferred");
                Release::Defer { due_at, note }
            }
            Prepared::Skip { note } => {
                report.skipped += 1;
                tracing::info!(member = %member.id, %note, "skipped");
                Release::Skip { note }
            }
            Prepared::Dial(_) => return Ok(()),
        };
        self.state.store.release_member(&member.id, &self.instance, &release, now).await?;
        Ok(())
    }

    /// Stores the attempt (refused once the campaign is not running); returns the dial to place.
    ///
    /// Announce, then look: once the member is `dialing`, the person is checked again for a dial
    /// from another campaign. [`prepare`]'s check alone leaves a window (two instances preparing
    /// the same person for two campaigns in the same instant both find nobody dialling); with
    /// the second look after each one's own mark is stored, at least one of them sees the other
    /// and stands down (both may; each then retries after a jittered wait).
    async fn begin(&self, member: &Member, mut call: NewCall, now: DateTime<Utc>) -> StoreResult<Begun> {
        let attempt = Attempt {
            id: uuid::Uuid::now_v7().to_string(),
            campaign_id: member.campaign_id.clone(),
            contact_id: member.contact_id.clone(),
            member_id: member.id.clone(),
            number: member.attempts + 1,
            instance_id: self.instance.clone(),
            started_at: now,
            call_id: None,
            ended_at: None,
            outcome: None,
            outcome_final: false,
            result: AttemptResult::Dialing,
            detail: None,
        };
        let lease_until = now + self.lease();
        if !self.state.store.begin_attempt(&attempt, &self.instance, lease_until).await? {
            let release = Release::Defer { due_at: now, note: "the campaign stopped before the dial".into() };
            self.state.store.release_member(&member.id, &self.instance, &release, now).await?;
            return Ok(Begun::Stopped);
        }
        call.idempotency_key = Some(attempt.id.clone());
        let dial = Dial { campaign_id: member.campaign_id.clone(), attempt_id: attempt.id, call };
        if let Some(other) =
            self.state.store.in_flight_elsewhere(&member.contact_id, &member.campaign_id).await?
        {
            let jitter = Duration::milliseconds(rand::random_range(0..15_000));
            let note = format!("on a call from campaign {other}; tried again shortly");
            tracing::info!(member = %member.id, %other, "stood down: the person is being dialled elsewhere");
            self.not_dialled(&dial, &note, now + BUSY_ELSEWHERE_RETRY + jitter, now).await?;
            return Ok(Begun::BusyElsewhere);
        }
        Ok(Begun::Dial(Box::new(dial)))
    }

    /// Places every planned call concurrently, then records each result.
    pub(super) async fn place_all(&mut self, dials: Vec<Dial>, now: DateTime<Utc>, report: &mut TickReport) {
        let placed = join_all(dials.into_iter().map(|d| {
            let state = self.state.clone();
            async move {
                let result = service::place_call(&state, d.call.clone()).await;
                (d, result)
            }
        }))
        .await;
        for (dial, result) in placed {
            match self.record(&dial, result, now).await {
                Ok(true) => report.dialled += 1,
                Ok(false) => {}
                // The attempt stays `dialing`; when its lease expires it is recovered through
                // the call's idempotency key.
                Err(e) => tracing::error!(attempt = %dial.attempt_id, error = %e, "cannot record a dial"),
            }
            self.touched.insert(dial.campaign_id.clone());
        }
    }

    /// Applies one dial's result. Returns true when a call exists for the attempt.
    async fn record(
        &mut self,
        dial: &Dial,
        result: Result<Placed, PlaceError>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let store = &self.state.store;
        let call = match result {
            Ok(placed) => placed.call,
            Err(PlaceError::Store(e)) => return Err(e),
            // Listed after the claim checked it: the next claim skips the member with the reason.
            Err(PlaceError::DoNotCall(_)) => {
                self.not_dialled(dial, "on the do-not-call list", now, now).await?;
                return Ok(false);
            }
            Err(PlaceError::Twilio { error, .. }) if error.is_rate_limited() => {
                tracing::warn!(campaign_id = %dial.campaign_id, "Twilio rate limit: slowing down");
                self.pacer(&dial.campaign_id).rate_limited(now);
                self.not_dialled(dial, "rate limited by Twilio", now + RATE_LIMITED_RETRY, now).await?;
                return Ok(false);
            }
            Err(PlaceError::Twilio { error, .. }) if error.is_insufficient_balance() => {
                let reason = "insufficient Twilio balance";
                tracing::error!(campaign_id = %dial.campaign_id, "{reason}: pausing the campaign");
                let running = [CampaignStatus::Running];
                store
                    .set_status(&dial.campaign_id, &running, CampaignStatus::Paused, Some(reason), now)
                    .await?;
                self.not_dialled(dial, reason, now, now).await?;
                return Ok(false);
            }
            // Any other refusal left a failed call (or, outcome unknown, a queued one that its
            // callbacks will settle): the attempt follows that call like any other.
            Err(PlaceError::Twilio { call, .. }) => *call,
        };
        store.attempt_dialled(&dial.attempt_id, &call.id, now).await?;
        Ok(true)
    }

    /// Ends an attempt that did not dial; the member is due again at `due_at` and the attempt
    /// does not count towards its retry policy.
    async fn not_dialled(
        &self,
        dial: &Dial,
        why: &str,
        due_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let end = AttemptEnd {
            attempt_id: dial.attempt_id.clone(),
            ended_at: now,
            outcome: None,
            outcome_final: true,
            result: AttemptResult::NotDialled,
            detail: Some(why.to_owned()),
            counts: false,
        };
        self.state.store.finish_attempt(&end, &AfterAttempt::Retry(due_at), now).await?;
        Ok(())
    }
}
