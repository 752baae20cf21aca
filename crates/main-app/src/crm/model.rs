//! A CRM delivery: one summary of one finished call, waiting in the outbox, delivered, or given
//! up on (dead letter), with the log of every attempt. A call has one `final` delivery and, when
//! ElevenLabs' post-call data landed only after that one was sent without it, one `update`
//! delivery per conversation carrying it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use common::ids::CallId;

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or being attempted under a lease).
    Pending,
    /// The CRM answered 2xx.
    Delivered,
    /// Given up after the maximum number of attempts; replay to try again.
    Dead,
}

impl DeliveryStatus {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Dead].into_iter().find(|v| v.as_str() == s)
    }
}

/// Which report of the call a delivery is (the payload's `event` field says the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKind {
    /// The report enqueued when the call became final (one per call).
    Final,
    /// The same report again, now with post-call data (transcript, analysis, AI summary) that
    /// arrived after the final one had gone out without it (one per call and conversation).
    Update,
}

impl DeliveryKind {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Final => "final",
            Self::Update => "update",
        }
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Final, Self::Update].into_iter().find(|v| v.as_str() == s)
    }
}

/// One attempt to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// When it started.
    pub at: DateTime<Utc>,
    /// The CRM's HTTP status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// What went wrong (transport error, non-2xx), if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: u64,
}

/// How many attempts a delivery's log keeps (the newest).
pub const LOG_LIMIT: usize = 20;

/// A delivery in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Id (UUID v7).
    pub id: String,
    /// The call it reports.
    pub call_id: CallId,
    /// Final report or post-call update.
    pub kind: DeliveryKind,
    /// Sent as `Idempotency-Key` on every attempt, so the CRM can drop a repeat. Unique in the
    /// outbox: `call-<call id>` for the final report, `call-<call id>:update:<conversation id>`
    /// for an update, so a retried webhook or a second recovery never enqueues a second one.
    pub idempotency_key: String,
    /// The JSON body, frozen when enqueued (a final report still waiting for its first attempt
    /// may be refreshed once the post-call data lands, instead of sending an update after it).
    pub payload: Value,
    /// The conversation whose post-call data the payload carries, if it carries any.
    pub post_call_conversation: Option<String>,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts made since it was enqueued (or last replayed).
    pub attempts: u32,
    /// Not attempted before this time.
    pub next_attempt_at: DateTime<Utc>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When the CRM accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The last failure.
    pub last_error: Option<String>,
    /// The newest attempts, oldest first (at most [`LOG_LIMIT`]).
    pub log: Vec<Attempt>,
}

impl Delivery {
    /// A new pending final report for `call_id`, due now.
    pub fn new(call_id: &CallId, payload: Value, now: DateTime<Utc>) -> Self {
        let now = crate::store::truncate_ms(now);
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            call_id: call_id.clone(),
            kind: DeliveryKind::Final,
            idempotency_key: format!("call-{call_id}"),
            payload,
            post_call_conversation: None,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            updated_at: now,
            delivered_at: None,
            last_error: None,
            log: Vec::new(),
        }
    }

    /// The same delivery, recorded as carrying the post-call data of `conversation_id`.
    pub fn with_post_call(mut self, conversation_id: Option<String>) -> Self {
        self.post_call_conversation = conversation_id;
        self
    }

    /// A new pending update of `call_id` carrying the post-call data of `conversation_id`.
    pub fn update(call_id: &CallId, conversation_id: &str, payload: Value, now: DateTime<Utc>) -> Self {
        Self {
            kind: DeliveryKind::Update,
            idempotency_key: format!("call-{call_id}:update:{conversation_id}"),
            ..Self::new(call_id, payload, now).with_post_call(Some(conversation_id.to_owned()))
        }
    }
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptNext {
    /// The CRM accepted it.
    Delivered,
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// Give up (dead letter).
    Dead,
}
