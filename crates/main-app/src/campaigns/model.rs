//! Campaigns, their members (a contact's place in a campaign) and dial attempts, as stored and as
//! the API returns them (camelCase JSON).
//!
//! A **member** is the unit the engine claims: one per (campaign, contact), with its state, when
//! it is next due, the lease of the instance working on it, and its current attempt. An
//! **attempt** is one dial: created before the dial, carrying the call it produced and how it
//! ended. Progress is counted from members and attempts, never from counters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::settings_model::CampaignSettings;
use common::call::Outcome;
use common::ids::{CallId, CampaignId, ContactId};

/// Sequence numbers of members joining at `at`: milliseconds × 10⁶ + position in the batch, so
/// batches joining later sort later, on every instance and backend alike.
pub fn seq_base(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis().saturating_mul(1_000_000)
}

/// Where a campaign is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Being prepared; nothing is dialled.
    Draft,
    /// Started with a future start date; the engine starts it then.
    Scheduled,
    /// Dialling.
    Running,
    /// Stopped by an operator or by a safety rule; resumable.
    Paused,
    /// Nothing left to dial (or the end date passed).
    Completed,
    /// Stopped for good by an operator.
    Canceled,
}

impl CampaignStatus {
    /// All values.
    pub const ALL: [CampaignStatus; 6] =
        [Self::Draft, Self::Scheduled, Self::Running, Self::Paused, Self::Completed, Self::Canceled];

    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Completed => "completed",
            Self::Canceled => "canceled",
        }
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// True for states nothing leaves.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Canceled)
    }
}

/// A campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    /// Internal id.
    pub id: CampaignId,
    /// Name shown to operators.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Current state.
    pub status: CampaignStatus,
    /// Why it is in that state, when not obvious (`paused: insufficient Twilio balance`, ...).
    pub status_reason: Option<String>,
    /// How it dials.
    pub settings: CampaignSettings,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change (settings or state).
    pub updated_at: DateTime<Utc>,
    /// First time it started running.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed or was canceled.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Filters for listing campaigns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignFilter {
    /// Any of these states (empty: all).
    pub statuses: Vec<CampaignStatus>,
    /// Case-insensitive substring of the name or description.
    pub search: Option<String>,
}

/// Where a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberState {
    /// Waiting to be dialled at `due_at` (first attempt or a retry).
    Pending,
    /// Leased by an instance that is checking it (window, DNC, template); no attempt yet. An
    /// expired lease makes it claimable again.
    Claimed,
    /// An attempt exists and the dial is under way (or its result is unknown, if the lease
    /// expired: then it is recovered through the call's idempotency key).
    Dialing,
    /// The attempt's call exists and has not ended.
    Live,
    /// Finished: reached, or out of attempts.
    Done,
    /// Not dialled: do-not-call, missing template variables, deleted contact.
    Skipped,
}

impl MemberState {
    /// All values.
    pub const ALL: [MemberState; 6] =
        [Self::Pending, Self::Claimed, Self::Dialing, Self::Live, Self::Done, Self::Skipped];

    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Claimed => "claimed",
            Self::Dialing => "dialing",
            Self::Live => "live",
            Self::Done => "done",
            Self::Skipped => "skipped",
        }
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Dialing or live: occupies one of the campaign's concurrent slots.
    pub fn in_flight(self) -> bool {
        matches!(self, Self::Dialing | Self::Live)
    }
}

/// A contact's place in a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// Internal id (UUID v7).
    pub id: String,
    /// The campaign.
    pub campaign_id: CampaignId,
    /// The contact.
    pub contact_id: ContactId,
    /// Order of joining (ties of `due_at` are dialled in this order).
    pub seq: i64,
    /// State.
    pub state: MemberState,
    /// Pending: when it may be dialled. Claimed: when the claim lapses. Otherwise empty.
    pub due_at: Option<DateTime<Utc>>,
    /// The instance holding the lease (claimed or dialing).
    pub lease_owner: Option<String>,
    /// When that lease expires.
    pub lease_until: Option<DateTime<Utc>>,
    /// Attempts that count towards the retry policy.
    pub attempts: u32,
    /// The current (or last) attempt.
    pub attempt_id: Option<String>,
    /// The current (or last) attempt's call.
    pub call_id: Option<CallId>,
    /// Outcome of the last finished attempt.
    pub last_outcome: Option<Outcome>,
    /// Why it is skipped, or why it was last deferred (outside the calling window, ...).
    pub note: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// How an attempt went, apart from the call's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptResult {
    /// Created; the dial is under way.
    Dialing,
    /// A call exists (it may have failed at Twilio: see the outcome).
    Dialled,
    /// Nothing was dialled (rate limited, insufficient balance, campaign stopped before the
    /// dial); it does not count towards the retry policy.
    NotDialled,
}

impl AttemptResult {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dialing => "dialing",
            Self::Dialled => "dialled",
            Self::NotDialled => "not_dialled",
        }
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Dialing, Self::Dialled, Self::NotDialled].into_iter().find(|v| v.as_str() == s)
    }
}

/// One dial of one member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// Internal id (UUID v7); also the call's idempotency key, so a dial retried after a crash
    /// returns the first call instead of dialling again.
    pub id: String,
    /// The campaign.
    pub campaign_id: CampaignId,
    /// The contact.
    pub contact_id: ContactId,
    /// The member.
    pub member_id: String,
    /// 1 for the first attempt of the member, 2 for the first retry, ...
    pub number: u32,
    /// The main-app instance that made it.
    pub instance_id: String,
    /// When it was created (before the dial).
    pub started_at: DateTime<Utc>,
    /// The call, once it exists.
    pub call_id: Option<CallId>,
    /// When the call ended (or the attempt was abandoned).
    pub ended_at: Option<DateTime<Utc>>,
    /// What the call achieved.
    pub outcome: Option<Outcome>,
    /// False while the outcome may still be refined by post-call data.
    pub outcome_final: bool,
    /// Dialing, dialled, not dialled.
    pub result: AttemptResult,
    /// Why it was not dialled, or what failed.
    pub detail: Option<String>,
}

/// Members of a campaign by state, and when the next pending one is due.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberStats {
    /// Members in all.
    pub total: u64,
    /// Pending.
    pub pending: u64,
    /// Claimed.
    pub claimed: u64,
    /// Dialing.
    pub dialing: u64,
    /// Live.
    pub live: u64,
    /// Done.
    pub done: u64,
    /// Skipped.
    pub skipped: u64,
    /// Earliest `due_at` of a pending member.
    pub next_due: Option<DateTime<Utc>>,
}

impl MemberStats {
    /// Members not finished: pending, claimed, dialing or live.
    pub fn unfinished(&self) -> u64 {
        self.pending + self.claimed + self.dialing + self.live
    }

    /// Members occupying a concurrent slot.
    pub fn in_flight(&self) -> u64 {
        self.dialing + self.live
    }
}

/// Attempts of a campaign (those that dialled), by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptStats {
    /// Attempts that produced a call.
    pub dialled: u64,
    /// Of those, ended.
    pub ended: u64,
    /// Outcome `conversation_held`.
    pub conversations: u64,
    /// Outcome `no_conversation` (answered, nobody spoke).
    pub no_conversation: u64,
    /// Outcome `voicemail`.
    pub voicemail: u64,
    /// Outcome `no_answer`.
    pub no_answer: u64,
    /// Outcome `busy`.
    pub busy: u64,
    /// Outcome `failed`.
    pub failed: u64,
    /// Outcome `canceled`.
    pub canceled: u64,
}

impl AttemptStats {
    /// Adds `n` attempts with `outcome` (`None`: dialled, not ended).
    pub fn add(&mut self, outcome: Option<Outcome>, n: u64) {
        self.dialled += n;
        let Some(outcome) = outcome else { return };
        self.ended += n;
        let slot = match outcome {
            Outcome::ConversationHeld => &mut self.conversations,
            Outcome::NoConversation => &mut self.no_conversation,
            Outcome::Voicemail => &mut self.voicemail,
            Outcome::NoAnswer => &mut self.no_answer,
            Outcome::Busy => &mut self.busy,
            Outcome::Failed => &mut self.failed,
            Outcome::Canceled => &mut self.canceled,
        };
        *slot += n;
    }

    /// Calls a person answered (with or without a conversation).
    pub fn answered(&self) -> u64 {
        self.conversations + self.no_conversation
    }
}

/// What happens to a member when its claim is given back without dialling.
#[derive(Debug, Clone, PartialEq)]
pub enum Release {
    /// Back to pending, due at the given time (deferred: outside the window, paced, ...).
    Defer {
        /// When it is due again.
        due_at: DateTime<Utc>,
        /// Why (shown on the member).
        note: String,
    },
    /// Not dialled for good.
    Skip {
        /// Why.
        note: String,
    },
}

/// What happens to a member when its attempt ends.
#[derive(Debug, Clone, PartialEq)]
pub enum AfterAttempt {
    /// Dial it again at this time (a retry, or an attempt that did not dial).
    Retry(DateTime<Utc>),
    /// Finished.
    Done,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptEnd {
    /// The attempt.
    pub attempt_id: String,
    /// When.
    pub ended_at: DateTime<Utc>,
    /// The call's outcome (`None` when nothing was dialled).
    pub outcome: Option<Outcome>,
    /// True when the outcome will not change any more.
    pub outcome_final: bool,
    /// Dialled or not dialled.
    pub result: AttemptResult,
    /// Why, when not dialled.
    pub detail: Option<String>,
    /// True when the attempt counts towards the retry policy (false for not dialled).
    pub counts: bool,
}
