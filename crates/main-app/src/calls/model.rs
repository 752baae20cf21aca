//! The call record and its audit log, as stored and as the API returns them (camelCase JSON).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use common::call::{AnsweredBy, CallStatus, Outcome, TerminatedBy};
use common::ids::{CallId, CallSid, CampaignId, ContactId};
use common::phone::PhoneNumber;

/// One outbound call, from the moment it is accepted by our API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    /// Internal id (known before Twilio assigns a CallSid).
    pub id: CallId,
    /// Twilio's CallSid, once the create request succeeded.
    pub call_sid: Option<CallSid>,
    /// Number called.
    pub to: PhoneNumber,
    /// Caller id presented.
    pub from: PhoneNumber,
    /// Always `outbound-api` for calls we place.
    pub direction: String,
    /// Telephony status (monotonic).
    pub status: CallStatus,
    /// When we accepted the call.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When Twilio reported it answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// When it reached a terminal status.
    pub ended_at: Option<DateTime<Utc>>,
    /// Twilio's own `CallDuration` (seconds), from the completed callback.
    pub twilio_duration_secs: Option<u32>,
    /// Answering-machine detection result.
    pub answered_by: Option<AnsweredBy>,
    /// What the call achieved, once known.
    pub outcome: Option<Outcome>,
    /// Who ended it (written once).
    pub terminated_by: Option<TerminatedBy>,
    /// ElevenLabs conversation id, reported by media-proxy at stream start.
    pub conversation_id: Option<String>,
    /// Twilio media stream SID.
    pub stream_sid: Option<String>,
    /// Contact name.
    pub name: Option<String>,
    /// Per-call agent prompt override.
    pub prompt: Option<String>,
    /// Per-call first message override.
    pub first_message: Option<String>,
    /// Per-call language override.
    pub language: Option<String>,
    /// Extra dynamic variables for the agent.
    pub dynamic_variables: BTreeMap<String, Value>,
    /// Contact reference.
    pub contact_id: Option<ContactId>,
    /// Campaign reference.
    pub campaign_id: Option<CampaignId>,
    /// `Idempotency-Key` of the request that created it (unique when present).
    pub idempotency_key: Option<String>,
    /// Why the call failed on our side (dial refused, fallback TwiML), if it did.
    pub error: Option<CallError>,
}

/// A failure recorded on a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallError {
    /// Stable code (`TWILIO_21211`, `FALLBACK_TWIML`, ...).
    pub code: String,
    /// Human-readable text.
    pub message: String,
}

/// A status change reported by Twilio (or decided by us).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    /// The new status.
    pub status: CallStatus,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// Fields that are set once and then never changed: each `Some` is written only where the stored
/// value is still empty, so a retried or late callback cannot rewrite history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetOnce {
    /// CallSid.
    pub call_sid: Option<CallSid>,
    /// Conversation id.
    pub conversation_id: Option<String>,
    /// Stream SID.
    pub stream_sid: Option<String>,
    /// AMD result.
    pub answered_by: Option<AnsweredBy>,
    /// Twilio's duration.
    pub twilio_duration_secs: Option<u32>,
    /// Who ended the call.
    pub terminated_by: Option<TerminatedBy>,
    /// Failure on our side.
    pub error: Option<CallError>,
}

/// An entry of a call's append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallEvent {
    /// Event id (UUID v7, so ids sort by time).
    pub id: String,
    /// The call.
    pub call_id: CallId,
    /// When it happened (or was received).
    pub at: DateTime<Utc>,
    /// What happened: `created`, `status`, `twilio_callback`, `amd`, `recording`, `stream_started`,
    /// `transcript`, `conversation_ended`, `hangup_requested`, `error`, ...
    pub kind: String,
    /// Who reported it: `api`, `twilio`, `media-proxy`, `elevenlabs`, `operator`, `system`.
    pub source: String,
    /// Details (the callback's parameters, the status change, ...).
    pub data: Value,
    /// When set, a second event with the same key for the same call is ignored (retried
    /// callbacks, re-sent media-proxy batches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedupe_key: Option<String>,
}

impl CallEvent {
    /// A new event happening now.
    pub fn new(call_id: &CallId, kind: &str, source: &str, data: Value) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            call_id: call_id.clone(),
            at: Utc::now(),
            kind: kind.to_owned(),
            source: source.to_owned(),
            data,
            dedupe_key: None,
        }
    }

    /// Sets the deduplication key.
    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

/// Filters for listing calls. Every field narrows the result; all `None` lists everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallFilter {
    /// Any of these statuses.
    pub statuses: Vec<CallStatus>,
    /// Any of these outcomes.
    pub outcomes: Vec<Outcome>,
    /// Number called contains this (digits and `+`).
    pub phone: Option<String>,
    /// Campaign.
    pub campaign_id: Option<CampaignId>,
    /// Contact.
    pub contact_id: Option<ContactId>,
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created strictly before.
    pub created_to: Option<DateTime<Utc>>,
}

/// Offset pagination, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Items to skip.
    pub offset: u64,
    /// Items to return (1..=1000).
    pub limit: u64,
}

/// One page of results and the total matching.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Paged<T> {
    /// The items.
    pub items: Vec<T>,
    /// How many match the filter in all.
    pub total: u64,
    /// Offset used.
    pub offset: u64,
    /// Limit used.
    pub limit: u64,
}
