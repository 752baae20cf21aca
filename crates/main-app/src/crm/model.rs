//! A CRM delivery: one summary of one finished call, waiting in the outbox, delivered, or given
//! up on (dead letter), with the log of every attempt.

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
    /// The call it reports (one delivery per call).
    pub call_id: CallId,
    /// Sent as `Idempotency-Key` on every attempt, so the CRM can drop a repeat.
    pub idempotency_key: String,
    /// The JSON body, frozen when the call became final.
    pub payload: Value,
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
    /// A new pending delivery for `call_id`, due now.
    pub fn new(call_id: &CallId, payload: Value, now: DateTime<Utc>) -> Self {
        let now = crate::store::truncate_ms(now);
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            call_id: call_id.clone(),
            idempotency_key: format!("call-{call_id}"),
            payload,
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
