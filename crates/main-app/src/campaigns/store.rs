//! What campaigns and the dialling engine need from storage. Implemented by both stores and
//! checked by one conformance suite (`store::conformance::campaigns`).
//!
//! # Guarantees the engine relies on
//! - **One claim.** [`DialStore::claim_member`] is one atomic conditional write: of the members
//!   of a campaign that are due (pending with `due_at <= now`, or claimed with an expired
//!   lease), the first by `(due_at, seq)` becomes `claimed` by `owner` until `lease_until`
//!   (stored in `due_at`, so an abandoned claim becomes due again by itself). Two callers racing
//!   never get the same member.
//! - **No dial after a stop.** [`DialStore::begin_attempt`] succeeds only while the member is
//!   still claimed by `owner` and the campaign is `running`, and is ordered with
//!   [`CampaignStore::set_status`] on that campaign: once a pause or cancel has been written, no
//!   attempt begins.
//! - **Attempts before dials.** `begin_attempt` stores the attempt (state `dialing`) before the
//!   caller dials, so a crash leaves evidence: a `dialing` member with an expired lease, found
//!   by [`DialStore::list_in_flight`] and taken over by [`DialStore::take_over`].
//! - **Idempotent endings.** [`DialStore::attempt_dialled`] and [`DialStore::finish_attempt`]
//!   act only while the member's current attempt is the given one and it is still in flight;
//!   a repeated or late call changes nothing and returns false.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::model::{
    AfterAttempt, Attempt, AttemptEnd, AttemptStats, Campaign, CampaignFilter, CampaignStatus, Member,
    MemberState, MemberStats, Release,
};
use super::settings_model::CampaignSettings;
use crate::calls::model::{Page, Paged};
use crate::store::StoreResult;
use common::call::Outcome;
use common::ids::{CallId, CampaignId, ContactId};

/// Campaign records.
#[async_trait]
pub trait CampaignStore: Send + Sync {
    /// Stores a new campaign.
    async fn insert_campaign(&self, campaign: &Campaign) -> StoreResult<()>;

    /// A campaign by id.
    async fn get_campaign(&self, id: &CampaignId) -> StoreResult<Option<Campaign>>;

    /// Campaigns matching `filter`, newest first, with the total count.
    async fn list_campaigns(&self, filter: &CampaignFilter, page: Page) -> StoreResult<Paged<Campaign>>;

    /// Replaces name, description and settings, only while the campaign is not completed or
    /// canceled. Returns the campaign after the write, `None` when refused or unknown.
    async fn update_campaign(
        &self,
        id: &CampaignId,
        name: &str,
        description: Option<&str>,
        settings: &CampaignSettings,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Campaign>>;

    /// Moves the campaign to `to` in one conditional write, only if its status is one of `from`;
    /// sets `status_reason`, `updated_at`, `started_at` (first time running) and `finished_at`
    /// (completed or canceled). Returns the campaign after the write, `None` when refused.
    async fn set_status(
        &self,
        id: &CampaignId,
        from: &[CampaignStatus],
        to: CampaignStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Campaign>>;

    /// Completes a running campaign whose members are all finished (done or skipped), as one
    /// conditional write where the backend allows it (see the backend docs).
    async fn complete_if_drained(&self, id: &CampaignId, at: DateTime<Utc>) -> StoreResult<Option<Campaign>>;

    /// Deletes a campaign with its members and attempts. Returns false if it did not exist.
    async fn delete_campaign(&self, id: &CampaignId) -> StoreResult<bool>;
}

/// Members and attempts: the engine's durable state.
#[async_trait]
pub trait DialStore: Send + Sync {
    /// Adds contacts to a campaign as pending members due at the given times, in order (their
    /// `seq` follows the order given). Contacts already members are left alone. Returns how many
    /// were added.
    async fn add_members(
        &self,
        campaign: &CampaignId,
        members: &[(ContactId, DateTime<Utc>)],
    ) -> StoreResult<u64>;

    /// Removes members that are pending or skipped (never one in flight or done). Returns how many.
    async fn remove_members(&self, campaign: &CampaignId, contacts: &[ContactId]) -> StoreResult<u64>;

    /// One member.
    async fn get_member(&self, campaign: &CampaignId, contact: &ContactId) -> StoreResult<Option<Member>>;

    /// Members of a campaign in any of `states` (empty: all), by `seq`.
    async fn list_members(
        &self,
        campaign: &CampaignId,
        states: &[MemberState],
        page: Page,
    ) -> StoreResult<Paged<Member>>;

    /// Member counts by state and the earliest pending `due_at`.
    async fn member_stats(&self, campaign: &CampaignId) -> StoreResult<MemberStats>;

    /// Dialled attempts by outcome; with `since`, only those that ended at or after it.
    async fn attempt_stats(
        &self,
        campaign: &CampaignId,
        since: Option<DateTime<Utc>>,
    ) -> StoreResult<AttemptStats>;

    /// A campaign other than `except` in which `contact` is being dialled or is on a call (member
    /// `dialing` or `live`), if any: the engine never rings one person from two campaigns at once.
    async fn in_flight_elsewhere(
        &self,
        contact: &ContactId,
        except: &CampaignId,
    ) -> StoreResult<Option<CampaignId>>;

    /// Claims the next due member (see the module docs).
    async fn claim_member(
        &self,
        campaign: &CampaignId,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Member>>;

    /// Gives a claimed member back without dialling (only by its owner). Returns false if the
    /// claim was lost.
    async fn release_member(
        &self,
        member_id: &str,
        owner: &str,
        release: &Release,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Starts `attempt` for a member claimed by `owner`: the member becomes `dialing` with the
    /// attempt as current, one more attempt counted, leased until `lease_until`; the attempt is
    /// stored. Refused (false, nothing written) unless the claim is still `owner`'s and the
    /// campaign is running.
    async fn begin_attempt(
        &self,
        attempt: &Attempt,
        owner: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Records the call an attempt produced: the attempt gets `call_id` (result `dialled`) and
    /// the member becomes `live`. Only while the member's current attempt is this one and it is
    /// dialing. Returns false otherwise.
    async fn attempt_dialled(
        &self,
        attempt_id: &str,
        call_id: &CallId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Ends the member's current attempt and decides what follows: the member becomes pending
    /// again (due at the retry time) or done; `last_outcome` is set; when the attempt does not
    /// count, the attempt counter goes back down. Only while the member's current attempt is
    /// this one and it is in flight. Returns false otherwise (nothing written).
    async fn finish_attempt(
        &self,
        end: &AttemptEnd,
        after: &AfterAttempt,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Members dialing or live, in every campaign (at most `limit`, those unchanged longest first).
    async fn list_in_flight(&self, limit: u64) -> StoreResult<Vec<Member>>;

    /// Takes over a `dialing` member whose lease expired before `now` (a crashed or stalled
    /// instance): the lease becomes `owner`'s until `lease_until`. Returns false when someone
    /// else took it or it moved on.
    async fn take_over(
        &self,
        member_id: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Stores `attempt` unless one with its id exists (recovery of a crash between a member
    /// becoming `dialing` and its attempt being written, possible on MongoDB). Returns true if
    /// it was written.
    async fn ensure_attempt(&self, attempt: &Attempt) -> StoreResult<bool>;

    /// An attempt by id.
    async fn get_attempt(&self, id: &str) -> StoreResult<Option<Attempt>>;

    /// A campaign's attempts (one contact's with `contact`), oldest first.
    async fn list_attempts(
        &self,
        campaign: &CampaignId,
        contact: Option<&ContactId>,
        page: Page,
    ) -> StoreResult<Paged<Attempt>>;

    /// Ended attempts whose outcome may still change (at most `limit`, oldest first).
    async fn unsettled_attempts(&self, limit: u64) -> StoreResult<Vec<Attempt>>;

    /// Records an attempt's outcome as final (and the member's `last_outcome` if this is its
    /// current attempt). Returns false if no such ended attempt.
    async fn settle_attempt(&self, attempt_id: &str, outcome: Outcome) -> StoreResult<bool>;
}
