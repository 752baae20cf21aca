//! A campaign's progress, counted from its members and attempts (never from counters that
//! callbacks increment), and its live form (`campaign:progress` over Socket.IO).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::model::{Campaign, CampaignStatus};
use crate::store::{Store, StoreResult};
use common::events::live::CampaignProgress;

/// What the dashboard shows about a campaign.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The campaign.
    pub campaign_id: String,
    /// Its name.
    pub name: String,
    /// Its state.
    pub status: CampaignStatus,
    /// Why it is in that state (a pause by the failure breaker, ...).
    pub status_reason: Option<String>,
    /// Contacts in the campaign.
    pub total: u64,
    /// Waiting for their first or next attempt.
    pub remaining: u64,
    /// Being dialled or on a call now.
    pub in_flight: u64,
    /// Finished (reached, or out of attempts).
    pub done: u64,
    /// Not dialled (do-not-call, missing variables, deleted).
    pub skipped: u64,
    /// Attempts that produced a call.
    pub dialled: u64,
    /// Calls a person answered.
    pub answered: u64,
    /// Calls with a conversation.
    pub conversations: u64,
    /// Calls answered by a machine.
    pub voicemail: u64,
    /// Calls nobody answered.
    pub no_answer: u64,
    /// Busy lines.
    pub busy: u64,
    /// Calls that could not be placed or failed.
    pub failed: u64,
    /// Share of contacts finished or skipped, 0–100.
    pub percent_complete: f64,
    /// When the next pending contact becomes due, if none is due now (a calling window or a
    /// retry delay ahead).
    pub next_window_at: Option<DateTime<Utc>>,
    /// When this was computed.
    pub updated_at: DateTime<Utc>,
}

impl Progress {
    /// The live form: this value's fields, flattened next to `campaignId`.
    pub fn to_live(&self) -> CampaignProgress {
        let mut progress = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        progress.remove("campaignId");
        CampaignProgress { campaign_id: self.campaign_id.clone(), progress }
    }

    /// True when the counts differ (ignores `updated_at`).
    pub fn changed_from(&self, other: &Progress) -> bool {
        Progress { updated_at: other.updated_at, ..self.clone() } != *other
    }
}

/// Computes the progress of `campaign` now.
pub async fn compute(store: &dyn Store, campaign: &Campaign, now: DateTime<Utc>) -> StoreResult<Progress> {
    let m = store.member_stats(&campaign.id).await?;
    let a = store.attempt_stats(&campaign.id, None).await?;
    let finished = m.done + m.skipped;
    let percent = if m.total == 0 { 0.0 } else { (finished as f64 * 1000.0 / m.total as f64).round() / 10.0 };
    Ok(Progress {
        campaign_id: campaign.id.to_string(),
        name: campaign.name.clone(),
        status: campaign.status,
        status_reason: campaign.status_reason.clone(),
        total: m.total,
        remaining: m.pending + m.claimed,
        in_flight: m.in_flight(),
        done: m.done,
        skipped: m.skipped,
        dialled: a.dialled,
        answered: a.answered(),
        conversations: a.conversations,
        voicemail: a.voicemail,
        no_answer: a.no_answer,
        busy: a.busy,
        failed: a.failed,
        percent_complete: percent,
        next_window_at: m.next_due.filter(|due| *due > now),
        updated_at: now,
    })
}
