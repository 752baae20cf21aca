//! The BSON shape of contacts, DNC entries, campaigns, members and attempts (camelCase fields,
//! `_id` = our id; the DNC `_id` is the number). Times are BSON dates. Custom fields and
//! campaign settings are JSON strings: they round-trip exactly, and user-chosen keys (CSV
//! headers) never meet MongoDB's rules for field names. Empty optional fields are stored as
//! `null`, which the due-member query (`dueAt: {$lte: now}`) skips.

use chrono::{DateTime, Utc};
use mongodb::bson::DateTime as BsonDateTime;
use serde::{Deserialize, Serialize};

use crate::campaigns::model::{Attempt, AttemptResult, Campaign, CampaignStatus, Member, MemberState};
use crate::contacts::model::{Contact, DncEntry};
use crate::store::mongo::calls_codec::{bson_time, chrono_time};
use crate::store::{StoreError, StoreResult};
use common::call::Outcome;
use common::ids::{CallId, CampaignId, ContactId};
use common::phone::PhoneNumber;

fn corrupt(field: &str) -> StoreError {
    StoreError::Corrupt(format!("mongodb field {field}"))
}

fn opt_time(t: Option<BsonDateTime>, field: &str) -> StoreResult<Option<DateTime<Utc>>> {
    t.map(|t| chrono_time(t, field)).transpose()
}

fn to_u32(v: i64, field: &str) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| corrupt(field))
}

/// A contact in `contacts`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactDoc {
    #[serde(rename = "_id")]
    pub id: ContactId,
    pub phone: PhoneNumber,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub time_zone: Option<String>,
    pub tags: Vec<String>,
    /// JSON object.
    pub custom_fields: String,
    pub notes: Option<String>,
    /// Lower-cased name, number and email, for `$regex` search.
    pub search: String,
    pub created_at: BsonDateTime,
    pub updated_at: BsonDateTime,
}

impl ContactDoc {
    /// The stored form.
    pub fn from_contact(c: &Contact) -> StoreResult<Self> {
        Ok(Self {
            id: c.id.clone(),
            phone: c.phone.clone(),
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            name: c.name.clone(),
            email: c.email.clone(),
            time_zone: c.time_zone.clone(),
            tags: c.tags.clone(),
            custom_fields: serde_json::to_string(&c.custom_fields)
                .map_err(|e| StoreError::Backend(format!("encoding custom fields: {e}")))?,
            notes: c.notes.clone(),
            search: c.search_text(),
            created_at: bson_time(c.created_at),
            updated_at: bson_time(c.updated_at),
        })
    }

    /// Back to a contact.
    pub fn into_contact(self) -> StoreResult<Contact> {
        Ok(Contact {
            id: self.id,
            phone: self.phone,
            first_name: self.first_name,
            last_name: self.last_name,
            name: self.name,
            email: self.email,
            time_zone: self.time_zone,
            tags: self.tags,
            custom_fields: serde_json::from_str(&self.custom_fields)
                .map_err(|_| corrupt("contacts.customFields"))?,
            notes: self.notes,
            created_at: chrono_time(self.created_at, "contacts.createdAt")?,
            updated_at: chrono_time(self.updated_at, "contacts.updatedAt")?,
        })
    }
}

/// A DNC entry in `dnc` (`_id` = number).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DncDoc {
    #[serde(rename = "_id")]
    pub phone: PhoneNumber,
    pub reason: Option<String>,
    pub source: String,
    pub created_at: BsonDateTime,
}

impl DncDoc {
    /// The stored form.
    pub fn from_entry(e: &DncEntry) -> Self {
        Self {
            phone: e.phone.clone(),
            reason: e.reason.clone(),
            source: e.source.clone(),
            created_at: bson_time(e.created_at),
        }
    }

    /// Back to an entry.
    pub fn into_entry(self) -> StoreResult<DncEntry> {
        Ok(DncEntry {
            phone: self.phone,
            reason: self.reason,
            source: self.source,
            created_at: chrono_time(self.created_at, "dnc.createdAt")?,
        })
    }
}

/// A campaign in `campaigns`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignDoc {
    #[serde(rename = "_id")]
    pub id: CampaignId,
    pub name: String,
    pub description: Option<String>,
    pub status: CampaignStatus,
    pub status_reason: Option<String>,
    /// JSON `CampaignSettings`.
    pub settings: String,
    pub created_at: BsonDateTime,
    pub updated_at: BsonDateTime,
    pub started_at: Option<BsonDateTime>,
    pub finished_at: Option<BsonDateTime>,
    /// Incremented by every attempt that begins: the write that orders attempts with pauses.
    #[serde(default)]
    pub fence: i64,
}

impl CampaignDoc {
    /// The stored form.
    pub fn from_campaign(c: &Campaign) -> StoreResult<Self> {
        Ok(Self {
            id: c.id.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            status: c.status,
            status_reason: c.status_reason.clone(),
            settings: settings_json(&c.settings)?,
            created_at: bson_time(c.created_at),
            updated_at: bson_time(c.updated_at),
            started_at: c.started_at.map(bson_time),
            finished_at: c.finished_at.map(bson_time),
            fence: 0,
        })
    }

    /// Back to a campaign.
    pub fn into_campaign(self) -> StoreResult<Campaign> {
        Ok(Campaign {
            id: self.id,
            name: self.name,
            description: self.description,
            status: self.status,
            status_reason: self.status_reason,
            settings: serde_json::from_str(&self.settings).map_err(|_| corrupt("campaigns.settings"))?,
            created_at: chrono_time(self.created_at, "campaigns.createdAt")?,
            updated_at: chrono_time(self.updated_at, "campaigns.updatedAt")?,
            started_at: opt_time(self.started_at, "campaigns.startedAt")?,
            finished_at: opt_time(self.finished_at, "campaigns.finishedAt")?,
        })
    }
}

/// Settings as their stored JSON string.
pub fn settings_json(s: &crate::campaigns::settings_model::CampaignSettings) -> StoreResult<String> {
    serde_json::to_string(s).map_err(|e| StoreError::Backend(format!("encoding campaign settings: {e}")))
}

/// A member in `campaign_members`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub campaign_id: CampaignId,
    pub contact_id: ContactId,
    pub seq: i64,
    pub state: MemberState,
    pub due_at: Option<BsonDateTime>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<BsonDateTime>,
    pub attempts: i64,
    pub attempt_id: Option<String>,
    pub call_id: Option<CallId>,
    pub last_outcome: Option<Outcome>,
    pub note: Option<String>,
    pub updated_at: BsonDateTime,
}

impl MemberDoc {
    /// Back to a member.
    pub fn into_member(self) -> StoreResult<Member> {
        Ok(Member {
            id: self.id,
            campaign_id: self.campaign_id,
            contact_id: self.contact_id,
            seq: self.seq,
            state: self.state,
            due_at: opt_time(self.due_at, "campaign_members.dueAt")?,
            lease_owner: self.lease_owner,
            lease_until: opt_time(self.lease_until, "campaign_members.leaseUntil")?,
            attempts: to_u32(self.attempts, "campaign_members.attempts")?,
            attempt_id: self.attempt_id,
            call_id: self.call_id,
            last_outcome: self.last_outcome,
            note: self.note,
            updated_at: chrono_time(self.updated_at, "campaign_members.updatedAt")?,
        })
    }
}

/// An attempt in `campaign_attempts`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub campaign_id: CampaignId,
    pub contact_id: ContactId,
    pub member_id: String,
    pub number: i64,
    pub instance_id: String,
    pub started_at: BsonDateTime,
    pub call_id: Option<CallId>,
    pub ended_at: Option<BsonDateTime>,
    pub outcome: Option<Outcome>,
    pub outcome_final: bool,
    pub result: AttemptResult,
    pub detail: Option<String>,
}

impl AttemptDoc {
    /// The stored form.
    pub fn from_attempt(a: &Attempt) -> Self {
        Self {
            id: a.id.clone(),
            campaign_id: a.campaign_id.clone(),
            contact_id: a.contact_id.clone(),
            member_id: a.member_id.clone(),
            number: i64::from(a.number),
            instance_id: a.instance_id.clone(),
            started_at: bson_time(a.started_at),
            call_id: a.call_id.clone(),
            ended_at: a.ended_at.map(bson_time),
            outcome: a.outcome,
            outcome_final: a.outcome_final,
            result: a.result,
            detail: a.detail.clone(),
        }
    }

    /// Back to an attempt.
    pub fn into_attempt(self) -> StoreResult<Attempt> {
        Ok(Attempt {
            id: self.id,
            campaign_id: self.campaign_id,
            contact_id: self.contact_id,
            member_id: self.member_id,
            number: to_u32(self.number, "campaign_attempts.number")?,
            instance_id: self.instance_id,
            started_at: chrono_time(self.started_at, "campaign_attempts.startedAt")?,
            call_id: self.call_id,
            ended_at: opt_time(self.ended_at, "campaign_attempts.endedAt")?,
            outcome: self.outcome,
            outcome_final: self.outcome_final,
            result: self.result,
            detail: self.detail,
        })
    }
}
