//! The BSON shape of calls and events (camelCase fields, `_id` = our id).
//!
//! Times are BSON dates (milliseconds); ids, numbers and enums are strings in their wire form;
//! `terminatedBy`, `error`, `dynamicVariables` and event `data` are sub-documents, so they can be
//! queried. Empty optional fields are left out of the document (never stored as `null`), which
//! is what the partial unique indexes and the `$ifNull` set-once writes expect.

use chrono::{DateTime, Utc};
use mongodb::bson::{self, Bson, DateTime as BsonDateTime};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use crate::calls::model::{Call, CallError, CallEvent};
use crate::store::{StoreError, StoreResult, from_millis};
use common::call::{AnsweredBy, CallStatus, Outcome, TerminatedBy};
use common::ids::{CallId, CallSid, CampaignId, ContactId};
use common::phone::PhoneNumber;

/// A call as stored in the `calls` collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallDoc {
    #[serde(rename = "_id")]
    id: CallId,
    #[serde(skip_serializing_if = "Option::is_none")]
    call_sid: Option<CallSid>,
    to: PhoneNumber,
    from: PhoneNumber,
    direction: String,
    status: CallStatus,
    /// `CallStatus::rank()` of `status`, compared by the monotonic update.
    status_rank: i32,
    created_at: BsonDateTime,
    updated_at: BsonDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    answered_at: Option<BsonDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_at: Option<BsonDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    twilio_duration_secs: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    answered_by: Option<AnsweredBy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    terminated_by: Option<TerminatedBy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conversation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(default)]
    dynamic_variables: BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact_id: Option<ContactId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign_id: Option<CampaignId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<CallError>,
}

impl CallDoc {
    /// The stored form of `c` (times truncated to the millisecond).
    pub fn from_call(c: &Call) -> Self {
        Self {
            id: c.id.clone(),
            call_sid: c.call_sid.clone(),
            to: c.to.clone(),
            from: c.from.clone(),
            direction: c.direction.clone(),
            status: c.status,
            status_rank: i32::from(c.status.rank()),
            created_at: bson_time(c.created_at),
            updated_at: bson_time(c.updated_at),
            answered_at: c.answered_at.map(bson_time),
            ended_at: c.ended_at.map(bson_time),
            twilio_duration_secs: c.twilio_duration_secs.map(i64::from),
            answered_by: c.answered_by,
            outcome: c.outcome,
            terminated_by: c.terminated_by.clone(),
            conversation_id: c.conversation_id.clone(),
            stream_sid: c.stream_sid.clone(),
            name: c.name.clone(),
            prompt: c.prompt.clone(),
            first_message: c.first_message.clone(),
            language: c.language.clone(),
            dynamic_variables: c.dynamic_variables.clone(),
            contact_id: c.contact_id.clone(),
            campaign_id: c.campaign_id.clone(),
            idempotency_key: c.idempotency_key.clone(),
            error: c.error.clone(),
        }
    }

    /// The call this document holds.
    pub fn into_call(self) -> StoreResult<Call> {
        Ok(Call {
            id: self.id,
            call_sid: self.call_sid,
            to: self.to,
            from: self.from,
            direction: self.direction,
            status: self.status,
            created_at: chrono_time(self.created_at, "createdAt")?,
            updated_at: chrono_time(self.updated_at, "updatedAt")?,
            answered_at: self.answered_at.map(|t| chrono_time(t, "answeredAt")).transpose()?,
            ended_at: self.ended_at.map(|t| chrono_time(t, "endedAt")).transpose()?,
            twilio_duration_secs: self
                .twilio_duration_secs
                .map(|d| u32::try_from(d).map_err(|_| corrupt("twilioDurationSecs")))
                .transpose()?,
            answered_by: self.answered_by,
            outcome: self.outcome,
            terminated_by: self.terminated_by,
            conversation_id: self.conversation_id,
            stream_sid: self.stream_sid,
            name: self.name,
            prompt: self.prompt,
            first_message: self.first_message,
            language: self.language,
            dynamic_variables: self.dynamic_variables,
            contact_id: self.contact_id,
            campaign_id: self.campaign_id,
            idempotency_key: self.idempotency_key,
            error: self.error,
        })
    }
}

/// An audit-log entry as stored in the `call_events` collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDoc {
    #[serde(rename = "_id")]
    id: String,
    call_id: CallId,
    at: BsonDateTime,
    kind: String,
    source: String,
    data: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    dedupe_key: Option<String>,
}

impl EventDoc {
    /// The stored form of `e`.
    pub fn from_event(e: &CallEvent) -> Self {
        Self {
            id: e.id.clone(),
            call_id: e.call_id.clone(),
            at: bson_time(e.at),
            kind: e.kind.clone(),
            source: e.source.clone(),
            data: e.data.clone(),
            dedupe_key: e.dedupe_key.clone(),
        }
    }

    /// The event this document holds.
    pub fn into_event(self) -> StoreResult<CallEvent> {
        Ok(CallEvent {
            id: self.id,
            call_id: self.call_id,
            at: chrono_time(self.at, "at")?,
            kind: self.kind,
            source: self.source,
            data: self.data,
            dedupe_key: self.dedupe_key,
        })
    }
}

/// A time as stored.
pub fn bson_time(t: DateTime<Utc>) -> BsonDateTime {
    BsonDateTime::from_millis(t.timestamp_millis())
}

/// A stored time back as chrono.
pub fn chrono_time(t: BsonDateTime, field: &str) -> StoreResult<DateTime<Utc>> {
    from_millis(t.timestamp_millis()).ok_or_else(|| corrupt(field))
}

/// `v` as BSON, encoded exactly as the `CallDoc` field of the same type.
pub fn to_bson<T: Serialize + ?Sized>(v: &T) -> StoreResult<Bson> {
    bson::to_bson(v).map_err(|e| StoreError::Backend(format!("encoding BSON: {e}")))
}

fn corrupt(field: &str) -> StoreError {
    StoreError::Corrupt(format!("mongodb field {field}"))
}
